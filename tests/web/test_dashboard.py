"""The staff dashboard: queues, filters, SLA badges, saved filters and bulk assignment, through the real pages."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest

from casework.domain.access import Principal, Role
from casework.services import cases, parties, saved_filters
from casework.services.schemas import AssignRequest, PartyCreate
from casework.services.sla import SlaPolicy
from casework.store.unit_of_work import Database
from tests.factories import audit_count, new_case, opened_under
from tests.web.conftest import Browser

Signed = Callable[..., Browser]
TEAM = "complaints"


def refs(html: str) -> list[str]:
    """The case references listed in the queue table, in order."""
    return re.findall(r'<a href="/cases/(CASE-\d{4}-\d+)">', html)


def filter_audits(db: Database) -> list[str]:
    from sqlalchemy import select

    from casework.store.models import AuditEntry

    with db.read() as s:
        return list(s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("saved_filter.%")).order_by(AuditEntry.seq)))


def worker(signed_in: Signed, **extra: Any) -> Browser:
    return signed_in(Role.CASE_WORKER, teams=[TEAM], **extra)


def case(db: Database, admin: Principal, **fields: Any) -> Any:
    fields.setdefault("team", TEAM)
    return new_case(db, admin, **fields)


# ---------------------------------------------------------------- access


def test_anonymous_visitors_are_sent_to_sign_in(web_app: Any) -> None:
    from fastapi.testclient import TestClient

    with TestClient(web_app) as client:
        response = client.get("/dashboard?view=team", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/dashboard%3Fview%3Dteam"


def test_customers_and_third_parties_are_refused(db: Database, admin: Principal, signed_in: Signed) -> None:
    party = parties.create_party(db, admin, PartyCreate(name="Claire Martin"))
    for browser in (signed_in(Role.CUSTOMER, party_id=party.id), signed_in(Role.THIRD_PARTY)):
        response = browser.get("/dashboard")
        assert response.status_code == 403
        assert "for staff" in response.text
        assert browser.post("/dashboard/filters", {"name": "mine"}).status_code == 403
        assert browser.post("/dashboard/assign", {"case": str(uuid.uuid4())}).status_code == 403


# ---------------------------------------------------------------- queues and filters


def test_my_work_and_my_teams_list_the_right_cases_most_urgent_first(db: Database, admin: Principal, signed_in: Signed) -> None:
    me = worker(signed_in)
    low = case(db, admin, title="Low one", priority="P4", assignee_id=me.principal.user_id)
    high = case(db, admin, title="High one", priority="P1", assignee_id=me.principal.user_id)
    team_only = case(db, admin, title="Team unassigned", priority="P2")
    elsewhere = case(db, admin, title="Other team", priority="P1", team="fraud")

    mine = me.get("/dashboard")
    assert mine.status_code == 200
    assert 'aria-current="page">My work' in mine.text
    assert refs(mine.text) == [high.reference, low.reference]

    team = me.get("/dashboard?view=team")
    assert refs(team.text) == [high.reference, team_only.reference, low.reference]
    assert elsewhere.reference not in team.text
    assert "Unassigned" in team.text

    everything = me.get("/dashboard?view=all")
    assert elsewhere.reference not in everything.text  # a worker sees only their teams' cases
    assert set(refs(everything.text)) == {high.reference, low.reference, team_only.reference}


def test_filters_narrow_the_list_and_search_finds_words_of_the_title(db: Database, admin: Principal, signed_in: Signed) -> None:
    me = worker(signed_in)
    colleague = worker(signed_in, name="Colin Colleague")
    refund = case(db, admin, title="Refund never arrived", priority="P2", assignee_id=me.principal.user_id)
    fee = case(db, admin, title="Unexpected card fee", priority="P3", assignee_id=colleague.principal.user_id)
    ticket = case(db, admin, case_type="support_ticket", title="Cannot log in", priority="P3")

    def listed(query: str) -> set[str]:
        response = me.get("/dashboard?view=team&" + query)
        assert response.status_code == 200, response.text[:500]
        return set(refs(response.text))

    assert listed("") == {refund.reference, fee.reference, ticket.reference}
    assert listed("priority=P2") == {refund.reference}
    assert listed("case_type=support_ticket") == {ticket.reference}
    assert listed(f"assignee_id={colleague.principal.user_id}") == {fee.reference}
    assert listed("phase=screening") == {refund.reference, fee.reference, ticket.reference}
    assert listed("phase=planning") == set()
    assert listed("q=refund") == {refund.reference}
    assert listed("q=card+fee") == {fee.reference}
    assert listed("q=fee+refund") == set()  # every word must match
    assert listed("created_from=2000-01-01&created_to=2000-12-31") == set()
    assert listed(f"team={TEAM}&priority=P3") == {fee.reference, ticket.reference}
    assert listed("status=closed") == set()

    page = me.get("/dashboard?view=team&q=refund&priority=P2").text
    assert 'value="refund"' in page  # the form keeps what was asked
    assert '<option value="P2" selected>' in page


def test_a_bad_filter_value_is_shown_at_its_field(signed_in: Signed) -> None:
    me = worker(signed_in)
    response = me.get("/dashboard?created_from=yesterday&priority=P9")
    assert response.status_code == 422
    assert (
        'id="f-created_from" name="created_from" value="yesterday" aria-invalid="true" aria-describedby="f-created_from-error"'
        in response.text
    )
    assert 'id="f-created_from-error"' in response.text
    assert 'role="alert"' in response.text
    assert "Enter a date such as 2026-05-01." in response.text


def test_htmx_gets_only_the_results_fragment(db: Database, admin: Principal, signed_in: Signed) -> None:
    me = worker(signed_in)
    mine = case(db, admin, title="Fragmented", assignee_id=me.principal.user_id)
    response = me.get("/dashboard?q=fragmented", headers={"HX-Request": "true", "HX-Target": "results"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert refs(response.text) == [mine.reference]
    assert response.headers["HX-Push-Url"] == "/dashboard?q=fragmented"  # no empty parameters in the address bar
    assert 'id="queue-tabs" hx-swap-oob="true"' in response.text  # the tabs keep the filters
    assert 'href="/dashboard?view=team&amp;q=fragmented"' in response.text
    assert '<div id="save-params" hx-swap-oob="true"><input type="hidden" name="q" value="fragmented">' in response.text
    full = me.get("/dashboard", headers={"HX-Request": "true", "HX-History-Restore-Request": "true", "HX-Target": "results"})
    assert "<html" in full.text
    bad = me.get("/dashboard?created_to=later", headers={"HX-Request": "true", "HX-Target": "results"})
    assert bad.status_code == 200  # HTMX swaps only successful answers: the message must reach the user
    assert "Enter a date such as 2026-05-01." in bad.text and refs(bad.text) == []


def test_pages_of_25(db: Database, admin: Principal, signed_in: Signed) -> None:
    me = worker(signed_in)
    made = [case(db, admin, title=f"Case {i}", assignee_id=me.principal.user_id) for i in range(27)]
    first = me.get("/dashboard")
    assert len(refs(first.text)) == 25
    assert "27 cases" in first.text
    assert 'href="/dashboard?page=2"' in first.text
    second = me.get("/dashboard?page=2")
    assert len(refs(second.text)) == 2
    assert set(refs(first.text)) | set(refs(second.text)) == {c.reference for c in made}
    assert "Previous page" in second.text and "Next page" not in second.text


def test_sla_badges_show_on_time_at_risk_and_breached(db: Database, admin: Principal, signed_in: Signed) -> None:
    me = worker(signed_in)
    mine = {"team": TEAM, "assignee_id": me.principal.user_id, "priority": "P3"}
    policy = SlaPolicy(warn_fraction=0.2, resolution_hours={"P3": 10})
    breached = opened_under(db, admin, policy, hours_ago=30, title="Long ago", **mine)
    at_risk = opened_under(db, admin, policy, hours_ago=9, title="Nearly due", **mine)
    on_time = opened_under(db, admin, policy, hours_ago=1, title="Fresh", **mine)
    html = me.get("/dashboard").text
    assert refs(html) == [breached.reference, at_risk.reference, on_time.reference]  # nearest deadline first
    rows = {ref: row for ref, row in re.findall(r'/cases/(CASE-[\d-]+)">.*?(<span class="badge (?:ok|warn|bad|muted)">[^<]+)', html, re.S)}
    assert rows[breached.reference].endswith("Breached")
    assert rows[at_risk.reference].endswith("At risk")
    assert rows[on_time.reference].endswith("On time")


def test_script_in_a_case_title_is_shown_as_text(db: Database, admin: Principal, signed_in: Signed) -> None:
    me = worker(signed_in)
    case(db, admin, title="<script>alert('x')</script> & <b>bold</b>", assignee_id=me.principal.user_id)
    html = me.get("/dashboard").text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    search = me.get("/dashboard?q=%3Cscript%3E").text
    assert 'value="<script>' not in search


# ---------------------------------------------------------------- saved filters


def test_save_list_open_and_delete_a_filter(db: Database, admin: Principal, signed_in: Signed) -> None:
    me = worker(signed_in)
    saved = me.post(
        "/dashboard/filters", {"name": "Urgent refunds", "view": "team", "priority": "P1", "q": "refund"}, follow_redirects=False
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/dashboard?view=team&priority=P1&q=refund"
    page = me.get("/dashboard").text
    assert '<a href="/dashboard?view=team&amp;priority=P1&amp;q=refund">Urgent refunds</a>' in page
    [kept] = saved_filters.list_saved_filters(db, me.principal)
    assert kept.params == {"view": "team", "priority": "P1", "q": "refund"}
    assert 'aria-label="Delete saved filter Urgent refunds"' in page

    gone = me.post(f"/dashboard/filters/{kept.id}/delete", follow_redirects=False)
    assert gone.status_code == 303
    assert saved_filters.list_saved_filters(db, me.principal) == []
    assert "Urgent refunds" not in me.get("/dashboard").text


def test_a_duplicate_or_bad_name_is_refused_at_the_field(db: Database, signed_in: Signed) -> None:
    me = worker(signed_in)
    assert me.post("/dashboard/filters", {"name": "Mine", "priority": "P2"}, follow_redirects=False).status_code == 303
    again = me.post("/dashboard/filters", {"name": "Mine", "priority": "P1"})
    assert again.status_code == 409
    assert "already have a saved filter named" in unescape(again.text)
    assert re.search(r'id="save-name"[^>]*value="Mine"[^>]*aria-invalid="true" aria-describedby="save-name-error"', again.text)
    long = me.post("/dashboard/filters", {"name": "x" * 101})
    assert long.status_code == 422
    assert "Use at most 100 characters for the name." in long.text
    assert 'value="' + "x" * 101 + '"' in long.text  # what the user typed is kept
    empty = me.post("/dashboard/filters", {"name": "   "})
    assert empty.status_code == 422
    assert "Enter a name for these filters." in empty.text
    bad = me.post("/dashboard/filters", {"name": "Bad date", "created_from": "soon"})
    assert bad.status_code == 422
    assert [f.name for f in saved_filters.list_saved_filters(db, me.principal)] == ["Mine"]


def test_filters_are_personal(db: Database, signed_in: Signed) -> None:
    me = worker(signed_in)
    other = worker(signed_in)
    me.post("/dashboard/filters", {"name": "Secret view", "q": "fraud"})
    [mine] = saved_filters.list_saved_filters(db, me.principal)
    assert "Secret view" not in other.get("/dashboard").text
    refused = other.post(f"/dashboard/filters/{mine.id}/delete")
    assert refused.status_code == 404
    assert other.post("/dashboard/filters/not-an-id/delete").status_code == 422
    assert [f.name for f in saved_filters.list_saved_filters(db, me.principal)] == ["Secret view"]
    # the same name is free for someone else
    assert other.post("/dashboard/filters", {"name": "Secret view"}, follow_redirects=False).status_code == 303


def test_saving_or_deleting_without_the_csrf_token_changes_nothing(db: Database, signed_in: Signed) -> None:
    me = worker(signed_in)
    assert me.post("/dashboard/filters", {"name": "No token"}, csrf=False).status_code == 403
    assert me.post("/dashboard/filters", {"name": "Wrong token", "csrf_token": "forged"}).status_code == 403
    assert saved_filters.list_saved_filters(db, me.principal) == []
    me.post("/dashboard/filters", {"name": "Kept"})
    [kept] = saved_filters.list_saved_filters(db, me.principal)
    assert me.post(f"/dashboard/filters/{kept.id}/delete", csrf=False).status_code == 403
    assert len(saved_filters.list_saved_filters(db, me.principal)) == 1
    assert filter_audits(db) == ["saved_filter.create"]


# ---------------------------------------------------------------- bulk assignment


def _bulk(rows: list[Any], assignee: uuid.UUID, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"case": [str(r.id) for r in rows], "assignee_id": str(assignee), "back": "/dashboard?view=team"}
    for r in rows:
        data[f"version_{r.id}"] = str(r.version)
        data[f"ref_{r.id}"] = r.reference
    data.update(extra)
    return data


def test_bulk_assign_gives_every_selected_case_to_the_colleague(db: Database, admin: Principal, signed_in: Signed) -> None:
    me = worker(signed_in)
    colleague = worker(signed_in, name="Colin Colleague")
    one, two, untouched = (case(db, admin, title=f"Bulk {i}") for i in range(3))
    page = me.get("/dashboard?view=team").text
    assert f'<label for="pick-{one.id}" class="visually-hidden">Select {one.reference}</label>' in page
    assert f'name="version_{one.id}" value="{one.version}"' in page
    assert '<option value="' + str(colleague.principal.user_id) + '">Colin Colleague</option>' in page

    response = me.post("/dashboard/assign", _bulk([one, two], colleague.principal.user_id))
    assert response.status_code == 200
    assert "2 cases assigned to Colin Colleague." in response.text
    assert 'role="status"' in response.text
    assert cases.get_case(db, admin, one.id).assignee_id == colleague.principal.user_id
    assert cases.get_case(db, admin, two.id).assignee_id == colleague.principal.user_id
    assert cases.get_case(db, admin, untouched.id).assignee_id is None
    assert 'aria-current="page">My teams' in response.text  # the list the user came from


def test_bulk_assign_reports_a_case_changed_meanwhile_and_assigns_the_others(db: Database, admin: Principal, signed_in: Signed) -> None:
    me = worker(signed_in)
    colleague = worker(signed_in, name="Colin Colleague")
    fresh, stale = case(db, admin, title="Fresh"), case(db, admin, title="Stale")
    cases.assign_case(db, admin, stale.id, AssignRequest(assignee_id=me.principal.user_id, version=stale.version))
    response = me.post("/dashboard/assign", _bulk([fresh, stale], colleague.principal.user_id))
    assert response.status_code == 200
    assert "1 case assigned to Colin Colleague." in response.text
    assert "1 case was not assigned:" in response.text
    assert f"<strong>{stale.reference}</strong>: changed by someone else" in response.text
    assert 'role="alert"' in response.text
    assert cases.get_case(db, admin, fresh.id).assignee_id == colleague.principal.user_id
    assert cases.get_case(db, admin, stale.id).assignee_id == me.principal.user_id

    # submitting the same form twice assigns nothing twice: the versions are now stale
    again = me.post("/dashboard/assign", _bulk([fresh], me.principal.user_id))
    assert again.status_code == 409
    assert cases.get_case(db, admin, fresh.id).assignee_id == colleague.principal.user_id


def test_bulk_assign_refuses_bad_input_without_changing_anything(db: Database, admin: Principal, signed_in: Signed) -> None:
    me = worker(signed_in)
    target = case(db, admin, title="Target")
    outsider = signed_in(Role.CASE_WORKER, teams=["fraud"])
    before = audit_count(db, target.id, reads=False)
    assert me.post("/dashboard/assign", _bulk([target], me.principal.user_id), csrf=False).status_code == 403
    nothing = me.post("/dashboard/assign", {"assignee_id": str(me.principal.user_id), "back": "/dashboard"})
    assert nothing.status_code == 422
    assert "Select at least one case to assign." in nothing.text
    stranger = me.post("/dashboard/assign", _bulk([target], outsider.principal.user_id))
    assert stranger.status_code == 422
    assert "Choose who the cases go to." in stranger.text
    assert audit_count(db, target.id, reads=False) == before
    assert cases.get_case(db, admin, target.id).assignee_id is None


def test_a_case_outside_the_callers_teams_is_reported_not_assigned(db: Database, admin: Principal, signed_in: Signed) -> None:
    me = worker(signed_in)
    hidden = case(db, admin, title="Fraud team", team="fraud")
    response = me.post("/dashboard/assign", _bulk([hidden], me.principal.user_id))
    assert response.status_code == 409
    assert "not found, or no longer visible to you" in response.text
    assert cases.get_case(db, admin, hidden.id).assignee_id is None


def test_roles_without_assign_rights_see_no_bulk_controls(db: Database, admin: Principal, signed_in: Signed) -> None:
    auditor = signed_in(Role.AUDITOR)
    target = case(db, admin, title="Audited")
    page = auditor.get("/dashboard")  # auditors work no queue of their own: they see every case
    assert page.status_code == 200
    assert 'aria-current="page">All cases' in page.text
    assert "My work" not in page.text
    assert target.reference in page.text
    assert 'type="checkbox"' not in page.text
    assert "Assign selected" not in page.text
    refused = auditor.post("/dashboard/assign", _bulk([target], auditor.principal.user_id))
    assert refused.status_code == 403
    assert cases.get_case(db, admin, target.id).assignee_id is None


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMINISTRATOR])
def test_other_staff_roles_open_the_dashboard(role: Role, signed_in: Signed) -> None:
    browser = signed_in(role, teams=[TEAM])
    response = browser.get("/dashboard?view=team")
    assert response.status_code == 200
    assert "Assign selected" not in response.text or 'type="checkbox"' in response.text


def test_odd_parameters_never_break_the_page(signed_in: Signed) -> None:
    me = worker(signed_in)
    for q in ['"', "*", "NEAR(", "a OR b", "'; drop table cases", "%", "\\", "é ü", "-", "x" * 201]:
        response = me.get("/dashboard", params={"q": q, "view": "all"})
        assert response.status_code in (200, 422), q
    bad = me.get("/dashboard", params={"page": "abc", "view": "bogus", "status": "x", "assignee_id": "nope", "team": "t" * 150})
    assert bad.status_code == 422
    assert "Choose an assignee from the list." in bad.text and "Choose open, closed or any status." in bad.text
    assert me.get("/dashboard", params={"page": "99999999999999"}).status_code == 200
