"""2D-Doc text format: parse the content of a 2D-Doc barcode, and build (sign) one.

A C40 2D-Doc (ANTS specification, versions 01 to 04) is the text::

    header | message | <US> | signature | [<GS> annex]

* header: ``"DC"``, version (2), certification authority id (4, e.g. ``FR00``), certificate id
  (4), issue date and signature date (4 hex digits each: days since 2000-01-01, ``FFFF`` = no
  date), document type (2); version 03 adds the perimeter (2), version 04 the perimeter and
  the country (2). That is 22 characters for versions 01/02, 24 for 03 and 26 for 04.
* message: data fields, each a 2-character data identifier (DI) followed by its value; the DI
  table (:mod:`~casework.documents.checks.twoddoc_spec`) says whether the value has a fixed
  length (no terminator) or a variable one (ended by ``<GS>`` 0x1D, by ``<RS>`` 0x1E when the
  value was truncated, by reaching its maximum length, or by the end of the message).
* ``<US>`` (0x1F) ends the signed part: the signature covers header + message, i.e. every
  character before ``<US>``.
* signature: ECDSA ``r || s`` (each the curve size: 64 bytes for P-256/SHA-256, 96 for
  P-384/SHA-384, 132 for P-521/SHA-512), base32-encoded (RFC 4648, no padding).
* annex (version 04): after a ``<GS>`` following the signature; it is *not* signed. ``<RS>`` is
  accepted there too.

Simplifications: only the C40 (text) form is read, not the binary 2D-Doc; one DI table (that
of perimeter ``01``) is used whatever the perimeter.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from casework.documents.checks.twoddoc_spec import DATA_IDENTIFIERS, DOC_TYPES, doc_type_name

GS = "\x1d"
RS = "\x1e"
US = "\x1f"
SEPARATORS = GS + RS + US
EPOCH = date(2000, 1, 1)
NO_DATE = "FFFF"
HEADER_LENGTHS = {"01": 22, "02": 22, "03": 24, "04": 26}
# signature length in bytes -> (curve name, hash)
SIGNATURE_CURVES: dict[int, tuple[str, type[hashes.HashAlgorithm]]] = {
    64: ("secp256r1", hashes.SHA256),
    96: ("secp384r1", hashes.SHA384),
    132: ("secp521r1", hashes.SHA512),
}
_ALNUM4 = re.compile(r"[A-Z0-9]{4}")
_ALNUM2 = re.compile(r"[A-Z0-9]{2}")
_HEX4 = re.compile(r"[0-9A-F]{4}")
_BASE32 = re.compile(r"[A-Z2-7]+")
_ALIASES = {"<GS>": GS, "<RS>": RS, "<US>": US, "\u241d": GS, "\u241e": RS, "\u241f": US}
_KEY_TO_ID = {d.key: d.id for d in DATA_IDENTIFIERS.values()}


class TwoDDocError(ValueError):
    """The text is not a well-formed 2D-Doc (or cannot be encoded as one); the message says why."""


@dataclass(frozen=True)
class TwoDDoc:
    """A parsed 2D-Doc. ``fields`` is keyed by DI id in message order, ``named_fields`` by DI key.

    ``signed_data`` is the exact byte string the signature covers (header + message).
    ``truncated`` holds the DIs whose value ended with ``<RS>`` (truncated by the issuer);
    ``unknown_ids`` the DIs read leniently because they are not in the table (``strict=False``).
    """

    version: str
    ca_id: str
    cert_id: str
    issued: date | None
    signed: date | None
    doc_type: str
    doc_type_name: str
    perimeter: str | None
    country: str | None
    fields: dict[str, str]
    named_fields: dict[str, str]
    signed_data: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    annex: str | None = None
    truncated: frozenset[str] = field(default_factory=frozenset)
    unknown_ids: tuple[str, ...] = ()
    raw: str = field(default="", repr=False)

    @property
    def doc_category(self) -> str | None:
        """casework category of the document type ("proof_of_address", "tax_notice"...), if known."""
        known = DOC_TYPES.get(self.doc_type)
        return known.category if known else None

    @property
    def curve(self) -> str:
        """Name of the ECDSA curve implied by the signature length ("secp256r1"...)."""
        return SIGNATURE_CURVES[len(self.signature)][0]

    def get(self, di_or_key: str) -> str | None:
        """The value of a field, by DI id ("24") or by key ("service_postcode")."""
        return self.fields.get(_KEY_TO_ID.get(di_or_key, di_or_key))


# --------------------------------------------------------------------------- dates


def decode_date(text: str, what: str) -> date | None:
    """4 hex digits of days since 2000-01-01 -> date; ``FFFF`` -> None."""
    if not _HEX4.fullmatch(text):
        raise TwoDDocError(f"invalid {what} {text!r} in header: expected 4 uppercase hex digits (days since 2000-01-01) or FFFF")
    if text == NO_DATE:
        return None
    return EPOCH + timedelta(days=int(text, 16))


def encode_date(value: date | None, what: str = "date") -> str:
    """date -> 4 uppercase hex digits of days since 2000-01-01; None -> ``FFFF``."""
    if value is None:
        return NO_DATE
    days = (value - EPOCH).days
    if not 0 <= days < 0xFFFF:
        raise TwoDDocError(f"{what} {value.isoformat()} cannot be encoded: it must be between 2000-01-01 and 2179-06-05")
    return f"{days:04X}"


# --------------------------------------------------------------------------- parsing


def normalize_payload(text: str) -> str:
    """Replace the visible stand-ins of the separators (``<GS>``, ``␝``...) and trim line ends."""
    for alias, char in _ALIASES.items():
        text = text.replace(alias, char)
    return text.strip(" \r\n\t")  # not str.strip(): Python counts 0x1C-0x1F as whitespace


def _check_value_chars(di: str, value: str) -> None:
    for ch in value:
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            raise TwoDDocError(f"field {di} contains the control character 0x{ord(ch):02X}")


def _parse_message(message: str, *, strict: bool) -> tuple[dict[str, str], set[str], list[str]]:
    fields: dict[str, str] = {}
    truncated: set[str] = set()
    unknown: list[str] = []
    i, n = 0, len(message)
    while i < n:
        if message[i] == GS:  # stray <GS>: after a field at its maximum length, or before <US>
            i += 1
            continue
        if i + 2 > n:
            raise TwoDDocError(f"message ends with a lone character {message[i:]!r} at offset {i}: a data identifier has 2 characters")
        di = message[i : i + 2]
        if not _ALNUM2.fullmatch(di):
            raise TwoDDocError(f"invalid data identifier {di!r} at message offset {i}: expected 2 characters A-Z/0-9")
        if di in fields and strict:
            raise TwoDDocError(f"data identifier {di} appears twice in the message")
        spec = DATA_IDENTIFIERS.get(di)
        start = i + 2
        if spec is None and strict:
            raise TwoDDocError(
                f"unknown data identifier {di} at message offset {i}: its length rules are not in the table "
                "(parse with strict=False to read it as a variable-length field)"
            )
        if spec is not None and spec.fixed:
            length = spec.min_len
            value = message[start : start + length]
            bad = next((k for k, ch in enumerate(value) if ch in SEPARATORS), None)
            if len(value) < length or bad is not None:
                got = len(value) if bad is None else bad
                raise TwoDDocError(f"field {di} ({spec.label}) must have exactly {length} characters, found {got}")
            i = start + length
        else:
            limit = n if spec is None or spec.max_len is None else min(n, start + spec.max_len)
            j = start
            while j < limit and message[j] not in (GS, RS):
                j += 1
            value = message[start:j]
            if j < n and message[j] == RS:
                truncated.add(di)
                j += 1
            elif j < n and message[j] == GS:
                j += 1
            if spec is None:
                unknown.append(di)
            elif strict and len(value) < spec.min_len:
                raise TwoDDocError(f"field {di} ({spec.label}) must have at least {spec.min_len} characters, found {len(value)}")
            i = j
        _check_value_chars(di, value)
        fields[di] = value
    return fields, truncated, unknown


def parse_2ddoc(text: str, *, strict: bool = True) -> TwoDDoc:
    """Parse the raw content of a 2D-Doc barcode (C40 form, versions 01-04).

    ``strict`` (default): a data identifier missing from the DI table, a repeated one, or a
    value shorter than its minimum raises :class:`TwoDDocError`. With ``strict=False`` unknown
    DIs are read as variable-length values (up to the next ``<GS>``/``<RS>``) and listed in
    ``unknown_ids`` — the signature can still be verified, since it covers the raw text.
    Structural errors (header, ``<US>``, signature) always raise.
    """
    text = normalize_payload(text)
    if not text.startswith("DC"):
        raise TwoDDocError(f"not a 2D-Doc: the content must start with 'DC', not {text[:2]!r} (the binary 2D-Doc form is not supported)")
    version = text[2:4]
    header_len = HEADER_LENGTHS.get(version)
    if header_len is None:
        raise TwoDDocError(f"unsupported 2D-Doc version {version!r}: expected one of {', '.join(HEADER_LENGTHS)}")
    us = text.find(US)
    head_end = len(text) if us < 0 else us
    if head_end < header_len:
        raise TwoDDocError(f"header too short: version {version} needs {header_len} characters, got {head_end}")
    header = text[:header_len]
    ca_id, cert_id = header[4:8], header[8:12]
    if not _ALNUM4.fullmatch(ca_id):
        raise TwoDDocError(f"invalid certification authority id {ca_id!r} in header: expected 4 characters A-Z/0-9")
    if not _ALNUM4.fullmatch(cert_id):
        raise TwoDDocError(f"invalid certificate id {cert_id!r} in header: expected 4 characters A-Z/0-9")
    issued = decode_date(header[12:16], "issue date")
    signed = decode_date(header[16:20], "signature date")
    doc_type = header[20:22]
    if not _ALNUM2.fullmatch(doc_type):
        raise TwoDDocError(f"invalid document type {doc_type!r} in header: expected 2 characters A-Z/0-9")
    perimeter = header[22:24] if header_len >= 24 else None
    if perimeter is not None and not _ALNUM2.fullmatch(perimeter):
        raise TwoDDocError(f"invalid perimeter {perimeter!r} in header: expected 2 characters A-Z/0-9")
    country = header[24:26] if header_len >= 26 else None
    if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
        raise TwoDDocError(f"invalid country {country!r} in header: expected 2 letters (ISO 3166-1 alpha-2)")
    if us < 0:
        raise TwoDDocError("missing <US> (0x1F) separator between the message and the signature")

    fields, truncated, unknown = _parse_message(text[header_len:us], strict=strict)

    tail = text[us + 1 :]
    cut = min((k for k in (tail.find(GS), tail.find(RS)) if k >= 0), default=-1)
    sig_text, annex = (tail, None) if cut < 0 else (tail[:cut], tail[cut + 1 :] or None)
    sig_text = sig_text.rstrip("=")
    if not sig_text:
        raise TwoDDocError("missing signature after <US>")
    if not _BASE32.fullmatch(sig_text):
        bad = next(ch for ch in sig_text if not _BASE32.fullmatch(ch))
        raise TwoDDocError(f"signature is not base32 (RFC 4648): unexpected character {bad!r}")
    try:
        signature = base64.b32decode(sig_text + "=" * (-len(sig_text) % 8))
    except ValueError as exc:
        raise TwoDDocError(f"signature is not valid base32: {exc}") from exc
    if len(signature) not in SIGNATURE_CURVES:
        raise TwoDDocError(f"signature has {len(signature)} bytes: expected 64 (P-256), 96 (P-384) or 132 (P-521) bytes of ECDSA r||s")

    return TwoDDoc(
        version=version,
        ca_id=ca_id,
        cert_id=cert_id,
        issued=issued,
        signed=signed,
        doc_type=doc_type,
        doc_type_name=doc_type_name(doc_type),
        perimeter=perimeter,
        country=country,
        fields=fields,
        named_fields={DATA_IDENTIFIERS[di].key: v for di, v in fields.items() if di in DATA_IDENTIFIERS},
        signed_data=text[:us].encode("utf-8"),
        signature=signature,
        annex=annex,
        truncated=frozenset(truncated),
        unknown_ids=tuple(unknown),
        raw=text,
    )


# --------------------------------------------------------------------------- encoding


def _printable_ascii(what: str, value: str) -> None:
    for ch in value:
        if not 0x20 <= ord(ch) <= 0x7E:
            raise TwoDDocError(f"{what} must be printable ASCII (C40 charset, no accents, no separators): found {ch!r}")


def _encode_message(fields: Mapping[str, str], *, truncate: bool) -> str:
    parts: list[str] = []
    items = list(fields.items())
    for index, (name, value) in enumerate(items):
        di = _KEY_TO_ID.get(name, name)
        spec = DATA_IDENTIFIERS.get(di)
        if spec is None:
            raise TwoDDocError(f"unknown data identifier {name!r}: not in the DI table")
        _printable_ascii(f"field {di}", value)
        if spec.fixed:
            if len(value) != spec.min_len:
                raise TwoDDocError(f"field {di} ({spec.label}) must have exactly {spec.min_len} characters, got {len(value)}")
            parts.append(di + value)
            continue
        if len(value) < spec.min_len:
            raise TwoDDocError(f"field {di} ({spec.label}) must have at least {spec.min_len} characters, got {len(value)}")
        if spec.max_len is not None and len(value) > spec.max_len:
            if not truncate:
                raise TwoDDocError(f"field {di} ({spec.label}) has at most {spec.max_len} characters, got {len(value)}")
            parts.append(di + value[: spec.max_len] + RS)
            continue
        last = index == len(items) - 1
        parts.append(di + value + ("" if last else GS))
    return "".join(parts)


def sign_data(data: bytes, private_key: ec.EllipticCurvePrivateKey) -> bytes:
    """ECDSA signature of ``data`` as fixed-length ``r || s`` (the 2D-Doc form)."""
    size = (private_key.curve.key_size + 7) // 8
    hash_cls = next((h for n, h in SIGNATURE_CURVES.values() if n == private_key.curve.name), None)
    if hash_cls is None:
        raise TwoDDocError(f"unsupported curve {private_key.curve.name}: 2D-Doc uses P-256, P-384 or P-521")
    r, s = utils.decode_dss_signature(private_key.sign(data, ec.ECDSA(hash_cls())))
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def encode_2ddoc(
    *,
    ca_id: str,
    cert_id: str,
    issued: date | None,
    signed: date | None,
    doc_type: str,
    fields: Mapping[str, str],
    private_key: ec.EllipticCurvePrivateKey,
    version: str = "03",
    perimeter: str = "01",
    country: str = "FR",
    annex: str | None = None,
    truncate: bool = False,
) -> str:
    """Build and sign the text of a C40 2D-Doc (for tests, benchmarks and demo data).

    ``fields`` maps DI ids ("24") or DI keys ("service_postcode") to values, in message order.
    Variable-length values end with ``<GS>`` except the last one; a value longer than its
    maximum raises, or with ``truncate=True`` is cut and ended with ``<RS>``. ``annex`` (v04:
    data fields in the message's form, ``<GS>`` allowed) is appended, unsigned, after ``<GS>``.
    """
    if version not in HEADER_LENGTHS:
        raise TwoDDocError(f"unsupported 2D-Doc version {version!r}: expected one of {', '.join(HEADER_LENGTHS)}")
    for what, value, pattern in (
        ("certification authority id", ca_id, _ALNUM4),
        ("certificate id", cert_id, _ALNUM4),
        ("document type", doc_type, _ALNUM2),
        ("perimeter", perimeter, _ALNUM2),
        ("country", country, re.compile(r"[A-Z]{2}")),
    ):
        if not pattern.fullmatch(value):
            raise TwoDDocError(f"invalid {what} {value!r}")
    header = "DC" + version + ca_id + cert_id + encode_date(issued, "issue date") + encode_date(signed, "signature date") + doc_type
    if HEADER_LENGTHS[version] >= 24:
        header += perimeter
    if HEADER_LENGTHS[version] >= 26:
        header += country
    signed_text = header + _encode_message(fields, truncate=truncate)
    signature = sign_data(signed_text.encode("ascii"), private_key)
    text = signed_text + US + base64.b32encode(signature).decode("ascii").rstrip("=")
    if annex is not None:
        _printable_ascii("annex", annex.replace(GS, " ").replace(RS, " "))  # the annex has the message's form
        text += GS + annex
    return text
