"""Documents to review in a real browser: reached from the navigation, accessible, each row opens its case."""

from __future__ import annotations

import datetime as dt
from typing import Any

from casework.documents.checks.mrz import make_mrz_td3
from casework.documents.text_pdf import text_pdf
from casework.services import documents, parties
from casework.services.document_checks import run_document_checks
from casework.services.schemas import PartyCreate
from tests.e2e.conftest import Site, check_accessibility, screenshot, sign_in
from tests.factories import new_case


def test_supervisor_opens_a_document_waiting_for_review(page: Any, site: Site) -> None:
    admin = site.admin
    party = parties.create_party(site.db, admin, PartyCreate(name="Angela Sample"))
    case = new_case(site.db, admin, case_type="onboarding", team="complaints", customer_party_id=party.id,
                    custom_data={"customer_type": "person", "country_of_residence": "FR", "nationality": "FR",
                                 "date_of_birth": "1990-02-03"})  # fmt: skip
    mrz = make_mrz_td3(surname="Other", given_names="Person", document_number="AB1234567", nationality="FRA",
                       birth_date=dt.date(1990, 2, 3), sex="F", expiry_date=dt.date(2031, 5, 1))  # fmt: skip
    doc = documents.upload_document(site.db, admin, case.id, kind="identity_document", filename="passport.pdf",
                                    stream=[text_pdf(*mrz.splitlines())])  # fmt: skip
    run_document_checks(site.db, None, case.id, doc.id)

    sign_in(page, site.accounts["supervisor"])
    page.get_by_role("link", name="Documents to review").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Documents to review", level=1).is_visible()
    check_accessibility(page)
    screenshot(page, "documents-to-review")
    page.get_by_role("link", name=case.reference).click()
    page.wait_for_load_state("networkidle")
    assert f"/cases/{case.reference}" in page.url
