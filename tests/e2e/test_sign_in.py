"""Signing in and out in a real browser, keyboard only where a user would use it."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import PASSWORD, Site, check_accessibility, screenshot, sign_in


def test_sign_in_page_is_accessible_and_refuses_a_wrong_password(page: Any, site: Site) -> None:
    page.goto("/")
    assert page.url.endswith("/login")
    check_accessibility(page)
    page.get_by_label("Email address").fill(site.accounts["worker"].email)
    page.get_by_label("Password").fill("not the password at all")
    page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("alert").inner_text().startswith("The email address or password is not right")
    assert page.get_by_label("Email address").input_value() == site.accounts["worker"].email
    screenshot(page, "login-error")


def test_staff_go_to_the_dashboard_and_customers_to_the_portal(page: Any, site: Site) -> None:
    sign_in(page, site.accounts["worker"])
    assert page.url.endswith("/dashboard")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/login")
    page.goto("/dashboard")
    assert "/login?next=/dashboard" in page.url
    page.get_by_label("Email address").fill(site.accounts["customer"].email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
    assert "/dashboard" in page.url or "/portal" in page.url
