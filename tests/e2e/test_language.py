"""Choosing the interface language: kept on the account, so it follows the user to another browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from casework.domain.access import Role
from tests.e2e.conftest import Site, _account, sign_in

FRENCH_CATALOG = Path(__file__).resolve().parents[2] / "src" / "casework" / "web" / "locale" / "fr" / "LC_MESSAGES" / "messages.po"


def _new_page(browser: Any, site: Site) -> Any:
    context = browser.new_context(base_url=site.url, locale="en-GB")
    context.set_default_timeout(10_000)
    return context.new_page()


def _switch_to_french(page: Any) -> None:
    page.locator("#lang-select").select_option("fr")
    page.locator('form[action="/language"] button[type="submit"]').click()
    page.wait_for_load_state("networkidle")


def test_the_chosen_language_is_kept_on_the_account(browser: Any, site: Site) -> None:
    account = _account(site.db, site.admin, "polyglot", Role.CASE_WORKER, teams=["complaints"], name="Paula Polyglot")
    page = _new_page(browser, site)
    try:
        sign_in(page, account)
        assert page.locator("html").get_attribute("lang") == "en"
        _switch_to_french(page)
        assert page.url.endswith("/dashboard")  # back where the user was
        assert page.locator("html").get_attribute("lang") == "fr"
        response = page.goto("/dashboard")
        assert response is not None and response.headers.get("content-language") == "fr"
        page.locator('form[action="/logout"] button').click()
        page.wait_for_load_state("networkidle")
        assert "/login" in page.url
    finally:
        page.context.close()

    # another browser (no language cookie, an English browser): the account's choice applies after signing in
    fresh = _new_page(browser, site)
    try:
        sign_in(fresh, account)
        assert fresh.locator("html").get_attribute("lang") == "fr"
        response = fresh.goto("/dashboard")
        assert response is not None and response.headers.get("content-language") == "fr"
        assert fresh.locator("#lang-select").input_value() == "fr"
    finally:
        fresh.context.close()


def test_french_words(browser: Any, site: Site) -> None:
    if not FRENCH_CATALOG.is_file():
        pytest.skip("French catalog not yet shipped")
    account = _account(site.db, site.admin, "francophone", Role.CASE_WORKER, teams=["complaints"], name="Françoise")
    page = _new_page(browser, site)
    try:
        sign_in(page, account)
        _switch_to_french(page)
        assert page.locator("html").get_attribute("lang") == "fr"
        assert page.get_by_role("button", name="Se déconnecter").is_visible()
    finally:
        page.context.close()
