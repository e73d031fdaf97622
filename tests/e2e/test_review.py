"""Documents to review in a real browser: reached from the navigation, accessible, each row opens its case."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Site, check_accessibility, screenshot, sign_in
from tests.factories import waiting_passport


def test_supervisor_opens_a_document_waiting_for_review(page: Any, site: Site) -> None:
    case = waiting_passport(site.db, site.admin, team="complaints")  # the supervisor's team

    sign_in(page, site.accounts["supervisor"])
    page.get_by_role("link", name="Documents to review").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Documents to review", level=1).is_visible()
    check_accessibility(page)
    screenshot(page, "documents-to-review")
    page.get_by_role("link", name=case.reference).click()
    page.wait_for_load_state("networkidle")
    assert f"/cases/{case.reference}" in page.url
