"""Documents to review: the list across cases, by case reference, limited to the cases one may see."""

from __future__ import annotations

from collections.abc import Callable

from casework.documents.checks.mrz import make_mrz_td3
from casework.documents.text_pdf import text_pdf
from casework.domain.access import Principal, Role
from casework.services import documents, parties
from casework.services.document_checks import run_document_checks
from casework.services.schemas import PartyCreate
from casework.store.unit_of_work import Database
from tests.factories import new_case
from tests.web.conftest import Browser

PERSON = {"customer_type": "person", "country_of_residence": "FR", "nationality": "FR", "date_of_birth": "1990-02-03"}
XSS = "<script>alert(1)</script>.pdf"


def _waiting_passport(db: Database, admin: Principal, team: str) -> str:
    """An onboarding case whose passport names somebody else: its checks send it to a person."""
    import datetime as dt

    party = parties.create_party(db, admin, PartyCreate(name="Angela Sample"))
    case = new_case(db, admin, case_type="onboarding", team=team, customer_party_id=party.id, custom_data=PERSON)
    mrz = make_mrz_td3(surname="Other", given_names="Person", document_number="AB1234567", nationality="FRA",
                       birth_date=dt.date(1990, 2, 3), sex="F", expiry_date=dt.date(2031, 5, 1))  # fmt: skip
    doc = documents.upload_document(db, admin, case.id, kind="identity_document", filename=XSS, stream=[text_pdf(*mrz.splitlines())])
    assert run_document_checks(db, None, case.id, doc.id).status.value == "in_review"
    return case.reference


def test_reviewers_see_waiting_documents_by_case_reference(signed_in: Callable[..., Browser], db: Database, admin: Principal) -> None:
    mine = _waiting_passport(db, admin, "onboarding")
    theirs = _waiting_passport(db, admin, "fraud")
    worker = signed_in(Role.CASE_WORKER, teams=["onboarding"])
    page = worker.get("/documents/review")
    assert page.status_code == 200
    assert f'href="/cases/{mine}#part-documents"' in page.text and theirs not in page.text  # only the cases one may see
    assert "<script>" not in page.text  # the file's name is cleaned at upload and escaped here
    assert 'href="/documents/review" aria-current="page"' in page.text  # in the main navigation
    supervisor = signed_in(Role.SUPERVISOR, teams=["onboarding", "fraud"])
    both = supervisor.get("/documents/review").text
    assert mine in both and theirs in both


def test_an_empty_queue_says_so_and_customers_have_no_such_page(signed_in: Callable[..., Browser], db: Database, admin: Principal) -> None:
    worker = signed_in(Role.CASE_WORKER, teams=["support"])
    assert "No document is waiting for review." in worker.get("/documents/review").text
    party = parties.create_party(db, admin, PartyCreate(name="Carla Customer"))
    customer = signed_in(Role.CUSTOMER, party_id=party.id)
    assert customer.get("/documents/review", follow_redirects=False).status_code in (303, 403, 404)
    assert "Documents to review" not in customer.get("/portal").text
