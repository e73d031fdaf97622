"""Page tests without a browser: the application through TestClient, signed in through the real
sign-in form so that the session cookie and CSRF token are the ones a browser would get."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from casework.api.app import create_app
from casework.domain.access import Principal, Role
from casework.services import accounts, auth, users
from casework.store.unit_of_work import Database

PASSWORD = "correct horse battery staple 42"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A signed-in TestClient that knows its CSRF token and principal."""

    def __init__(self, client: TestClient, principal: Principal, csrf: str) -> None:
        self.client = client
        self.principal = principal
        self.csrf = csrf

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, *, htmx: bool = False, csrf: bool = True, **kw: Any) -> Any:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        headers = dict(kw.pop("headers", {}) or {})
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.post(url, data=form, headers=headers, **kw)


@pytest.fixture
def web_app(db: Database, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CASEWORK_COOKIE_SECURE", "0")  # the test client speaks plain http
    return create_app(db)


@pytest.fixture
def admin(db: Database) -> Principal:
    return users.system_principal(db)


@pytest.fixture
def signed_in(db: Database, web_app: Any, admin: Principal) -> Iterator[Callable[..., Browser]]:
    """``signed_in(role, teams=[...], party_id=..., email=...)`` → a Browser for a new account."""
    made: list[TestClient] = []

    def make(role: Role = Role.CASE_WORKER, *, email: str | None = None, **extra: Any) -> Browser:
        email = email or f"{role.value}-{len(made)}@example.test"
        view = accounts.create_account(
            db,
            admin,
            accounts.AccountCreate(name=extra.pop("name", email.split("@")[0]), email=email, role=role, password=PASSWORD, **extra),
        )
        client = TestClient(web_app, base_url="http://testserver")
        client.__enter__()
        made.append(client)
        signed = client.post("/login", data={"email": email, "password": PASSWORD}, follow_redirects=False)
        assert signed.status_code == 303, signed.text[:500]
        page = client.get("/csrf-probe")  # any page shows the signed-in header, a missing one too
        found = CSRF.search(page.text)
        assert found, "no CSRF token on the start page"
        return Browser(client, auth.load_principal(db, view.id), found.group(1))

    yield make
    for client in made:
        client.__exit__(None, None, None)
