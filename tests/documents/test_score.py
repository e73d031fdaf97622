"""Authenticity score and verdict."""

from __future__ import annotations

from casework.documents.checks.result import CheckResult, Outcome
from casework.documents.checks.score import FAIL_PENALTY, UNKNOWN_PENALTY, authenticity


def result(check: str, outcome: Outcome, message: str = "") -> CheckResult:
    return CheckResult(check, outcome, message or f"{check} {outcome.value}.")


def test_all_pass_is_validated_at_100():
    verdict = authenticity([result("mrz_check_digits", Outcome.PASS), result("iban", Outcome.PASS)])
    assert (verdict.score, verdict.verdict, verdict.reasons) == (100, "validated", [])


def test_a_failure_goes_to_review_with_its_message():
    verdict = authenticity(
        [result("file_type", Outcome.PASS), result("document_expiry", Outcome.FAIL, "The document expired on 2012-04-15.")]
    )
    assert verdict.verdict == "review"
    assert verdict.score == 100 - FAIL_PENALTY
    assert verdict.reasons == ["The document expired on 2012-04-15."]


def test_unknowns_lower_the_score_and_go_to_review_after_failures():
    verdict = authenticity(
        [
            result("identity_match", Outcome.UNKNOWN, "No party data."),
            result("iban", Outcome.FAIL, "Bad IBAN."),
            result("bic", Outcome.PASS),
        ]
    )
    assert verdict.score == 100 - FAIL_PENALTY - UNKNOWN_PENALTY
    assert verdict.verdict == "review"
    assert verdict.reasons == ["Bad IBAN.", "Not verified: No party data."]
    assert authenticity([result("x", Outcome.UNKNOWN)]).verdict == "review"


def test_score_never_below_zero_and_nothing_checked_is_review():
    assert authenticity([result(f"c{i}", Outcome.FAIL) for i in range(5)]).score == 0
    empty = authenticity([])
    assert (empty.score, empty.verdict) == (0, "review") and empty.reasons


def test_to_dict():
    assert authenticity([result("x", Outcome.PASS)]).to_dict() == {"score": 100, "verdict": "validated", "reasons": []}
