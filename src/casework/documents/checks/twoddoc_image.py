"""2D-Doc DataMatrix images: read them (zxing-cpp), draw them (zxing-cpp + Pillow), check them."""

from __future__ import annotations

import io
from datetime import date
from typing import Any, cast

import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError

from casework.documents.checks.heif import register_heif
from casework.documents.checks.result import CheckResult, Outcome
from casework.documents.checks.twoddoc_format import TwoDDoc, TwoDDocError, normalize_payload, parse_2ddoc
from casework.documents.checks.twoddoc_match import match_address, match_name
from casework.documents.checks.twoddoc_trust import TrustStore, verify_2ddoc

register_heif()

DECODE_CHECK = "2ddoc_decode"
NAME_CHECK = "2ddoc_name"
ADDRESS_CHECK = "2ddoc_address"
_DATAMATRIX = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.DataMatrix)


def _open(image: bytes) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(image))
        img.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise TwoDDocError(f"not a readable image: {exc}") from exc
    return ImageOps.exif_transpose(img).convert("L")


def decode_datamatrix(image: bytes) -> list[str]:
    """The 2D-Doc payloads (texts starting with "DC") of the DataMatrix codes in a PNG/JPEG/... image.

    Other DataMatrix codes are ignored. Raises :class:`TwoDDocError` when the bytes are not an
    image Pillow can read. When the default pass finds nothing, a second pass with a global
    histogram binarizer is tried (helps with unevenly lit photos).
    """
    img = _open(image)
    found: list[str] = []
    for binarizer in (zxingcpp.Binarizer.LocalAverage, zxingcpp.Binarizer.GlobalHistogram):
        for barcode in zxingcpp.read_barcodes(img, formats=_DATAMATRIX, text_mode=zxingcpp.TextMode.Plain, binarizer=binarizer):
            text = normalize_payload(barcode.text)
            if text.startswith("DC") and text not in found:
                found.append(text)
        if found:
            break
    return found


def render_datamatrix(payload: str, *, scale: int = 4) -> bytes:
    """PNG of a DataMatrix holding ``payload`` (``scale`` pixels per module, quiet zone included)."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    try:
        barcode = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.DataMatrix)
    except (ValueError, RuntimeError) as exc:
        raise TwoDDocError(f"cannot encode the payload as a DataMatrix: {exc}") from exc
    bitmap = barcode.to_image(scale=scale, add_quiet_zones=True)
    height, width = bitmap.shape[0], bitmap.shape[1]
    pixels = bytes(memoryview(cast(Any, bitmap)))  # zxingcpp.Image has the buffer protocol
    img = Image.frombytes("L", (width, height), pixels)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _summary(doc: TwoDDoc) -> dict[str, Any]:
    return {
        "version": doc.version,
        "ca_id": doc.ca_id,
        "cert_id": doc.cert_id,
        "doc_type": doc.doc_type,
        "doc_type_name": doc.doc_type_name,
        "doc_category": doc.doc_category,
        "issued": doc.issued.isoformat() if doc.issued else None,
        "signed": doc.signed.isoformat() if doc.signed else None,
        "perimeter": doc.perimeter,
        "country": doc.country,
        "fields": dict(doc.fields),
        "named_fields": dict(doc.named_fields),
        "truncated": sorted(doc.truncated),
        "unknown_ids": list(doc.unknown_ids),
        "annex": doc.annex,
    }


def check_2ddoc_image(
    image: bytes,
    trust: TrustStore,
    *,
    today: date,
    expected_name: str | None = None,
    expected_address: str | None = None,
) -> list[CheckResult]:
    """Decode, parse and verify the 2D-Doc of an image; compare its name/address with the case's.

    Results, in order: ``2ddoc_decode`` (UNKNOWN: unreadable image or no 2D-Doc; FAIL: a 2D-Doc
    that is malformed; PASS: parsed, with its fields in ``details``), then — only when a 2D-Doc
    was parsed — ``2ddoc_signature`` (:func:`verify_2ddoc`), ``2ddoc_name`` when
    ``expected_name`` is given and ``2ddoc_address`` when ``expected_address`` is given (UNKNOWN
    when the document carries no name/address). Unknown data identifiers are tolerated here
    (``parse_2ddoc(strict=False)``): the signature does not depend on them. With several 2D-Docs
    in the image, the first that parses is used.
    """
    try:
        payloads = decode_datamatrix(image)
    except TwoDDocError as exc:
        return [CheckResult(DECODE_CHECK, Outcome.UNKNOWN, f"the image could not be read: {exc}", {})]
    if not payloads:
        return [CheckResult(DECODE_CHECK, Outcome.UNKNOWN, "no 2D-Doc DataMatrix found in the image", {"payloads_found": 0})]
    errors: list[str] = []
    doc: TwoDDoc | None = None
    for payload in payloads:
        try:
            doc = parse_2ddoc(payload, strict=False)
            break
        except TwoDDocError as exc:
            errors.append(str(exc))
    if doc is None:
        return [
            CheckResult(DECODE_CHECK, Outcome.FAIL, f"malformed 2D-Doc: {errors[0]}", {"payloads_found": len(payloads), "errors": errors})
        ]
    summary = _summary(doc) | {"payloads_found": len(payloads)}
    message = f"2D-Doc {doc.ca_id}/{doc.cert_id} decoded: {doc.doc_type_name}, {len(doc.fields)} fields"
    if doc.unknown_ids:
        message += f" ({len(doc.unknown_ids)} not in the data table: {', '.join(doc.unknown_ids)})"
    results = [CheckResult(DECODE_CHECK, Outcome.PASS, message, summary), verify_2ddoc(doc, trust, today=today)]
    if expected_name is not None:
        ok, details = match_name(doc, expected_name)
        if ok is None:
            results.append(CheckResult(NAME_CHECK, Outcome.UNKNOWN, "the 2D-Doc carries no name to compare", details))
        elif ok:
            results.append(CheckResult(NAME_CHECK, Outcome.PASS, f"the 2D-Doc names {details['matched']!r}, as expected", details))
        else:
            results.append(
                CheckResult(
                    NAME_CHECK, Outcome.FAIL, f"the 2D-Doc names {', '.join(details['document_names'])}, not {expected_name!r}", details
                )
            )
    if expected_address is not None:
        ok, details = match_address(doc, expected_address)
        if ok is None:
            results.append(CheckResult(ADDRESS_CHECK, Outcome.UNKNOWN, "the 2D-Doc carries no address to compare", details))
        elif ok:
            results.append(CheckResult(ADDRESS_CHECK, Outcome.PASS, f"the 2D-Doc address {details['document_address']!r} matches", details))
        else:
            results.append(
                CheckResult(
                    ADDRESS_CHECK,
                    Outcome.FAIL,
                    f"the 2D-Doc address {details['document_address']!r} does not match: {details['reason']}",
                    details,
                )
            )
    return results
