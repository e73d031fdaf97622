"""Human case references such as CASE-2026-000123: stable, sortable, easy to read on the phone."""

from __future__ import annotations

import re

PATTERN = re.compile(r"^CASE-(\d{4})-(\d{6,})$")


def format_reference(year: int, number: int) -> str:
    return f"CASE-{year:04d}-{number:06d}"


def is_reference(text: str) -> bool:
    return bool(PATTERN.match(text))
