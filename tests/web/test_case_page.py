"""The staff case page: what it shows, and every action through real form posts (CSRF, versions,
refusals re-rendered at the field, PRG redirects)."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import escape

from casework.domain.access import Principal, Role
from casework.domain.lifecycle import Phase
from casework.services import cases, decisions, lifecycle, notes, parties
from casework.services.schemas import CaseUpdate, PartyCreate
from casework.services.workflow_schemas import DecisionPoint
from casework.store.unit_of_work import Database
from tests.factories import advance_to, move, new_case, principal


def _worker(signed_in: Any, **extra: Any) -> Any:
    return signed_in(Role.CASE_WORKER, teams=["complaints"], **extra)


def _case(db: Database, who: Principal, **fields: Any) -> Any:
    return new_case(db, who, team="complaints", **fields)


def _page(browser: Any, reference: str) -> str:
    response = browser.get(f"/cases/{reference}")
    assert response.status_code == 200, response.text[:2000]
    return str(response.text)


def _section(html: str, dom_id: str) -> str:
    """The HTML of the element with this id up to the end of its section or form (good enough for assertions)."""
    start = html.index(f'id="{dom_id}"')
    ends = [i for i in (html.find("</section>", start), html.find("</form>", start)) if i != -1]
    return html[start : min(ends)]


# ---------------------------------------------------------------- what the page shows


def test_page_shows_header_phase_bar_and_history_with_return_reason(db: Database, signed_in: Any, admin: Principal) -> None:
    worker = _worker(signed_in, name="Wendy Worker")
    party = parties.create_party(db, admin, PartyCreate(name="Claire Martin"))
    me = worker.principal
    case = _case(db, me, title="Card charged twice", customer_party_id=party.id, priority="P2", assignee_id=me.user_id)
    case = advance_to(db, worker.principal, case, Phase.RISK)
    move(db, worker.principal, cases.get_case(db, worker.principal, case.id), Phase.ASSESSMENT, reason="Customer sent new facts")
    html = _page(worker, case.reference)

    assert case.reference in html and "Card charged twice" in html
    assert "Customer complaint" in html and "version 1" in html
    assert "Claire Martin" in html and "Wendy Worker" in html and "complaints" in html
    assert re.search(r'class="badge p[1-4]"', html)
    risk = [d for d in decisions.list_decisions(db, admin, case.id) if d.point is DecisionPoint.RISK][-1]
    assert str(escape(risk.explanation)) in html
    assert "Deadline" in html and "On time" in html
    bar = _section(html, "h-phases")
    assert bar.count('class="done"') == 1 and 'class="current" aria-current="step"' in bar and bar.count('class="ahead"') == 5
    assert "Returned" in bar and "Customer sent new facts" in bar
    assert "Risk → Assessment" in bar
    # The timeline shows the audit trail with the move's reason.
    assert "reason: Customer sent new facts" in _section(html, "timeline")
    # The parts of the page another module fills in are loaded with HTMX.
    for part in ("plan", "documents", "decisions", "answers"):
        assert f'hx-get="/cases/{case.reference}/parts/{part}"' in html


def test_unknown_or_invisible_case_is_404_and_customers_are_refused(db: Database, signed_in: Any, admin: Principal) -> None:
    worker = _worker(signed_in)
    other = principal(db, admin, "fraud@example.test", teams=["fraud"])
    hidden = new_case(db, other, team="fraud")
    assert worker.get("/cases/CASE-2020-999999").status_code == 404
    assert worker.get("/cases/not-a-reference").status_code == 404
    assert 'class="case-page"' not in worker.get("/cases/new").text  # other pages under /cases are not taken for a case
    response = worker.get(f"/cases/{hidden.reference}")
    assert response.status_code == 404 and hidden.title not in response.text
    assert worker.post(f"/cases/{hidden.reference}/notes", {"body": "x", "visibility": "internal"}).status_code == 404

    party = parties.create_party(db, admin, PartyCreate(name="Claire Martin"))
    customer = signed_in(Role.CUSTOMER, party_id=party.id)
    own = _case(db, worker.principal, customer_party_id=party.id)
    assert customer.get(f"/cases/{own.reference}").status_code == 403


def test_script_in_title_notes_and_fields_is_escaped(db: Database, signed_in: Any) -> None:
    worker = _worker(signed_in)
    case = _case(db, worker.principal, title="<script>alert('t')</script>", description="<img src=x onerror=alert(1)>")
    notes_body = "<script>alert('n')</script>"
    posted = worker.post(f"/cases/{case.reference}/notes", {"body": notes_body, "visibility": "shared"}, follow_redirects=False)
    assert posted.status_code == 303
    html = _page(worker, case.reference)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#39;n&#39;)&lt;/script&gt;" in html


def test_auditor_reads_the_page_without_any_form(db: Database, signed_in: Any) -> None:
    worker = _worker(signed_in)
    auditor = signed_in(Role.AUDITOR)
    case = _case(db, worker.principal)
    html = _page(auditor, case.reference)
    assert case.title in html
    for action in ("/edit", "/move", "/assign", "/notes", "/communications"):
        assert f'action="/cases/{case.reference}{action}"' not in html
    assert auditor.post(f"/cases/{case.reference}/notes", {"body": "hello"}).status_code == 403


# ---------------------------------------------------------------- editing


def test_edit_saves_title_description_and_custom_fields(db: Database, signed_in: Any) -> None:
    worker = _worker(signed_in)
    case = _case(db, worker.principal)
    html = _page(worker, case.reference)
    assert 'name="cf.product"' in html and '<select id="cf-product"' in html
    assert 'type="checkbox"' in _section(html, "cf-vulnerable_customer")
    assert 'type="number"' in _section(html, "cf-amount_claimed") and 'type="date"' in _section(html, "cf-incident_date")
    assert "(required)" in html
    form = {
        "version": case.version,
        "title": "Refund still missing",
        "description": "Second letter",
        "cf.product": "credit_card",
        "cf.channel": "phone",
        "cf.amount_claimed": "12.5",
        "cf.incident_date": "2026-03-01",
        "cf.vulnerable_customer": "on",
    }
    response = worker.post(f"/cases/{case.reference}/edit", form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{case.reference}"
    saved = cases.get_case(db, worker.principal, case.id)
    assert saved.title == "Refund still missing" and saved.description == "Second letter"
    assert saved.custom_data == {
        "product": "credit_card",
        "channel": "phone",
        "amount_claimed": 12.5,
        "incident_date": "2026-03-01",
        "vulnerable_customer": True,
    }
    assert saved.version == case.version + 1
    # Posting the same form again (a double submission) is a conflict, not a second change.
    again = worker.post(f"/cases/{case.reference}/edit", form)
    assert again.status_code == 409 and "changed by someone else" in again.text
    assert cases.get_case(db, worker.principal, case.id).version == saved.version


def test_stale_edit_shows_the_conflict_and_keeps_what_was_typed(db: Database, signed_in: Any) -> None:
    worker = _worker(signed_in)
    case = _case(db, worker.principal, title="Original title")
    cases.update_case(db, worker.principal, case.id, CaseUpdate(title="Changed by a colleague", version=case.version))
    typed = {"version": case.version, "title": "My careful new title", "description": "Typed <b>text</b>",
             "cf.product": "loan", "cf.channel": "email"}  # fmt: skip
    response = worker.post(f"/cases/{case.reference}/edit", typed)
    assert response.status_code == 409
    html = response.text
    assert "This case was changed by someone else while you were editing." in html
    assert 'value="My careful new title"' in html and "Typed &lt;b&gt;text&lt;/b&gt;</textarea>" in html
    assert "Current value: Changed by a colleague" in html
    assert '<option value="loan" selected>' in html
    # The form now carries the current version: saving again replaces the colleague's values on purpose.
    current = cases.get_case(db, worker.principal, case.id)
    assert current.title == "Changed by a colleague"
    assert f'name="version" value="{current.version}"' in html


def test_custom_field_problems_are_shown_at_the_field(db: Database, signed_in: Any) -> None:
    worker = _worker(signed_in)
    case = _case(db, worker.principal)
    base = {"version": case.version, "title": case.title, "description": "", "cf.channel": "email"}
    response = worker.post(f"/cases/{case.reference}/edit", {**base, "cf.product": "spaceship", "cf.amount_claimed": "-3"})
    assert response.status_code == 422
    html = response.text
    assert re.search(r'id="cf-product-error">custom_data\.product|id="cf-product-error">[^<]*must be one of', html), html[:3000]
    assert 'aria-invalid="true" aria-describedby="cf-product-error' in html
    assert re.search(r'id="cf-amount_claimed-error">[^<]*&gt;= 0', html)
    assert 'value="spaceship" selected' in html  # what was typed is kept, even when it is not an option

    response = worker.post(f"/cases/{case.reference}/edit", {**base, "cf.product": "loan", "cf.amount_claimed": "a lot"})
    assert response.status_code == 422 and 'id="cf-amount_claimed-error">Enter a number.' in response.text
    response = worker.post(f"/cases/{case.reference}/edit", {**base, "cf.product": "loan", "title": "x" * 301})
    assert response.status_code == 422
    assert 'id="edit-title-error">should have at most 300 characters' in response.text
    response = worker.post(f"/cases/{case.reference}/edit", {**base, "cf.product": ""})
    assert response.status_code == 422 and re.search(r'id="cf-product-error">[^<]*required', response.text)
    assert cases.get_case(db, worker.principal, case.id).version == case.version


def test_forms_without_the_csrf_token_are_refused(db: Database, signed_in: Any) -> None:
    worker = _worker(signed_in)
    case = _case(db, worker.principal)
    for action, data in (
        ("edit", {"version": case.version, "title": "Hacked", "cf.product": "loan", "cf.channel": "email"}),
        ("move", {"version": case.version, "to_phase": "assessment"}),
        ("notes", {"body": "forged", "visibility": "shared"}),
        ("assign", {"version": case.version, "assignee_id": ""}),
    ):
        response = worker.post(f"/cases/{case.reference}/{action}", data, csrf=False)
        assert response.status_code == 403, action
        response = worker.post(f"/cases/{case.reference}/{action}", {**data, "csrf_token": "not-the-token"})
        assert response.status_code == 403, action
    after = cases.get_case(db, worker.principal, case.id)
    assert after.title == case.title and after.phase is Phase.SCREENING and after.version == case.version
    assert notes.list_notes(db, worker.principal, case.id) == []


# ---------------------------------------------------------------- moving


def test_only_allowed_moves_are_offered(db: Database, signed_in: Any) -> None:
    worker = _worker(signed_in)
    case = _case(db, worker.principal)
    html = _page(worker, case.reference)
    assert "Move to Assessment" in html and 'id="move-close"' in html
    assert "Move to Risk" not in html and 'id="move-return"' not in html  # nothing earlier than screening
    outcomes = _section(html, "close-outcome")
    assert 'value="screened_out"' in outcomes and 'value="upheld"' in outcomes

    case = advance_to(db, worker.principal, case, Phase.RISK)
    html = _page(worker, case.reference)
    assert "Move to Planning" in html and 'id="move-close"' not in html
    returns = _section(html, "return-phase")
    assert 'value="screening"' in returns and 'value="assessment"' in returns and 'value="planning"' not in returns
    # A move the lifecycle does not allow is refused at the field.
    response = worker.post(f"/cases/{case.reference}/move", {"version": case.version, "which": "forward", "to_phase": "evaluation"})
    assert response.status_code == 409 and "cannot move from risk to evaluation" in response.text


def test_unmet_criteria_are_listed_in_advance_and_a_refused_move_says_why(db: Database, signed_in: Any) -> None:
    worker = _worker(signed_in)
    case = move(db, worker.principal, _case(db, worker.principal), Phase.ASSESSMENT)
    html = _page(worker, case.reference)
    unmet = _section(html, "unmet-forward")
    assert "Still needed before moving to Risk" in unmet and "complaint_details" in unmet
    response = worker.post(f"/cases/{case.reference}/move", {"version": case.version, "which": "forward", "to_phase": "risk"})
    assert response.status_code == 409
    error = _section(response.text, "move-forward-error")
    assert "This move is not possible yet" in error and "complaint_details" in error
    assert cases.get_case(db, worker.principal, case.id).phase is Phase.ASSESSMENT


def test_a_return_needs_a_reason_and_is_recorded_with_it(db: Database, signed_in: Any) -> None:
    worker = _worker(signed_in)
    case = move(db, worker.principal, _case(db, worker.principal), Phase.ASSESSMENT)
    url = f"/cases/{case.reference}/move"
    response = worker.post(url, {"version": case.version, "which": "return", "to_phase": "screening", "reason": "   "})
    assert response.status_code == 422
    assert 'id="return-reason-error">returning from assessment to screening requires a reason' in response.text
    assert 'aria-invalid="true" aria-describedby="return-reason-error"' in response.text
    response = worker.post(url, {"version": case.version, "which": "return", "to_phase": "screening", "reason": "Wrong product"},
                           follow_redirects=False)  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{case.reference}#phases"
    history = lifecycle.phase_history(db, worker.principal, case.id)
    assert history[-1].kind == "return" and history[-1].reason == "Wrong product"


def test_closing_needs_an_outcome(db: Database, signed_in: Any) -> None:
    worker = _worker(signed_in)
    case = _case(db, worker.principal)
    url = f"/cases/{case.reference}/move"
    response = worker.post(url, {"version": case.version, "which": "close", "to_phase": "closed", "outcome": "", "reason": "dup"})
    assert response.status_code == 422
    assert 'id="close-outcome-error">closing a case requires an outcome' in response.text
    assert ">dup</textarea>" in response.text  # the comment typed is kept
    response = worker.post(url, {"version": case.version, "which": "close", "to_phase": "closed", "outcome": "not_an_outcome"})
    assert response.status_code == 422 and 'id="close-outcome-error"' in response.text
    response = worker.post(url, {"version": case.version, "which": "close", "to_phase": "closed", "outcome": "screened_out"},
                           follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    closed = cases.get_case(db, worker.principal, case.id)
    assert closed.phase is Phase.CLOSED and closed.outcome == "screened_out"
    html = _page(worker, case.reference)
    assert "This case is closed." in html and "Reopen the case" in html
    assert 'id="move-close"' not in html and "Move to" not in html
    version = closed.version
    response = worker.post(url, {"version": version, "which": "return", "to_phase": "assessment", "reason": ""})
    assert response.status_code == 422 and 'id="return-reason-error">reopening a closed case requires a reason' in response.text
    response = worker.post(url, {"version": version, "which": "return", "to_phase": "assessment", "reason": "z" * 2001})
    assert response.status_code == 422 and 'id="return-reason-error">should have at most 2000 characters' in response.text
    response = worker.post(url, {"version": version, "which": "return", "to_phase": "assessment", "reason": "New evidence"},
                           follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    assert cases.get_case(db, worker.principal, case.id).phase is Phase.ASSESSMENT


def test_double_submission_of_a_move_is_a_conflict_not_a_second_move(db: Database, signed_in: Any) -> None:
    worker = _worker(signed_in)
    case = _case(db, worker.principal)
    form = {"version": case.version, "which": "forward", "to_phase": "assessment"}
    assert worker.post(f"/cases/{case.reference}/move", form).status_code == 200  # followed the 303 to the page
    again = worker.post(f"/cases/{case.reference}/move", form)
    assert again.status_code == 409
    assert "or this move was already made" in again.text
    assert len(lifecycle.phase_history(db, worker.principal, case.id)) == 2
    assert cases.get_case(db, worker.principal, case.id).phase is Phase.ASSESSMENT


# ---------------------------------------------------------------- assignment, notes, communications


def test_assign_with_the_version_and_conflict_when_stale(db: Database, signed_in: Any, admin: Principal) -> None:
    worker = _worker(signed_in)
    colleague = principal(db, admin, "colleague@example.test", teams=["complaints"], name="Colin Colleague")
    case = _case(db, worker.principal)
    html = _page(worker, case.reference)
    assert "Colin Colleague" in _section(html, "assignee")
    url = f"/cases/{case.reference}/assign"
    form = {"version": case.version, "assignee_id": str(colleague.user_id), "team": "complaints"}
    response = worker.post(url, form, follow_redirects=False)
    assert response.status_code == 303
    assert cases.get_case(db, worker.principal, case.id).assignee_id == colleague.user_id
    stale = worker.post(url, {"version": case.version, "assignee_id": "", "team": "complaints"})
    assert stale.status_code == 409 and 'id="assign-conflict"' in stale.text
    bad = worker.post(url, {"version": case.version + 1, "assignee_id": "not-a-uuid", "team": "complaints"})
    assert bad.status_code == 422 and 'id="assignee-error"' in bad.text


def test_notes_internal_and_shared(db: Database, signed_in: Any) -> None:
    worker = _worker(signed_in)
    case = _case(db, worker.principal)
    url = f"/cases/{case.reference}/notes"
    assert worker.post(url, {"body": "Staff only remark", "visibility": "internal"}, follow_redirects=False).status_code == 303
    assert worker.post(url, {"body": "We wrote to you", "visibility": "shared"}, follow_redirects=False).status_code == 303
    # A double click posts the same note twice: it is kept once.
    assert worker.post(url, {"body": "We wrote to you", "visibility": "shared"}, follow_redirects=False).status_code == 303
    stored = notes.list_notes(db, worker.principal, case.id)
    assert [(n.body, n.visibility.value) for n in stored] == [("Staff only remark", "internal"), ("We wrote to you", "shared")]
    html = _section(_page(worker, case.reference), "notes")
    assert "Internal" in html and "Shared with the customer" in html and "Staff only remark" in html
    # Empty and over-long notes are refused at the field, the text kept.
    response = worker.post(url, {"body": "  ", "visibility": "internal"})
    assert response.status_code == 422 and 'id="note-body-error"' in response.text
    response = worker.post(url, {"body": "y" * 20001, "visibility": "internal"})
    assert response.status_code == 422 and "at most 20000 characters" in response.text
    # With HTMX the notes section alone comes back.
    fragment = worker.post(url, {"body": "Via htmx", "visibility": "internal"}, htmx=True)
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith('<section class="card" id="notes"')
    assert "Via htmx" in fragment.text and "<html" not in fragment.text
    error = worker.post(url, {"body": "", "visibility": "internal"}, htmx=True)
    assert error.status_code == 422 and 'id="note-body-error"' in error.text and "<html" not in error.text


def test_record_a_communication(db: Database, signed_in: Any) -> None:
    worker = _worker(signed_in)
    case = _case(db, worker.principal)
    url = f"/cases/{case.reference}/communications"
    form = {"channel": "phone", "direction": "inbound", "subject": "Customer called", "body": "Asked for news",
            "occurred_at": "2026-05-01T09:30"}  # fmt: skip
    assert worker.post(url, form, follow_redirects=False).status_code == 303
    assert worker.post(url, form, follow_redirects=False).status_code == 303  # double submission kept once
    stored = notes.list_communications(db, worker.principal, case.id)
    assert len(stored) == 1 and stored[0].subject == "Customer called"
    html = _section(_page(worker, case.reference), "communications")
    assert "Customer called" in html and "Received" in html
    bad = worker.post(url, {**form, "channel": "pigeon", "subject": "Carrier"})
    assert bad.status_code == 422 and 'id="comm-channel-error"' in bad.text and 'value="Carrier"' in bad.text


def test_dates_follow_the_users_language(db: Database, signed_in: Any) -> None:
    worker = _worker(signed_in, locale="fr")
    case = _case(db, worker.principal)
    html = _page(worker, case.reference)
    created = case.created_at
    months = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
    assert f"{created.day} {months[created.month - 1]} {created.year}" in html


def test_the_move_forms_refresh_alone_after_a_change_elsewhere_on_the_page(db: Database, signed_in: Any, admin: Principal) -> None:
    worker = _worker(signed_in)
    case = move(db, worker.principal, _case(db, worker.principal), Phase.ASSESSMENT)
    fragment = worker.get(f"/cases/{case.reference}/actions", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="case-actions"')
    assert "complaint_details" in _section(fragment.text, "unmet-forward")
    cases.update_case(db, worker.principal, case.id, CaseUpdate(title="Changed meanwhile", version=case.version))
    fresh = worker.get(f"/cases/{case.reference}/actions")
    assert f'name="version" value="{case.version + 1}"' in fresh.text
    party = parties.create_party(db, admin, PartyCreate(name="Claire Martin"))
    assert signed_in(Role.CUSTOMER, party_id=party.id).get(f"/cases/{case.reference}/actions").status_code == 403
