"""File sanity of an uploaded document, judged from its bytes and never from its name.

Why: an upload named ``passport.jpg`` may be an executable, a decompression bomb that takes the
worker's memory, a PDF that runs JavaScript in the reviewer's viewer, an encrypted PDF nobody
can read, or a photo too small to read. These checks run before anything else opens the file,
and never fully decode what looks dangerous: image sizes come from headers, zip sizes from the
central directory, and PDFs are only parsed by pypdf (never rendered).
"""

from __future__ import annotations

import codecs
import io
import itertools
import re
import unicodedata
import warnings
import zipfile
from typing import Any

import puremagic
from PIL import Image

from casework.documents.checks.heif import register_heif
from casework.documents.checks.result import CheckResult, failed, passed, unknown

register_heif()

__all__ = ["ACCEPTED_TYPES", "check_file", "detect_type", "safe_filename"]

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/tiff", "image/gif", "image/webp", "image/bmp", "image/heic", "image/heif"})
OFFICE_TYPES = frozenset({DOCX, XLSX, ODT})
ACCEPTED_TYPES = IMAGE_TYPES | OFFICE_TYPES | {PDF, "text/plain"}
# Kinds from the case-type checklists that must be a picture or a scan of a paper.
SCAN_ONLY_KINDS = frozenset({"identity_document", "passport", "id_card", "residence_permit", "driving_licence"})
EXECUTABLE_TYPES = frozenset({"application/x-msdownload", "application/x-executable", "application/x-mach-binary", "text/x-shellscript"})

MAX_ZIP_TOTAL = 200 * 1024 * 1024  # uncompressed bytes an office file may declare
MAX_ZIP_RATIO = 100  # uncompressed/compressed, per entry and overall (office XML is ~5-20)
MAX_ZIP_ENTRIES = 10_000
_CONTENT_TYPES_LIMIT = 1024 * 1024
_MIME_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "application/x-pdf": PDF,
    "image/tif": "image/tiff",
    "image/heif": "image/heic",
}
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}


# ----------------------------------------------------------------------------------- types


def _read_capped(archive: zipfile.ZipFile, name: str) -> bytes | None:
    if name not in archive.namelist() or archive.getinfo(name).file_size > _CONTENT_TYPES_LIMIT:
        return None
    with archive.open(name) as handle:
        return handle.read(_CONTENT_TYPES_LIMIT)


def _zip_type(data: bytes) -> str:
    """OOXML/ODF flavour of a zip from its ``mimetype`` or ``[Content_Types].xml`` entry (read capped)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            mimetype = _read_capped(archive, "mimetype")
            if mimetype:
                return mimetype.decode("ascii", "replace").strip()
            content = _read_capped(archive, "[Content_Types].xml") or b""
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, RuntimeError, NotImplementedError, EOFError):
        return "application/zip"
    if b"macroEnabled" in content:
        return "application/vnd.ms-office.macroenabled"
    markers = ((b"wordprocessingml.document.main", DOCX), (b"spreadsheetml.sheet.main", XLSX), (b"presentationml.presentation.main", PPTX))
    return next((mime for marker, mime in markers if marker in content), "application/zip")


def _is_text(data: bytes) -> bool:
    """UTF-8 without NULs and almost all printable (the first 8 KiB; a cut multibyte char is fine)."""
    head = data[:8192]
    if b"\x00" in head:
        return False
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=len(data) <= len(head))
    except UnicodeDecodeError:
        return False
    printable = sum(c.isprintable() or c in "\r\n\t\f" for c in text)
    return printable >= 0.95 * max(1, len(text))


def detect_type(data: bytes) -> str | None:
    """MIME type from magic bytes (PDF, images, OOXML/ODF, executables, plain text), or None if unknown."""
    if not data:
        return None
    head = data[:64]
    if b"%PDF-" in data[:1024]:
        return PDF
    signatures: tuple[tuple[bytes, str], ...] = (
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"II*\x00", "image/tiff"),
        (b"MM\x00*", "image/tiff"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"BM", "image/bmp"),
        (b"MZ", "application/x-msdownload"),
        (b"\x7fELF", "application/x-executable"),
        (b"\xcf\xfa\xed\xfe", "application/x-mach-binary"),
        (b"\xce\xfa\xed\xfe", "application/x-mach-binary"),
        (b"\xca\xfe\xba\xbe", "application/x-mach-binary"),
        (b"#!", "text/x-shellscript"),
    )
    for magic, mime in signatures:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return "image/heic"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_type(data)
    stripped = data[:512].lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<script")):
        return "text/html"
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<svg"):
        return "image/svg+xml" if b"<svg" in data[:4096].lower() else "application/xml"
    if _is_text(data):
        return "text/plain"
    try:
        guess = puremagic.from_string(data[:8192], mime=True)
    except (puremagic.PureError, ValueError):
        return None
    return guess or None


def _normalise_mime(mime: str | None) -> str | None:
    if not mime:
        return None
    mime = mime.split(";", 1)[0].strip().lower()
    if mime in ("", "application/octet-stream", "binary/octet-stream"):
        return None  # "no idea" from the browser is not a declaration
    return _MIME_ALIASES.get(mime, mime)


# ------------------------------------------------------------------------------- file names


_RESERVED_WINDOWS = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_filename(name: str, *, max_length: int = 200) -> str:
    """A name safe to store and to offer for download: last path component only, no control
    characters or shell/Windows specials, no leading dots, extension kept, never empty."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = re.sub(r"^[A-Za-z]:", "", name)
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r'[<>:"|?*]', "_", name).strip().strip(".").strip()
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = re.sub(r"[^\w]", "", ext)[:16]
    stem = stem.strip() or "file"
    if stem.upper() in _RESERVED_WINDOWS:
        stem = "_" + stem
    suffix = f".{ext}" if ext else ""
    return stem[: max_length - len(suffix)].rstrip() + suffix


# ----------------------------------------------------------------------------------- checks


def check_file(
    data: bytes,
    *,
    declared_kind: str | None = None,
    declared_mime: str | None = None,
    filename: str | None = None,
    max_pixels: int = 50_000_000,
    min_dpi_pixels: int = 600,
) -> list[CheckResult]:
    """ "file_type" always, then "pdf_structure", "image_structure"/"image_resolution" or "zip_structure"."""
    size = len(data)
    detected = detect_type(data)
    declared = _normalise_mime(declared_mime)
    base: dict[str, Any] = {"size": size, "detected_mime": detected, "declared_mime": declared, "declared_kind": declared_kind}
    if filename is not None:
        base["safe_filename"] = safe_filename(filename)
    if size == 0:
        return [failed("file_type", "The file is empty.", **base)]
    results = [_file_type(detected, declared, declared_kind, base)]
    if detected == PDF:
        results.append(_check_pdf(data))
    elif detected in IMAGE_TYPES:
        results.extend(_check_image(data, detected, max_pixels=max_pixels, min_dpi_pixels=min_dpi_pixels))
    elif detected is not None and (detected in OFFICE_TYPES or detected == "application/zip" or "office" in detected):
        results.append(_check_zip(data))
    return results


def _file_type(detected: str | None, declared: str | None, kind: str | None, details: dict[str, Any]) -> CheckResult:
    if detected is None:
        return failed("file_type", "The file type could not be recognised from its content.", **details)
    if detected in EXECUTABLE_TYPES:
        return failed("file_type", f"The file is a program ({detected}), not a document.", **details)
    if detected not in ACCEPTED_TYPES:
        return failed("file_type", f"Files of type {detected} are not accepted as documents.", **details)
    if kind in SCAN_ONLY_KINDS and not (detected == PDF or detected in IMAGE_TYPES):
        return failed("file_type", f"A {kind.replace('_', ' ')} must be a scan or photo (PDF or image), not {detected}.", **details)
    if declared is not None and declared != detected:
        return failed("file_type", f"The file was sent as {declared} but its content is {detected}.", **details)
    return passed("file_type", f"The file is a {detected} document.", **details)


_ACTIVE_KEYS = {"/JavaScript": "JavaScript", "/JS": "JavaScript", "/Launch": "Launch action", "/EmbeddedFile": "embedded file"}
_ACTIVE_KEYS |= {"/XFA": "XFA form", "/RichMedia": "rich media", "/SubmitForm": "form submission", "/ImportData": "data import"}
_MAX_PDF_OBJECTS = 200_000


def _active_content(reader: Any) -> list[str]:
    """Names of active features found in any object (object streams included) of a PDF."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    found: set[str] = set()
    catalog = reader.trailer["/Root"].get_object()
    open_action = catalog.get("/OpenAction")
    if open_action is not None:
        action = open_action.get_object()
        # A destination (go to page 1) is harmless; any other action at opening is not.
        if isinstance(action, DictionaryObject) and action.get("/S") not in (NameObject("/GoTo"), None):
            found.add("OpenAction")
    if catalog.get("/AA") is not None:
        found.add("document additional actions")

    def visit(obj: Any) -> None:
        if isinstance(obj, DictionaryObject):
            for key, value in obj.items():
                if key in _ACTIVE_KEYS:
                    found.add(_ACTIVE_KEYS[key])
                if key == "/S" and value in _ACTIVE_KEYS:
                    found.add(_ACTIVE_KEYS[value])
                if not isinstance(value, IndirectObject):
                    visit(value)
        elif isinstance(obj, ArrayObject):
            for item in obj:
                if not isinstance(item, IndirectObject):
                    visit(item)

    count = 0
    for generation, numbers in reader.xref.items():
        for number in numbers:
            count += 1
            if count > _MAX_PDF_OBJECTS:
                found.add("too many objects to inspect")
                return sorted(found)
            try:
                visit(IndirectObject(number, generation, reader).get_object())
            except Exception:  # a broken object is not active content
                continue
    for number in reader.xref_objStm:
        try:
            visit(IndirectObject(number, 0, reader).get_object())
        except Exception:
            continue
    return sorted(found)


def _check_pdf(data: bytes) -> CheckResult:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                return failed("pdf_structure", "The PDF is encrypted and cannot be checked or read.", encrypted=True)
            pages = len(reader.pages)
            active = _active_content(reader)
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        return failed("pdf_structure", f"The PDF is damaged and cannot be read ({type(exc).__name__}).", error=str(exc)[:200])
    if pages == 0:
        return failed("pdf_structure", "The PDF has no readable page.", pages=0)
    if active:
        return failed("pdf_structure", f"The PDF contains active content: {', '.join(active)}.", pages=pages, active_content=active)
    return passed("pdf_structure", f"The PDF is readable ({pages} page{'s' if pages != 1 else ''}).", pages=pages, encrypted=False)


def _check_image(data: bytes, mime: str, *, max_pixels: int, min_dpi_pixels: int) -> list[CheckResult]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
    except Image.DecompressionBombError as exc:
        return [failed("image_structure", "The image declares more pixels than allowed (decompression bomb).", error=str(exc)[:200])]
    except (OSError, ValueError, SyntaxError) as exc:
        if mime == "image/heic":
            return [unknown("image_structure", "HEIC images cannot be inspected here; a person has to open it.")]
        return [failed("image_structure", "The image is damaged and cannot be read.", error=str(exc)[:200])]
    with image:
        sizes = [image.size]
        try:
            for frame in range(1, min(getattr(image, "n_frames", 1), 100)):
                image.seek(frame)
                sizes.append(image.size)
            image.seek(0)
        except (OSError, EOFError, ValueError) as exc:
            return [failed("image_structure", "The image is damaged and cannot be read.", error=str(exc)[:200])]
        width, height = max(sizes, key=lambda s: s[0] * s[1])
        details = {"width": width, "height": height, "frames": len(sizes), "format": image.format}
        if width * height > max_pixels:
            return [failed("image_structure", f"The image is {width}x{height} pixels, over the limit (decompression bomb?).", **details)]
        try:
            if image.format == "JPEG":
                image.draft("L", (max(1, image.width // 8), max(1, image.height // 8)))  # decodes at 1/8: fast, still reads all
            image.load()
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            return [failed("image_structure", "The image is damaged or truncated.", error=str(exc)[:200], **details)]
    results = [passed("image_structure", f"The image is readable ({width}x{height} pixels).", **details)]
    if min(width, height) < min_dpi_pixels:
        results.append(
            failed(
                "image_resolution",
                f"The image is too small to read ({width}x{height} pixels; at least {min_dpi_pixels} on the shorter side).",
                **details,
            )
        )
    else:
        results.append(passed("image_resolution", f"The image resolution ({width}x{height}) is enough to read.", **details))
    return results


def _check_zip(data: bytes) -> CheckResult:
    """Zip bomb guard from the central directory only: declared sizes, ratios, entry count, overlaps."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return failed("zip_structure", "The file is a damaged zip/office archive.", error=str(exc)[:200])
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    details: dict[str, Any] = {"entries": len(infos), "uncompressed_size": total, "compressed_size": packed}
    if len(infos) > MAX_ZIP_ENTRIES:
        return failed("zip_structure", f"The archive has {len(infos)} entries, more than {MAX_ZIP_ENTRIES}.", **details)
    if total > MAX_ZIP_TOTAL:
        return failed("zip_structure", f"The archive would expand to {total} bytes (zip bomb).", **details)
    worst = max((i.file_size / max(1, i.compress_size) for i in infos), default=0.0)
    details["max_ratio"] = round(worst, 1)
    if worst > MAX_ZIP_RATIO or total / max(1, packed) > MAX_ZIP_RATIO:
        return failed("zip_structure", f"The archive compresses {worst:.0f} to 1, beyond any document (zip bomb).", **details)
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for current, following in itertools.pairwise(ordered):
        if current.header_offset + current.compress_size > following.header_offset:
            return failed("zip_structure", "The archive's entries overlap (a crafted zip bomb).", **details)
    return passed("zip_structure", f"The archive is sane ({len(infos)} entries, {total} bytes uncompressed).", **details)
