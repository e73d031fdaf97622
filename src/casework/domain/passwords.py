"""Password policy: long enough, not a known breached password, not the account's own email."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

MIN_LENGTH = 12
MAX_LENGTH = 256


@lru_cache(maxsize=1)
def breached() -> frozenset[str]:
    text = resources.files("casework.domain").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def problems(password: str, *, email: str | None = None) -> list[str]:
    """Every reason the password is refused; empty when it is acceptable."""
    found: list[str] = []
    if len(password) < MIN_LENGTH:
        found.append(f"must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        found.append(f"must be at most {MAX_LENGTH} characters long")
    if password.lower() in breached():
        found.append("appears in a list of breached passwords")
    if email and password.lower() in {email.lower(), email.split("@")[0].lower()}:
        found.append("must not be the account's email address")
    if password and len(set(password)) < 4:
        found.append("must use more than three distinct characters")
    return found
