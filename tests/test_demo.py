"""The demo data set is valid under the case types: fields, questionnaires, criteria, outcomes and audit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import Counter

import pytest

from casework import demo, demo_data
from casework.domain.access import Principal
from casework.domain.lifecycle import Phase, Priority, Status
from casework.services import answers, auth, cases, decisions, history, plans, users
from casework.services.casetypes import definition_for
from casework.services.decisions import SCREENING_OUTCOMES
from casework.services.schemas import CaseCreate, CaseFilter, CaseView
from casework.services.workflow_schemas import AnswersSubmit, DecisionStatus
from casework.store.unit_of_work import Database
from tests.factories import advance_to

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
PAST_ASSESSMENT = {Phase.RISK, Phase.PLANNING, Phase.IMPLEMENTATION, Phase.FOLLOW_UP, Phase.EVALUATION}
PAST_IMPLEMENTATION = {Phase.FOLLOW_UP, Phase.EVALUATION}


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its production cost takes a good fraction of a second per hash; the demo hashes a dozen."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def _all_cases(db: Database, who: Principal) -> list[CaseView]:
    return cases.list_cases(db, who, CaseFilter(), limit=500).items


def _worked_through(case: CaseView) -> bool:
    """Closed after evaluation, not at screening."""
    return case.status is Status.CLOSED and case.outcome not in SCREENING_OUTCOMES.values()


def test_demo_cases_are_valid_under_their_case_types(db: Database, actor: Principal) -> None:
    report = demo.load_demo(db, actor, cases=40, seed=11, now=NOW)
    items = _all_cases(db, actor)
    assert report.cases == len(items) == 40
    assert sum(report.by_phase.values()) == 40

    with db.read() as s:
        definitions = {key: definition_for(s, key) for key in {c.case_type for c in items}}
    phases = Counter(c.phase for c in items)
    assert {Phase.SCREENING, Phase.ASSESSMENT, Phase.CLOSED} <= set(phases), phases
    assert len(phases) >= 6, phases
    assert len({c.case_type for c in items}) == 4

    pending: Counter[str] = Counter()
    for case in items:
        defn = definitions[case.case_type]
        assert defn.validate_fields(case.custom_data) == [], (case.reference, case.custom_data)
        if case.status is Status.CLOSED:
            assert case.outcome in [*defn.outcomes, *SCREENING_OUTCOMES.values()], (case.reference, case.outcome)
        if case.phase in PAST_ASSESSMENT or _worked_through(case):
            for status in answers.list_questionnaires(db, actor, case.id):
                assert status.complete, (case.reference, status.questionnaire, status.missing)
        if case.phase in PAST_IMPLEMENTATION or _worked_through(case):
            tasks = [t for goal in plans.get_plan(db, actor, case.id) for t in goal.tasks]
            assert tasks, case.reference  # the plan templates made some
            assert all(t.status.value in ("done", "cancelled") for t in tasks), case.reference
        for decision in decisions.list_decisions(db, actor, case.id):
            if decision.status is DecisionStatus.PENDING and case.status is Status.OPEN:
                pending[decision.point.value] += 1
        if case.phase in PAST_ASSESSMENT - {Phase.RISK} or _worked_through(case):
            assert case.risk_score is not None, case.reference  # the risk table scored it
    # Some recommendations wait for a person, so the demo shows them.
    assert pending["next_action"] > 0, pending
    assert pending["screening"] > 0, pending

    verified = history.verify_audit(db, actor)
    assert verified.ok, verified.message


def test_demo_emptied_savings_account_is_p1_by_the_risk_table(db: Database, actor: Principal, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = next(s for s in demo_data.DISPUTES if s.title == "Unauthorised transfer emptied savings account")
    monkeypatch.setattr(demo_data, "DISPUTES", [dataclasses.replace(scenario, amounts=(6000.0, 6000.0))])
    spec = demo_data.make_dispute(random.Random(3), NOW, screen_out=False)
    assert (spec.custom_data["account_type"], spec.custom_data["balance_after"]) == ("savings", 0.0)

    command = CaseCreate(case_type=spec.case_type, title=spec.title, description=spec.description, custom_data=spec.custom_data,
                         priority=Priority.P4, team="fraud")  # fmt: skip
    case = cases.create_case(db, actor, command)
    assert case.phase is Phase.ASSESSMENT  # the automatic screening opened it
    for questionnaire, given in spec.answers.items():
        assert answers.submit_answers(db, actor, case.id, questionnaire, AnswersSubmit(answers=given)).complete
    case = advance_to(db, actor, case, Phase.RISK)
    assert case.risk_score is not None and case.risk_score >= 75
    assert case.priority is Priority.P1


def test_demo_onboarding_applicants_send_their_documents(db: Database, actor: Principal) -> None:
    """Onboarding needs its documents to leave assessment: the demo's applicants send them, the automated
    checks run, and the handler validates what needs a person (or rejects an expired passport)."""
    from casework.services import casetypes, documents
    from casework.services.documents import ChecklistState, DocumentStatus

    assert "      - documents_received: true\n" in casetypes.shipped_sources()["onboarding.yaml"]
    report = demo.load_demo(db, actor, cases=60, seed=11, now=NOW)
    onboarding = [c for c in _all_cases(db, actor) if c.case_type == "onboarding"]
    assert report.documents > 0 and onboarding
    moved_on = [c for c in onboarding if c.phase in PAST_ASSESSMENT or _worked_through(c)]
    assert moved_on, Counter(c.phase for c in onboarding)
    checked = 0
    for case in moved_on:
        required = [i for i in documents.checklist(db, actor, case.id) if i.required]
        assert required and all(i.state is not ChecklistState.MISSING for i in required), (case.reference, required)
        for doc in documents.list_documents(db, actor, case.id):
            if doc.kind == "identity_document":
                assert any(c.get("check") == "mrz_check_digits" for c in doc.checks)  # the automated checks ran
                checked += 1
    assert checked
    system = users.system_principal(db).user_id
    passports = [d for c in onboarding for d in documents.list_documents(db, actor, c.id) if d.kind == "identity_document"]
    assert any(d.status is DocumentStatus.VALIDATED and d.reviewed_by == system for d in passports)  # validated by its checks
    for doc in passports:
        if doc.status is DocumentStatus.REJECTED:
            assert doc.status_reason == "The passport has expired."
