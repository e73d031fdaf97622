"""IBAN and BIC checks."""

from __future__ import annotations

import pytest

from casework.documents.checks.bank import check_bic, check_iban
from casework.documents.checks.result import Outcome


@pytest.mark.parametrize(
    ("iban", "country", "bank_code"),
    [
        ("DE89 3704 0044 0532 0130 00", "DE", "37040044"),
        ("GB82 WEST 1234 5698 7654 32", "GB", "WEST"),
        ("gb82west12345698765432", "GB", "WEST"),
        ("FR14 2004 1010 0505 0001 3M02 606", "FR", "20041"),
        (" NL91-ABNA-0417-1643-00 ", "NL", "ABNA"),
    ],
)
def test_valid_ibans(iban, country, bank_code):
    result = check_iban(iban)
    assert result.outcome is Outcome.PASS, result.message
    assert result.details["country"] == country and result.details["bank_code"] == bank_code
    assert " " not in result.details["iban"]


def test_known_bank_details():
    details = check_iban("DE89370400440532013000").details
    assert details["bank_bic"] == "COBADEFFXXX" and details["bank_name"] == "Commerzbank"
    assert details["formatted"] == "DE89 3704 0044 0532 0130 00"


@pytest.mark.parametrize(
    ("iban", "reason"),
    [
        ("DE88 3704 0044 0532 0130 00", "checksum"),  # one check digit off
        ("DE89 3704 0044 0532 0130 01", "checksum"),  # one account digit off
        ("GB82 WEST 1234 5698 7654 3", "length"),
        ("XX82 WEST 1234 5698 7654 32", "country"),
        ("DE89 3704 0044 0532 0130 0!", "structure"),
        ("", None),
    ],
)
def test_invalid_ibans(iban, reason):
    result = check_iban(iban)
    assert result.outcome is Outcome.FAIL
    assert result.details.get("reason") == reason


def test_bic_format_and_country():
    assert check_bic("COBADEFFXXX").outcome is Outcome.PASS
    assert check_bic("cobade ff").details["country"] == "DE"
    for bad in ("COBADEF", "COBA1EFF", "COBAXXFF", ""):
        assert check_bic(bad).outcome is Outcome.FAIL, bad


def test_bic_must_be_from_the_iban_country():
    assert check_bic("COBADEFFXXX", iban="DE89 3704 0044 0532 0130 00").outcome is Outcome.PASS
    mismatch = check_bic("COBADEFFXXX", iban="GB82 WEST 1234 5698 7654 32")
    assert mismatch.outcome is Outcome.FAIL
    assert mismatch.details["reason"] == "country_mismatch" and "GB" in mismatch.message and "DE" in mismatch.message


def test_territories_use_their_parent_country_bics():
    # Monaco IBANs are served by Monegasque and by French banks' BICs, not by German ones.
    monaco = "MC58 1122 2000 0101 2345 6789 030"
    assert check_iban(monaco).outcome is Outcome.PASS
    assert check_bic("CFMOMCMXXXX", iban=monaco).outcome is Outcome.PASS
    assert check_bic("BNPAFRPPXXX", iban=monaco).outcome is Outcome.PASS
    assert check_bic("COBADEFFXXX", iban=monaco).outcome is Outcome.FAIL
    assert check_bic("BNPAFRPPXXX", iban="DE89 3704 0044 0532 0130 00").outcome is Outcome.FAIL


def test_results_are_json_safe():
    import json

    for result in (check_iban("DE89370400440532013000"), check_iban("bad"), check_bic("COBADEFF", iban="DE89370400440532013000")):
        json.dumps(result.to_dict())
