"""Each phase-history row stores when the case left that phase (``left_at``), which the reports read.

Written by the move that ends the stay, and filled in for existing rows by migration 0008.
"""

from __future__ import annotations

import datetime as dt

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
        stmt = select(PhaseChange.to_phase, PhaseChange.at, PhaseChange.left_at).where(PhaseChange.case_id == case_id)
        rows = s.execute(stmt.order_by(PhaseChange.seq))
        return [(phase, at, left) for phase, at, left in rows]


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
    before = kpi.phase_times(db, actor, kpi.Period(dt.date.today() - dt.timedelta(days=7), dt.date.today()))
    with db.write() as s:
        s.execute(update(PhaseChange).values(left_at=None))

    command.downgrade(alembic_config(db_url), "0007")
    upgrade(db_url)
    db.engine.dispose()  # the schema changed under the pooled connections

    assert _ends_at_next_move(_stays(db, case.id)) and len(_stays(db, case.id)) == 4
    assert _stays(db, other.id) == [("screening", other.created_at, None)]
    after = kpi.phase_times(db, actor, kpi.Period(dt.date.today() - dt.timedelta(days=7), dt.date.today()))
    assert after == before
    assert {p.phase: p.stays for p in after if p.stays} == {"screening": 2, "assessment": 1}
