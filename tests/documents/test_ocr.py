"""Offline OCR of MRZ images rendered by Pillow, and the MRZ repair rules (no OCR needed)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from casework.documents.checks import ocr
from casework.documents.checks.mrz import make_mrz_td1, parse_mrz
from casework.documents.checks.ocr import read_mrz_from_image, repair_mrz
from tests.documents.images import blank_page, encode, render_id_card

TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
TD1 = make_mrz_td1(
    surname="Dupont-Moretti", given_names="Éric", document_number="X4RTBPFW4", nationality="FRA",
    birth_date=date(1961, 4, 20), sex="M", expiry_date=date(2031, 2, 28),
)  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------ repair (no engine)


def test_repair_fixes_confusions_in_digit_and_letter_positions():
    rows = ["UTOPIA PASSPORT", "P<UT0ERIKSSON<<ANNA<MAR1A<<<<<<<<<<<<<<<<<<<", "L898902C36UT07408I22F12O4159ZE184226B<<<<<1O"]
    assert repair_mrz(rows) == TD3


def test_repair_uses_check_digits_for_alphanumeric_fields():
    # A '0' read as 'O' and an '8' read as 'B' in fields where both letters and digits are allowed:
    # only the reading that agrees with the field's and the composite check digits is kept.
    rows = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L8989O2C36UTO7408122F1204159ZE184226B<<<<<10"]
    assert repair_mrz(rows) == TD3
    # 'ZE1B4226B' could be ZE184226B or 2E1B4226B: both agree with the check digits, so no guess.
    text = repair_mrz([rows[0], rows[1].replace("ZE18", "ZE1B")])
    assert text is not None and "ZE1B4226B" in text
    assert [c.field for c in parse_mrz(text).failed_check_digits] == ["optional_data", "composite"]


def test_repair_restores_fillers_guillemets_and_spaces():
    rows = ["p<utoeriksson«<anna<maria<<<<<", "L898902C36 UTO7408122F1204159 ZE184226B<<<<10"]  # name fillers and one '<' lost
    assert repair_mrz(rows) == TD3
    line1, line2, line3 = TD1.splitlines()
    assert repair_mrz([line1[:-4] + "SSSS", line2, line3[:-6]]) == TD1  # "<<<<" read as "SSSS"
    assert repair_mrz([line1[1:], line2, line3]) == TD1  # document code dropped


def test_repair_fixes_state_codes_and_dates():
    line1, line2, line3 = TD1.splitlines()
    bad2 = line2[:2] + "<" + line2[3:15] + "ERA" + line2[18:]  # a 0 read as '<', F read as E
    assert repair_mrz([line1.replace("FRA", "FKA"), bad2, line3]) is not None
    assert repair_mrz([line1, bad2, line3]) == TD1


def test_repair_gives_none_without_an_mrz():
    assert repair_mrz(["INVOICE 2026-001", "Total due: 42.00 EUR"]) is None
    assert repair_mrz([]) is None


# --------------------------------------------------------------------------- with the engine


def test_reads_the_td3_specimen_from_a_clean_png():
    assert read_mrz_from_image(render_id_card(TD3)) == TD3


def test_reads_a_tilted_noisy_td1_jpeg():
    text = read_mrz_from_image(render_id_card(TD1, rotate=-2.0, noise=0.3, seed=7, fmt="JPEG"))
    assert text is not None
    mrz = parse_mrz(text)
    assert mrz.check_digits_ok, mrz.failed_check_digits
    assert (mrz.document_number, mrz.birth_date, mrz.surname) == ("X4RTBPFW4", date(1961, 4, 20), "DUPONT MORETTI")


def test_a_page_without_mrz_gives_none():
    assert read_mrz_from_image(blank_page(800, 600)) is None


def test_unreadable_or_huge_images_give_none_without_ocr(monkeypatch):
    def no_engine():
        raise AssertionError("the OCR engine must not run")

    monkeypatch.setattr(ocr, "_get_engine", no_engine)
    assert read_mrz_from_image(b"") is None
    assert read_mrz_from_image(b"%PDF-1.7 not an image") is None
    monkeypatch.setattr(ocr, "MAX_OCR_PIXELS", 100)
    from PIL import Image

    assert read_mrz_from_image(encode(Image.new("L", (20, 20)))) is None


def test_one_engine_per_process():
    assert ocr._get_engine() is ocr._get_engine()


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_engine_is_imported_lazily():
    done = _run("""
        import sys
        import casework.documents.checks.ocr
        assert "rapidocr_onnxruntime" not in sys.modules and "onnxruntime" not in sys.modules
        print("lazy")
    """)
    assert done.stdout.strip() == "lazy", done.stderr


@pytest.mark.slow
def test_ocr_runs_with_the_network_cut_off():
    """Models come from the wheel: any socket use (a model download) would raise here."""
    done = _run("""
        import socket
        def refuse(*args, **kwargs):
            raise OSError("network is off in this test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from tests.documents.images import render_id_card
        from casework.documents.checks.ocr import read_mrz_from_image
        mrz = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
        print(read_mrz_from_image(render_id_card(mrz)) == mrz)
    """)
    assert done.stdout.strip() == "True", done.stderr[-2000:]
