"""Full-text search over title, description and notes: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

The searchable text lives in ``search_docs`` (one row per case); the index itself is kept
in sync by the database (FTS5 triggers, or a generated tsvector column).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

from sqlalchemy import ColumnElement, Float, Uuid, select, text, update
from sqlalchemy.orm import Session

from casework.domain.errors import InvalidInput
from casework.store.models import SearchDoc

_WORD = re.compile(r"\w+", re.UNICODE)


def terms(query: str) -> list[str]:
    words = _WORD.findall(query)[:20]
    if not words:
        raise InvalidInput("the search text must contain at least one word", field="q")
    return words


def searchable(body: str) -> str:
    """The words of ``body`` separated by spaces: the same split that ``terms`` applies to queries.

    FTS5's unicode61 tokenizer splits on every non-word character anyway, but PostgreSQL's
    parser reads "CASE-2026-000123" as the word "case" and the signed integers "-2026" and
    "-000123", so a search for the reference (or for "2026") would never match there.
    Indexing the words alone makes both backends tokenize documents as queries are split.
    """
    return " ".join(_WORD.findall(body))


def _fold(word: str) -> str:
    """Lower case without diacritics, as FTS5's unicode61 tokenizer compares words."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)).casefold()


def matches(query: str, body: str) -> bool:
    """Whether every word of ``query`` starts a word of ``body``: the index's prefix rule, in Python.

    Used to re-check index hits against only the text a reader may see (the index holds all of it).
    """
    words = {_fold(w) for w in _WORD.findall(body)}
    return all(any(w.startswith(t) for w in words) for t in map(_fold, terms(query)))


def index_case(session: Session, case_id: uuid.UUID, body: str) -> None:
    session.add(SearchDoc(case_id=case_id, body=searchable(body)))


def replace_body(session: Session, case_id: uuid.UUID, body: str) -> None:
    session.execute(update(SearchDoc).where(SearchDoc.case_id == case_id).values(body=searchable(body)))


def append_text(session: Session, case_id: uuid.UUID, extra: str) -> None:
    session.execute(update(SearchDoc).where(SearchDoc.case_id == case_id).values(body=SearchDoc.body + "\n" + searchable(extra)))


def matching_case_ids(dialect: str, query: str) -> Any:
    """A subquery of case ids whose text matches every word of ``query`` (prefix matching)."""
    words = terms(query)
    if dialect == "sqlite":
        expr = " AND ".join('"' + w.replace('"', "") + '"*' for w in words)
        fts = text("SELECT rowid FROM search_fts WHERE search_fts MATCH :fts_q").bindparams(fts_q=expr)
        return select(SearchDoc.case_id).where(SearchDoc.id.in_(fts))
    expr = " & ".join(w + ":*" for w in words)
    cond: ColumnElement[bool] = text("search_docs.tsv @@ to_tsquery('simple', :ts_q)").bindparams(ts_q=expr)  # type: ignore[assignment]
    return select(SearchDoc.case_id).where(cond)


def ranked_matches(dialect: str, query: str) -> Any:
    """A subquery of (case_id, rank) for every match, lower rank first, to join with a visibility filter."""
    words = terms(query)
    if dialect == "sqlite":
        expr = " AND ".join('"' + w.replace('"', "") + '"*' for w in words)
        sql = (
            "SELECT d.case_id AS case_id, bm25(search_fts) AS rank FROM search_fts f "
            "JOIN search_docs d ON d.id = f.rowid WHERE search_fts MATCH :rank_q"
        )
    else:
        expr = " & ".join(w + ":*" for w in words)
        sql = (
            "SELECT case_id, -ts_rank(tsv, to_tsquery('simple', :rank_q)) AS rank FROM search_docs "
            "WHERE tsv @@ to_tsquery('simple', :rank_q)"
        )
    return text(sql).bindparams(rank_q=expr).columns(case_id=Uuid(), rank=Float()).subquery("matches")
