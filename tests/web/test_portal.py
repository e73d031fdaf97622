"""The customer and third-party portal: only their cases, plain words, requested documents, messages."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from casework.domain.access import Principal, Role
from casework.domain.lifecycle import Phase
from casework.services import documents, notes, plans, sharing
from casework.services import parties as parties_service
from casework.services.schemas import CaseView, GoalCreate, NoteCreate, NoteVisibility, PartyCreate, TaskCreate
from casework.store.unit_of_work import Database
from casework.web.i18n import Translator
from casework.web.routes_portal import status_words
from tests.doc_samples import EXE, PDF
from tests.factories import move, new_case
from tests.web.conftest import Browser

SUBMISSION = re.compile(r'name="submission_id" value="([^"]+)"')


@pytest.fixture
def world(db: Database, admin: Principal, signed_in: Callable[..., Browser]) -> dict[str, Any]:
    """Two customers with a case each, a worker of the complaints team."""
    claire = parties_service.create_party(db, admin, PartyCreate(name="Claire Martin", email="claire@example.test"))
    oscar = parties_service.create_party(db, admin, PartyCreate(name="Oscar Other"))
    worker = signed_in(Role.CASE_WORKER, teams=["complaints"])
    mine = new_case(db, worker.principal, title="My refund is missing", customer_party_id=claire.id)
    theirs = new_case(db, worker.principal, title="Oscar's private matter", customer_party_id=oscar.id)
    customer = signed_in(Role.CUSTOMER, party_id=claire.id, name="Claire Martin")
    return {"worker": worker, "customer": customer, "mine": mine, "theirs": theirs, "claire": claire, "oscar": oscar}


def _sid(text: str, action: str) -> str:
    form = re.search(rf'<form[^>]*action="[^"]*/{action}".*?</form>', text, re.S)
    assert form, f"no {action} form"
    found = SUBMISSION.search(form.group(0))
    assert found
    return found.group(1)


def test_staff_are_sent_to_their_dashboard(signed_in: Callable[..., Browser]) -> None:
    worker = signed_in(Role.CASE_WORKER, teams=["complaints"])
    page = worker.get("/portal", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/dashboard"


def test_a_customer_sees_only_their_cases_in_plain_words(world: dict[str, Any]) -> None:
    customer: Browser = world["customer"]
    page = customer.get("/portal")
    assert page.status_code == 200
    assert "My refund is missing" in page.text
    assert "Oscar" not in page.text
    assert f'href="/portal/cases/{world["mine"].reference}"' in page.text
    assert world["theirs"].reference not in page.text
    assert "We have received your request and are reviewing it" in page.text
    assert 'href="/portal" aria-current="page"' in page.text
    # the institution's view of the case is not shown
    detail = customer.get(f"/portal/cases/{world['mine'].reference}")
    assert detail.status_code == 200
    assert "complaints" not in detail.text.replace("complaint", "")  # no team name
    assert "Risk" not in detail.text


def test_another_customers_case_is_not_found(world: dict[str, Any]) -> None:
    customer: Browser = world["customer"]
    assert customer.get(f"/portal/cases/{world['theirs'].reference}").status_code == 404
    assert customer.get(f"/portal/cases/{world['theirs'].id}").status_code == 404
    assert customer.get("/portal/cases/CASE-2099-999999").status_code == 404
    sent = customer.post(f"/portal/cases/{world['theirs'].reference}/messages", {"body": "hello", "submission_id": str(uuid.uuid4())})
    assert sent.status_code == 404
    upload = customer.post(
        f"/portal/cases/{world['theirs'].reference}/documents",
        {"kind": "customer_evidence", "submission_id": str(uuid.uuid4())},
        files={"file": ("proof.pdf", PDF, "application/pdf")},
    )
    assert upload.status_code == 404


def test_customers_cannot_open_staff_pages(world: dict[str, Any]) -> None:
    customer: Browser = world["customer"]
    assert customer.get("/cases/new").status_code == 403


def test_status_words_cover_every_phase() -> None:
    t = Translator("en")
    seen = {status_words(t, phase, "upheld") for phase in Phase}
    assert len(seen) == len(Phase)
    assert status_words(t, Phase.CLOSED, "upheld") == "Closed: your complaint was upheld"
    assert status_words(t, Phase.CLOSED, "some_custom_outcome") == "Closed: some custom outcome"
    assert status_words(t, Phase.ASSESSMENT, None) == "We are assessing your situation"


def test_a_closed_case_says_how_it_ended(db: Database, world: dict[str, Any]) -> None:
    worker: Browser = world["worker"]
    move(db, worker.principal, world["mine"], Phase.CLOSED, outcome="withdrawn", reason="the customer withdrew")
    page = world["customer"].get("/portal")
    assert "Closed: withdrawn" in page.text


def test_uploading_a_requested_document_fulfils_the_request(db: Database, world: dict[str, Any]) -> None:
    worker: Browser = world["worker"]
    customer: Browser = world["customer"]
    case: CaseView = world["mine"]
    documents.request_document(db, worker.principal, case.id, "customer_evidence", "A copy of your bank statement showing the charge")
    listing = customer.get("/portal")
    assert "1 document requested from you" in listing.text
    page = customer.get(f"/portal/cases/{case.reference}")
    assert "What we need from you" in page.text
    assert "Evidence provided by the customer" in page.text
    assert "A copy of your bank statement showing the charge" in page.text
    assert '<option value="customer_evidence" selected>' in page.text
    sid = _sid(page.text, "documents")
    sent = customer.client.post(
        f"/portal/cases/{case.reference}/documents",
        data={"csrf_token": customer.csrf, "kind": "customer_evidence", "submission_id": sid},
        files={"file": ("statement.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[:1000]
    assert sent.headers["location"] == f"/portal/cases/{case.reference}?done=document#expected"
    after = customer.get(sent.headers["location"])
    assert "we received your document" in after.text
    assert "Nothing is needed from you at the moment." in after.text
    assert "statement.pdf" in after.text
    assert "1 document requested" not in customer.get("/portal").text
    staff_view = documents.list_documents(db, worker.principal, case.id)
    assert [(d.original_name, d.visibility.value, d.channel.value) for d in staff_view] == [("statement.pdf", "shared", "portal")]
    items = {i.kind: i for i in documents.checklist(db, worker.principal, case.id)}
    assert items["customer_evidence"].requested is False
    # the same form sent again (a double click) stores nothing more
    again = customer.client.post(
        f"/portal/cases/{case.reference}/documents",
        data={"csrf_token": customer.csrf, "kind": "customer_evidence", "submission_id": sid},
        files={"file": ("statement.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert len(documents.list_documents(db, worker.principal, case.id)) == 1


def test_a_refused_file_is_explained_at_the_field(world: dict[str, Any]) -> None:
    customer: Browser = world["customer"]
    case: CaseView = world["mine"]
    page = customer.post(
        f"/portal/cases/{case.reference}/documents",
        {"kind": "customer_evidence", "submission_id": str(uuid.uuid4())},
        files={"file": ("run.exe", EXE, "application/octet-stream")},
    )
    assert page.status_code == 422
    assert 'id="file-error"' in page.text and "refused" in page.text
    assert 'aria-invalid="true"' in page.text
    missing = customer.post(f"/portal/cases/{case.reference}/documents", {"kind": "customer_evidence", "submission_id": str(uuid.uuid4())})
    assert missing.status_code == 422 and "Choose a file to send." in missing.text


def test_a_message_reaches_the_case_team_once(db: Database, world: dict[str, Any]) -> None:
    worker: Browser = world["worker"]
    customer: Browser = world["customer"]
    case: CaseView = world["mine"]
    notes.add_note(db, worker.principal, case.id, NoteCreate(body="We are looking into it.", visibility=NoteVisibility.SHARED))
    notes.add_note(db, worker.principal, case.id, NoteCreate(body="Internal: check the card logs", visibility=NoteVisibility.INTERNAL))
    page = customer.get(f"/portal/cases/{case.reference}")
    assert "We are looking into it." in page.text
    assert "Internal: check the card logs" not in page.text
    sid = _sid(page.text, "messages")
    body = "<script>alert('x')</script> The charge was on 3 March."
    sent = customer.post(f"/portal/cases/{case.reference}/messages", {"body": body, "submission_id": sid}, follow_redirects=False)
    assert sent.status_code == 303
    again = customer.post(f"/portal/cases/{case.reference}/messages", {"body": body, "submission_id": sid}, follow_redirects=False)
    assert again.status_code == 303
    seen_by_staff = [n for n in notes.list_notes(db, worker.principal, case.id) if n.author_id == customer.principal.user_id]
    assert [(n.body, n.visibility.value) for n in seen_by_staff] == [(body, "shared")]
    after = customer.get(sent.headers["location"])
    assert "your message was sent" in after.text
    assert "<script>alert" not in after.text and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in after.text
    # the staff case page shows it too
    staff_page = worker.get(f"/cases/{case.reference}")
    assert staff_page.status_code == 200
    assert "The charge was on 3 March." in staff_page.text


def test_an_empty_or_over_long_message_is_refused_and_kept(world: dict[str, Any]) -> None:
    customer: Browser = world["customer"]
    case: CaseView = world["mine"]
    empty = customer.post(f"/portal/cases/{case.reference}/messages", {"body": "   ", "submission_id": str(uuid.uuid4())})
    assert empty.status_code == 422 and "Write your message first." in empty.text
    long = customer.post(f"/portal/cases/{case.reference}/messages", {"body": "y" * 20001, "submission_id": str(uuid.uuid4())})
    assert long.status_code == 422 and "too long" in long.text
    assert "y" * 20001 + "</textarea>" in long.text
    assert 'aria-describedby="body-error"' in long.text


def test_portal_forms_need_the_csrf_token(db: Database, world: dict[str, Any]) -> None:
    customer: Browser = world["customer"]
    case: CaseView = world["mine"]
    refused = customer.post(f"/portal/cases/{case.reference}/messages", {"body": "hello", "submission_id": str(uuid.uuid4())}, csrf=False)
    assert refused.status_code == 403
    assert not [n for n in notes.list_notes(db, world["worker"].principal, case.id) if n.body == "hello"]
    upload = customer.post(
        f"/portal/cases/{case.reference}/documents",
        {"kind": "customer_evidence", "submission_id": str(uuid.uuid4())},
        files={"file": ("statement.pdf", PDF, "application/pdf")},
        csrf=False,
    )
    assert upload.status_code == 403
    assert documents.list_documents(db, world["worker"].principal, case.id) == []


def test_a_third_party_sees_only_the_shared_parts(
    db: Database, admin: Principal, world: dict[str, Any], signed_in: Callable[..., Browser]
) -> None:
    worker: Browser = world["worker"]
    case: CaseView = world["mine"]
    partner = signed_in(Role.THIRD_PARTY, name="Pat Partner")
    assert "My refund is missing" not in partner.get("/portal").text
    assert partner.get(f"/portal/cases/{case.reference}").status_code == 404
    notes.add_note(db, worker.principal, case.id, NoteCreate(body="Shared with the partner", visibility=NoteVisibility.SHARED))
    notes.add_note(db, worker.principal, case.id, NoteCreate(body="Staff only remark", visibility=NoteVisibility.INTERNAL))
    documents.upload_document(
        db, worker.principal, case.id, kind="customer_evidence", filename="shared.pdf", stream=[PDF], visibility="shared"
    )
    goal = plans.add_goal(db, worker.principal, case.id, GoalCreate(title="Resolve"))
    plans.add_task(
        db, worker.principal, case.id, goal.id, TaskCreate(title="Send the merchant's receipt", assignee_id=partner.principal.user_id)
    )
    plans.add_task(db, worker.principal, case.id, goal.id, TaskCreate(title="Someone else's task"))
    sharing.share_case(
        db, worker.principal, case.id, sharing.ShareCreate(user_id=partner.principal.user_id, parts=[sharing.SharePart.TASKS])
    )
    listing = partner.get("/portal")
    assert "My refund is missing" in listing.text and "Oscar" not in listing.text
    page = partner.get(f"/portal/cases/{case.reference}")
    assert page.status_code == 200
    assert "Send the merchant&#39;s receipt" in page.text
    assert "Someone else" not in page.text
    assert "Shared with the partner" not in page.text  # notes are not shared with them
    assert "shared.pdf" not in page.text  # nor documents
    assert "Staff only remark" not in page.text
    assert '/messages"' not in page.text and '/documents"' not in page.text  # no message or upload forms
    assert partner.get(f"/portal/cases/{world['theirs'].reference}").status_code == 404
    # the partner reports progress on their task; a stale version is refused and explained
    task = next(t for g in plans.get_plan(db, partner.principal, case.id) for t in g.tasks)
    assert f'action="/portal/cases/{case.reference}/tasks/{task.id}"' in page.text
    done = partner.post(
        f"/portal/cases/{case.reference}/tasks/{task.id}", {"status": "done", "version": str(task.version)}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?done=task#tasks")
    assert next(t for g in plans.get_plan(db, worker.principal, case.id) for t in g.tasks if t.id == task.id).status.value == "done"
    stale = partner.post(f"/portal/cases/{case.reference}/tasks/{task.id}", {"status": "todo", "version": str(task.version)})
    assert stale.status_code == 409 and "Someone changed this task in the meantime" in stale.text
    assert partner.post(f"/portal/cases/{case.reference}/tasks/{task.id}", {"status": "todo"}, csrf=False).status_code == 403
    customer_try = world["customer"].post(f"/portal/cases/{case.reference}/tasks/{task.id}", {"status": "todo", "version": "2"})
    assert customer_try.status_code == 403
    # notes and documents once shared
    sharing.share_case(
        db, worker.principal, case.id,
        sharing.ShareCreate(user_id=partner.principal.user_id, parts=[sharing.SharePart.NOTES, sharing.SharePart.DOCUMENTS]),
    )  # fmt: skip
    page = partner.get(f"/portal/cases/{case.reference}")
    assert "Shared with the partner" in page.text and "shared.pdf" in page.text
    assert "Staff only remark" not in page.text
    # a third party may not write on the case
    refused = partner.post(f"/portal/cases/{case.reference}/messages", {"body": "hi", "submission_id": str(uuid.uuid4())})
    assert refused.status_code == 403
