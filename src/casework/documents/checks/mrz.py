"""Machine-readable zones (ICAO Doc 9303): parse, verify check digits, compare with the case party.

Why: the MRZ is the cheapest strong signal on an identity document. Its check digits catch
typing and OCR errors and crude forgeries (an edited birth date with an unchanged check digit),
and its name and birth date can be compared with what the customer declared on the case.

Supported layouts: TD1 (identity cards, 3 lines of 30), TD2 (2 lines of 36) and TD3 (passports,
2 lines of 44); visas (document code ``V``) use TD2/TD3 sizes without the composite digit.
:func:`parse_mrz` finds the zone inside arbitrary text (a PDF text layer, OCR output) so callers
do not have to cut it out first.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from casework.documents.checks.result import CheckResult, failed, passed, unknown

__all__ = [
    "KNOWN_STATES",
    "CheckDigit",
    "MrzData",
    "MrzError",
    "check_digit",
    "check_mrz",
    "make_mrz_td1",
    "make_mrz_td2",
    "make_mrz_td3",
    "parse_mrz",
    "transliterate",
]

_WEIGHTS = (7, 3, 1)
_MRZ_LINE = re.compile(r"^[A-Z0-9<]+$")
# (line count, line length) for each layout, most specific first.
FORMATS: dict[str, tuple[int, int]] = {"TD3": (2, 44), "TD1": (3, 30), "TD2": (2, 36)}
_LENGTH_TOLERANCE = 3  # OCR often drops or adds a filler '<' at the end of a line


def _known_states() -> frozenset[str]:
    """ISO 3166-1 alpha-3 codes plus the ICAO 9303-3 additions ('D' for Germany, UN and refugee codes...)."""
    extra = {"D", "UTO", "EUE", "UNO", "UNA", "UNK", "XBA", "XIM", "XCC", "XCE", "XCO", "XEC", "XPO", "XES", "XMP", "XOM", "XDC"}
    extra |= {"XXA", "XXB", "XXC", "XXX", "GBD", "GBN", "GBO", "GBP", "GBS", "RKS", "ZZZ"}
    try:
        import pycountry  # installed with schwifty

        return frozenset({c.alpha_3 for c in pycountry.countries} | extra)
    except ImportError:  # pragma: no cover - schwifty always brings it
        return frozenset(extra)


KNOWN_STATES = _known_states()


class MrzError(ValueError):
    """No machine-readable zone could be found in the text, or it is structurally unusable."""


def _char_value(char: str) -> int:
    if char.isdigit():
        return ord(char) - 48
    if "A" <= char <= "Z":
        return ord(char) - 55
    if char == "<":
        return 0
    raise MrzError(f"character {char!r} is not allowed in an MRZ")


def check_digit(data: str) -> str:
    """ICAO 9303 check digit: weights 7-3-1, digits as-is, A=10..Z=35, filler '<' = 0."""
    return str(sum(_char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(data)) % 10)


@dataclass(frozen=True)
class CheckDigit:
    """One check digit: which field it protects, what the MRZ says, what the data computes to."""

    field: str  # "document_number", "birth_date", "expiry_date", "optional_data", "composite"
    found: str
    expected: str

    @property
    def ok(self) -> bool:
        return self.found == self.expected

    @property
    def label(self) -> str:
        return self.field.replace("_", " ")


@dataclass(frozen=True)
class MrzData:
    """The fields of a parsed MRZ. Dates are None when unreadable or not given ('<<<<<<')."""

    format: str
    lines: tuple[str, ...]
    document_type: str
    issuing_state: str
    surname: str
    given_names: str
    name_truncated: bool
    document_number: str
    nationality: str
    birth_date: date | None
    birth_date_raw: str
    sex: str  # "M", "F" or "X" (unspecified)
    expiry_date: date | None
    expiry_date_raw: str
    optional_data: str
    optional_data_2: str
    check_digits: tuple[CheckDigit, ...]

    @property
    def failed_check_digits(self) -> list[CheckDigit]:
        return [c for c in self.check_digits if not c.ok]

    @property
    def check_digits_ok(self) -> bool:
        return not self.failed_check_digits

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary for check details and the audit trail."""
        return {
            "format": self.format,
            "document_type": self.document_type,
            "issuing_state": self.issuing_state,
            "surname": self.surname,
            "given_names": self.given_names,
            "document_number": self.document_number,
            "nationality": self.nationality,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "sex": self.sex,
            "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
            "optional_data": self.optional_data,
            "check_digits": {c.field: c.ok for c in self.check_digits},
        }


# --------------------------------------------------------------------------- finding the zone


def _clean_line(line: str) -> str:
    """OCR/text-layer line → MRZ alphabet: uppercase, '«' and spaces folded, other noise kept."""
    line = line.strip().upper().replace("«", "<").replace("\u2039", "<")
    return re.sub(r"\s+", "", line)


def _fit(line: str, length: int, *, exact: bool) -> str | None:
    """The line at ``length`` characters, padding/trimming only trailing fillers (OCR slack)."""
    if not _MRZ_LINE.match(line):
        return None
    if len(line) == length:
        return line
    if exact or abs(len(line) - length) > _LENGTH_TOLERANCE:
        return None
    if len(line) < length and line.endswith("<"):
        return line + "<" * (length - len(line))
    if len(line) > length and line[length:].strip("<") == "":
        return line[:length]
    return None


def _candidate_lines(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.splitlines():
        line = _clean_line(raw)
        # A text layer sometimes joins the zone into one line: split it back.
        for fmt_lines, length in FORMATS.values():
            if len(line) == fmt_lines * length and _MRZ_LINE.match(line) and line[0] in "PIACV":
                lines.extend(line[i : i + length] for i in range(0, len(line), length))
                break
        else:
            if line:
                lines.append(line)
    return lines


def find_mrz_lines(text: str) -> tuple[str, tuple[str, ...]]:
    """(format, lines) of the first MRZ-shaped block in ``text``; exact lengths win over fuzzy ones."""
    lines = _candidate_lines(text)
    for exact in (True, False):
        for start in range(len(lines)):
            for fmt, (count, length) in FORMATS.items():
                block = lines[start : start + count]
                if len(block) < count:
                    continue
                fitted = [_fit(line, length, exact=exact) for line in block]
                if any(f is None for f in fitted):
                    continue
                first = fitted[0] or ""
                if first[0] in "PIACV" and re.match(r"^[A-Z<]{3}$", first[2:5]):
                    return fmt, tuple(f or "" for f in fitted)
    raise MrzError("no machine-readable zone (2 lines of 44 or 36 characters, or 3 lines of 30) was found in the text")


# --------------------------------------------------------------------------------- parsing


def _date(raw: str, *, today: date, birth: bool) -> date | None:
    if not raw.isdigit():
        return None
    yy, mm, dd = int(raw[:2]), int(raw[2:4]), int(raw[4:6])
    try:
        if not birth:
            return date(2000 + yy, mm, dd)  # documents issued since 2000 expire in 20YY
        candidate = date(2000 + yy, mm, dd)
        return candidate if candidate <= today else date(1900 + yy, mm, dd)
    except ValueError:
        return None


def _name(field: str) -> tuple[str, str, bool]:
    truncated = not field.endswith("<")
    surname, _, given = field.rstrip("<").partition("<<")
    return surname.replace("<", " ").strip(), given.replace("<", " ").strip(), truncated


def _long_number(number: str, number_check: str, optional: str) -> tuple[str, str, str]:
    """TD1/TD2 documents numbers over 9 characters continue in the optional data (ICAO 9303-5 §4.2.2)."""
    if number_check == "<" and optional[:1] not in ("", "<"):
        rest = optional.split("<", 1)[0]
        return number + rest[:-1], rest[-1:], optional[len(rest) :]
    return number, number_check, optional


def parse_mrz(text: str, *, today: date | None = None) -> MrzData:
    """Find and parse the MRZ in ``text``; ``today`` decides the century of birth dates.

    Raises :class:`MrzError` when there is no MRZ. Check digit failures do not raise: they are
    reported in :attr:`MrzData.check_digits` so the caller can say which one is wrong.
    """
    today = today or date.today()
    fmt, lines = find_mrz_lines(text)
    l1 = lines[0]
    digits: list[CheckDigit] = []

    if fmt == "TD1":
        l2, l3 = lines[1], lines[2]
        number, number_check, optional = _long_number(l1[5:14], l1[14], l1[15:30])
        birth, birth_check, sex, expiry, expiry_check = l2[0:6], l2[6], l2[7], l2[8:14], l2[14]
        nationality, optional_2 = l2[15:18], l2[18:29]
        name_field = l3
        composite_data, composite_found = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29]
        optional_check = None
    else:
        l2 = lines[1]
        name_field = l1[5:]
        number, number_check = l2[0:9], l2[9]
        nationality, birth, birth_check, sex, expiry, expiry_check = l2[10:13], l2[13:19], l2[19], l2[20], l2[21:27], l2[27]
        optional_2 = ""
        if fmt == "TD3":
            optional, optional_check = l2[28:42], l2[42]
            composite_data, composite_found = l2[0:10] + l2[13:20] + l2[21:43], l2[43]
        else:
            number, number_check, optional = _long_number(number, number_check, l2[28:35])
            optional_check = None
            composite_data, composite_found = l2[0:10] + l2[13:20] + l2[21:35], l2[35]
        if l1[0] == "V":  # visas: no optional-data or composite check digit
            optional = l2[28:]
            optional_check = composite_found = None

    digits.append(CheckDigit("document_number", number_check, check_digit(number)))
    digits.append(CheckDigit("birth_date", birth_check, check_digit(birth)))
    digits.append(CheckDigit("expiry_date", expiry_check, check_digit(expiry)))
    if optional_check is not None:
        # An empty personal number may carry '<' instead of 0 as its check digit.
        expected = "<" if optional_check == "<" and optional.strip("<") == "" else check_digit(optional)
        digits.append(CheckDigit("optional_data", optional_check, expected))
    if composite_found is not None:
        digits.append(CheckDigit("composite", composite_found, check_digit(composite_data)))

    surname, given, truncated = _name(name_field)
    return MrzData(
        format=fmt,
        lines=lines,
        document_type=l1[0:2].rstrip("<"),
        issuing_state=l1[2:5].replace("<", ""),
        surname=surname,
        given_names=given,
        name_truncated=truncated,
        document_number=number.replace("<", ""),
        nationality=nationality.replace("<", ""),
        birth_date=_date(birth, today=today, birth=True),
        birth_date_raw=birth,
        sex={"M": "M", "F": "F"}.get(sex, "X"),
        expiry_date=_date(expiry, today=today, birth=False),
        expiry_date_raw=expiry,
        optional_data=optional.strip("<"),
        optional_data_2=optional_2.strip("<"),
        check_digits=tuple(digits),
    )


# ------------------------------------------------------------------------------ name matching

# ICAO 9303-3 §6 transliterations that differ from simply dropping the accent.
_ICAO_TRANSLIT = {"Ä": "AE", "Ö": "OE", "Ü": "UE", "Å": "AA", "Æ": "AE", "Ø": "OE", "ß": "SS", "Þ": "TH", "Œ": "OE", "Ĳ": "IJ"}
_PLAIN_TRANSLIT = {"Æ": "AE", "Ø": "O", "ß": "SS", "Þ": "TH", "Œ": "OE", "Ð": "D", "Đ": "D", "Ł": "L", "Ĳ": "IJ"}


def _strip_accents(text: str, table: dict[str, str]) -> str:
    text = "".join(table.get(c, c) for c in text.upper())
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def transliterate(name: str, *, icao: bool = False) -> str:
    """Name → MRZ alphabet: accents dropped (or ICAO-transliterated), apostrophes removed, other separators → '<'."""
    text = _strip_accents(name, _ICAO_TRANSLIT if icao else _PLAIN_TRANSLIT)
    text = re.sub("['`\u2019\u00b4]", "", text)
    return re.sub(r"[^A-Z]+", "<", text).strip("<")


def _fold(token: str) -> str:
    """One spelling for ICAO and plain transliterations: MUELLER/MULLER, JOERG/JORG, AASE/ASE."""
    for pair, single in (("AE", "A"), ("OE", "O"), ("UE", "U"), ("AA", "A")):
        token = token.replace(pair, single)
    return token


def _tokens(name: str) -> list[str]:
    return [_fold(t) for t in transliterate(name).split("<") if t]


def _merged(tokens: list[str]) -> set[tuple[str, ...]]:
    """Sorted token tuples for every way of joining neighbours ("O BRIEN" = "OBRIEN", "ANNA MARIA" = "ANNAMARIA")."""
    if len(tokens) > 7:
        return {tuple(sorted(tokens))}
    keys = set()
    for mask in range(2 ** max(0, len(tokens) - 1)):
        joined = [tokens[0]] if tokens else []
        for i, token in enumerate(tokens[1:]):
            if mask >> i & 1:
                joined[-1] += token
            else:
                joined.append(token)
        keys.add(tuple(sorted(joined)))
    return keys


def _without(tokens: list[str], remove: list[str]) -> list[str] | None:
    """``tokens`` minus each of ``remove`` (as a multiset), or None if one is missing."""
    rest = list(tokens)
    for token in remove:
        if token not in rest:
            return None
        rest.remove(token)
    return rest


def _compare_names(mrz: MrzData, party_name: str) -> tuple[str, str]:
    """('pass'|'fail'|'unknown', explanation). Order, case, accents and separators are ignored."""
    surname = _tokens(mrz.surname)
    mrz_tokens = surname + _tokens(mrz.given_names)
    party = _tokens(party_name)
    if _merged(mrz_tokens) & _merged(party):
        return "pass", "the name matches the case party"
    if mrz.name_truncated and mrz_tokens:
        *whole, last = mrz_tokens
        rest = _without(party, whole)
        if rest is not None and any(p.startswith(last) for p in rest):
            return "pass", "the name matches the case party (truncated in the MRZ)"
    if surname and _without(party, surname) is not None:
        given_mrz, given_party = set(mrz_tokens) - set(surname), set(party) - set(surname)
        if given_mrz & given_party and (given_mrz <= given_party or given_party <= given_mrz):
            return "unknown", "the name matches the case party only in part (missing or extra given names)"
    return "fail", "the name differs from the case party"


# ---------------------------------------------------------------------------------- checks


def check_mrz(text: str, *, today: date, party_name: str | None = None, party_birth_date: date | None = None) -> list[CheckResult]:
    """Parse the MRZ in ``text`` and return the results of "mrz_check_digits", "document_expiry", "identity_match".

    When no MRZ is found a single UNKNOWN "mrz" result is returned: the document may simply have
    none, so a person has to look at it.
    """
    try:
        mrz = parse_mrz(text, today=today)
    except MrzError as exc:
        return [unknown("mrz", f"No machine-readable zone could be read: {exc}.")]
    details = mrz.to_dict()
    results = []

    bad = mrz.failed_check_digits
    if bad:
        names = ", ".join(f"{c.label} (found {c.found}, expected {c.expected})" for c in bad)
        results.append(failed("mrz_check_digits", f"MRZ check digit failed: {names}.", failed=[c.field for c in bad], mrz=details))
    else:
        results.append(passed("mrz_check_digits", f"All {len(mrz.check_digits)} MRZ check digits are correct.", mrz=details))

    if mrz.expiry_date is None:
        results.append(unknown("document_expiry", f"The expiry date {mrz.expiry_date_raw!r} cannot be read.", expiry_date=None))
    elif mrz.expiry_date < today:
        results.append(
            failed("document_expiry", f"The document expired on {mrz.expiry_date.isoformat()}.", expiry_date=mrz.expiry_date.isoformat())
        )
    else:
        results.append(
            passed(
                "document_expiry",
                f"The document is valid until {mrz.expiry_date.isoformat()}.",
                expiry_date=mrz.expiry_date.isoformat(),
                days_left=(mrz.expiry_date - today).days,
            )
        )

    results.append(_identity(mrz, party_name, party_birth_date))
    return results


def _identity(mrz: MrzData, party_name: str | None, party_birth_date: date | None) -> CheckResult:
    parts: dict[str, str] = {}
    sentences = []
    if party_name and party_name.strip():
        parts["name"], why = _compare_names(mrz, party_name)
        sentences.append(why)
    if party_birth_date is not None:
        if mrz.birth_date is None:
            parts["birth_date"] = "unknown"
            sentences.append("the birth date in the MRZ cannot be read")
        elif mrz.birth_date == party_birth_date:
            parts["birth_date"] = "pass"
            sentences.append("the birth date matches")
        else:
            parts["birth_date"] = "fail"
            sentences.append(f"the birth date {mrz.birth_date.isoformat()} differs from {party_birth_date.isoformat()}")
    details = {
        "mrz_name": f"{mrz.surname}, {mrz.given_names}".strip(", "),
        "party_name": party_name,
        "mrz_birth_date": mrz.birth_date.isoformat() if mrz.birth_date else None,
        "party_birth_date": party_birth_date.isoformat() if party_birth_date else None,
        **{f"{k}_match": v for k, v in parts.items()},
    }
    if not parts:
        return unknown("identity_match", "There is no party name or birth date on the case to compare with.", **details)
    message = "; ".join(sentences)
    message = message[0].upper() + message[1:] + "."
    if "fail" in parts.values():
        return failed("identity_match", message, **details)
    if "unknown" in parts.values():
        return unknown("identity_match", message, **details)
    return passed("identity_match", message, **details)


# -------------------------------------------------------------------------------- builders


def _field(value: str, width: int) -> str:
    value = re.sub(r"[^A-Z0-9<]", "<", value.upper())
    return value[:width].ljust(width, "<")


def _name_field(surname: str, given_names: str, width: int) -> str:
    name = transliterate(surname, icao=True)
    if given_names.strip():
        name += "<<" + transliterate(given_names, icao=True)
    return _field(name, width)


def _yymmdd(value: date | None) -> str:
    return value.strftime("%y%m%d") if value else "<<<<<<"


def make_mrz_td3(
    *,
    surname: str,
    given_names: str,
    document_number: str,
    nationality: str,
    birth_date: date | None,
    sex: str,
    expiry_date: date,
    issuing_state: str | None = None,
    personal_number: str = "",
    document_type: str = "P",
) -> str:
    """A passport MRZ (2x44) with correct check digits; used by tests and the benchmark."""
    line1 = _field(document_type, 2) + _field(issuing_state or nationality, 3) + _name_field(surname, given_names, 39)
    number = _field(document_number, 9)
    birth, expiry, personal = _yymmdd(birth_date), _yymmdd(expiry_date), _field(personal_number, 14)
    personal_check = "<" if not personal.strip("<") else check_digit(personal)
    body = number + check_digit(number) + _field(nationality, 3) + birth + check_digit(birth) + _field(sex, 1)
    body += expiry + check_digit(expiry) + personal + personal_check
    composite = check_digit(body[0:10] + body[13:20] + body[21:43])
    return line1 + "\n" + body + composite


def make_mrz_td2(
    *,
    surname: str,
    given_names: str,
    document_number: str,
    nationality: str,
    birth_date: date | None,
    sex: str,
    expiry_date: date,
    issuing_state: str | None = None,
    optional_data: str = "",
    document_type: str = "I",
) -> str:
    """A TD2 MRZ (2x36) with correct check digits (document numbers up to 9 characters)."""
    line1 = _field(document_type, 2) + _field(issuing_state or nationality, 3) + _name_field(surname, given_names, 31)
    number = _field(document_number, 9)
    birth, expiry = _yymmdd(birth_date), _yymmdd(expiry_date)
    body = number + check_digit(number) + _field(nationality, 3) + birth + check_digit(birth) + _field(sex, 1)
    body += expiry + check_digit(expiry) + _field(optional_data, 7)
    return line1 + "\n" + body + check_digit(body[0:10] + body[13:20] + body[21:35])


def make_mrz_td1(
    *,
    surname: str,
    given_names: str,
    document_number: str,
    nationality: str,
    birth_date: date | None,
    sex: str,
    expiry_date: date,
    issuing_state: str | None = None,
    optional_data: str = "",
    optional_data_2: str = "",
    document_type: str = "I",
) -> str:
    """An identity-card MRZ (3x30) with correct check digits (document numbers up to 9 characters)."""
    number = _field(document_number, 9)
    line1 = _field(document_type, 2) + _field(issuing_state or nationality, 3) + number + check_digit(number)
    line1 += _field(optional_data, 15)
    birth, expiry = _yymmdd(birth_date), _yymmdd(expiry_date)
    line2 = birth + check_digit(birth) + _field(sex, 1) + expiry + check_digit(expiry) + _field(nationality, 3)
    line2 += _field(optional_data_2, 11)
    line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    return "\n".join((line1, line2, _name_field(surname, given_names, 30)))
