"""2D-Doc throughput: sign, parse, verify, DataMatrix read, and the whole image check, per second.

Builds a test certification authority (``tests/documents/twoddoc_factory.py``), a proof of
address and a tax notice, then times each step on one core::

    .venv/bin/python bench/documents_twoddoc.py            # default: ~1 s per step
    .venv/bin/python bench/documents_twoddoc.py --seconds 3 --json bench/results/twoddoc.json

The image check (``check_2ddoc_image``) is measured on a clean PNG and on a photo-like JPEG
(1400x1000 page, scaled, rotated, blurred), the case that matters for uploaded scans.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.documents.twoddoc_factory

from tests.documents.twoddoc_factory import TAX_NOTICE_FIELDS, TODAY, Authority, photo_like

from casework.documents.checks.twoddoc import (
    check_2ddoc_image,
    decode_datamatrix,
    parse_2ddoc,
    render_datamatrix,
    verify_2ddoc,
)


def rate(fn: Callable[[], object], seconds: float) -> tuple[float, int]:
    """Calls per second of ``fn`` over about ``seconds`` (after one warm-up call)."""
    fn()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    return count / elapsed, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per step (default 1)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    ca = Authority()
    signer = ca.issue("0001")
    trust = ca.trust(signer)
    address = signer.encode()
    tax = signer.encode(doc_type="04", fields=TAX_NOTICE_FIELDS, version="04")
    doc = parse_2ddoc(tax)
    png = render_datamatrix(tax)
    photo = photo_like(render_datamatrix(tax, scale=3))
    assert verify_2ddoc(doc, trust, today=TODAY).passed
    assert decode_datamatrix(photo) == [tax]

    steps: dict[str, Callable[[], object]] = {
        "encode+sign (proof of address)": lambda: signer.encode(),
        "parse (proof of address)": lambda: parse_2ddoc(address),
        "parse (tax notice)": lambda: parse_2ddoc(tax),
        "verify (ECDSA P-256 + chain)": lambda: verify_2ddoc(doc, trust, today=TODAY),
        "parse+verify": lambda: verify_2ddoc(parse_2ddoc(tax), trust, today=TODAY),
        "render PNG": lambda: render_datamatrix(tax),
        f"decode PNG ({len(png)} B)": lambda: decode_datamatrix(png),
        f"decode photo JPEG ({len(photo)} B)": lambda: decode_datamatrix(photo),
        "check_2ddoc_image (PNG)": lambda: check_2ddoc_image(png, trust, today=TODAY, expected_name="Patrick Reti"),
        "check_2ddoc_image (photo)": lambda: check_2ddoc_image(photo, trust, today=TODAY, expected_name="Patrick Reti"),
    }
    results: list[dict[str, Any]] = []
    width = max(len(name) for name in steps)
    print(f"{'step':<{width}}  {'per second':>12}  {'ms each':>9}")
    for name, fn in steps.items():
        per_second, count = rate(fn, args.seconds)
        results.append({"step": name, "per_second": round(per_second, 1), "calls": count})
        print(f"{name:<{width}}  {per_second:>12,.0f}  {1000 / per_second:>9.3f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        meta = {"python": platform.python_version(), "machine": platform.machine(), "seconds": args.seconds}
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
