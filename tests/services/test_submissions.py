"""One-time form ids in the database: claimed once, across threads and across server processes."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import uuid
from collections.abc import Coroutine
from typing import Any

import pytest

from casework.domain.access import Principal
from casework.services import submissions
from casework.store.unit_of_work import Database
from casework.web.submissions import SubmissionGuard
from tests.factories import make_account


def test_claim_then_pending_then_done_per_user(db: Database, actor: Principal) -> None:
    other = make_account(db, actor, "other@example.org").id
    sid = str(uuid.uuid4())
    assert submissions.claim(db, actor.user_id, sid) == ("new", None)
    assert submissions.claim(db, actor.user_id, sid) == ("pending", None)
    assert submissions.result_of(db, actor.user_id, sid) == (True, None)
    submissions.finish(db, actor.user_id, sid, "CASE-2026-000001")
    assert submissions.claim(db, actor.user_id, sid) == ("done", "CASE-2026-000001")
    assert submissions.claim(db, other, sid) == ("new", None)  # the same id from someone else is theirs


def test_a_failed_submission_may_be_sent_again_and_a_finished_one_is_kept(db: Database, actor: Principal) -> None:
    sid = str(uuid.uuid4())
    assert submissions.claim(db, actor.user_id, sid)[0] == "new"
    submissions.release(db, actor.user_id, sid)
    assert submissions.result_of(db, actor.user_id, sid) == (False, None)
    assert submissions.claim(db, actor.user_id, sid)[0] == "new"
    submissions.finish(db, actor.user_id, sid, "done")
    submissions.release(db, actor.user_id, sid)  # too late: the work was done
    assert submissions.claim(db, actor.user_id, sid) == ("done", "done")


def test_claims_are_forgotten_after_their_time(db: Database, actor: Principal) -> None:
    old, fresh = str(uuid.uuid4()), str(uuid.uuid4())
    submissions.claim(db, actor.user_id, old)
    submissions.finish(db, actor.user_id, old, "CASE-1")
    assert submissions.claim(db, actor.user_id, fresh, ttl=dt.timedelta(seconds=-1)) == ("new", None)  # purges the others
    assert submissions.result_of(db, actor.user_id, old) == (False, None)
    assert submissions.claim(db, actor.user_id, old) == ("new", None)


def _race(databases: list[Database], user_id: uuid.UUID, sid: str) -> list[str]:
    """Each database claims ``sid`` at the same moment, from its own thread."""
    barrier = threading.Barrier(len(databases))
    answers: list[str] = []

    def claim(database: Database) -> None:
        barrier.wait()
        answers.append(submissions.claim(database, user_id, sid)[0])

    threads = [threading.Thread(target=claim, args=(d,)) for d in databases]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return sorted(answers)


def test_concurrent_claims_from_two_processes_let_one_through(db_url: str, db: Database, actor: Principal) -> None:
    # Two Database objects stand for two server processes: nothing is shared but the database.
    second = Database(db_url)
    try:
        for _round in range(5):
            assert _race([db, second, db, second], actor.user_id, str(uuid.uuid4())) == ["new", "pending", "pending", "pending"]
    finally:
        second.dispose()


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run ``coroutine`` on an event loop of its own thread (the browser tests leave one running here)."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:  # re-raised in the test's thread
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    if failure:
        raise failure[0]


def test_the_page_guard_runs_the_work_once_and_waits_for_a_running_one(db: Database, actor: Principal) -> None:
    guard = SubmissionGuard()
    sid = str(uuid.uuid4())
    runs: list[int] = []

    async def work() -> None:
        runs.append(1)
        await asyncio.sleep(0.2)  # the second request arrives meanwhile and waits

    async def both() -> None:
        await asyncio.gather(guard.once(db, actor.user_id, sid, work), guard.once(db, actor.user_id, sid, work))

    _run(both())
    assert runs == [1]
    assert submissions.claim(db, actor.user_id, sid) == ("done", "done")

    async def failing() -> None:
        raise RuntimeError("the service refused")

    again = str(uuid.uuid4())
    with pytest.raises(RuntimeError, match="refused"):
        _run(guard.once(db, actor.user_id, again, failing))
    assert submissions.claim(db, actor.user_id, again) == ("new", None)  # released: the corrected form may be sent
