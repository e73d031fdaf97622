"""The staff dashboard in a real browser: filter the queue live, save the filters, bulk-assign two cases."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import expect

from casework.services import cases
from tests.e2e.conftest import Site, check_accessibility, screenshot, sign_in
from tests.factories import new_case


def test_a_worker_filters_saves_and_bulk_assigns(page: Any, site: Site) -> None:
    marker = "zeph" + uuid.uuid4().hex[:6]  # a word only this test's cases hold (the site is shared)
    one = new_case(site.db, site.admin, title=f"Card refund {marker}", priority="P2", team="complaints")
    two = new_case(site.db, site.admin, title=f"Late fee {marker}", priority="P1", team="complaints")
    new_case(site.db, site.admin, title="Unrelated complaint", priority="P1", team="complaints")
    new_case(site.db, site.admin, title=f"Mine {marker}", team="complaints", assignee_id=site.accounts["worker"].id)

    sign_in(page, site.accounts["worker"])
    assert page.url.endswith("/dashboard")
    expect(page.get_by_role("heading", name="Work queue", level=1)).to_be_visible()
    check_accessibility(page)

    page.get_by_role("link", name="My teams").click()
    page.wait_for_load_state("networkidle")
    page.get_by_label("Search", exact=True).fill(marker)  # the list follows the typing (HTMX), no submit needed
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(3)
    page.get_by_label("Priority", exact=True).select_option("P1")
    expect(rows).to_have_count(1)
    page.get_by_label("Priority", exact=True).select_option("")
    expect(rows).to_have_count(3)
    assert re.search(r"[?&]q=" + marker, page.url) and "view=team" in page.url  # bookmarkable
    expect(rows.first).to_contain_text(two.reference)  # P1 first

    page.get_by_label("Save these filters as").fill(f"Search {marker}")
    page.get_by_role("button", name="Save filters").click()
    page.wait_for_load_state("networkidle")
    saved = page.get_by_role("link", name=f"Search {marker}")
    expect(saved).to_be_visible()

    page.get_by_label(f"Select {one.reference}").check()
    page.get_by_label(f"Select {two.reference}").check()
    page.get_by_label("Assign selected cases to").select_option(label="Walt Worker")
    page.get_by_role("button", name="Assign selected").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("status")).to_contain_text("2 cases assigned to Walt Worker.")
    expect(page.locator("#results tbody tr", has_text=one.reference)).to_contain_text("Walt Worker")
    check_accessibility(page)
    screenshot(page, "dashboard")

    walt = site.accounts["worker2"].id
    assert cases.get_case(site.db, site.admin, one.id).assignee_id == walt
    assert cases.get_case(site.db, site.admin, two.id).assignee_id == walt

    saved.click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_label("Search", exact=True)).to_have_value(marker)
    expect(rows).to_have_count(3)
