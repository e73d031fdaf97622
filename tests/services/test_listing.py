"""Listing cases: every filter, every sort key with cursor pagination, and full-text search."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from typing import Any

import pytest

from casework.domain.access import Principal
from casework.domain.errors import InvalidInput
from casework.domain.lifecycle import Phase
from casework.services import cases, notes, parties
from casework.services.schemas import (
    CaseFilter,
    CaseUpdate,
    CaseView,
    NoteCreate,
    PartyCreate,
    SortKey,
)
from casework.store.unit_of_work import Database
from tests.factories import make_account, move, new_case

T0 = dt.datetime(2026, 2, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def population(db: Database, actor: Principal) -> list[CaseView]:
    """Fourteen cases with ties in every sort column and gaps (None) in due date and risk score."""
    worker = make_account(db, actor, "wes@example.org")
    kinds = ["complaint", "support_ticket", "onboarding", "disputed_transaction"]
    made = []
    for i in range(14):
        made.append(
            new_case(
                db,
                actor,
                # Pairs of cases share an opening time, so created_at and updated_at have ties.
                opened_at=T0 + dt.timedelta(days=i // 2),
                case_type=kinds[i % 4],
                title=f"Case number {i}",
                priority=f"P{1 + i % 4}",
                risk_score=None if i % 5 == 0 else (i * 7) % 50,
                due_date=None if i % 3 == 0 else f"2026-03-{1 + i % 4:02d}",
                assignee_id=worker.id if i % 2 else None,
                team="fraud" if i % 3 == 1 else None,
            )
        )
    return [cases.get_case(db, actor, c.id) for c in made]


def _sort_value(view: CaseView, field: str) -> Any:
    value = getattr(view, field)
    if field == "due_date" and value is None:
        return dt.date(9999, 12, 31)
    if field == "risk_score" and value is None:
        return -1
    if field == "priority":
        return value.value
    return value


def _expected_order(views: list[CaseView], key: SortKey) -> list[uuid.UUID]:
    field = key.value.lstrip("-")
    # Ties are broken by id; UUIDs order the same way as their hex text on both backends.
    ordered = sorted(views, key=lambda v: (_sort_value(v, field), v.id.hex))
    if key.value.startswith("-"):
        ordered.reverse()
    return [v.id for v in ordered]


def _walk(db: Database, actor: Principal, f: CaseFilter, key: SortKey, limit: int) -> list[list[uuid.UUID]]:
    pages, cursor = [], None
    while True:
        page = cases.list_cases(db, actor, f, sort=key, cursor=cursor, limit=limit)
        pages.append([v.id for v in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages
        assert len(pages) < 100, "pagination does not terminate"


def test_each_sort_key_pages_through_everything_in_order(db: Database, actor: Principal, population: list[CaseView]) -> None:
    # One population for all twelve keys: building it is the slow part on PostgreSQL.
    for key in SortKey:
        pages = _walk(db, actor, CaseFilter(), key, limit=4)
        walked = [cid for page in pages for cid in page]
        assert len(walked) == len(set(walked)), f"{key.value}: a case appeared on two pages"
        assert set(walked) == {v.id for v in population}, f"{key.value}: a case was skipped"
        assert walked == _expected_order(population, key), f"{key.value}: wrong order"
        assert [len(p) for p in pages] == [4, 4, 4, 2], key.value


def test_pagination_respects_filters(db: Database, actor: Principal, population: list[CaseView]) -> None:
    fraud = [v for v in population if v.team == "fraud"]
    assert len(fraud) == 5
    for key in (SortKey.PRIORITY, SortKey.DUE_DESC, SortKey.RISK, SortKey.UPDATED_DESC):
        walked = [cid for page in _walk(db, actor, CaseFilter(team="fraud"), key, limit=2) for cid in page]
        assert walked == _expected_order(fraud, key), key.value


def test_page_size_exactly_fills_the_last_page(db: Database, actor: Principal, population: list[CaseView]) -> None:
    pages = _walk(db, actor, CaseFilter(), SortKey.REFERENCE, limit=7)
    assert [len(p) for p in pages] == [7, 7]


def test_default_order_is_newest_first(db: Database, actor: Principal, population: list[CaseView]) -> None:
    page = cases.list_cases(db, actor, CaseFilter())
    assert [v.id for v in page.items] == _expected_order(population, SortKey.CREATED_DESC)
    assert page.next_cursor is None


def _cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("key", "cursor"),
    [
        (SortKey.CREATED, "not base64 at all!"),
        (SortKey.CREATED, _cursor("-created_at", "2026-01-01T00:00:00+00:00", str(uuid.uuid4()))),  # another sort
        (SortKey.CREATED, _cursor("created_at", "yesterday", str(uuid.uuid4()))),
        (SortKey.CREATED, _cursor("created_at", "0001-01-01T00:00:00+05:00", str(uuid.uuid4()))),  # overflows in UTC
        (SortKey.CREATED, _cursor("created_at", "2026-01-01T00:00:00", 12345)),
        (SortKey.DUE, _cursor("due_date", "2026-02-30", str(uuid.uuid4()))),
        (SortKey.RISK, _cursor("risk_score", 10**30, str(uuid.uuid4()))),
        (SortKey.RISK, _cursor("risk_score", "12", str(uuid.uuid4()))),
        (SortKey.REFERENCE, _cursor("reference", "CASE\x00", str(uuid.uuid4()))),
        (SortKey.REFERENCE, _cursor("reference", "\ud800", str(uuid.uuid4()))),
        (SortKey.REFERENCE, _cursor("reference", None, str(uuid.uuid4()))),
        (SortKey.REFERENCE, _cursor("reference", "x", "not-a-uuid")),
        (SortKey.REFERENCE, _cursor({"a": 1}, 2, 3)),
        (SortKey.REFERENCE, base64.urlsafe_b64encode(b'{"a": 1}').decode()),
        (SortKey.REFERENCE, base64.urlsafe_b64encode(b"\xff\xfe").decode()),
    ],
)
def test_malformed_cursors_are_invalid_input(db: Database, actor: Principal, key: SortKey, cursor: str) -> None:
    with pytest.raises(InvalidInput) as info:
        cases.list_cases(db, actor, CaseFilter(), sort=key, cursor=cursor)
    assert info.value.field == "cursor"
    assert info.value.status == 422


def test_filters(db: Database, actor: Principal, population: list[CaseView]) -> None:
    def ids(**kw: Any) -> set[uuid.UUID]:
        f = CaseFilter(**kw)
        found = {v.id for v in cases.list_cases(db, actor, f, limit=500).items}
        assert cases.count_cases(db, actor, f) == len(found)
        return found

    def where(pred: Any) -> set[uuid.UUID]:
        return {v.id for v in population if pred(v)}

    closed = move(db, actor, population[0], Phase.CLOSED, outcome="withdrawn")
    assessed = move(db, actor, population[1], Phase.ASSESSMENT)
    worker = population[1].assignee_id
    assert worker is not None

    assert ids(status="closed") == {closed.id}
    assert ids(status="open") == where(lambda v: v.id != closed.id)
    # Onboarding's screening is automatic: those cases were opened straight into assessment.
    assert ids(phase="assessment") == {assessed.id} | where(lambda v: v.phase is Phase.ASSESSMENT)
    assert ids(case_type="onboarding") == where(lambda v: v.case_type == "onboarding")
    assert ids(priority="P1") == where(lambda v: v.priority.value == "P1")
    assert ids(assignee_id=worker) == where(lambda v: v.assignee_id == worker)
    assert ids(team="fraud") == where(lambda v: v.team == "fraud")
    assert ids(created_from="2026-02-03", created_to="2026-02-04") == where(
        lambda v: dt.date(2026, 2, 3) <= v.created_at.date() <= dt.date(2026, 2, 4)
    )
    assert len(ids(created_from="2026-02-03", created_to="2026-02-04")) == 4
    assert ids(due_from="2026-03-02", due_to="2026-03-03") == where(
        lambda v: v.due_date is not None and dt.date(2026, 3, 2) <= v.due_date <= dt.date(2026, 3, 3)
    )
    assert ids(status="open", priority="P2", team="fraud") == where(
        lambda v: v.id != closed.id and v.priority.value == "P2" and v.team == "fraud"
    )
    assert ids(created_from="2030-01-01") == set()


def test_filter_by_customer(db: Database, actor: Principal) -> None:
    person = parties.create_party(db, actor, PartyCreate(name="Dana"))
    mine = new_case(db, actor, customer_party_id=person.id)
    new_case(db, actor)
    assert [v.id for v in cases.list_cases(db, actor, CaseFilter(customer_party_id=person.id)).items] == [mine.id]


# ------------------------------------------------------------------ full-text search


@pytest.fixture
def searchable(db: Database, actor: Principal) -> dict[str, CaseView]:
    made = {
        "refund": new_case(db, actor, title="Refund requested for broken kettle", description="Customer wants money back"),
        "fraud": new_case(db, actor, title="Suspicious transfer", description="Possible account takeover via phishing"),
        "plain": new_case(db, actor, title="Address change", description="Moved house"),
    }
    notes.add_note(db, actor, made["plain"].id, NoteCreate(body="Called the landlord about the tenancy agreement"))
    return made


SEARCHES = [
    ("kettle", {"refund"}),  # title
    ("phishing", {"fraud"}),  # description
    ("landlord", {"plain"}),  # note
    ("refu", {"refund"}),  # prefix
    ("TENAN", {"plain"}),  # prefix, any case
    ("phish takeover", {"fraud"}),  # all words must match
    ("kettle phishing", set()),
    ("nothing-like-this", set()),
]


def test_search_finds_words_in_title_description_and_notes(db: Database, actor: Principal, searchable: dict[str, CaseView]) -> None:
    by_id = {v.id: name for name, v in searchable.items()}
    for query, expected in SEARCHES:
        assert {by_id[v.id] for v in cases.search_cases(db, actor, query)} == expected, query
        assert {by_id[v.id] for v in cases.list_cases(db, actor, CaseFilter(q=query)).items} == expected, query


def test_search_by_reference_and_limit(db: Database, actor: Principal, searchable: dict[str, CaseView]) -> None:
    ref = searchable["fraud"].reference
    assert [v.id for v in cases.search_cases(db, actor, ref)] == [searchable["fraud"].id]
    assert len(cases.search_cases(db, actor, "CASE", limit=2)) == 2


def test_search_follows_edits_and_keeps_notes(db: Database, actor: Principal, searchable: dict[str, CaseView]) -> None:
    plain = searchable["plain"]
    cases.update_case(db, actor, plain.id, CaseUpdate(title="Relocation paperwork", version=plain.version))
    assert cases.search_cases(db, actor, "address") == []
    assert [v.id for v in cases.search_cases(db, actor, "relocat")] == [plain.id]
    assert [v.id for v in cases.search_cases(db, actor, "landlord")] == [plain.id]  # notes survive re-indexing


@pytest.mark.parametrize("query", ["", "   ", "!!! ???", "*"])
def test_search_without_words_is_invalid_input(db: Database, actor: Principal, query: str) -> None:
    with pytest.raises(InvalidInput) as info:
        cases.search_cases(db, actor, query)
    assert info.value.field == "q"


def test_search_text_with_query_syntax_is_taken_literally(db: Database, actor: Principal, searchable: dict[str, CaseView]) -> None:
    # None of these may raise a syntax error in FTS5 or in to_tsquery.
    for query in ['"quoted"', "NEAR AND OR NOT", "a:b & c | !d", "o'brien", "-1999", "x" * 200]:
        assert cases.search_cases(db, actor, query) == [], query
    for query in ["kettle*", "(refund)", "kettle:*", "'broken' & !kettle"]:
        assert [v.id for v in cases.search_cases(db, actor, query)] == [searchable["refund"].id], query
