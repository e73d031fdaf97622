"""Signing in and out of the web interface, the language choice, and HTML error pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from casework.api.security import SESSION_COOKIE
from casework.domain.access import Role
from casework.services import accounts
from casework.store.unit_of_work import Database
from tests.web.conftest import PASSWORD, Browser


def _client(web_app: Any) -> TestClient:
    return TestClient(web_app, base_url="http://testserver")


def test_start_page_sends_strangers_to_sign_in(web_app: Any) -> None:
    with _client(web_app) as c:
        r = c.get("/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        page = c.get("/login", headers={"Accept-Language": "nl-BE,nl;q=0.9"})
        assert page.status_code == 200 and '<html lang="nl">' in page.text and page.headers["content-language"] == "nl"
        assert '<label for="email">' in page.text and '<label for="password">' in page.text


def test_wrong_password_is_refused_at_the_form_with_the_email_kept(signed_in: Callable[..., Browser], web_app: Any) -> None:
    user = signed_in(Role.CASE_WORKER, email="wendy@example.test")
    with _client(web_app) as c:
        r = c.post("/login", data={"email": "wendy@example.test", "password": "wrong password here"})
        assert r.status_code == 401 and "The email address or password is not right." in r.text
        assert 'value="wendy@example.test"' in r.text and SESSION_COOKIE not in r.cookies
        r = c.post("/login", data={"email": "", "password": ""})
        assert r.status_code == 422 and "Enter your email address and password." in r.text
        r = c.post("/login", data={"email": "x" * 5000 + "@example.test", "password": "y" * 50000})
        assert r.status_code == 401
    assert user.principal.role is Role.CASE_WORKER


def test_sign_in_follows_a_local_next_url_only(signed_in: Callable[..., Browser], web_app: Any, db: Database, admin: Any) -> None:
    accounts.create_account(
        db, admin, accounts.AccountCreate(name="Nora", email="nora@example.test", role=Role.CASE_WORKER, password=PASSWORD)
    )
    for target, expected in (
        ("/kpi?x=1", "/kpi?x=1"),
        ("https://evil.example/", "/dashboard"),
        ("//evil.example", "/dashboard"),
        ("/\\evil", "/dashboard"),
    ):
        with _client(web_app) as c:
            r = c.post("/login", data={"email": "nora@example.test", "password": PASSWORD, "next": target}, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == expected, target


def test_customers_start_in_the_portal(web_app: Any, db: Database, admin: Any) -> None:
    from casework.services import parties
    from casework.services.schemas import PartyCreate

    party = parties.create_party(db, admin, PartyCreate(name="Claire Martin"))
    accounts.create_account(
        db,
        admin,
        accounts.AccountCreate(name="Claire", email="claire@example.test", role=Role.CUSTOMER, party_id=party.id, password=PASSWORD),
    )
    with _client(web_app) as c:
        r = c.post("/login", data={"email": "claire@example.test", "password": PASSWORD}, follow_redirects=False)
        assert r.headers["location"] == "/portal"
        assert c.get("/", follow_redirects=False).headers["location"] == "/portal"


def test_sign_out_needs_the_csrf_token_and_ends_the_session(signed_in: Callable[..., Browser]) -> None:
    user = signed_in(Role.CASE_WORKER)
    refused = user.post("/logout", csrf=False)
    assert refused.status_code == 403 and "reload the page" in refused.text
    forged = user.post("/logout", {"csrf_token": "forged"})
    assert forged.status_code == 403
    assert user.get("/", follow_redirects=False).headers["location"] == "/dashboard"  # still signed in
    done = user.post("/logout", follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    after = user.get("/nowhere-in-particular", follow_redirects=False)
    assert "Sign out" not in after.text
    htmx = user.post("/logout", htmx=True, follow_redirects=False)  # the session is gone: sign in again
    assert htmx.headers.get("HX-Redirect", "").startswith("/login")


def test_language_choice_is_stored_on_the_account(signed_in: Callable[..., Browser], db: Database, admin: Any) -> None:
    user = signed_in(Role.CASE_WORKER)
    r = user.post("/language", {"lang": "pl", "back": "/nowhere"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/nowhere"
    assert accounts.get_account(db, admin, str(user.principal.user_id)).locale == "pl"
    page = user.get("/nowhere", headers={"Accept-Language": "fr"})
    assert '<html lang="pl">' in page.text  # the account's choice beats the browser
    bad = user.post("/language", {"lang": "<script>alert(1)</script>"})
    assert bad.status_code == 422 and "<script>alert(1)" not in bad.text and "&lt;script&gt;" in bad.text
    user.post("/language", {"lang": ""})
    assert accounts.get_account(db, admin, str(user.principal.user_id)).locale is None
    assert '<html lang="fr">' in user.get("/nowhere", headers={"Accept-Language": "fr"}).text


def test_errors_are_html_on_pages_and_problem_json_on_the_api(signed_in: Callable[..., Browser]) -> None:
    user = signed_in(Role.CASE_WORKER)
    page = user.get("/no/such/page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html") and "Not found" in page.text
    api = user.get("/api/v1/no/such/route")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    assert user.get("/static/casework.css").headers["content-type"].startswith("text/css")
    assert user.get("/static/htmx.min.js").status_code == 200
