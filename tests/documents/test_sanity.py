"""File sanity from real files made here: images, PDFs (plain, encrypted, scripted, broken), bombs."""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from casework.documents.checks.result import Outcome
from casework.documents.checks.sanity import DOCX, XLSX, check_file, detect_type, safe_filename
from tests.documents.images import blank_page, encode


def by_check(results):
    return {r.check: r for r in results}


def pdf_bytes(pages: int = 1) -> bytes:
    images = [Image.new("RGB", (620, 877), "white") for _ in range(pages)]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=75)
    return buf.getvalue()


def pdf_writer() -> PdfWriter:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    return writer


def written(writer: PdfWriter) -> bytes:
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A valid-looking PNG that declares width x height pixels with a tiny IDAT (a decompression bomb)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


OFFICE_MAIN = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "docm": "application/vnd.ms-word.document.macroEnabled.main+xml",
}


def office_zip(kind: str, extra: dict[str, bytes] | None = None) -> bytes:
    content_types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Override PartName="/word/document.xml" ContentType="{OFFICE_MAIN[kind]}"/></Types>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("word/document.xml", "<w:document>" + "Proof of address. " * 50 + "</w:document>")
        for name, payload in (extra or {}).items():
            archive.writestr(name, payload)
    return buf.getvalue()


# ---------------------------------------------------------------------------------- detection


def test_detect_types_from_bytes():
    page = Image.new("RGB", (700, 700), "white")
    assert detect_type(encode(page, "PNG")) == "image/png"
    assert detect_type(encode(page, "JPEG")) == "image/jpeg"
    assert detect_type(encode(page, "TIFF")) == "image/tiff"
    assert detect_type(encode(page, "GIF")) == "image/gif"
    assert detect_type(encode(page, "WEBP")) == "image/webp"
    assert detect_type(pdf_bytes()) == "application/pdf"
    assert detect_type(office_zip("docx")) == DOCX
    assert detect_type(office_zip("xlsx")) == XLSX
    assert detect_type(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") == "image/heic"
    assert detect_type("Relevé de compte\nSolde: 12,00 €\n".encode()) == "text/plain"
    assert detect_type(b"MZ\x90\x00\x03" + b"\x00" * 200) == "application/x-msdownload"
    assert detect_type(b"\x7fELF\x02\x01\x01" + b"\x00" * 100) == "application/x-executable"
    assert detect_type(b"<!DOCTYPE html><html><script>alert(1)</script>") == "text/html"
    assert detect_type(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>') == "image/svg+xml"
    assert detect_type(b"") is None
    assert detect_type(bytes(range(256)) * 4) is None or detect_type(bytes(range(256)) * 4) != "text/plain"


# ------------------------------------------------------------------------------------ checks


def test_good_png_jpeg_tiff_pass_all_checks():
    for fmt, mime in (("PNG", "image/png"), ("JPEG", "image/jpeg"), ("TIFF", "image/tiff")):
        results = check_file(blank_page(1240, 1754, fmt), declared_kind="proof_of_address", declared_mime=mime, filename=f"scan.{fmt}")
        assert [r.outcome for r in results] == [Outcome.PASS] * 3, [r.message for r in results]
        assert by_check(results)["image_resolution"].details["width"] == 1240


def test_good_pdf_passes_with_page_count():
    results = by_check(check_file(pdf_bytes(3), declared_kind="proof_of_address", declared_mime="application/pdf", filename="a.pdf"))
    assert results["file_type"].outcome is Outcome.PASS
    assert results["pdf_structure"].outcome is Outcome.PASS and results["pdf_structure"].details["pages"] == 3


def test_empty_file_fails():
    [result] = check_file(b"", declared_kind=None, declared_mime="application/pdf", filename="empty.pdf")
    assert result.outcome is Outcome.FAIL and "empty" in result.message


def test_executable_fails_whatever_its_name():
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 500
    result = by_check(check_file(exe, declared_kind="identity_document", declared_mime="image/jpeg", filename="passport.jpg"))["file_type"]
    assert result.outcome is Outcome.FAIL and "program" in result.message
    assert result.details["safe_filename"] == "passport.jpg"


def test_unknown_binary_and_html_fail():
    assert check_file(bytes(range(256)) * 8, declared_kind=None, declared_mime=None, filename=None)[0].outcome is Outcome.FAIL
    html = check_file(b"<html><script>x()</script></html>", declared_kind=None, declared_mime="text/html", filename="a.html")
    assert html[0].outcome is Outcome.FAIL


def test_declared_mime_must_match_content():
    results = check_file(blank_page(fmt="PNG"), declared_kind=None, declared_mime="application/pdf", filename="x.pdf")
    assert results[0].outcome is Outcome.FAIL and "application/pdf" in results[0].message
    aliased = check_file(blank_page(fmt="JPEG"), declared_kind=None, declared_mime="image/jpg; q=1", filename=None)
    assert aliased[0].outcome is Outcome.PASS
    unknown = check_file(blank_page(fmt="PNG"), declared_kind=None, declared_mime="application/octet-stream", filename=None)
    assert unknown[0].outcome is Outcome.PASS


def test_identity_document_must_be_a_scan():
    result = check_file(office_zip("docx"), declared_kind="identity_document", declared_mime=DOCX, filename="id.docx")[0]
    assert result.outcome is Outcome.FAIL and "scan" in result.message
    assert (
        check_file(office_zip("docx"), declared_kind="proof_of_address", declared_mime=DOCX, filename="a.docx")[0].outcome is Outcome.PASS
    )


def test_encrypted_pdf_fails():
    writer = pdf_writer()
    writer.encrypt("secret", algorithm="AES-256")
    result = by_check(check_file(written(writer), declared_kind=None, declared_mime="application/pdf", filename=None))["pdf_structure"]
    assert result.outcome is Outcome.FAIL and "encrypted" in result.message


def test_pdf_with_javascript_fails():
    writer = pdf_writer()
    action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('hello');")})
    tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("hello"), writer._add_object(action)])})
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): writer._add_object(tree)})
    result = by_check(check_file(written(writer), declared_kind=None, declared_mime=None, filename=None))["pdf_structure"]
    assert result.outcome is Outcome.FAIL and "JavaScript" in result.message


def test_pdf_with_launch_open_action_fails():
    writer = pdf_writer()
    action = DictionaryObject({NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")})
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    result = by_check(check_file(written(writer), declared_kind=None, declared_mime=None, filename=None))["pdf_structure"]
    assert result.outcome is Outcome.FAIL
    assert "Launch" in result.message and "OpenAction" in result.message


def test_pdf_opening_on_a_page_is_fine():
    writer = pdf_writer()
    writer.open_destination = writer.pages[0]  # /OpenAction [page /Fit]: a plain destination
    assert (
        by_check(check_file(written(writer), declared_kind=None, declared_mime=None, filename=None))["pdf_structure"].outcome
        is Outcome.PASS
    )


def test_corrupt_pdf_fails():
    broken = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\ngarbage garbage\n%%EOF"
    result = by_check(check_file(broken, declared_kind=None, declared_mime="application/pdf", filename=None))["pdf_structure"]
    assert result.outcome is Outcome.FAIL
    truncated = pdf_bytes()[:300]
    assert by_check(check_file(truncated, declared_kind=None, declared_mime=None, filename=None))["pdf_structure"].outcome is Outcome.FAIL


def test_png_decompression_bomb_is_refused_without_decoding():
    bomb = png_header_only(100_000, 100_000)
    assert len(bomb) < 200
    started = time.perf_counter()
    results = check_file(bomb, declared_kind=None, declared_mime="image/png", filename="bomb.png")
    assert time.perf_counter() - started < 1.0
    image = by_check(results)["image_structure"]
    assert image.outcome is Outcome.FAIL and "bomb" in image.message


def test_image_over_the_configured_limit_fails():
    results = by_check(check_file(blank_page(1000, 1000), declared_kind=None, declared_mime=None, filename=None, max_pixels=500_000))
    assert results["image_structure"].outcome is Outcome.FAIL and results["image_structure"].details["width"] == 1000


def test_corrupt_and_truncated_images_fail():
    png = blank_page(800, 800, "PNG")
    corrupt = png[:60] + bytes(b ^ 0xFF for b in png[60:200]) + png[200:]
    assert by_check(check_file(corrupt, declared_kind=None, declared_mime=None, filename=None))["image_structure"].outcome is Outcome.FAIL
    noisy = Image.effect_noise((800, 800), 80).convert("RGB")
    jpeg = encode(noisy, "JPEG", quality=95)
    truncated = jpeg[: len(jpeg) // 2]
    assert by_check(check_file(truncated, declared_kind=None, declared_mime=None, filename=None))["image_structure"].outcome is Outcome.FAIL


def test_small_image_fails_with_its_resolution():
    result = by_check(check_file(blank_page(640, 480), declared_kind=None, declared_mime=None, filename=None))["image_resolution"]
    assert result.outcome is Outcome.FAIL and "640x480" in result.message
    ok = by_check(check_file(blank_page(640, 480), declared_kind=None, declared_mime=None, filename=None, min_dpi_pixels=400))
    assert ok["image_resolution"].outcome is Outcome.PASS


def test_heic_header_that_cannot_be_decoded_goes_to_a_person():
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100
    results = by_check(check_file(heic, declared_kind=None, declared_mime="image/heic", filename="IMG_0001.HEIC"))
    assert results["file_type"].outcome is Outcome.PASS
    assert results["image_structure"].outcome is Outcome.UNKNOWN


def test_heic_phone_photo_is_decoded_and_measured():
    photo = blank_page(1240, 1754, "HEIF", quality=60)
    assert detect_type(photo) == "image/heic"
    results = by_check(check_file(photo, declared_kind="proof_of_address", declared_mime="image/heic", filename="IMG_0002.HEIC"))
    assert results["image_structure"].outcome is Outcome.PASS, results["image_structure"].message
    assert results["image_structure"].details["width"] == 1240 and results["image_structure"].details["format"] == "HEIF"
    assert results["image_resolution"].outcome is Outcome.PASS


def test_tiny_heic_is_too_small_to_read():
    results = by_check(check_file(blank_page(300, 200, "HEIF"), declared_kind=None, declared_mime="image/heic", filename="x.heic"))
    assert results["image_resolution"].outcome is Outcome.FAIL


def test_zip_bomb_is_refused_from_the_central_directory():
    bomb = office_zip("docx", {"word/media/padding.bin": b"\x00" * 20_000_000})
    assert len(bomb) < 100_000
    results = by_check(check_file(bomb, declared_kind=None, declared_mime=DOCX, filename="cv.docx"))
    assert results["file_type"].outcome is Outcome.PASS
    assert results["zip_structure"].outcome is Outcome.FAIL and "zip bomb" in results["zip_structure"].message
    assert results["zip_structure"].details["uncompressed_size"] > 20_000_000
    sane = by_check(check_file(office_zip("docx"), declared_kind=None, declared_mime=DOCX, filename=None))
    assert sane["zip_structure"].outcome is Outcome.PASS


def test_plain_zip_and_macro_documents_are_not_documents():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("invoice.exe", b"MZ" + b"\x00" * 100)
    assert check_file(buf.getvalue(), declared_kind=None, declared_mime=None, filename=None)[0].outcome is Outcome.FAIL
    result = check_file(office_zip("docm"), declared_kind=None, declared_mime=None, filename="a.docm")[0]
    assert result.outcome is Outcome.FAIL


def test_results_are_json_safe():
    import json

    for data in (pdf_bytes(), blank_page(), png_header_only(100_000, 100_000), office_zip("docx"), b"", b"MZ"):
        for result in check_file(data, declared_kind=None, declared_mime=None, filename="../x.pdf"):
            json.dumps(result.to_dict())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system32\\cmd.exe", "cmd.exe"),
        ("C:evil.pdf", "evil.pdf"),
        ("C:\\Users\\me\\scan.PDF", "scan.PDF"),
        ("..", "file"),
        ("", "file"),
        (".bashrc", "bashrc"),
        ("pass\x00port\n.jpg", "passport.jpg"),
        ('a<b>c:"d|e?f*.png', "a_b_c__d_e_f_.png"),
        ("CON.txt", "_CON.txt"),
        ("relevé bancaire.pdf", "relevé bancaire.pdf"),
        ("/", "file"),
        ("...pdf", "pdf"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_keeps_the_extension_within_200_chars():
    name = safe_filename("x" * 500 + ".pdf")
    assert len(name) == 200 and name.endswith(".pdf")
    assert len(safe_filename("é" * 300)) <= 200
