"""The case page's plan, documents and decisions sections in a real browser (HTMX fragments)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from casework.services import decisions, documents, plans
from casework.services.schemas import CaseCreate
from tests.doc_samples import PDF
from tests.e2e.conftest import Site, check_accessibility, screenshot, sign_in


def _open_case(site: Site, title: str) -> Any:
    from casework.services import cases

    worker = site.accounts["worker"]
    body = {"case_type": "complaint", "title": title, "team": "complaints", "assignee_id": worker.id,
            "custom_data": {"product": "credit_card", "channel": "email"}}  # fmt: skip
    return cases.create_case(site.db, site.admin, CaseCreate.model_validate(body))


def _page_url(reference: str, part: str) -> str:
    """The case page when it exists, else the part's own page (the same fragment inside the layout)."""
    if importlib.util.find_spec("casework.web.routes_case") is None:
        return f"/cases/{reference}/parts/{part}"
    return f"/cases/{reference}"


def test_plan_documents_and_decisions_on_the_case_page(page: Any, site: Site, tmp_path: Path) -> None:
    case = _open_case(site, "Card charged twice in March")
    worker = site.accounts["worker"]
    sign_in(page, worker)
    page.goto(_page_url(case.reference, "plan"))
    for part in ("plan", "documents", "decisions"):
        page.locator(f"#part-{part}.case-part").wait_for()

    # Plan: add a goal, a task to it, and check the task off.
    plan = page.locator("#part-plan")
    plan.get_by_text("Add a goal").click()
    page.locator("#goal-title").fill("Refund the double charge")
    page.locator("#goal-add").click()
    plan.get_by_role("status").filter(has_text="Goal added.").wait_for()
    plan.get_by_text("Add a task to Refund the double charge").click()
    goal = plans.get_plan(site.db, site.admin, case.id)[0]
    page.locator(f"#task-title-{goal.id}").fill("Reverse the second charge")
    page.locator(f"#task-assignee-{goal.id}").select_option(label=worker.name)
    page.locator(f"#task-add-{goal.id}").click()
    plan.get_by_role("status").filter(has_text="Task added.").wait_for()
    plan.get_by_role("button", name="Mark done Reverse the second charge").click()
    plan.get_by_role("status").filter(has_text="Task marked done.").wait_for()
    [task] = plans.get_plan(site.db, site.admin, case.id)[0].tasks
    assert task.status.value == "done" and task.assignee_id == worker.id

    # Documents: upload a file, then validate it.
    file = tmp_path / "bank-statement.pdf"
    file.write_bytes(PDF)
    docs = page.locator("#part-documents")
    page.locator("#upload-kind").select_option("customer_evidence")
    page.locator("#upload-file").set_input_files(str(file))
    page.locator("#upload-submit").click()
    docs.get_by_role("status").filter(has_text="Document uploaded.").wait_for()
    [doc] = documents.list_documents(site.db, site.admin, case.id)
    docs.get_by_role("button", name="Validate bank-statement.pdf").click()
    docs.get_by_role("status").filter(has_text="Document validated.").wait_for()
    assert documents.get_document(site.db, site.admin, case.id, doc.id).status.value == "validated"

    # Decisions: accept the screening recommendation.
    dec = page.locator("#part-decisions")
    dec.get_by_role("button", name="Accept the recommendation (Screening)").click()
    dec.get_by_role("status").filter(has_text="Recommendation accepted.").wait_for()
    screening = [d for d in decisions.list_decisions(site.db, site.admin, case.id) if d.point.value == "screening"]
    assert screening[-1].status.value == "accepted"

    page.locator("#part-answers.case-part").wait_for()
    check_accessibility(page)
    screenshot(page, "case-parts")


def test_refusals_show_at_the_field(page: Any, site: Site) -> None:
    case = _open_case(site, "Fee charged without notice")
    sign_in(page, site.accounts["worker"])
    page.goto(_page_url(case.reference, "documents"))
    docs = page.locator("#part-documents.case-part")
    docs.wait_for()
    page.locator("#request-submit").click()  # no reason given
    error = page.locator("#request-reason-error")
    error.wait_for()
    assert page.locator("#request-reason").get_attribute("aria-invalid") == "true"
    assert docs.get_by_role("alert").count() == 1
    check_accessibility(page)
