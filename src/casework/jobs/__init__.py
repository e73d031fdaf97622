"""Background jobs run by a Huey consumer (``casework worker``): the SLA scan, every minute.

The queue lives in Redis when CASEWORK_REDIS_URL is set, else in a SQLite file
(CASEWORK_JOBS_PATH, by default next to the SQLite database). The tasks are in
:mod:`casework.jobs.tasks`; importing it creates the queue handle from the environment.
"""

from __future__ import annotations

from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.storage import SqliteStorage

from casework.config import Settings

QUEUE_NAME = "casework"


class LazySqliteStorage(SqliteStorage):  # type: ignore[misc]
    """Huey's SQLite storage, but the file and its tables are created on first use rather than
    when the queue handle is made (importing the tasks must not write files)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["create_tables"] = False
        super().__init__(*args, **kwargs)
        self._schema_ready = False

    def _create_connection(self) -> Any:
        conn = super()._create_connection()
        if not self._schema_ready:
            for statement in self.ddl:
                conn.execute(statement)
            self._schema_ready = True
        return conn


class LazySqliteHuey(SqliteHuey):  # type: ignore[misc]
    storage_class = LazySqliteStorage


def make_huey(settings: Settings, *, name: str = QUEUE_NAME) -> Huey:
    """A Redis-backed queue when ``settings.redis_url`` is set, else a SQLite file at ``settings.jobs_path``."""
    if settings.redis_url:
        return RedisHuey(name=name, url=settings.redis_url)
    return LazySqliteHuey(name=name, filename=settings.jobs_path)


__all__ = ["QUEUE_NAME", "LazySqliteHuey", "LazySqliteStorage", "make_huey"]
