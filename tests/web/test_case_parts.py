"""The case page's sections as HTMX fragments: plan, documents, decisions and questionnaire answers."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from casework.domain.access import Principal, Role
from casework.services import answers, casetypes, decisions, documents, plans
from casework.services.schemas import CaseView, GoalCreate, TaskCreate
from casework.services.workflow_schemas import AnswersSubmit, DecisionPoint
from casework.store.unit_of_work import Database
from casework.web import routes_case_parts
from casework.web.i18n import Translator
from tests.doc_samples import PDF
from tests.factories import audit_count, new_case
from tests.web.conftest import Browser

Signed = Callable[..., Browser]
XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(autouse=True)
def parts_routes(web_app: Any) -> None:
    """The lead registers the module in ``casework.web``; include it here when that is not done yet."""
    if not any(getattr(r, "path", "") == "/cases/{reference}/parts/{part}" for r in web_app.routes):
        web_app.include_router(routes_case_parts.router)


@pytest.fixture
def case(db: Database, admin: Principal) -> CaseView:
    return new_case(db, admin, team="complaints", title="Card charged twice")


@pytest.fixture
def worker(signed_in: Signed) -> Browser:
    return signed_in(Role.CASE_WORKER, teams=["complaints"], name="Wendy Worker")


def part_url(case: CaseView, part: str, action: str = "") -> str:
    return f"/cases/{case.reference}/parts/{part}{action}"


def fragment(browser: Browser, case: CaseView, part: str) -> str:
    response = browser.get(part_url(case, part), headers={"HX-Request": "true"})
    assert response.status_code == 200, response.text[:500]
    assert response.text.lstrip().startswith('<div id="part-' + part + '"') or f'<div id="part-{part}"' in response.text[:300]
    assert "<html" not in response.text and "<body" not in response.text
    return str(response.text)


def goal_with_task(db: Database, admin: Principal, case: CaseView, task_title: str = "Call the customer") -> tuple[Any, Any]:
    goal = plans.add_goal(db, admin, case.id, GoalCreate(title="Resolve it"))
    task = plans.add_task(db, admin, case.id, goal.id, TaskCreate(title=task_title))
    return goal, task


def upload(
    db: Database, who: Principal, case: CaseView, data: bytes = PDF, name: str = "letter.pdf", kind: str = "customer_evidence"
) -> Any:
    return documents.upload_document(db, who, case.id, kind=kind, filename=name, stream=iter([data]))


# ---------------------------------------------------------------- reading


@pytest.mark.parametrize("part", routes_case_parts.PARTS)
def test_each_part_is_a_fragment_for_htmx_and_a_page_without(worker: Browser, case: CaseView, part: str) -> None:
    text = fragment(worker, case, part)
    assert 'class="case-part"' in text
    page = worker.get(part_url(case, part))
    assert page.status_code == 200
    assert "<html" in page.text and f'id="part-{part}"' in page.text and f'href="/cases/{case.reference}"' in page.text


def test_unknown_part_and_unknown_case_are_404(worker: Browser, case: CaseView) -> None:
    assert worker.get(part_url(case, "secrets")).status_code == 404
    assert worker.get("/cases/CASE-2020-999999/parts/plan").status_code == 404


def test_customers_and_other_teams_are_refused(signed_in: Signed, db: Database, admin: Principal, case: CaseView) -> None:
    from casework.services import parties
    from casework.services.schemas import PartyCreate

    party = parties.create_party(db, admin, PartyCreate(name="Claire"))
    customer = signed_in(Role.CUSTOMER, party_id=party.id)
    assert customer.get(part_url(case, "plan")).status_code == 403
    assert customer.post(part_url(case, "plan", "/goals"), {"title": "Mine"}).status_code == 403
    stranger = signed_in(Role.CASE_WORKER, teams=["fraud"])
    assert stranger.get(part_url(case, "documents")).status_code == 404


def test_signed_out_is_sent_to_sign_in(web_app: Any, case: CaseView) -> None:
    from fastapi.testclient import TestClient

    with TestClient(web_app) as client:
        response = client.get(part_url(case, "plan"), follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


# ---------------------------------------------------------------- plan


def test_plan_lists_goals_and_tasks_escaped(worker: Browser, db: Database, admin: Principal, case: CaseView) -> None:
    _, task = goal_with_task(db, admin, case, task_title=XSS)
    plans.update_task(db, admin, case.id, task.id, plans.TaskUpdate(due_date="2026-03-04", assignee_id=worker.principal.user_id))
    text = fragment(worker, case, "plan")
    assert "Resolve it" in text and ESCAPED in text and XSS not in text
    assert Translator("en").date(dt.date(2026, 3, 4)) in text  # the due date in the user's locale
    assert "Wendy Worker" in text
    assert f'hx-post="/cases/{case.reference}/parts/plan/tasks/{task.id}/status"' in text
    assert 'hx-target="#part-plan"' in text


def test_add_goal_and_task_then_check_off_and_reopen(worker: Browser, db: Database, case: CaseView) -> None:
    response = worker.post(part_url(case, "plan", "/goals"), {"title": "Refund the customer", "description": "Twice charged"}, htmx=True)
    assert response.status_code == 200 and "Goal added." in response.text and 'id="part-plan"' in response.text
    assert response.headers["HX-Trigger"] == '{"case-changed": {"part": "plan"}}'
    [goal] = plans.get_plan(db, worker.principal, case.id)
    assert goal.title == "Refund the customer" and goal.description == "Twice charged"
    # The same click twice adds one goal.
    worker.post(part_url(case, "plan", "/goals"), {"title": "Refund the customer"}, htmx=True)
    assert len(plans.get_plan(db, worker.principal, case.id)) == 1

    me = str(worker.principal.user_id)
    data = {"title": "Pay back €12", "due_date": "2026-05-01", "assignee_id": me}
    response = worker.post(part_url(case, "plan", f"/goals/{goal.id}/tasks"), data, htmx=True)
    assert "Task added." in response.text
    [task] = plans.get_plan(db, worker.principal, case.id)[0].tasks
    assert task.title == "Pay back €12" and str(task.assignee_id) == me and task.due_date.isoformat() == "2026-05-01"

    done = worker.post(part_url(case, "plan", f"/tasks/{task.id}/status"), {"status": "done", "version": task.version}, htmx=True)
    assert "Task marked done." in done.text and "Reopen" in done.text
    [task2] = plans.get_plan(db, worker.principal, case.id)[0].tasks
    assert task2.status.value == "done"
    # A stale second click (the same form again) is refused with a message, not a 500.
    again = worker.post(part_url(case, "plan", f"/tasks/{task.id}/status"), {"status": "done", "version": task.version}, htmx=True)
    assert again.status_code == 200 and 'role="alert"' in again.text and "stale" in again.text
    reopened = worker.post(part_url(case, "plan", f"/tasks/{task.id}/status"), {"status": "todo", "version": task2.version}, htmx=True)
    assert "Task reopened." in reopened.text
    assert plans.get_plan(db, worker.principal, case.id)[0].tasks[0].status.value == "todo"


def test_plan_posts_without_htmx_redirect_to_the_case_page(worker: Browser, db: Database, case: CaseView) -> None:
    response = worker.post(part_url(case, "plan", "/goals"), {"title": "No JavaScript"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{case.reference}#part-plan"
    assert [g.title for g in plans.get_plan(db, worker.principal, case.id)] == ["No JavaScript"]


def test_reassign_a_task_offers_the_team(signed_in: Signed, worker: Browser, db: Database, admin: Principal, case: CaseView) -> None:
    colleague = signed_in(Role.CASE_WORKER, teams=["complaints"], name="Walt Colleague")
    signed_in(Role.CASE_WORKER, teams=["fraud"], name="Fred Fraud")
    _, task = goal_with_task(db, admin, case)
    text = fragment(worker, case, "plan")
    assert "Walt Colleague" in text and "Fred Fraud" not in text
    data = {"assignee_id": str(colleague.principal.user_id), "version": task.version}
    response = worker.post(part_url(case, "plan", f"/tasks/{task.id}/assignee"), data, htmx=True)
    assert "Task reassigned." in response.text
    assert plans.get_plan(db, admin, case.id)[0].tasks[0].assignee_id == colleague.principal.user_id
    bad = worker.post(part_url(case, "plan", f"/tasks/{task.id}/assignee"), {"assignee_id": "nobody", "version": 2}, htmx=True)
    assert bad.status_code == 200 and 'aria-invalid="true"' in bad.text and "Choose somebody from the list." in bad.text
    gone = worker.post(part_url(case, "plan", f"/tasks/{task.id}/assignee"), {"assignee_id": str(uuid.uuid4()), "version": 2})
    assert gone.status_code == 422 and f'id="task-{task.id}-assignee-error"' in gone.text


def test_plan_errors_are_shown_at_the_field_keeping_the_input(worker: Browser, db: Database, admin: Principal, case: CaseView) -> None:
    goal, _ = goal_with_task(db, admin, case)
    long = "x" * 301
    response = worker.post(part_url(case, "plan", f"/goals/{goal.id}/tasks"), {"title": long, "due_date": "someday"}, htmx=True)
    assert response.status_code == 200 and 'role="alert"' in response.text
    assert f'id="task-title-{goal.id}-error"' in response.text and "at most 300 characters" in response.text
    assert long in response.text  # what was typed is kept
    plain = worker.post(part_url(case, "plan", "/goals"), {"title": ""})
    assert plain.status_code == 422 and "<html" in plain.text and 'id="goal-title-error"' in plain.text
    assert len(plans.get_plan(db, admin, case.id)[0].tasks) == 1


def test_plan_actions_need_the_csrf_token_and_the_right(
    signed_in: Signed, worker: Browser, db: Database, admin: Principal, case: CaseView
) -> None:
    _, task = goal_with_task(db, admin, case)
    refused = worker.post(part_url(case, "plan", "/goals"), {"title": "Forged"}, csrf=False, htmx=True)
    assert refused.status_code == 403
    auditor = signed_in(Role.AUDITOR)
    text = fragment(auditor, case, "plan")
    assert "Mark done" not in text and "Add a goal" not in text and "Call the customer" in text
    assert auditor.post(part_url(case, "plan", f"/tasks/{task.id}/status"), {"status": "done"}).status_code == 403
    assert auditor.post(part_url(case, "plan", "/goals"), {"title": "Audit"}).status_code == 403
    assert [g.title for g in plans.get_plan(db, admin, case.id)] == ["Resolve it"]
    assert plans.get_plan(db, admin, case.id)[0].tasks[0].status.value == "todo"


# ---------------------------------------------------------------- documents


def test_documents_show_checklist_documents_and_checks(worker: Browser, db: Database, admin: Principal, case: CaseView) -> None:
    doc = upload(db, admin, case, name=f"{XSS}.pdf")
    with db.write() as s:  # checks as another helper's automatic checks store them
        from casework.store.models import Document

        row = s.get(Document, doc.id)
        assert row is not None
        row.checks = [{"check": "mrz", "outcome": "fail", "message": f"bad digit {XSS}", "details": {"line": 2}}]
        row.authenticity_score = 42
    text = fragment(worker, case, "documents")
    assert "Final response letter" in text and "Missing" in text  # the checklist
    assert XSS not in text and "&lt;script&gt;" in text
    assert f'href="/api/v1/cases/{case.reference}/documents/{doc.id}/content"' in text
    assert "42 / 100" in text and "mrz" in text and "bad digit" in text and "1 failed" in text
    assert "Internal (staff only)" in text and "Upload a document" in text and "Request a document" in text
    # The download link is one the session cookie opens.
    download = worker.get(f"/api/v1/cases/{case.reference}/documents/{doc.id}/content")
    assert download.status_code == 200 and download.content == PDF


def test_upload_through_the_form(worker: Browser, db: Database, case: CaseView) -> None:
    files = {"file": ("receipt.pdf", PDF, "application/pdf")}
    data = {"kind": "customer_evidence", "visibility": "shared", "csrf_token": worker.csrf}
    response = worker.client.post(part_url(case, "documents", "/upload"), data=data, files=files, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Document uploaded." in response.text and "receipt.pdf" in response.text
    [doc] = documents.list_documents(db, worker.principal, case.id)
    assert doc.original_name == "receipt.pdf" and doc.visibility.value == "shared" and doc.kind == "customer_evidence"
    # The same file again is a conflict shown at the file field.
    again = worker.client.post(part_url(case, "documents", "/upload"), data=data, files=files, headers={"HX-Request": "true"})
    assert 'id="upload-file-error"' in again.text and "already on the case" in again.text
    # Without JavaScript: back to the case page.
    plain = worker.client.post(
        part_url(case, "documents", "/upload"), data=data, files={"file": ("b.txt", b"other bytes", "text/plain")}, follow_redirects=False
    )
    assert plain.status_code == 303 and plain.headers["location"].endswith("#part-documents")


def test_upload_problems_are_shown_at_the_file_field(
    worker: Browser, db: Database, case: CaseView, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = {"kind": "customer_evidence", "visibility": "internal", "csrf_token": worker.csrf}
    empty = worker.client.post(part_url(case, "documents", "/upload"), data=data, files={"file": ("empty.pdf", b"", "application/pdf")})
    assert empty.status_code == 422
    assert re.search(r'id="upload-file"[^>]*aria-invalid="true"', empty.text)
    assert 'id="upload-file-error"' in empty.text and "the file is empty" in empty.text
    htmx = worker.client.post(
        part_url(case, "documents", "/upload"),
        data=data,
        files={"file": ("empty.pdf", b"", "application/pdf")},
        headers={"HX-Request": "true"},
    )
    assert htmx.status_code == 200 and 'role="alert"' in htmx.text and "the file is empty" in htmx.text
    none = worker.client.post(part_url(case, "documents", "/upload"), data=data, files={"file": ("", b"", "application/octet-stream")})
    assert none.status_code == 422 and "Choose a file to upload." in none.text
    monkeypatch.setenv("CASEWORK_MAX_UPLOAD_MB", "1")
    big = worker.client.post(
        part_url(case, "documents", "/upload"), data=data, files={"file": ("big.txt", b"a" * (2 * 1024 * 1024), "text/plain")}
    )
    assert big.status_code == 413 and 'id="upload-file-error"' in big.text and "larger than the limit" in big.text
    assert documents.list_documents(db, worker.principal, case.id) == []


def test_validate_and_reject_with_a_reason(worker: Browser, db: Database, admin: Principal, case: CaseView) -> None:
    good, bad = upload(db, admin, case), upload(db, admin, case, b"a text letter", "letter.txt")
    ok = worker.post(part_url(case, "documents", f"/{good.id}/review"), {"decision": "validate", "version": good.version}, htmx=True)
    assert "Document validated." in ok.text
    no_reason = worker.post(part_url(case, "documents", f"/{bad.id}/review"), {"decision": "reject", "version": bad.version}, htmx=True)
    assert f'id="review-reason-{bad.id}-error"' in no_reason.text and "a rejection needs a reason" in no_reason.text
    reason = f"Unreadable {XSS}"
    rejected = worker.post(
        part_url(case, "documents", f"/{bad.id}/review"), {"decision": "reject", "reason": reason, "version": bad.version}, htmx=True
    )
    assert "Document rejected." in rejected.text and XSS not in rejected.text and "Unreadable &lt;script&gt;" in rejected.text
    states = {d.id: (d.status.value, d.status_reason) for d in documents.list_documents(db, admin, case.id)}
    assert states == {good.id: ("validated", None), bad.id: ("rejected", reason)}
    stale = worker.post(part_url(case, "documents", f"/{good.id}/review"), {"decision": "validate", "version": good.version})
    assert stale.status_code == 409 and 'role="alert"' in stale.text and "stale" in stale.text


def test_four_eyes_asks_for_a_second_reviewer(signed_in: Signed, worker: Browser, db: Database, admin: Principal) -> None:
    source = (
        casetypes.shipped_sources()["complaint.yaml"]
        .replace("\nversion: 1\n", "\nversion: 2\n", 1)
        .replace(
            "{kind: final_response_letter, title: Final response letter}",
            "{kind: final_response_letter, title: Final response letter, four_eyes: true}",
        )
    )
    casetypes.install_source(db, admin, source, "complaint.yaml")
    case = new_case(db, admin, team="complaints")
    letter = upload(db, admin, case, kind="final_response_letter")
    first = worker.post(part_url(case, "documents", f"/{letter.id}/review"), {"decision": "validate", "version": letter.version}, htmx=True)
    assert "second, different reviewer" in first.text
    assert f'id="review-validate-{letter.id}"' not in first.text  # not offered to the same person again
    second = signed_in(Role.SUPERVISOR, teams=["complaints"])
    assert "Validated once by Wendy Worker" in fragment(second, case, "documents")
    version = documents.get_document(db, admin, case.id, letter.id).version
    done = second.post(part_url(case, "documents", f"/{letter.id}/review"), {"decision": "validate", "version": version}, htmx=True)
    assert "Document validated." in done.text
    assert documents.get_document(db, admin, case.id, letter.id).status.value == "validated"


def test_request_a_missing_document(worker: Browser, db: Database, case: CaseView) -> None:
    empty = worker.post(part_url(case, "documents", "/requests"), {"kind": "final_response_letter", "reason": ""}, htmx=True)
    assert 'id="request-reason-error"' in empty.text
    done = worker.post(part_url(case, "documents", "/requests"), {"kind": "final_response_letter", "reason": "Please send it"}, htmx=True)
    assert "Document requested." in done.text and "requested" in done.text
    item = next(i for i in documents.checklist(db, worker.principal, case.id) if i.kind == "final_response_letter")
    assert item.requested


def test_auditor_sees_documents_but_cannot_review(signed_in: Signed, db: Database, admin: Principal, case: CaseView) -> None:
    doc = upload(db, admin, case)
    auditor = signed_in(Role.AUDITOR)
    text = fragment(auditor, case, "documents")
    assert "letter.pdf" in text and "Validate" not in text and "Upload a document" not in text
    refused = auditor.post(part_url(case, "documents", f"/{doc.id}/review"), {"decision": "validate", "version": doc.version})
    assert refused.status_code == 403
    csrf = signed_in(Role.CASE_WORKER, teams=["complaints"])
    assert csrf.post(part_url(case, "documents", f"/{doc.id}/review"), {"decision": "validate"}, csrf=False).status_code == 403
    assert documents.get_document(db, admin, case.id, doc.id).status.value == "received"


# ---------------------------------------------------------------- decisions


def pending_screening(db: Database, admin: Principal, case: CaseView) -> Any:
    return next(
        d for d in decisions.list_decisions(db, admin, case.id) if d.point is DecisionPoint.SCREENING and d.status.value == "pending"
    )


def test_decisions_show_explanation_and_accept(worker: Browser, db: Database, admin: Principal, case: CaseView) -> None:
    pending = pending_screening(db, admin, case)
    text = fragment(worker, case, "decisions")
    assert "Screening" in text and "Waiting for a decision" in text and "complaint.screening, version 1" in text
    assert pending.explanation.split(".")[0] in text.replace("&#34;", '"').replace("&#39;", "'")
    assert f'id="decision-{pending.id}-action"' in text and '<option value="fast_track"' in text  # outputs as a form
    response = worker.post(part_url(case, "decisions", f"/{pending.id}/accept"), {}, htmx=True)
    assert "Recommendation accepted." in response.text
    assert next(d for d in decisions.list_decisions(db, admin, case.id) if d.id == pending.id).status.value == "accepted"
    again = worker.post(part_url(case, "decisions", f"/{pending.id}/accept"), {})
    assert again.status_code == 409 and "only a pending recommendation" in again.text


def test_override_needs_a_reason_and_keeps_the_outputs(worker: Browser, db: Database, admin: Principal, case: CaseView) -> None:
    pending = pending_screening(db, admin, case)
    url = part_url(case, "decisions", f"/{pending.id}/override")
    form = {"outputs.action": "fast_track", "outputs.reason": "simple", "reason": ""}
    missing = worker.post(url, form, htmx=True)
    assert f'id="decision-{pending.id}-reason-error"' in missing.text
    assert re.search(r'<option value="fast_track"\s+selected', missing.text)  # what was chosen is kept
    bad = worker.post(url, {**form, "outputs.colour": "red", "reason": "because"}, htmx=True)
    assert "unknown output" in bad.text
    done = worker.post(url, {**form, "reason": f"Customer only asked {XSS}"}, htmx=True)
    assert "Recommendation overridden." in done.text and XSS not in done.text and "asked &lt;script&gt;" in done.text
    view = next(d for d in decisions.list_decisions(db, admin, case.id) if d.id == pending.id)
    assert view.status.value == "overridden" and view.final_outputs is not None and view.final_outputs["action"] == "fast_track"


def test_auditor_cannot_resolve(signed_in: Signed, db: Database, admin: Principal, case: CaseView) -> None:
    pending = pending_screening(db, admin, case)
    auditor = signed_in(Role.AUDITOR)
    assert "Accept the recommendation" not in fragment(auditor, case, "decisions")
    assert auditor.post(part_url(case, "decisions", f"/{pending.id}/accept"), {}).status_code == 403
    assert pending_screening(db, admin, case).id == pending.id


# ---------------------------------------------------------------- answers


def test_answers_form_saves_and_shows_conditional_questions(worker: Browser, db: Database, admin: Principal, case: CaseView) -> None:
    text = fragment(worker, case, "answers")
    assert "Complaint details" in text and 'name="answers.what_happened"' in text
    assert 'name="answers.compensation_amount"' not in text  # hidden until compensation is wanted
    assert (
        'type="radio" name="answers.raised_before" value="true"' in text and '<select id="q-complaint_details-preferred_resolution"' in text
    )
    form = {"version": "0", "answers.what_happened": XSS, "answers.raised_before": "false", "answers.wants_compensation": "true",
            "answers.preferred_resolution": "refund"}  # fmt: skip
    saved = worker.post(part_url(case, "answers", "/complaint_details"), form, htmx=True)
    assert "Answers saved." in saved.text and XSS not in saved.text and ESCAPED in saved.text
    assert 'name="answers.compensation_amount"' in saved.text
    view = answers.get_answers(db, admin, case.id, "complaint_details")
    assert view.version == 1 and view.answers["raised_before"] is False and view.answers["preferred_resolution"] == "refund"
    bad = worker.post(
        part_url(case, "answers", "/complaint_details"), {**form, "version": "1", "answers.compensation_amount": "lots"}, htmx=True
    )
    assert 'id="q-complaint_details-compensation_amount-error"' in bad.text and "must be a number" in bad.text
    assert 'value="lots"' in bad.text
    assert answers.get_answers(db, admin, case.id, "complaint_details").version == 1


def test_choosing_an_answer_shows_the_questions_that_depend_on_it_before_saving(
    worker: Browser, db: Database, admin: Principal, case: CaseView
) -> None:
    text = fragment(worker, case, "answers")
    assert f'hx-post="/cases/{case.reference}/parts/answers/complaint_details/preview"' in text
    form = {"version": "0", "answers.what_happened": "Typed, not saved", "answers.wants_compensation": "true"}
    entries = audit_count(db)
    shown = worker.post(part_url(case, "answers", "/complaint_details/preview"), form, htmx=True)
    assert shown.status_code == 200 and audit_count(db) == entries  # a preview writes nothing, not even an access entry
    assert 'name="answers.compensation_amount"' in shown.text  # the dependent question appears
    assert "Typed, not saved" in shown.text and 'name="version" value="0"' in shown.text
    assert "This was not saved" not in shown.text and 'role="alert"' not in shown.text
    hidden = worker.post(
        part_url(case, "answers", "/complaint_details/preview"), {**form, "answers.wants_compensation": "false"}, htmx=True
    )
    assert 'name="answers.compensation_amount"' not in hidden.text
    assert answers.get_answers(db, admin, case.id, "complaint_details").version == 0  # nothing saved

    # Someone saves meanwhile: the preview keeps the version the edit is based on, so the save is refused as stale.
    answers.submit_answers(db, admin, case.id, "complaint_details", AnswersSubmit(answers={"what_happened": "Theirs"}, version=0))
    again = worker.post(part_url(case, "answers", "/complaint_details/preview"), form, htmx=True)
    assert 'name="version" value="0"' in again.text and "Typed, not saved" in again.text
    stale = worker.post(part_url(case, "answers", "/complaint_details"), form, htmx=True)
    assert "Someone else saved these answers" in stale.text
    assert worker.post(part_url(case, "answers", "/complaint_details/preview"), form, csrf=False, htmx=True).status_code == 403
    assert worker.post(part_url(case, "answers", "/nope/preview"), form, htmx=True).status_code == 404


def test_stale_answers_show_the_conflict_and_keep_the_typed_values(worker: Browser, db: Database, admin: Principal, case: CaseView) -> None:
    answers.submit_answers(db, admin, case.id, "complaint_details", AnswersSubmit(answers={"what_happened": "Theirs"}, version=0))
    form = {"version": "0", "answers.what_happened": "Mine, typed carefully"}
    stale = worker.post(part_url(case, "answers", "/complaint_details"), form, htmx=True)
    assert stale.status_code == 200 and 'role="alert"' in stale.text and "Someone else saved these answers" in stale.text
    assert "Mine, typed carefully" in stale.text and 'name="version" value="1"' in stale.text
    plain = worker.post(part_url(case, "answers", "/complaint_details"), form)
    assert plain.status_code == 409 and "Someone else saved these answers" in plain.text
    assert answers.get_answers(db, admin, case.id, "complaint_details").answers["what_happened"] == "Theirs"
    # Saving again from the conflict form replaces the other version knowingly.
    worker.post(part_url(case, "answers", "/complaint_details"), {**form, "version": "1"}, htmx=True)
    assert answers.get_answers(db, admin, case.id, "complaint_details").answers["what_happened"] == "Mine, typed carefully"


def test_answers_refused_without_csrf_or_right(signed_in: Signed, worker: Browser, db: Database, admin: Principal, case: CaseView) -> None:
    form = {"version": "0", "answers.what_happened": "x"}
    assert worker.post(part_url(case, "answers", "/complaint_details"), form, csrf=False).status_code == 403
    auditor = signed_in(Role.AUDITOR)
    assert "Save answers" not in fragment(auditor, case, "answers")
    assert auditor.post(part_url(case, "answers", "/complaint_details"), form).status_code == 403
    assert worker.post(part_url(case, "answers", "/nope"), form).status_code == 404
    assert answers.get_answers(db, admin, case.id, "complaint_details").version == 0
