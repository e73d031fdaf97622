"""Unit of work: one database transaction per user action, committed or rolled back whole."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from casework.audit.log import forget_head
from casework.domain.errors import DomainError, StaleVersion
from casework.store.db import WRITE_OPTION, make_engine


class Database:
    """Owns the engine and hands out transactional sessions; services are its only callers."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self._writer = sessionmaker(bind=self.engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False, autoflush=True)
        self._reader = sessionmaker(bind=self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        session = self._writer()
        try:
            with session.begin():
                yield session
        except StaleDataError as exc:
            raise StaleVersion("the record was changed by someone else meanwhile; reload and retry", field="version") from exc
        except IntegrityError as exc:
            raise DomainError("the change conflicts with data written meanwhile; reload and retry") from exc
        finally:
            forget_head(session)
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._reader()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
