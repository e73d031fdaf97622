"""HTTP fixtures: a FastAPI TestClient over the app bound to the parametrised test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from casework.api.app import create_app
from casework.store.unit_of_work import Database


@pytest.fixture
def api(db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(db)) as client:
        yield client
