"""Two people edit the same case at once: the second save is a conflict that keeps what they typed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from casework.services import cases
from tests.e2e.conftest import Site, check_accessibility, open_page, screenshot, sign_in
from tests.factories import new_case


@pytest.fixture
def second_page(browser: Any, site: Site) -> Iterator[Any]:
    with open_page(browser, site) as pg:
        yield pg


def _open_editor(page: Any, reference: str) -> None:
    page.goto(f"/cases/{reference}")
    page.get_by_text("Edit details").click()
    page.locator("#edit-title").wait_for(state="visible")


def test_the_second_save_shows_the_conflict_and_keeps_the_typed_text(page: Any, second_page: Any, site: Site) -> None:
    wendy, walt = site.accounts["worker"], site.accounts["worker2"]
    case = new_case(site.db, wendy.principal, team="complaints", title="Card blocked abroad")
    sign_in(page, wendy)
    sign_in(second_page, walt)
    _open_editor(page, case.reference)
    _open_editor(second_page, case.reference)

    page.locator("#edit-title").fill("Card blocked in Spain")
    second_page.locator("#edit-title").fill("Card blocked abroad, customer stranded")
    second_page.locator("#edit-description").fill("Needs a replacement card within 48 hours.")

    page.get_by_role("button", name="Save details").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", level=1).inner_text() == "Card blocked in Spain"

    second_page.get_by_role("button", name="Save details").click()
    second_page.wait_for_load_state("networkidle")
    alert = second_page.locator("#edit-conflict")
    assert "This case was changed by someone else while you were editing." in alert.inner_text()
    assert second_page.locator("#edit-title").input_value() == "Card blocked abroad, customer stranded"
    assert second_page.locator("#edit-description").input_value() == "Needs a replacement card within 48 hours."
    assert "Card blocked in Spain" in second_page.locator("#edit-title-current").inner_text()
    assert cases.get_case(site.db, site.admin, case.id).title == "Card blocked in Spain"
    check_accessibility(second_page)
    screenshot(second_page, "case-edit-conflict")

    # Having seen the other change, saving again replaces it on purpose.
    second_page.get_by_role("button", name="Save details").click()
    second_page.wait_for_load_state("networkidle")
    assert second_page.get_by_role("heading", level=1).inner_text() == "Card blocked abroad, customer stranded"
    saved = cases.get_case(site.db, site.admin, case.id)
    assert saved.title == "Card blocked abroad, customer stranded" and saved.description == "Needs a replacement card within 48 hours."
