"""Document intake throughput: uploads/s of 1 MB files through the service, and MRZ and IBAN checks/s.

Uploads go through ``services.documents.upload_document`` on a fresh SQLite database (WAL,
synchronous=FULL) with the blob store in a temporary folder: streamed hashing, the fsync'd
atomic write, file sanity checks, the row and its audit entry, one transaction per file.
The files are 1 MB PDFs with random (incompressible) padding, each unique, so every upload
stores a new blob. The check rates come from ``bench/documents_checks.py``'s generators.

    .venv/bin/python bench/documents.py [--uploads 200] [--size-mb 1] [--checks 20000]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for bench.documents_checks and tests helpers

from bench.documents_checks import IBANS, make_mrzs

from casework.documents.checks.bank import check_iban
from casework.documents.checks.mrz import check_mrz


def _pdf(size: int, rnd: random.Random) -> bytes:
    """A valid one-page PDF padded to ``size`` bytes with a random stream (unique per call)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    padding = DecodedStreamObject()
    padding.set_data(rnd.randbytes(size))
    writer._root_object[NameObject("/Padding")] = writer._add_object(padding)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def bench_uploads(count: int, size: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="casework-bench-docs-") as folder:
        os.environ["CASEWORK_STORAGE_DIR"] = str(Path(folder) / "files")
        url = f"sqlite:///{folder}/bench.db"
        from casework.services import cases, documents, users
        from casework.services.schemas import CaseCreate
        from casework.store.migrate import upgrade
        from casework.store.unit_of_work import Database

        upgrade(url)
        db = Database(url)
        who = users.system_principal(db)
        fields = {"product": "loan", "channel": "email"}
        case = cases.create_case(db, who, CaseCreate(case_type="complaint", title="Bench", team="complaints", custom_data=fields))
        rnd = random.Random(7)
        files = [_pdf(size, rnd) for _ in range(count)]
        chunk = 256 * 1024
        started = time.perf_counter()
        for i, data in enumerate(files):
            stream = (data[j : j + chunk] for j in range(0, len(data), chunk))
            documents.upload_document(
                db, who, case.id, kind="other", filename=f"scan-{i}.pdf", stream=stream, declared_mime="application/pdf"
            )
        elapsed = time.perf_counter() - started
        db.dispose()
        return count / elapsed, count * len(files[0]) / elapsed / 1e6


def bench_checks(count: int) -> tuple[float, float]:
    rnd = random.Random(11)
    mrzs = make_mrzs(count, rnd)
    today = date(2026, 6, 1)
    started = time.perf_counter()
    for text, name, birth in mrzs:
        check_mrz(text, today=today, party_name=name, party_birth_date=birth)
    mrz_rate = count / (time.perf_counter() - started)
    ibans = [IBANS[i % len(IBANS)] for i in range(count)]
    started = time.perf_counter()
    for iban in ibans:
        check_iban(iban)
    return mrz_rate, count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=200, help="files uploaded")
    parser.add_argument("--size-mb", type=float, default=1.0, help="size of each file in MB")
    parser.add_argument("--checks", type=int, default=20_000, help="MRZ and IBAN checks each")
    args = parser.parse_args()
    print(f"document intake: {args.uploads} uploads of {args.size_mb:g} MB, {args.checks:,} checks; Python {platform.python_version()}")
    per_second, megabytes = bench_uploads(args.uploads, int(args.size_mb * 1_000_000))
    mrz_rate, iban_rate = bench_checks(args.checks)
    print(f"{'uploads/s (1 file = 1 transaction)':40} {per_second:10,.1f}   ({megabytes:,.1f} MB/s)")
    print(f"{'MRZ checks/s (parse, digits, identity)':40} {mrz_rate:10,.0f}")
    print(f"{'IBAN checks/s':40} {iban_rate:10,.0f}")


if __name__ == "__main__":
    main()
