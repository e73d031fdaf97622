"""The customer portal in a real browser: only the customer's cases, a requested document uploaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from casework.services import documents
from tests.doc_samples import PDF
from tests.e2e.conftest import Site, check_accessibility, screenshot, sign_in
from tests.factories import new_case


def test_a_customer_sees_their_case_and_sends_the_requested_document(page: Any, site: Site, tmp_path: Path) -> None:
    worker = site.accounts["worker"].principal
    mine = new_case(site.db, worker, title="My card was charged twice", customer_party_id=site.customer_party_id)
    theirs = new_case(site.db, worker, title="Oscar's own matter", customer_party_id=site.other_party_id)
    documents.request_document(site.db, worker, mine.id, "customer_evidence", "Your card statement showing both charges")

    sign_in(page, site.accounts["customer"])
    assert page.url.endswith("/portal")
    assert page.get_by_role("link", name="My card was charged twice").is_visible()
    assert page.get_by_text("Oscar's own matter").count() == 0
    assert theirs.reference not in page.content()
    assert page.get_by_text("1 document requested from you").first.is_visible()
    check_accessibility(page)
    screenshot(page, "portal")

    page.get_by_role("link", name="My card was charged twice").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("We have received your request and are reviewing it").is_visible()
    assert page.get_by_text("Your card statement showing both charges").is_visible()
    check_accessibility(page)
    screenshot(page, "portal-case")

    statement = tmp_path / "statement.pdf"
    statement.write_bytes(PDF)
    page.get_by_label("Which document").select_option("customer_evidence")
    page.get_by_label("File").set_input_files(str(statement))
    page.get_by_role("button", name="Send the document").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("status").inner_text().startswith("Thank you: we received your document.")
    assert page.get_by_text("Nothing is needed from you at the moment.").is_visible()
    assert page.get_by_role("link", name="statement.pdf").is_visible()

    page.get_by_label("Write to the case team").fill("Sent: the statement shows both charges.")
    page.get_by_role("button", name="Send the message").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Sent: the statement shows both charges.").is_visible()
    check_accessibility(page)

    # another customer's case is not found
    response = page.goto(f"/portal/cases/{theirs.reference}")
    assert response is not None and response.status == 404


def test_a_partner_sees_the_shared_task_and_reports_progress(page: Any, site: Site) -> None:
    from casework.services import plans, sharing
    from casework.services.schemas import GoalCreate, TaskCreate

    worker = site.accounts["worker"].principal
    partner = site.accounts["partner"]
    case = new_case(site.db, worker, title="Merchant dispute to check", customer_party_id=site.customer_party_id)
    goal = plans.add_goal(site.db, worker, case.id, GoalCreate(title="Check with the merchant"))
    plans.add_task(site.db, worker, case.id, goal.id, TaskCreate(title="Send the merchant's receipt", assignee_id=partner.id))
    sharing.share_case(site.db, worker, case.id, sharing.ShareCreate(user_id=partner.id, parts=[sharing.SharePart.TASKS]))

    sign_in(page, partner)
    page.get_by_role("link", name="Merchant dispute to check").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Tasks for you").is_visible()
    assert page.get_by_role("heading", name="Messages").count() == 0  # notes are not shared with this partner
    check_accessibility(page)
    page.get_by_label("Status of Send the merchant's receipt").select_option("done")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("status").inner_text().startswith("Thank you: the task was updated.")
    assert page.get_by_label("Status of Send the merchant's receipt").input_value() == "done"
    screenshot(page, "portal-partner")
