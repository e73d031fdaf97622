"""Opening a case through the intake form in a real browser: one validation error first, then the screening outcome."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Site, check_accessibility, screenshot, sign_in


def test_a_worker_opens_a_complaint_through_the_form(page: Any, site: Site) -> None:
    sign_in(page, site.accounts["worker"])
    page.get_by_role("link", name="New case").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/cases/new")
    check_accessibility(page)
    page.get_by_role("link", name="Customer complaint").click()
    page.wait_for_load_state("networkidle")
    assert "type=complaint" in page.url

    page.get_by_label("Title").fill("Charged twice for one purchase")
    page.get_by_label("Description").fill("The card was charged twice on 3 March.")
    page.get_by_label("Received by").select_option("phone")
    page.get_by_label("Amount claimed").fill("39.90")
    # the customer, found by name (search as you type)
    page.get_by_label("Find a customer by name").fill("Claire")
    page.get_by_label("Claire Martin (claire@example.test)").check()
    page.get_by_role("button", name="Open the case").click()  # the product is missing
    page.wait_for_load_state("networkidle")

    alert = page.get_by_role("alert")
    assert "Product concerned: This field is required." in alert.inner_text()
    product = page.get_by_label("Product concerned")
    assert product.get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Title").input_value() == "Charged twice for one purchase"  # kept
    assert page.get_by_label("Amount claimed").input_value() == "39.90"
    assert page.get_by_label("Claire Martin (claire@example.test)").is_checked()
    check_accessibility(page)
    screenshot(page, "intake")

    product.select_option("credit_card")
    page.get_by_role("button", name="Open the case").click()
    page.wait_for_load_state("networkidle")
    assert "/cases/new/done/CASE-" in page.url
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("Case CASE-") and heading.endswith("is open")
    assert page.get_by_text("Waiting for review").is_visible()
    assert page.get_by_text("Claire Martin").is_visible()
    check_accessibility(page)
    screenshot(page, "intake-done")
    reference = page.url.rsplit("/", 1)[1]
    page.get_by_role("link", name="Go to the case").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/cases/{reference}")
