"""The audit chain detects tampering done behind the application's back, on both backends.

The table is append-only: database triggers refuse UPDATE and DELETE, so each tamper test
first drops the trigger (as an attacker with DDL rights could), then edits rows with raw
SQL, and checks that verification names the first entry that no longer fits.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from itertools import pairwise

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from casework.api.app import create_app
from casework.audit.chain import GENESIS, Record, compute_hash, verify
from casework.domain.access import Principal, Role, Scope
from casework.domain.lifecycle import Phase
from casework.services import auth, history, notes
from casework.services.schemas import NoteCreate
from casework.store.unit_of_work import Database
from tests.factories import audit_count, move, new_case, principal

_PG_TRIGGER = (
    "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION casework_audit_append_only()"
)


@pytest.fixture
def chain(db: Database, actor: Principal) -> int:
    """A chain of entries: user, case-type installation, two cases with their intake decisions, notes and
    transitions. Returns its length."""
    one, two = new_case(db, actor, team="complaints"), new_case(db, actor, title="Second", team="complaints")
    notes.add_note(db, actor, one.id, NoteCreate(body="first note"))
    one = move(db, actor, one, Phase.ASSESSMENT)
    notes.add_note(db, actor, two.id, NoteCreate(body="second note"))
    move(db, actor, one, Phase.SCREENING, reason="intake was incomplete")
    notes.add_note(db, actor, one.id, NoteCreate(body="third note"))
    move(db, actor, two, Phase.CLOSED, outcome="withdrawn")
    notes.add_note(db, actor, two.id, NoteCreate(body="after closing"))
    count = audit_count(db)
    # system user, case type, 2 x (case + screening decision), 4 notes, 3 moves, a next-action decision on entering
    # assessment and screening again
    assert count == 1 + 1 + 2 * 2 + 4 + 3 + 2
    return count


@pytest.fixture
def unguarded(db: Database, backend: str) -> Iterator[Database]:
    """The database with the append-only triggers dropped (restored afterwards on PostgreSQL,
    whose schema outlives the test; each SQLite test has its own file)."""
    with db.engine.begin() as conn:
        if backend == "sqlite":
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
            conn.execute(text("DROP TRIGGER audit_entries_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_entries_append_only ON audit_entries"))
    try:
        yield db
    finally:
        if backend == "postgres":
            with db.engine.begin() as conn:
                conn.execute(text(_PG_TRIGGER))


def _sql(db: Database, statement: str, **params: object) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_an_intact_chain_verifies(db: Database, chain: int, actor: Principal) -> None:
    report = history.verify_audit(db, actor)
    assert report.ok
    assert (report.checked, report.first_bad_seq, report.problem) == (chain, None, None)
    assert report.message == f"audit chain intact: {chain} entries verified"


def test_entries_link_each_to_the_one_before(db: Database, chain: int) -> None:
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, prev_hash, hash FROM audit_entries ORDER BY seq")).all()
    assert [r.seq for r in rows] == list(range(1, chain + 1))
    assert rows[0].prev_hash == GENESIS
    for before, after in pairwise(rows):
        assert after.prev_hash == before.hash
    assert len({r.hash for r in rows}) == chain


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_entries SET action = 'case.forged' WHERE seq = 3", "DELETE FROM audit_entries WHERE seq = 3"]
)
def test_the_table_refuses_update_and_delete(db: Database, chain: int, statement: str, actor: Principal) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(db, statement)
    assert history.verify_audit(db, actor).ok
    assert audit_count(db) == chain


def test_altered_data_is_named(unguarded: Database, chain: int, backend: str, actor: Principal) -> None:
    with unguarded.engine.connect() as conn:
        data = conn.execute(text("SELECT data FROM audit_entries WHERE seq = 4")).scalar_one()
    if isinstance(data, str):
        data = json.loads(data)
    data["body"] = "a different note"
    cast = "CAST(:d AS JSON)" if backend == "postgres" else ":d"
    _sql(unguarded, f"UPDATE audit_entries SET data = {cast} WHERE seq = 4", d=json.dumps(data))
    report = history.verify_audit(unguarded, actor)
    assert not report.ok
    assert report.first_bad_seq == 4
    assert report.checked == 3
    assert "altered" in (report.problem or "")
    assert report.message.startswith("audit chain broken at entry 4")


@pytest.mark.parametrize(
    ("column", "value"),
    [("action", "case.forged"), ("actor_id", str(uuid.UUID(int=1))), ("case_id", None), ("at", "2020-01-01 00:00:00")],
)
def test_altered_fields_are_named(unguarded: Database, chain: int, backend: str, column: str, value: object, actor: Principal) -> None:
    if column.endswith("_id") and value is not None and backend == "sqlite":
        value = uuid.UUID(str(value)).hex  # how the Uuid type stores it on SQLite
    _sql(unguarded, f"UPDATE audit_entries SET {column} = :v WHERE seq = 7", v=value)
    report = history.verify_audit(unguarded, actor)
    assert (report.ok, report.first_bad_seq) == (False, 7)


def test_a_recomputed_hash_is_caught_by_the_next_link(unguarded: Database, chain: int, actor: Principal) -> None:
    """Rewriting an entry and its own hash consistently still breaks the link from the next one."""
    with unguarded.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM audit_entries WHERE seq = 5")).mappings().one()
    forged = compute_hash(
        seq=5,
        at=row["at"] if isinstance(row["at"], dt.datetime) else dt.datetime.fromisoformat(row["at"]),
        actor_id=uuid.UUID(str(row["actor_id"])),
        case_id=uuid.UUID(str(row["case_id"])),
        action="case.forged",
        data=row["data"] if isinstance(row["data"], dict) else json.loads(row["data"]),
        prev_hash=row["prev_hash"],
    )
    _sql(unguarded, "UPDATE audit_entries SET action = 'case.forged', hash = :h WHERE seq = 5", h=forged)
    report = history.verify_audit(unguarded, actor)
    assert (report.ok, report.first_bad_seq) == (False, 6)
    assert "previous-hash link" in (report.problem or "")


def test_a_deleted_middle_entry_is_named(unguarded: Database, chain: int, actor: Principal) -> None:
    _sql(unguarded, "DELETE FROM audit_entries WHERE seq = 6")
    report = history.verify_audit(unguarded, actor)
    assert (report.ok, report.first_bad_seq, report.checked) == (False, 6, 5)
    assert "entry 6 is missing (deleted)" in (report.problem or "")


def test_a_deleted_first_entry_is_named(unguarded: Database, chain: int, actor: Principal) -> None:
    _sql(unguarded, "DELETE FROM audit_entries WHERE seq = 1")
    report = history.verify_audit(unguarded, actor)
    assert (report.ok, report.first_bad_seq) == (False, 1)


def test_a_deleted_and_renumbered_entry_is_named(unguarded: Database, chain: int, actor: Principal) -> None:
    """Deleting entry 6 and shifting the later ones down hides the gap but not the broken link."""
    _sql(unguarded, "DELETE FROM audit_entries WHERE seq = 6")
    for seq in range(7, chain + 1):
        _sql(unguarded, "UPDATE audit_entries SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    report = history.verify_audit(unguarded, actor)
    assert (report.ok, report.first_bad_seq) == (False, 6)
    assert "previous-hash link" in (report.problem or "")


def test_two_swapped_entries_are_named(unguarded: Database, chain: int, actor: Principal) -> None:
    """Reorder: entries 3 and 8 trade places in the sequence."""
    _sql(unguarded, "UPDATE audit_entries SET seq = 1000 WHERE seq = 3")
    _sql(unguarded, "UPDATE audit_entries SET seq = 3 WHERE seq = 8")
    _sql(unguarded, "UPDATE audit_entries SET seq = 8 WHERE seq = 1000")
    report = history.verify_audit(unguarded, actor)
    assert (report.ok, report.first_bad_seq, report.checked) == (False, 3, 2)


def test_swapped_neighbours_are_named(unguarded: Database, chain: int, actor: Principal) -> None:
    _sql(unguarded, "UPDATE audit_entries SET seq = 1000 WHERE seq = 9")
    _sql(unguarded, "UPDATE audit_entries SET seq = 9 WHERE seq = 10")
    _sql(unguarded, "UPDATE audit_entries SET seq = 10 WHERE seq = 1000")
    report = history.verify_audit(unguarded, actor)
    assert (report.ok, report.first_bad_seq) == (False, 9)


def test_the_api_reports_tampering(unguarded: Database, chain: int, actor: Principal) -> None:
    auditor = principal(unguarded, actor, "audrey@example.org", Role.AUDITOR)
    token = auth.create_token(unguarded, auditor, "verification", Scope.READ).token
    with TestClient(create_app(unguarded)) as client:
        assert client.get("/api/v1/audit/verify").status_code == 401  # the audit trail is not public
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/audit/verify", headers=headers).json()["ok"] is True
        _sql(unguarded, "DELETE FROM audit_entries WHERE seq = 2")
        body = client.get("/api/v1/audit/verify", headers=headers).json()
    assert body["ok"] is False
    assert body["first_bad_seq"] == 2
    assert body["checked"] == 1
    assert "entry 2" in body["message"]


def test_new_entries_after_a_restored_trigger_still_chain(db: Database, chain: int, actor: Principal) -> None:
    """Appends continue from the stored head, across transactions and database connections."""
    other = Database(db.url)
    try:
        new_case(other, actor, title="From another connection", team="complaints")
    finally:
        other.dispose()
    notes.add_note(db, actor, new_case(db, actor, team="complaints").id, NoteCreate(body="x"))
    report = history.verify_audit(db, actor)
    assert (report.ok, report.checked) == (True, chain + 5)  # two cases with their screening decisions, one note


# ------------------------------------------------------------------ the pure verifier


def _records(n: int) -> list[Record]:
    out: list[Record] = []
    prev = GENESIS
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for seq in range(1, n + 1):
        digest = compute_hash(seq=seq, at=at, actor_id=None, case_id=None, action="x", data={"n": seq}, prev_hash=prev)
        out.append(Record(seq, at, None, None, "x", {"n": seq}, prev, digest))
        prev = digest
    return out


def test_pure_verifier() -> None:
    records = _records(5)
    assert verify([]).ok and verify([]).checked == 0
    assert verify(records).ok and verify(records).checked == 5
    swapped = [records[0], records[2], records[1], records[3], records[4]]
    assert (verify(swapped).first_bad_seq, verify(swapped).problem) == (2, "entry 2 is missing (deleted); next entry is 3")
    backwards = [records[0], records[1], records[0]]
    assert verify(backwards).first_bad_seq == 1 and "out of order" in (verify(backwards).problem or "")
    altered = [*records[:3], Record(**{**records[3].__dict__, "data": {"n": 99}}), records[4]]
    assert verify(altered).first_bad_seq == 4
