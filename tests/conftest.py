"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when
CASEWORK_TEST_POSTGRES_URL is set (each pytest worker of each run gets its own schema).

SQLite test databases live in RAM (/dev/shm) when the machine has it: they keep WAL mode and
synchronous=FULL, but a commit's fsync costs nothing there, and since reading a case is an
audited write, commits are most of the suite's time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from casework.config import default_storage_dir
from casework.domain.access import Principal
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
def sqlite_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the per-test SQLite files go: RAM when available, else pytest's temporary directory."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path_factory.mktemp("sqlite")
        return
    path = Path(tempfile.mkdtemp(prefix="casework-test-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def fresh_sqlite(template: Path, directory: Path) -> Path:
    """A copy of the migrated template; ``remove_sqlite`` deletes it with its WAL files."""
    target = directory / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(template, target)
    return target


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


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
def db_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    if backend == "sqlite":
        target = fresh_sqlite(request.getfixturevalue("sqlite_template"), request.getfixturevalue("sqlite_dir"))
        yield f"sqlite:///{target}"
        remove_sqlite(target)
        shutil.rmtree(default_storage_dir(f"sqlite:///{target}"), ignore_errors=True)
        return
    url: str = request.getfixturevalue("postgres_url")
    # Document files of a SQLite database sit next to its file; a PostgreSQL test gets a folder of its own.
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setenv("CASEWORK_STORAGE_DIR", str(request.getfixturevalue("tmp_path") / "files"))
    yield url


@pytest.fixture
def db(db_url: str, backend: str) -> Iterator[Database]:
    database = Database(db_url)
    if backend == "postgres":
        _truncate_all(database)
    yield database
    database.dispose()


@pytest.fixture
def storage_dir(db_url: str) -> Path:
    """Where the test database's document files go (created on the first upload)."""
    from casework.config import storage_dir_for

    return Path(storage_dir_for(db_url))


@pytest.fixture
def actor(db: Database) -> Principal:
    """The built-in system account: an administrator who sees every case."""
    from casework.services import users

    return users.system_principal(db)


@pytest.fixture
def cli(db_url: str, db: Database):  # type: ignore[no-untyped-def]
    """The ``casework`` command line on the test database: ``cli("cases", "list", expect=0)``."""
    from tests.cli_support import invoke

    def run(*args: str, expect: int | None = 0, input: str | None = None):  # type: ignore[no-untyped-def]
        return invoke(db_url, *args, expect=expect, input=input)

    return run
