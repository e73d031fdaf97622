"""Opening the database for entry points, and telling storage trouble apart from user errors.

Entry points such as the CLI go through this module instead of importing the store or
SQLAlchemy themselves, so the services layer stays the only door to persistence.
"""

from __future__ import annotations

from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from casework.domain.errors import InvalidInput
from casework.store.unit_of_work import Database

__all__ = ["Database", "open_database", "storage_problem"]


def open_database(url: str) -> Database:
    """A ready-to-use database handle; connections are opened lazily on first use."""
    try:
        return Database(url)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise InvalidInput(f"invalid database URL: {_first_line(exc)}", field="database_url") from exc


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def storage_problem(exc: BaseException) -> str | None:
    """A one-line explanation when ``exc`` comes from the database layer, else ``None``.

    A missing schema gets a hint to run the migrations, since that is by far the most
    common cause on a fresh installation.
    """
    if isinstance(exc, (ArgumentError, NoSuchModuleError)):
        return f"invalid database URL: {_first_line(exc)}"
    if not isinstance(exc, DBAPIError):
        return None
    detail = _first_line(exc)
    lowered = detail.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return f"the database has no casework schema ({detail}); run `casework db upgrade` first"
    return f"database error: {detail}"
