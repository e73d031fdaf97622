"""HTTP fixtures: a FastAPI TestClient over the app bound to the parametrised test database.

``api`` is signed in as an administrator through a personal API token; ``anon`` sends no
credentials; ``client_for`` builds a client for any other principal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from casework.api.app import create_app
from casework.domain.access import Principal, Scope
from casework.services import auth, users
from casework.store.unit_of_work import Database


@pytest.fixture
def app_for(db: Database):  # type: ignore[no-untyped-def]
    return create_app(db)


@pytest.fixture
def client_for(db: Database, app_for) -> Iterator[Callable[..., TestClient]]:  # type: ignore[no-untyped-def]
    made: list[TestClient] = []

    def make(who: Principal | None, scope: Scope = Scope.WRITE) -> TestClient:
        client = TestClient(app_for, base_url="https://testserver")
        if who is not None:
            token = auth.create_token(db, who, "tests", scope)
            client.headers["Authorization"] = f"Bearer {token.token}"
        client.__enter__()
        made.append(client)
        return client

    yield make
    for client in made:
        client.__exit__(None, None, None)


@pytest.fixture
def api(db: Database, client_for: Callable[..., TestClient]) -> TestClient:
    return client_for(users.system_principal(db))


@pytest.fixture
def anon(client_for: Callable[..., TestClient]) -> TestClient:
    return client_for(None)
