"""Documents to review: the list across cases, by case reference, limited to the cases one may see."""

from __future__ import annotations

from collections.abc import Callable

from casework.domain.access import Principal, Role
from casework.services import parties
from casework.services.schemas import PartyCreate
from casework.store.unit_of_work import Database
from tests.factories import waiting_passport
from tests.web.conftest import Browser

XSS = "<script>alert(1)</script>.pdf"


def test_reviewers_see_waiting_documents_by_case_reference(signed_in: Callable[..., Browser], db: Database, admin: Principal) -> None:
    mine = waiting_passport(db, admin, team="onboarding", filename=XSS).reference
    theirs = waiting_passport(db, admin, team="fraud").reference
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
