"""The reports page in a real browser: charts drawn, accessible, filters and the data tables usable."""

from __future__ import annotations

from typing import Any

from casework.domain.lifecycle import Phase
from tests.e2e.conftest import Site, check_accessibility, screenshot, sign_in
from tests.factories import move, new_case


def test_supervisor_reads_the_reports(page: Any, site: Site) -> None:
    admin = site.admin
    for priority in ("P1", "P2", "P3", "P3"):
        new_case(site.db, admin, priority=priority, team="complaints", title="KPI sample")
    closed = new_case(site.db, admin, team="complaints", title="KPI closed sample")
    move(site.db, admin, closed, Phase.CLOSED, outcome="withdrawn")
    new_case(site.db, admin, case_type="support_ticket", team="support", title="KPI ticket")

    sign_in(page, site.accounts["supervisor"])
    page.get_by_role("link", name="Reports").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/kpi")
    assert page.get_by_role("heading", name="Reports", level=1).is_visible()
    for title in ("Open cases by phase", "Open cases by priority", "Intake and closures per week", "Time spent per phase",
                  "SLA targets met and missed per week", "Outcomes of the cases closed, by case type"):  # fmt: skip
        assert page.get_by_role("img", name=title).is_visible(), title
    assert page.locator("#chart-open-by-phase rect").count() >= 1
    page.locator("#chart-open-by-phase summary").click()
    assert page.locator("#chart-open-by-phase table").is_visible()
    check_accessibility(page)
    screenshot(page, "kpi")

    page.get_by_label("Case type", exact=True).select_option("support_ticket")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state("networkidle")
    assert "case_type=support_ticket" in page.url

    page.get_by_label("From", exact=True).fill("2026-05-01")
    page.get_by_label("To", exact=True).fill("2026-04-01")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("alert").inner_text().count("The end date is before the start date.") == 1
    assert page.get_by_label("To", exact=True).get_attribute("aria-invalid") == "true"
    check_accessibility(page)
    screenshot(page, "kpi-error")
