"""Compare the people and address named in a 2D-Doc with those of the case (accent/case tolerant).

Both sides are folded the same way: accents removed, upper case, every run of characters other
than A-Z/0-9 a word break (so ``Jean-Pierre`` = ``JEAN PIERRE``, ``MLLE/SAMPLE/ANGELA`` =
``MLLE SAMPLE ANGELA``), titles (M, MME, MLLE...) dropped, word order ignored.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any

from casework.documents.checks.twoddoc_format import TwoDDoc

TITLES = frozenset(
    {"M", "MR", "MM", "MME", "MMES", "MLLE", "MLLES", "MONSIEUR", "MADAME", "MADEMOISELLE", "DR", "DOCTEUR", "ME", "MAITRE", "PR", "ET"}
)
# the beneficiary's name: whole name lines, then (title, first name, last name) triples
_NAME_LINES = ("10", "14", "1I", "46", "48", "30")
_NAME_PARTS = (("11", "12", "13"), ("15", "16", "17"), ("1J", "1K", "1L"), ("60", "62", "63"), ("61", "62", "63"))
_STREET_WORDS = {
    "AVENUE": "AV",
    "BOULEVARD": "BD",
    "PLACE": "PL",
    "SAINT": "ST",
    "SAINTE": "STE",
    "ROUTE": "RTE",
    "CHEMIN": "CHE",
    "IMPASSE": "IMP",
    "ALLEE": "ALL",
    "FAUBOURG": "FG",
    "RESIDENCE": "RES",
    "SQUARE": "SQ",
    "QUAI": "QU",
    "COURS": "CRS",
}
_STOP_WORDS = frozenset({"DE", "DU", "DES", "LA", "LE", "LES", "L", "D", "ET", "A", "AU", "AUX", "EN", "SUR", "SOUS", "FRANCE", "FR"})
_POSTCODE = re.compile(r"\b\d{5}\b")


def fold(text: str) -> list[str]:
    """Words of ``text``: accents removed, upper case, split on anything but A-Z/0-9."""
    text = text.upper().replace("Œ", "OE").replace("Æ", "AE")
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return re.findall(r"[A-Z0-9]+", text)


def _name_words(text: str) -> list[str]:
    return [w for w in fold(text) if w not in TITLES]


def document_names(doc: TwoDDoc) -> list[tuple[str, bool]]:
    """The names the 2D-Doc carries (beneficiary, co-beneficiary, declarants...), each with its truncated flag."""
    names: list[tuple[str, bool]] = []
    for di in _NAME_LINES:
        value = doc.fields.get(di, "").strip()
        if value:
            names.append((value, di in doc.truncated))
    for parts in _NAME_PARTS:
        values = [doc.fields.get(di, "").strip() for di in parts]
        if any(values[1:]):
            names.append((" ".join(v for v in values if v), any(di in doc.truncated for di in parts)))
    return names


def name_matches(expected: str, candidate: str, *, truncated: bool = False) -> bool:
    """Same person: same words in any order; or, with at least two words each, one set inside the other
    (a middle name missing on one side). The last word of a truncated value may be cut short."""
    want, have = Counter(_name_words(expected)), _name_words(candidate)
    if truncated and have:
        cut = have.pop()
        full = next((w for w in want if w.startswith(cut)), None)
        if full is None:
            return False
        want[full] -= 1
        want = +want  # drop the zero count
    got = Counter(have)
    if not want or not got:
        return False
    if want == got:
        return True
    small, large = (want, got) if sum(want.values()) <= sum(got.values()) else (got, want)
    return sum(small.values()) >= 2 and not (small - large)


def match_name(doc: TwoDDoc, expected: str) -> tuple[bool | None, dict[str, Any]]:
    """(True/False, details) comparing ``expected`` with the document's names; None when it has none."""
    names = document_names(doc)
    details: dict[str, Any] = {"expected": expected, "document_names": [n for n, _ in names]}
    if not names:
        return None, details
    hit = next((n for n, cut in names if name_matches(expected, n, truncated=cut)), None)
    details["matched"] = hit
    return hit is not None, details


def _street_words(text: str) -> list[str]:
    return [_STREET_WORDS.get(w, w) for w in fold(text) if w not in _STOP_WORDS]


def document_address(doc: TwoDDoc) -> tuple[str, str | None, str] | None:
    """(street line, postcode, city) of the document's main address, or None when it has none.

    Proofs of address: DIs 22/24/25 (the service point, i.e. the beneficiary's home); tax notices:
    4Y ("street/complement/postcode/city") or the home address 6U/6W/6X; else the invoice
    recipient 29/2B/2C.
    """
    f = doc.fields
    for street, postcode, city in (("22", "24", "25"), ("6U", "6W", "6X"), ("29", "2B", "2C")):
        if f.get(street) or f.get(city):
            return f.get(street, ""), f.get(postcode) or None, f.get(city, "")
    if f.get("4Y"):
        parts = [p.strip() for p in f["4Y"].split("/")]
        code = next((p for p in parts if _POSTCODE.fullmatch(p)), None)
        rest = [p for p in parts if p != code]
        return rest[0] if rest else "", code, rest[-1] if len(rest) > 1 else ""
    return None


def match_address(doc: TwoDDoc, expected: str, *, threshold: float = 0.75) -> tuple[bool | None, dict[str, Any]]:
    """(True/False, details) comparing ``expected`` with the document's address; None when it has none.

    Matches when the postcodes agree (if ``expected`` has one), every house number of the
    document's street line appears in ``expected``, and at least ``threshold`` of the words of
    the street line and city do (common street-type abbreviations folded: AVENUE = AV...).
    Complement lines (building, floor) are not required.
    """
    found = document_address(doc)
    details: dict[str, Any] = {"expected": expected}
    if found is None:
        return None, details
    street, postcode, city = found
    details["document_address"] = " ".join(p for p in (street, postcode, city) if p)
    want = set(_street_words(expected))
    words = _street_words(street) + _street_words(city)
    missing = [w for w in words if w not in want]
    ratio = 1.0 if not words else (len(words) - len(missing)) / len(words)
    details.update(ratio=round(ratio, 2), missing_words=missing)
    expected_codes = set(_POSTCODE.findall(" ".join(fold(expected))))
    if postcode and expected_codes and postcode not in expected_codes:
        details["reason"] = f"postcode {postcode} not in the expected address"
        return False, details
    numbers = [w for w in _street_words(street) if w.isdigit()]
    if any(n not in want for n in numbers):
        details["reason"] = "house number differs"
        return False, details
    if ratio < threshold:
        details["reason"] = "street or city differs"
        return False, details
    return True, details
