"""New-case intake: the form generated from the case type, field messages, screening outcome, one case per submission."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from casework.casetypes.model import CaseTypeDef
from casework.domain.access import Principal, Role
from casework.domain.lifecycle import Phase
from casework.services import cases, casetypes, parties
from casework.services.schemas import CaseFilter, PartyCreate
from casework.store.unit_of_work import Database
from casework.web.routes_intake import intake_fields
from tests.web.conftest import Browser

SUBMISSION = re.compile(r'name="submission_id" value="([^"]+)"')


def _form(browser: Browser, case_type: str = "complaint") -> tuple[str, str]:
    page = browser.get(f"/cases/new?type={case_type}")
    assert page.status_code == 200, page.text[:500]
    found = SUBMISSION.search(page.text)
    assert found
    return page.text, found.group(1)


def _complaint(submission_id: str, **extra: Any) -> dict[str, Any]:
    data = {
        "case_type": "complaint",
        "submission_id": submission_id,
        "title": "Card charged twice",
        "description": "The customer was charged twice for one purchase.",
        "priority": "",
        "f-product": "credit_card",
        "f-channel": "email",
        "f-nature": "complaint",
        "f-amount_claimed": "45.50",
        "f-incident_date": "2026-03-01",
    }
    data.update(extra)
    return data


def _count(db: Database, admin: Principal) -> int:
    return cases.count_cases(db, admin, CaseFilter())


def _control(text: str, name: str) -> str:
    """The HTML of the first control (input, select or textarea) named ``name``."""
    found = re.search(rf'<(input|select|textarea)[^>]*name="{re.escape(name)}"[^>]*>', text)
    assert found, f"no control named {name}"
    return found.group(0)


def test_the_first_step_lists_the_installed_case_types(signed_in: Callable[..., Browser]) -> None:
    worker = signed_in(Role.CASE_WORKER, teams=["complaints"])
    page = worker.get("/cases/new")
    assert page.status_code == 200
    for key, name in [("complaint", "Customer complaint"), ("support_ticket", None), ("onboarding", None), ("disputed_transaction", None)]:
        assert f'href="/cases/new?type={key}"' in page.text
        if name:
            assert name in page.text
    assert 'aria-current="page"' in page.text and 'href="/cases/new" aria-current="page"' in page.text


@pytest.mark.parametrize("case_type", ["complaint", "support_ticket", "onboarding", "disputed_transaction"])
def test_the_form_follows_the_case_type(signed_in: Callable[..., Browser], db: Database, admin: Principal, case_type: str) -> None:
    worker = signed_in(Role.CASE_WORKER, teams=["complaints"])
    text, _ = _form(worker, case_type)
    defn = CaseTypeDef.model_validate(casetypes.get_case_type(db, admin, case_type).definition)
    specs = intake_fields(defn)
    assert [s.name for s in specs][: len(defn.intake)] == [i.field for i in defn.intake]
    props = defn.fields["properties"]
    for spec in specs:
        control = _control(text, spec.input_id)
        prop = props[spec.name]
        assert f'<label for="{spec.input_id}">' in text  # every control has its label
        if "enum" in prop:
            assert control.startswith("<select")
            for option in prop["enum"]:
                assert f'<option value="{option}"' in text
        elif prop.get("type") == "boolean":
            assert 'type="checkbox"' in control
        elif prop.get("format") == "date":
            assert 'type="date"' in control
        elif prop.get("type") in ("number", "integer"):
            assert 'inputmode="' in control
        else:
            assert f'maxlength="{prop.get("maxLength", 2000)}"' in control
        if spec.required:
            assert "required" in control
    # required is said in words, not only by colour
    label = re.search(r'<label for="f-' + specs[0].name + r'">(.*?)</label>', text, re.S)
    assert label and "(required)" in label.group(1)


def test_complaint_form_details(signed_in: Callable[..., Browser]) -> None:
    worker = signed_in(Role.CASE_WORKER, teams=["complaints"])
    text, _ = _form(worker, "complaint")
    assert "Leave empty when the customer claims no money." in text  # the intake item's help
    assert 'aria-describedby="f-amount_claimed-help"' in _control(text, "f-amount_claimed")
    assert re.search(r'<option value="complaint" selected>', text)  # the field's default
    assert 'type="checkbox"' in _control(text, "f-vulnerable_customer")
    assert 'type="date"' in _control(text, "f-incident_date")
    support, _ = _form(worker, "support_ticket")
    assert 'maxlength="64"' in _control(support, "f-error_code")


def test_creating_a_complaint_shows_the_screening_outcome(signed_in: Callable[..., Browser], db: Database, admin: Principal) -> None:
    worker = signed_in(Role.CASE_WORKER, teams=["complaints"])
    _, sid = _form(worker)
    made = worker.post("/cases/new", _complaint(sid, **{"f-vulnerable_customer": "on"}), follow_redirects=False)
    assert made.status_code == 303, made.text[:2000]
    location = made.headers["location"]
    assert location.startswith("/cases/new/done/CASE-")
    reference = location.rsplit("/", 1)[1]
    case = cases.get_case(db, admin, reference)
    assert case.title == "Card charged twice"
    assert case.custom_data["product"] == "credit_card"
    assert case.custom_data["amount_claimed"] == 45.5
    assert case.custom_data["vulnerable_customer"] is True
    assert case.custom_data["incident_date"] == "2026-03-01"
    assert case.team == "complaints"
    done = worker.get(location)
    assert done.status_code == 200
    assert reference in done.text
    assert "Waiting for review" in done.text  # complaint screening is a recommendation
    assert "recommend opening this case" in done.text
    assert "a complaint to investigate" in done.text  # the decision's explanation
    assert f'href="/cases/{reference}"' in done.text


def test_an_automatic_screening_that_drops_the_case_is_shown(signed_in: Callable[..., Browser], db: Database, admin: Principal) -> None:
    worker = signed_in(Role.CASE_WORKER, teams=["fraud"])
    _, sid = _form(worker, "disputed_transaction")
    data = {
        "case_type": "disputed_transaction", "submission_id": sid, "title": "Card charge not recognised", "description": "",
        "priority": "", "f-transaction_kind": "card_charge", "f-amount": "12", "f-currency": "EUR", "f-account_type": "current",
    }  # fmt: skip
    made = worker.post("/cases/new", data, follow_redirects=False)
    assert made.status_code == 303, made.text[:2000]
    reference = made.headers["location"].rsplit("/", 1)[1]
    case = cases.get_case(db, admin, reference)
    done = worker.get(made.headers["location"]).text
    if case.phase is Phase.CLOSED:
        assert "Dropped" in done or "Fast-tracked" in done
    else:
        assert case.phase is Phase.ASSESSMENT
        assert "passed screening" in done


def test_missing_and_invalid_values_are_shown_at_their_fields_and_kept(
    signed_in: Callable[..., Browser], db: Database, admin: Principal
) -> None:
    worker = signed_in(Role.CASE_WORKER, teams=["complaints"])
    _, sid = _form(worker)
    before = _count(db, admin)
    data = _complaint(
        sid, title="", **{"f-product": "", "f-amount_claimed": "lots", "f-duplicate_of": "CASE-1", "f-incident_date": "2026-02-30"}
    )
    page = worker.post("/cases/new", data)
    assert page.status_code == 422
    assert _count(db, admin) == before
    text = page.text
    assert 'role="alert"' in text
    title = _control(text, "title")
    assert 'aria-invalid="true"' in title and 'aria-describedby="title-error"' in title
    assert '<span class="field-error" id="title-error">Enter a title.</span>' in text
    assert '<span class="field-error" id="f-product-error">This field is required.</span>' in text
    assert 'id="f-amount_claimed-error">Enter a number' in text
    assert 'id="f-duplicate_of-error">' in text  # the JSON Schema pattern, checked by the service's rules
    assert 'id="f-incident_date-error">' in text
    # what was typed is kept
    assert 'value="lots"' in _control(text, "f-amount_claimed")
    assert 'value="CASE-1"' in _control(text, "f-duplicate_of")
    assert "The customer was charged twice for one purchase.</textarea>" in text
    assert re.search(r'<option value="email" selected>', text)
    # the summary links to the fields
    assert 'href="#f-product"' in text and 'href="#title"' in text
    # and the same one-time id is kept, so the corrected form opens the case
    assert f'value="{sid}"' in text
    fixed = worker.post("/cases/new", _complaint(sid), follow_redirects=False)
    assert fixed.status_code == 303
    assert _count(db, admin) == before + 1


def test_an_over_long_title_gets_a_clear_message(signed_in: Callable[..., Browser], db: Database, admin: Principal) -> None:
    worker = signed_in(Role.CASE_WORKER, teams=["complaints"])
    _, sid = _form(worker)
    page = worker.post("/cases/new", _complaint(sid, title="x" * 301))
    assert page.status_code == 422
    assert re.search(r'id="title-error">[^<]*300 characters', page.text)


def test_double_submission_opens_one_case(signed_in: Callable[..., Browser], db: Database, admin: Principal) -> None:
    worker = signed_in(Role.CASE_WORKER, teams=["complaints"])
    _, sid = _form(worker)
    before = _count(db, admin)
    first = worker.post("/cases/new", _complaint(sid), follow_redirects=False)
    second = worker.post("/cases/new", _complaint(sid), follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert _count(db, admin) == before + 1
    # a new form (a new id) opens a new case
    _, other = _form(worker)
    assert other != sid
    third = worker.post("/cases/new", _complaint(other), follow_redirects=False)
    assert third.headers["location"] != first.headers["location"]
    assert _count(db, admin) == before + 2


def test_a_form_without_its_one_time_id_is_not_taken(signed_in: Callable[..., Browser], db: Database, admin: Principal) -> None:
    worker = signed_in(Role.CASE_WORKER, teams=["complaints"])
    before = _count(db, admin)
    page = worker.post("/cases/new", _complaint("not-a-uuid"))
    assert page.status_code == 422
    assert "This form has expired" in page.text
    assert _count(db, admin) == before


def test_refused_without_the_csrf_token(signed_in: Callable[..., Browser], db: Database, admin: Principal) -> None:
    worker = signed_in(Role.CASE_WORKER, teams=["complaints"])
    _, sid = _form(worker)
    before = _count(db, admin)
    page = worker.post("/cases/new", _complaint(sid), csrf=False)
    assert page.status_code == 403
    assert _count(db, admin) == before
    wrong = worker.post("/cases/new", {**_complaint(sid), "csrf_token": "forged"}, csrf=False)
    assert wrong.status_code == 403


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.THIRD_PARTY, Role.AUDITOR])
def test_only_staff_who_may_open_cases_get_the_form(signed_in: Callable[..., Browser], db: Database, admin: Principal, role: Role) -> None:
    extra: dict[str, Any] = {}
    if role is Role.CUSTOMER:
        extra["party_id"] = parties.create_party(db, admin, PartyCreate(name="Some Customer")).id
    browser = signed_in(role, **extra)
    assert browser.get("/cases/new").status_code == 403
    assert browser.get("/cases/new?type=complaint").status_code == 403
    posted = browser.post("/cases/new", _complaint(str(uuid.uuid4())))
    assert posted.status_code == 403


def test_existing_and_new_customers(signed_in: Callable[..., Browser], db: Database, admin: Principal) -> None:
    existing = parties.create_party(db, admin, PartyCreate(name="Claire Martin", email="claire@example.test"))
    parties.create_party(db, admin, PartyCreate(name="Oscar Other"))
    worker = signed_in(Role.CASE_WORKER, teams=["complaints"])
    # search as you type (HTMX fragment) and without JavaScript (the Search button)
    fragment = worker.get("/cases/new/parties?party_q=clai")
    assert fragment.status_code == 200
    assert f'value="{existing.id}"' in fragment.text and "Oscar" not in fragment.text
    _, sid = _form(worker)
    searched = worker.post("/cases/new", _complaint(sid, action="search", party_q="Claire", title=""))
    assert searched.status_code == 200
    assert f'value="{existing.id}"' in searched.text
    assert "Enter a title" not in searched.text  # a search is not a submission
    made = worker.post("/cases/new", _complaint(sid, customer_party_id=str(existing.id)), follow_redirects=False)
    assert made.status_code == 303
    case = cases.get_case(db, admin, made.headers["location"].rsplit("/", 1)[1])
    assert case.customer_party_id == existing.id
    assert "Claire Martin" in worker.get(made.headers["location"]).text
    # a new customer, created with the case
    _, sid2 = _form(worker)
    made2 = worker.post(
        "/cases/new", _complaint(sid2, new_party_name="Nina New", new_party_email="nina@example.test"), follow_redirects=False
    )
    assert made2.status_code == 303
    case2 = cases.get_case(db, admin, made2.headers["location"].rsplit("/", 1)[1])
    assert case2.customer_party_id is not None
    assert parties.get_party(db, admin, case2.customer_party_id).name == "Nina New"
    # both at once is refused, and a bad email is named
    _, sid3 = _form(worker)
    both = worker.post("/cases/new", _complaint(sid3, customer_party_id=str(existing.id), new_party_name="Someone"))
    assert both.status_code == 422 and 'id="new_party_name-error"' in both.text
    bad = worker.post("/cases/new", _complaint(sid3, new_party_name="Someone", new_party_email="not-an-email"))
    assert bad.status_code == 422 and 'id="new_party_email-error"' in bad.text
    assert not [p for p in parties.list_parties(db, admin, name="Someone")]  # nothing created by refused forms


def test_text_is_escaped(signed_in: Callable[..., Browser], db: Database, admin: Principal) -> None:
    worker = signed_in(Role.CASE_WORKER, teams=["complaints"])
    _, sid = _form(worker)
    evil = "<script>alert(1)</script>"
    refused = worker.post("/cases/new", _complaint(sid, title=evil, **{"f-product": ""}))
    assert refused.status_code == 422
    assert evil not in refused.text and html.escape(evil, quote=True) in refused.text
    made = worker.post("/cases/new", _complaint(sid, title=evil), follow_redirects=False)
    done = worker.get(made.headers["location"])
    assert evil not in done.text and "&lt;script&gt;" in done.text
