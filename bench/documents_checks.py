"""Throughput of the automated KYC document checks (pure functions, one process, one core).

* MRZ: parse + check digits + expiry + identity comparison on generated TD1/TD3 text
  (:func:`casework.documents.checks.mrz.check_mrz`), the path taken for a PDF text layer;
* IBAN: :func:`casework.documents.checks.bank.check_iban` on a mix of valid and mistyped IBANs;
* OCR: :func:`casework.documents.checks.ocr.read_mrz_from_image` on a few rendered ID-card
  images (PNG and a tilted, noisy JPEG), after one warm-up read that loads the engine; the
  engine load time is reported separately.

    .venv/bin/python bench/documents_checks.py [--mrz 20000] [--iban 20000] [--images 4]
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.documents.images

from tests.documents.images import render_id_card

from casework.documents.checks.bank import check_iban
from casework.documents.checks.mrz import check_mrz, make_mrz_td1, make_mrz_td3, parse_mrz

NAMES = [("Eriksson", "Anna Maria"), ("Dupont", "Éric"), ("Nguyen", "Van An"), ("Smith", "John"), ("García Márquez", "Gabriel")]
IBANS = ["DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32", "FR14 2004 1010 0505 0001 3M02 606", "NL91 ABNA 0417 1643 00"]


def make_mrzs(count: int, rnd: random.Random) -> list[tuple[str, str, date]]:
    out = []
    for i in range(count):
        surname, given = NAMES[i % len(NAMES)]
        birth = date(1940, 1, 1) + timedelta(days=rnd.randrange(24_000))
        values = {
            "surname": surname,
            "given_names": given,
            "document_number": "".join(rnd.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(9)),
            "nationality": rnd.choice(["UTO", "FRA", "DEU", "GBR"]),
            "birth_date": birth,
            "sex": rnd.choice("MF"),
            "expiry_date": date(2020, 1, 1) + timedelta(days=rnd.randrange(5_000)),
        }
        text = make_mrz_td3(**values) if i % 2 else make_mrz_td1(**values)
        out.append((text, f"{given} {surname}", birth))
    return out


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s ({seconds / count * 1e6:,.1f} µs each)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mrz", type=int, default=20_000)
    parser.add_argument("--iban", type=int, default=20_000)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")

    today = date(2026, 6, 1)
    samples = make_mrzs(args.mrz, rnd)
    started = time.perf_counter()
    for text, _, _ in samples:
        parse_mrz(text, today=today)
    print(f"MRZ parse + check digits : {rate(len(samples), time.perf_counter() - started)}")
    started = time.perf_counter()
    for text, name, birth in samples:
        check_mrz(text, today=today, party_name=name, party_birth_date=birth)
    print(f"MRZ full checks          : {rate(len(samples), time.perf_counter() - started)}")

    ibans = [IBANS[i % len(IBANS)] if i % 5 else IBANS[i % len(IBANS)].replace("0", "1", 1) for i in range(args.iban)]
    started = time.perf_counter()
    outcomes = [check_iban(iban).outcome.value for iban in ibans]
    print(f"IBAN checks              : {rate(len(ibans), time.perf_counter() - started)} ({outcomes.count('fail')} invalid)")

    if args.images:
        from casework.documents.checks.ocr import read_mrz_from_image

        styles = [{}, {"rotate": -2.0, "noise": 0.3, "seed": 7, "fmt": "JPEG"}, {"font_size": 44}, {"blur": 0.6}]
        images = [(render_id_card(samples[i][0], **styles[i % len(styles)]), samples[i][0]) for i in range(args.images)]
        started = time.perf_counter()
        read_mrz_from_image(images[0][0])  # loads ONNX Runtime and the models
        print(f"OCR engine load + 1 read : {time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        exact = valid = 0
        for data, expected in images:
            text = read_mrz_from_image(data)
            exact += text == expected
            valid += bool(text) and parse_mrz(text, today=today).check_digits_ok
        elapsed = time.perf_counter() - started
        print(f"OCR images               : {len(images) / elapsed:.2f} images/s ({elapsed / len(images):.2f} s each); "
              f"{exact}/{len(images)} read exactly, {valid}/{len(images)} with all check digits right")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
