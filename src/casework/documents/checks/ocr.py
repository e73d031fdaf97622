"""Offline OCR of the machine-readable zone in a photo or scan of an identity document.

Why offline: identity documents must not leave the machine, and the servers have no internet.
The engine is RapidOCR (``rapidocr-onnxruntime``: PaddleOCR v4 detection/recognition models run
by ONNX Runtime). Its wheel bundles the ``.onnx`` models and the package has no download code;
it is imported lazily (ONNX Runtime and OpenCV are slow to load) and one engine is kept per
process, behind a lock because RapidOCR mutates its settings on each call.

A general OCR model does not know the MRZ layout, so its text is repaired here:

* '«'/spaces become '<'; letters in digit positions and digits in letter positions are swapped
  back (O↔0, I↔1, B↔8, S↔5, Z↔2, G↔6);
* alphanumeric fields (document number, personal number) are changed only when the change makes
  their check digit right;
* fillers the OCR merged or dropped in long '<' runs are restored (the name line is padded, a run
  inside a line grows or shrinks when that makes the check digits right), and a short run of one
  repeated character after fillers ("<<<<SSSS") is tried as fillers;
* when the first reading is not fully consistent, a second one on an enlarged, contrast-stretched
  copy is made, and the lines of both are mixed to maximise the number of correct check digits.

The best candidate is returned as text for :func:`casework.documents.checks.mrz.parse_mrz`.
"""

from __future__ import annotations

import io
import itertools
import re
import threading
import unicodedata
import warnings
from collections.abc import Iterable
from typing import Any

from PIL import Image, ImageOps

from casework.documents.checks.heif import register_heif
from casework.documents.checks.mrz import FORMATS, KNOWN_STATES, MrzError, check_digit, parse_mrz

register_heif()

__all__ = ["MAX_OCR_PIXELS", "ocr_lines", "read_mrz_from_image", "repair_mrz"]

MAX_OCR_PIXELS = 50_000_000
_MAX_SIDE = 2000  # the detector works on at most this many pixels per side anyway

_engine: Any = None
_engine_lock = threading.Lock()


def _get_engine() -> Any:
    global _engine
    if _engine is None:
        from rapidocr_onnxruntime import RapidOCR  # heavy: imported on first use only

        _engine = RapidOCR()
    return _engine


def ocr_lines(image: Image.Image) -> list[str]:
    """Text rows of ``image`` top to bottom; boxes on the same row are joined left to right.

    The angle classifier is off: it flips some MRZ lines by 180° ('<' read as '>'), and upright
    documents are the norm once EXIF orientation is applied.
    """
    with _engine_lock:
        result, _ = _get_engine()(image.convert("RGB"), use_cls=False)
    boxes = []
    for points, text, _score in result or []:
        ys = [p[1] for p in points]
        xs = [p[0] for p in points]
        boxes.append(((min(ys) + max(ys)) / 2, max(ys) - min(ys), min(xs), str(text)))
    boxes.sort()
    rows: list[list[tuple[float, float, float, str]]] = []
    for box in boxes:
        if rows and abs(box[0] - rows[-1][0][0]) < max(box[1], rows[-1][0][1]) / 2:
            rows[-1].append(box)
        else:
            rows.append([box])
    return ["".join(b[3] for b in sorted(row, key=lambda b: b[2])) for row in rows]


# ------------------------------------------------------------------------------- repairing

# Per format and line: A = letter or filler, N = digit or filler, D = digit (check digits), X = any.
_MASKS: dict[str, tuple[str, ...]] = {
    "TD3": ("A" * 44, "X" * 9 + "D" + "AAA" + "N" * 6 + "D" + "A" + "N" * 6 + "D" + "X" * 14 + "ND"),
    "TD2": ("A" * 36, "X" * 9 + "N" + "AAA" + "N" * 6 + "D" + "A" + "N" * 6 + "D" + "X" * 7 + "D"),
    "TD1": ("A" * 5 + "X" * 9 + "N" + "X" * 15, "N" * 6 + "D" + "A" + "N" * 6 + "D" + "AAA" + "X" * 11 + "D", "A" * 30),
}
_NAME_LINE = {"TD3": 0, "TD2": 0, "TD1": 2}
_TO_DIGIT = str.maketrans("OQDILZSBG", "001125586")
_TO_LETTER = str.maketrans("012586", "OIZSBG")
_SWAP = {"0": "O", "O": "0", "1": "I", "I": "1", "8": "B", "B": "8", "5": "S", "S": "5", "2": "Z", "Z": "2"}
# (line, start, end, check digit position) of alphanumeric fields with their own check digit.
_GUARDED: dict[str, tuple[tuple[int, int, int, int], ...]] = {
    "TD3": ((1, 0, 9, 9), (1, 28, 42, 42)),
    "TD2": ((1, 0, 9, 9),),
    "TD1": ((0, 5, 14, 14),),
}
# (line, start) of the birth and expiry dates.
_DATES = {"TD3": ((1, 13), (1, 21)), "TD2": ((1, 13), (1, 21)), "TD1": ((1, 0), (1, 8))}
Candidate = tuple[int, str, tuple[str, ...]]  # (score, format, lines)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).upper()
    text = re.sub(r"\s+", "", text)
    return re.sub(r"[^A-Z0-9<]", "<", text)


# Letters a recogniser mixes up; used to repair state codes and the document code.
_LOOKALIKE = {frozenset(p) for p in ("EF", "OU", "OD", "OQ", "UV", "IT", "IL", "HI", "CG", "PR", "BR", "MN", "KX", "VY", "CO")}
_STATE_FIELDS: dict[str, tuple[tuple[int, int], ...]] = {"TD3": ((0, 2), (1, 10)), "TD2": ((0, 2), (1, 10)), "TD1": ((0, 2), (1, 15))}
_DOC_CODES = {"TD3": "PV", "TD2": "IACPV", "TD1": "IAC"}


def _state_options(code: str) -> list[str]:
    """Known codes one look-alike letter away from an unknown ``code`` (the code itself if known)."""
    trimmed = code.rstrip("<")
    if trimmed in KNOWN_STATES or not trimmed:
        return [code]
    found = []
    for i, char in enumerate(code):
        for pair in _LOOKALIKE:
            if char in pair:
                other = next(iter(pair - {char}))
                candidate = code[:i] + other + code[i + 1 :]
                if candidate.rstrip("<") in KNOWN_STATES:
                    found.append(candidate)
    return found


def _fix_states(lines: list[str], fmt: str) -> None:
    """Replace an unknown issuing state/nationality by the only known look-alike (the other code breaks ties)."""
    fields = _STATE_FIELDS[fmt]
    codes = [lines[ln][start : start + 3] for ln, start in fields]
    for (line_no, start), code in zip(fields, codes, strict=True):
        options = _state_options(code)
        if len(options) > 1:
            options = [o for o in options if o in codes] or options
        if len(options) == 1 and options[0] != code:
            lines[line_no] = lines[line_no][:start] + options[0] + lines[line_no][start + 3 :]


def _fix_document_code(lines: list[str], fmt: str) -> None:
    """A first letter misread as a look-alike ('H<' for 'I<', 'R<' for 'P<') is set back."""
    first = lines[0][0]
    allowed = _DOC_CODES[fmt]
    if first not in allowed:
        fixes = [c for c in allowed if frozenset((first, c)) in _LOOKALIKE]
        if len(fixes) == 1:
            lines[0] = fixes[0] + lines[0][1:]


def _line_variants(line: str, length: int, *, name_line: bool, first_line: bool = False, doc_code: str = "I") -> list[str]:
    """Plausible readings of ``line`` at exactly ``length`` characters, the least changed first."""
    bases = [line]
    junk = re.sub(r"(<{3,})(([A-Z0-9])\3{1,5})$", lambda m: m.group(1) + "<" * len(m.group(2)), line)
    if junk != line:
        bases.append(junk)
    if name_line:  # names never contain '<<<': all after it is filler, however the OCR read it
        cut = line.find("<<<", 5)
        head = line if cut < 0 else line[:cut]
        bases = [(head + "<" * length)[:length]] if len(head) < length else [line[:length]]
    if first_line and len(line) == length - 1 and re.match(r"^<[A-Z]{3}", line):
        bases.append(doc_code + line)  # the recogniser dropped the document code ("I<UTO" read "<UTO")
    variants: list[str] = []
    for base in bases:
        diff = length - len(base)
        if diff == 0:
            variants.append(base)
        elif 0 < diff <= 4:
            variants.append(base + "<" * diff)
            variants.extend(base[: r.end()] + "<" * diff + base[r.end() :] for r in re.finditer(r"<+", base))
        elif -4 <= diff < 0:
            if base[diff:] == "<" * -diff:
                variants.append(base[:diff])
            variants.extend(base[: r.start()] + base[r.start() - diff :] for r in re.finditer(r"<+", base) if r.end() - r.start() > -diff)
    return list(dict.fromkeys(variants))[:12]


def _apply_mask(line: str, mask: str) -> str:
    out = []
    for char, kind in zip(line, mask, strict=True):
        if kind == "D":
            char = char.translate(_TO_DIGIT).replace("<", "0")
        elif kind == "N" and char != "<":
            char = char.translate(_TO_DIGIT)
        elif kind == "A":
            char = char.translate(_TO_LETTER)
        out.append(char)
    return "".join(out)


def _field_options(field: str, found: str) -> list[str]:
    """The field, with look-alikes swapped when exactly one reading with fewest swaps agrees with its
    check digit. When several do, the reading is left as is and the failing digit goes to a person:
    the composite digit cannot help (it weighs each field's characters as the field's own digit does).
    """
    if not found.isdigit() or check_digit(field) == found:
        return [field]
    positions = [i for i, c in enumerate(field) if c in _SWAP][:10]
    for count in range(1, min(3, len(positions)) + 1):
        options = []
        for chosen in itertools.combinations(positions, count):
            candidate = "".join(_SWAP[c] if i in chosen else c for i, c in enumerate(field))
            if check_digit(candidate) == found:
                options.append(candidate)
        if options:
            return options if len(options) == 1 else [field]
    return [field]


def _guarded_variants(lines: list[str], fmt: str) -> list[list[str]]:
    """``lines`` with every combination of check-digit-consistent readings of the guarded fields."""
    guarded = _GUARDED[fmt]
    per_field = [_field_options(lines[ln][start:end], lines[ln][check]) for ln, start, end, check in guarded]
    variants = []
    for choice in itertools.product(*per_field):
        fixed = list(lines)
        for (line_no, start, end, _), value in zip(guarded, choice, strict=True):
            fixed[line_no] = fixed[line_no][:start] + value + fixed[line_no][end:]
        variants.append(fixed)
    return variants


def _fix_dates(lines: list[str], fmt: str) -> None:
    """A 0 read as '<' inside a date: only a whole YY, MM or DD pair may be unknown ('<<').

    Check digits cannot see this error ('<' counts as 0), so it is fixed from the layout.
    """
    for line_no, start in _DATES[fmt]:
        line = lines[line_no]
        pairs = [line[start + i : start + i + 2] for i in range(0, 6, 2)]
        field = "".join(p if p == "<<" else p.replace("<", "0") for p in pairs)
        lines[line_no] = line[:start] + field + line[start + 6 :]


def _score(lines: Iterable[str]) -> int:
    try:
        mrz = parse_mrz("\n".join(lines))
    except MrzError:
        return -1
    return sum(c.ok for c in mrz.check_digits) * 2 + (mrz.birth_date is not None) + (mrz.expiry_date is not None)


def _max_score(fmt: str, first_line: str) -> int:
    if first_line.startswith("V"):
        return 3 * 2 + 2
    return (5 if fmt == "TD3" else 4) * 2 + 2


def _candidates(rows: list[str]) -> list[Candidate]:
    """Best repaired reading of every MRZ-shaped window of ``rows``, per format."""
    cleaned = [c for c in (_clean(r) for r in rows) if len(c) >= 20]
    found: list[Candidate] = []
    for fmt, (count, length) in FORMATS.items():
        masks = _MASKS[fmt]
        for start in range(len(cleaned) - count + 1):
            window = cleaned[start : start + count]
            if "<" not in window[0] or "<" not in window[_NAME_LINE[fmt]]:
                continue  # every first line and name line has fillers or separators
            first = window[0][0].translate(_TO_LETTER)
            if first not in _DOC_CODES[fmt] + "<" and not any(frozenset((first, c)) in _LOOKALIKE for c in _DOC_CODES[fmt]):
                continue
            options = [
                _line_variants(line, length, name_line=i == _NAME_LINE[fmt], first_line=i == 0, doc_code=_DOC_CODES[fmt][0])
                for i, line in enumerate(window)
            ]
            best: Candidate | None = None
            for combo in itertools.islice(itertools.product(*options), 300):
                masked = [_apply_mask(line, mask) for line, mask in zip(combo, masks, strict=True)]
                _fix_dates(masked, fmt)
                _fix_states(masked, fmt)
                _fix_document_code(masked, fmt)
                for lines in _guarded_variants(masked, fmt):
                    score = _score(lines)
                    if score >= 0 and (best is None or score > best[0]):
                        best = (score, fmt, tuple(lines))
            if best is not None:
                found.append(best)
    return found


def _mix(candidates: list[Candidate]) -> Candidate | None:
    """Best candidate, also trying each line from a different reading of the same format."""
    if not candidates:
        return None
    best = max(candidates, key=lambda c: c[0])
    for fmt in FORMATS:
        same = [c[2] for c in candidates if c[1] == fmt][:4]
        if len(same) < 2:
            continue
        per_line = [list(dict.fromkeys(lines[i] for lines in same)) for i in range(len(same[0]))]
        for combo in itertools.product(*per_line):
            score = _score(combo)
            if score > best[0]:
                best = (score, fmt, tuple(combo))
    return best


def repair_mrz(rows: list[str]) -> str | None:
    """The best MRZ (lines joined by newlines) that the OCR ``rows`` can be repaired into, or None."""
    best = _mix(_candidates(rows))
    return "\n".join(best[2]) if best else None


# --------------------------------------------------------------------------------- reading


def _open(data: bytes) -> Image.Image | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
            if opened.width * opened.height > MAX_OCR_PIXELS:
                return None
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        return None
    if max(image.size) > _MAX_SIDE:
        image.thumbnail((_MAX_SIDE, _MAX_SIDE))
    return image


def _enhanced(image: Image.Image) -> Image.Image:
    """Grey, contrast-stretched and enlarged copy (small MRZ characters are read better bigger)."""
    grey = ImageOps.autocontrast(ImageOps.grayscale(image), cutoff=1)
    factor = min(2.0, _MAX_SIDE / max(grey.size))
    if factor > 1.1:
        grey = grey.resize((round(grey.width * factor), round(grey.height * factor)), Image.Resampling.LANCZOS)
    return grey


def read_mrz_from_image(data: bytes) -> str | None:
    """The MRZ text in a photo/scan (PNG, JPEG, TIFF...), or None if no MRZ could be read.

    Images over :data:`MAX_OCR_PIXELS` or that Pillow cannot read give None rather than an error:
    file sanity (:mod:`casework.documents.checks.sanity`) reports those. The returned text may
    still have wrong check digits (a damaged or forged document): callers check them.
    """
    image = _open(data)
    if image is None:
        return None
    candidates = _candidates(ocr_lines(image))
    best = _mix(candidates)
    if best is None or best[0] < _max_score(best[1], best[2][0]):
        candidates += _candidates(ocr_lines(_enhanced(image)))
        best = _mix(candidates)
    if best is None:  # nothing MRZ-like at all: perhaps the scan is upside down
        best = _mix(_candidates(ocr_lines(image.rotate(180))))
    return "\n".join(best[2]) if best else None
