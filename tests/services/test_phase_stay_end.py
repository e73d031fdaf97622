"""Each phase-history row stores when the case left that phase (``left_at``) and how long it stayed
(``stay_seconds``), which the reports read.

Written by the move that ends the stay, and filled in for existing rows by migrations 0008 and 0010.
"""

from __future__ import annotations

import datetime as dt
import math

from alembic import command
from sqlalchemy import select, update

from casework.domain.access import Principal
from casework.domain.lifecycle import Phase
from casework.services import kpi
from casework.store.migrate import alembic_config, upgrade
from casework.store.models import PhaseChange
from casework.store.unit_of_work import Database
from tests.factories import advance_to, move, new_case


def _stays(db: Database, case_id: object) -> list[tuple[str, dt.datetime, dt.datetime | None]]:
    with db.read() as s:
        stmt = select(PhaseChange.to_phase, PhaseChange.at, PhaseChange.left_at, PhaseChange.stay_seconds)
        rows = s.execute(stmt.where(PhaseChange.case_id == case_id).order_by(PhaseChange.seq)).all()
    for _phase, at, left, seconds in rows:  # the length is the whole seconds between start and end
        assert seconds == (None if left is None else math.floor((left - at).total_seconds()))
    return [(phase, at, left) for phase, at, left, _s in rows]


def _ends_at_next_move(stays: list[tuple[str, dt.datetime, dt.datetime | None]]) -> bool:
    """Every stay ends when the next one starts; the current stay has no end yet."""
    return [left for _p, _at, left in stays] == [at for _p, at, _l in stays[1:]] + [None]


def test_a_move_ends_the_stay_in_the_phase_left(db: Database, actor: Principal) -> None:
    case = new_case(db, actor, team="complaints")
    assert _stays(db, case.id) == [("screening", case.created_at, None)]

    case = advance_to(db, actor, case, Phase.RISK)
    case = move(db, actor, case, Phase.ASSESSMENT, reason="missing a document")  # a return
    case = move(db, actor, case, Phase.SCREENING, reason="not a complaint after all")  # another
    stays = _stays(db, case.id)
    assert [p for p, _at, _l in stays] == ["screening", "assessment", "risk", "assessment", "screening"]
    assert _ends_at_next_move(stays)
    assert all(left is None or left >= at for _p, at, left in stays)

    case = move(db, actor, case, Phase.CLOSED, outcome="withdrawn")
    case = move(db, actor, case, Phase.PLANNING, reason="customer appealed")  # a reopening ends the closed stay
    stays = _stays(db, case.id)
    assert [p for p, _at, _l in stays][-2:] == ["closed", "planning"]
    assert _ends_at_next_move(stays)


def test_migration_fills_in_the_end_of_existing_stays(db_url: str, db: Database, actor: Principal) -> None:
    case = new_case(db, actor, team="complaints")
    for target in (Phase.ASSESSMENT, Phase.SCREENING, Phase.CLOSED):
        extra = {"reason": "back to screening"} if target is Phase.SCREENING else {}
        case = move(db, actor, case, target, **extra)
    other = new_case(db, actor, team="complaints")  # one stay, still running
    with db.write() as s:  # the first stay lasted a microsecond short of an hour: 3 599 whole seconds
        first = s.scalars(select(PhaseChange).where(PhaseChange.case_id == case.id, PhaseChange.seq == 1)).one()
        assert first.left_at is not None
        first.at = first.left_at - dt.timedelta(hours=1) + dt.timedelta(microseconds=1)
        first.end_stay(first.left_at)
        assert first.stay_seconds == 3599
    before = kpi.phase_times(db, actor, kpi.Period(dt.date.today() - dt.timedelta(days=7), dt.date.today()))
    with db.write() as s:
        s.execute(update(PhaseChange).values(left_at=None, stay_seconds=None))

    command.downgrade(alembic_config(db_url), "0007")
    upgrade(db_url)
    db.engine.dispose()  # the schema changed under the pooled connections

    assert _ends_at_next_move(_stays(db, case.id)) and len(_stays(db, case.id)) == 4
    assert _stays(db, other.id) == [("screening", other.created_at, None)]
    after = kpi.phase_times(db, actor, kpi.Period(dt.date.today() - dt.timedelta(days=7), dt.date.today()))
    assert after == before
    assert {p.phase: p.stays for p in after if p.stays} == {"screening": 2, "assessment": 1}


def test_stay_lengths_are_whole_seconds_rounded_down(db: Database, actor: Principal) -> None:
    row = PhaseChange(at=dt.datetime(2026, 3, 1, 9, 0, 0, 999_999, tzinfo=dt.UTC))
    row.end_stay(dt.datetime(2026, 3, 1, 10, 0, 0, 999_998, tzinfo=dt.UTC))
    assert row.stay_seconds == 3599  # a microsecond short of the hour
    row.end_stay(dt.datetime(2026, 3, 8, 9, 0, 0, 999_999, tzinfo=dt.UTC))
    assert (row.left_at, row.stay_seconds) == (dt.datetime(2026, 3, 8, 9, 0, 0, 999_999, tzinfo=dt.UTC), 7 * 86400)
