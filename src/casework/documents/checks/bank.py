"""IBAN and BIC checks with schwifty (ISO 13616 checksum and national formats, ISO 9362 BIC).

Why: a mistyped or invented IBAN on an onboarding form is caught before any payment is made,
and a BIC from another country than the IBAN is a common sign of copied or mixed-up details.
Both functions normalise spaces and case first, as people type IBANs in groups of four.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from schwifty import BIC, IBAN
from schwifty.exceptions import (
    InvalidBBANChecksum,
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    InvalidStructure,
    NationalChecksumNotVerified,
    SchwiftyException,
)

from casework.documents.checks.result import CheckResult, failed, passed

__all__ = ["check_bic", "check_iban", "normalise"]

# Territories whose IBANs carry their own country code while many of their banks use the parent's BICs.
_BIC_COUNTRY_OF = {
    **dict.fromkeys(("GF", "GP", "MQ", "RE", "YT", "NC", "PF", "PM", "TF", "WF", "BL", "MF", "MC"), "FR"),
    **dict.fromkeys(("JE", "GG", "IM"), "GB"),
    "AX": "FI",
    "SM": "IT",
    "VA": "IT",
}


def normalise(value: str) -> str:
    """Spaces, dashes and dots removed, uppercased: 'de89 3704-0044' → 'DE8937040044'."""
    return re.sub(r"[\s.\-]+", "", value).upper()


def _iban_details(iban: IBAN) -> dict[str, Any]:
    details: dict[str, Any] = {"iban": str(iban), "formatted": iban.formatted, "country": iban.country_code}
    try:
        details["bank_code"] = iban.bank_code or None
        details["branch_code"] = iban.branch_code or None
        details["in_sepa_zone"] = iban.in_sepa_zone
        bic = iban.bic
        details["bank_bic"] = str(bic) if bic else None
        details["bank_name"] = iban.bank_name
    except SchwiftyException:  # registry gaps: the details are a courtesy
        pass
    return details


def check_iban(iban: str) -> CheckResult:
    """ "iban": checksum (mod 97), the country's length and BBAN format, and the national checksum where schwifty knows it."""
    value = normalise(iban)
    if not value:
        return failed("iban", "No IBAN was given.", iban="")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NationalChecksumNotVerified)
            parsed = IBAN(value, validate_bban=True)
    except InvalidChecksumDigits:
        return failed("iban", f"The IBAN {value} has wrong check digits (mistyped or invented).", iban=value, reason="checksum")
    except InvalidBBANChecksum:
        return failed("iban", f"The IBAN {value} fails its national account checksum.", iban=value, reason="national_checksum")
    except InvalidLength:
        return failed("iban", f"The IBAN {value} has the wrong length for {value[:2]}.", iban=value, reason="length")
    except InvalidCountryCode:
        return failed("iban", f"The IBAN {value} starts with an unknown country code {value[:2]}.", iban=value, reason="country")
    except (InvalidStructure, SchwiftyException) as exc:
        return failed("iban", f"The IBAN {value} is malformed: {exc}.", iban=value, reason="structure")
    details = _iban_details(parsed)
    unverified = any(issubclass(w.category, NationalChecksumNotVerified) for w in caught)
    details["national_checksum"] = "not_verified" if unverified else "verified"
    return passed("iban", f"The IBAN {parsed.formatted} is valid ({parsed.country_code}).", **details)


def check_bic(bic: str, *, iban: str | None = None) -> CheckResult:
    """ "bic": ISO 9362 format and country; with ``iban``, the BIC's country must be the IBAN's
    (French overseas territories, Monaco, Channel Islands... use their parent country's BICs)."""
    value = normalise(bic)
    if not value:
        return failed("bic", "No BIC was given.", bic="")
    try:
        parsed = BIC(value)
    except InvalidLength:
        return failed("bic", f"The BIC {value} must have 8 or 11 characters.", bic=value, reason="length")
    except InvalidCountryCode:
        return failed("bic", f"The BIC {value} has an unknown country code {value[4:6]}.", bic=value, reason="country")
    except SchwiftyException as exc:
        return failed("bic", f"The BIC {value} is malformed: {exc}.", bic=value, reason="structure")
    details: dict[str, Any] = {"bic": str(parsed), "country": parsed.country_code, "bank_code": parsed.bank_code}
    try:
        details["bank_name"] = next(iter(parsed.bank_names), None)
        details["known"] = parsed.exists
    except SchwiftyException:
        pass
    if iban is None:
        return passed("bic", f"The BIC {parsed} is well formed ({parsed.country_code}).", **details)
    iban_value = normalise(iban)
    country = iban_value[:2]
    details["iban_country"] = country
    if parsed.country_code not in {country, _BIC_COUNTRY_OF.get(country, country)}:
        message = f"The BIC {parsed} is from {parsed.country_code} but the IBAN is from {country}."
        return failed("bic", message, reason="country_mismatch", **details)
    return passed("bic", f"The BIC {parsed} is well formed and from the IBAN's country ({country}).", **details)
