"""The dashboard queue's count, order and pages, against the order worked out here from the cases themselves."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete

from casework.domain.access import Principal
from casework.domain.lifecycle import Phase
from casework.services import dashboard
from casework.services.dashboard import QueueView
from casework.services.schemas import CaseFilter
from casework.store.models import SlaClock
from casework.store.unit_of_work import Database
from tests.factories import move, new_case

NOW = dt.datetime.now(dt.UTC)


def _clock(case_id: uuid.UUID, due: dt.datetime, *, stopped: bool = False, breached: bool = False) -> SlaClock:
    return SlaClock(case_id=case_id, kind="phase", name="screening", priority="P3", started_at=due - dt.timedelta(days=2),
                    due_at=due, warn_at=due - dt.timedelta(hours=6), stopped_at=NOW if stopped else None,
                    breached_at=due if breached else None)  # fmt: skip


def test_count_order_and_pages_match_the_queue_rules(db: Database, actor: Principal) -> None:
    hour = dt.timedelta(hours=1)
    made = []
    # (priority, title, running deadlines in hours from now, stopped deadline in hours, breached)
    plan = [
        ("P2", "Parcel lost again", [5, 2], None, False),
        ("P2", "Parcel lost twice", [], 1, False),  # only a stopped clock: no deadline, after the ones with one
        ("P1", "Parcel damaged", [30], None, False),
        ("P2", "Parcel late", [2], None, True),  # same deadline as the first: the older case first
        ("P3", "Parcel missing", [-4], None, True),
        ("P2", "Parcel opened", [], None, False),
        ("P1", "Refund refused", [1], None, False),  # does not match the search
        ("P4", "Parcel returned", [10, 20, 3], None, False),
    ]
    for i, (priority, title, *_clocks) in enumerate(plan):
        made.append(new_case(db, actor, title=title, priority=priority, team="complaints", opened_at=NOW - dt.timedelta(days=10 - i)))
    move(db, actor, made[5], Phase.CLOSED, outcome="withdrawn")
    with db.write() as s:
        s.execute(delete(SlaClock))
        for view, (_p, _t, running, stopped, breached) in zip(made, plan, strict=True):
            s.add_all(_clock(view.id, NOW + h * hour, breached=breached) for h in running)
            if stopped is not None:
                s.add(_clock(view.id, NOW + stopped * hour, stopped=True))

    def expected(indexes: list[int]) -> list[uuid.UUID]:
        def key(i: int) -> tuple[object, ...]:
            running = [NOW + h * hour for h in plan[i][2]]
            return (plan[i][0], not running, min(running) if running else NOW, made[i].created_at, str(made[i].id))

        return [made[i].id for i in sorted(indexes, key=key)]

    matching = [0, 1, 2, 3, 4, 5, 7]
    everything = dashboard.dashboard_queue(db, actor, CaseFilter(q="parcel"), view=QueueView.ALL, limit=50, now=NOW)
    assert everything.total == len(matching) and everything.pages == 1
    assert [r.id for r in everything.rows] == expected(matching)
    by_id = {r.id: r for r in everything.rows}
    assert by_id[made[0].id].next_deadline == NOW + 2 * hour and by_id[made[0].id].sla == "at_risk"
    assert by_id[made[3].id].sla == "breached" and by_id[made[4].id].sla == "breached"
    assert by_id[made[1].id].next_deadline is None and by_id[made[1].id].sla == "none"
    assert by_id[made[2].id].sla == "on_time" and by_id[made[7].id].sla == "at_risk"

    # the same order split into pages, and a page past the end still counts every match
    search = CaseFilter(q="parcel")
    pages = [dashboard.dashboard_queue(db, actor, search, view=QueueView.ALL, page=n, limit=3, now=NOW) for n in (1, 2, 3, 4)]
    assert [p.total for p in pages] == [7, 7, 7, 7] and [p.pages for p in pages] == [3, 3, 3, 3]
    assert [r.id for p in pages for r in p.rows] == expected(matching)
    assert pages[3].rows == []

    # open cases only (the closed one drops out), and no search at all
    open_only = dashboard.dashboard_queue(db, actor, CaseFilter(q="parcel", status="open"), view=QueueView.ALL, now=NOW)
    assert open_only.total == 6 and [r.id for r in open_only.rows] == expected([0, 1, 2, 3, 4, 7])
    unfiltered = dashboard.dashboard_queue(db, actor, CaseFilter(), view=QueueView.ALL, now=NOW)
    assert unfiltered.total == 8 and [r.id for r in unfiltered.rows] == expected(list(range(8)))

    nothing = dashboard.dashboard_queue(db, actor, CaseFilter(q="zebra"), view=QueueView.ALL, now=NOW)
    assert (nothing.total, nothing.rows, nothing.pages) == (0, [], 1)
    assert dashboard.dashboard_queue(db, actor, CaseFilter(q="zebra"), view=QueueView.ALL, page=3, now=NOW).total == 0
