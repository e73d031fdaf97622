"""The pure retention rules: period per kind, due the day after it ends, never for open cases or under hold."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from casework.casetypes.model import CaseTypeDef, DocumentRequirement
from casework.documents.retention import RetentionPolicy, Verdict, assess, closed_on, expires_on, is_due

POLICY = RetentionPolicy(case_type="onboarding", version=1, default_days=3650, kinds={"identity_document": 1825})
CLOSED = dt.datetime(2020, 3, 1, 23, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("kind", "closed", "closed_at", "today", "hold", "expected"),
    [
        # identity documents: five years after closure (2020-03-01 + 1825 days = 2025-02-28)
        ("identity_document", True, CLOSED, dt.date(2025, 2, 28), False, Verdict.KEEP),  # the last day kept
        ("identity_document", True, CLOSED, dt.date(2025, 3, 1), False, Verdict.DUE),  # the day after
        ("identity_document", True, CLOSED, dt.date(2040, 1, 1), True, Verdict.LEGAL_HOLD),  # held: never due
        ("identity_document", True, CLOSED, dt.date(2020, 3, 2), False, Verdict.KEEP),
        # other kinds and "other": the type's default of ten years
        ("proof_of_address", True, CLOSED, dt.date(2025, 3, 1), False, Verdict.KEEP),
        ("other", True, CLOSED, dt.date(2030, 2, 27), False, Verdict.KEEP),
        ("other", True, CLOSED, dt.date(2030, 2, 28), False, Verdict.DUE),
        # open cases are never due, however old
        ("identity_document", False, None, dt.date(2099, 1, 1), False, Verdict.OPEN_CASE),
        ("identity_document", False, CLOSED, dt.date(2099, 1, 1), False, Verdict.OPEN_CASE),  # reopened
        ("identity_document", True, None, dt.date(2099, 1, 1), False, Verdict.OPEN_CASE),
    ],
)
def test_verdicts(kind: str, closed: bool, closed_at: dt.datetime | None, today: dt.date, hold: bool, expected: Verdict) -> None:
    found = assess(kind=kind, policy=POLICY, case_closed=closed, closed_at=closed_at, today=today, legal_hold=hold)
    assert found.verdict is expected
    assert found.retention_days == (1825 if kind == "identity_document" else 3650)
    assert found.past_retention == (expected in (Verdict.DUE, Verdict.LEGAL_HOLD))


def test_deleted_documents_are_not_due_again() -> None:
    found = assess(kind="other", policy=POLICY, case_closed=True, closed_at=CLOSED, today=dt.date(2099, 1, 1), deleted=True)
    assert found.verdict is Verdict.DELETED


def test_closure_day_is_the_utc_day() -> None:
    late_evening_elsewhere = dt.datetime(2020, 3, 2, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    assert closed_on(late_evening_elsewhere) == dt.date(2020, 3, 1)
    assert closed_on(dt.datetime(2020, 3, 1, 12)) == dt.date(2020, 3, 1)  # naive means UTC
    assert closed_on(dt.date(2020, 3, 1)) == dt.date(2020, 3, 1)
    assert expires_on(CLOSED, 1) == dt.date(2020, 3, 2)
    assert not is_due(CLOSED, 1, dt.date(2020, 3, 2)) and is_due(CLOSED, 1, dt.date(2020, 3, 3))
    assert not is_due(None, 1, dt.date(2099, 1, 1))
    with pytest.raises(ValueError):
        expires_on(CLOSED, 0)


def test_policy_from_a_definition_and_its_rule_text() -> None:
    defn = CaseTypeDef.model_validate(
        {
            "key": "kyc",
            "version": 3,
            "name": "KYC",
            "fields": {"type": "object", "properties": {"name": {"type": "string"}}, "additionalProperties": False},
            "documents": [
                {"kind": "passport", "title": "Passport", "retention_days": 1825},
                {"kind": "selfie", "title": "Selfie"},
            ],
            "document_retention_days": 400,
            "outcomes": ["done"],
        }
    )
    policy = RetentionPolicy.of(defn)
    assert policy.days_for("passport") == 1825 and policy.days_for("selfie") == 400 and policy.days_for("other") == 400
    assert policy.rule_for("passport") == "kyc v3 documents.passport.retention_days = 1825"
    assert policy.rule_for("other") == "kyc v3 document_retention_days = 400"


def test_shipped_onboarding_keeps_identity_documents_five_years() -> None:
    from casework.casetypes.loader import load_case_type_text
    from casework.services.casetypes import shipped_sources

    defn = load_case_type_text(shipped_sources()["onboarding.yaml"], filename="onboarding.yaml")
    policy = RetentionPolicy.of(defn)
    assert policy.days_for("identity_document") == 1825 and policy.days_for("other") == 3650


@pytest.mark.parametrize("days", [0, -1, 36501])
def test_retention_days_are_bounded(days: int) -> None:
    with pytest.raises(ValidationError):
        DocumentRequirement.model_validate({"kind": "passport", "title": "Passport", "retention_days": days})
