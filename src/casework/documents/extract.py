"""What the automated checks read from a stored file: its text layer, its images, IBANs and BICs.

Pure functions on bytes, no database: :func:`extract` takes a file's bytes and its detected MIME
type and returns the text (a PDF's text layer, a text file's content), the images to look at
(the file itself when it is a JPEG, PNG or TIFF; the images embedded in a PDF, re-encoded as
PNG) and the IBANs and BICs found in the text. Anything unreadable is reported in ``problems``
rather than raised: a damaged file is the file sanity checks' business, the checks then say
they could not decide.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field

from PIL import Image

#: Images a check looks at, at most (a PDF of scanned pages can carry many).
MAX_IMAGES = 6
#: Embedded images smaller than this on both sides are logos and bullets, not documents or barcodes.
MIN_IMAGE_SIDE = 40
#: Text layers are cut here: an identity document or a bank letter is short.
MAX_TEXT = 200_000
MAX_PAGES = 20
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/tiff"})

# An IBAN as printed: country, check digits, then groups of up to four characters, spaces optional.
_IBAN = re.compile(r"\b[A-Z]{2}[0-9]{2}(?:[ \u00a0]?[A-Z0-9]){11,30}\b")
_BIC = re.compile(r"\b(?:BIC|SWIFT)(?:[ /-]?(?:BIC|SWIFT|CODE))*[ \t]*[:.\-]?[ \t]*([A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)\b", re.IGNORECASE)


@dataclass
class Extracted:
    """The inputs of the checks. ``images`` are encoded files (PNG, JPEG, TIFF) Pillow can open."""

    text: str = ""
    images: list[bytes] = field(default_factory=list)
    ibans: list[str] = field(default_factory=list)
    bics: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    source: str = ""  # "pdf", "image", "text" or "" (nothing usable)


def _iban_prefixes(candidate: str) -> list[str]:
    """A printed IBAN followed by another word ("BE68 5390 0754 7034 BIC ...") matches too long: its
    valid prefixes, longest first, let the checksum decide where it ends."""
    compact = re.sub(r"\s+", "", candidate)
    return [compact[:n] for n in range(len(compact), 14, -1)]


def find_ibans(text: str) -> list[str]:
    """IBANs in ``text`` (compact, in order, without repeats). A candidate labelled "IBAN" no prefix of
    which has a valid checksum is still returned, so the check can say it is wrong."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    found: list[str] = []
    for match in _IBAN.finditer(text):
        prefixes = _iban_prefixes(match.group(0))
        chosen = prefixes[0]
        for prefix in prefixes:
            try:
                IBAN(prefix)
            except (SchwiftyException, ValueError):
                continue
            chosen = prefix
            break
        else:
            # No valid prefix: only an IBAN by its label is one (an MRZ line or a reference looks alike).
            if "IBAN" not in text[max(0, match.start() - 40) : match.start()].upper():
                continue
            # Drop a trailing all-letter word ("... 7034 BIC") the pattern swallowed.
            words = match.group(0).split()
            if len(words) > 1 and words[-1].isalpha():
                chosen = "".join(words[:-1])
        if chosen not in found:
            found.append(chosen)
    return found


def find_bics(text: str) -> list[str]:
    """BICs labelled as such ("BIC: GEBABEBB", "SWIFT/BIC GEBABEBB"), upper case, in order, without repeats."""
    found: list[str] = []
    for match in _BIC.finditer(text):
        bic = match.group(1).upper()
        if bic not in found:
            found.append(bic)
    return found


def _as_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    if image.mode not in ("1", "L", "RGB", "RGBA"):
        image = image.convert("RGB")
    image.save(out, format="PNG")
    return out.getvalue()


def _pdf(data: bytes, out: Extracted) -> None:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = list(reader.pages)[:MAX_PAGES]
    except Exception as exc:  # pypdf raises many kinds on damaged files
        out.problems.append(f"the PDF could not be read: {exc}")
        return
    texts: list[str] = []
    for number, page in enumerate(pages, start=1):
        try:
            texts.append(page.extract_text() or "")
        except Exception as exc:
            out.problems.append(f"the text of page {number} could not be read: {exc}")
        if len(out.images) >= MAX_IMAGES:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for embedded in page.images:
                    if len(out.images) >= MAX_IMAGES:
                        break
                    image = embedded.image
                    if image is None or (image.width < MIN_IMAGE_SIDE and image.height < MIN_IMAGE_SIDE):
                        continue
                    out.images.append(_as_png(image))
        except Exception as exc:
            out.problems.append(f"the images of page {number} could not be read: {exc}")
    out.text = "\n".join(texts)[:MAX_TEXT]


def _image(data: bytes, mime: str, out: Extracted) -> None:
    if mime != "image/tiff":
        out.images.append(data)
        return
    # Each page of a TIFF, as PNG: the OCR and barcode readers look at one frame.
    try:
        with Image.open(io.BytesIO(data)) as tiff:
            for index in range(min(getattr(tiff, "n_frames", 1), MAX_IMAGES)):
                tiff.seek(index)
                out.images.append(_as_png(tiff.copy()))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        out.problems.append(f"the TIFF image could not be read: {exc}")


def extract(data: bytes, mime: str) -> Extracted:
    """The text, images, IBANs and BICs of a file whose detected type is ``mime``."""
    out = Extracted()
    if mime == "application/pdf":
        out.source = "pdf"
        _pdf(data, out)
    elif mime in IMAGE_TYPES:
        out.source = "image"
        _image(data, mime, out)
    elif mime.startswith("text/"):
        out.source = "text"
        out.text = data[:MAX_TEXT].decode("utf-8", "replace")
    else:
        out.problems.append(f"no text or image can be read from a file of type {mime}")
    if out.text:
        out.ibans = find_ibans(out.text)
        out.bics = find_bics(out.text)
    return out


__all__ = ["IMAGE_TYPES", "MAX_IMAGES", "Extracted", "extract", "find_bics", "find_ibans"]
