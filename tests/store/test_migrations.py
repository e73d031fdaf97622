"""Migrations build exactly the schema the models describe, and go down and up again cleanly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from casework.store.migrate import alembic_config, upgrade
from casework.store.models import Base
from casework.store.unit_of_work import Database

#: Objects the migrations create on purpose outside the models: the FTS5 index and its shadow tables.
_FTS_TABLES = {"search_fts", "search_fts_data", "search_fts_idx", "search_fts_docsize", "search_fts_config"}


def _include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    if type_ == "table" and name in _FTS_TABLES:
        return False
    if type_ == "column" and name == "tsv":  # PostgreSQL's generated tsvector column
        return False
    return not (type_ == "index" and name == "ix_search_docs_tsv")


def test_models_match_migrations(db: Database) -> None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": _include, "compare_type": False})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(db_url: str, db: Database) -> None:
    command.downgrade(alembic_config(db_url), "base")
    upgrade(db_url)
    with db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() is not None
