"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when
CASEWORK_TEST_POSTGRES_URL is set (each pytest worker of each run gets its own schema)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from casework.store.migrate import upgrade
from casework.store.models import Base
from casework.store.unit_of_work import Database

PG_URL = os.environ.get("CASEWORK_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"] if PG_URL else ["sqlite"]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("CASEWORK_TEST_POSTGRES_URL is not set")
    from casework.config import normalise_url
    from casework.store.db import make_engine

    # The process id keeps two test runs sharing one server (two checkouts, a run and a rerun)
    # from dropping each other's schema mid-run.
    schema = f"casework_test_{_worker()}_{os.getpid()}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    sep = "&" if "?" in PG_URL else "?"
    url = normalise_url(PG_URL) + f"{sep}options=-csearch_path%3D{schema}"
    upgrade(url)
    yield url
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def _truncate_all(db: Database) -> None:
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "casework.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def db(db_url: str, backend: str) -> Iterator[Database]:
    database = Database(db_url)
    if backend == "postgres":
        _truncate_all(database)
    yield database
    database.dispose()


@pytest.fixture
def actor(db: Database) -> uuid.UUID:
    from casework.services import users

    return users.ensure_system_user(db)
