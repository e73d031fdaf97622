"""Engine set-up with the durability settings the project promises.

SQLite runs in WAL mode with synchronous=FULL; write transactions start with
BEGIN IMMEDIATE so the audit chain head is read under the write lock.
PostgreSQL runs with synchronous_commit on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool

from casework.config import normalise_url, sqlite_mmap_bytes

WRITE_OPTION = "casework_write"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=kwargs.pop("poolclass", None) or _sqlite_pool(url),
            **kwargs,
        )
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)

        @event.listens_for(engine, "connect")
        def _pg_connect(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute("SET synchronous_commit TO on")
                # psycopg prepares statements after a few runs; PostgreSQL's generic plan for a
                # search ignores the words and walks the created_at index (200 ms instead of 4 ms
                # for a rare word over 100 000 cases, measured by bench/cases.py). Plan each time.
                cur.execute("SET plan_cache_mode TO force_custom_plan")
            dbapi_conn.commit()

    return engine


def _sqlite_pool(url: str) -> Any:
    from sqlalchemy.pool import QueuePool, StaticPool

    if url in ("sqlite://", "sqlite:///:memory:"):
        return StaticPool
    return QueuePool


def _configure_sqlite(engine: Engine) -> None:
    mmap_bytes = sqlite_mmap_bytes()  # a bad value fails when the engine is made, not on first use

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so we can say BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # Reads go through memory mapping (writes still go through the WAL as before).
        cur.execute(f"PRAGMA mmap_size={mmap_bytes:d}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


__all__ = ["WRITE_OPTION", "NullPool", "is_sqlite", "make_engine"]
