"""One-time form ids for the pages: a double click or a re-posted form does its work once, not twice.

Forms that create something (a case, a portal message or upload) carry a hidden ``submission_id``.
The claims are kept in the database (:mod:`casework.services.submissions`), so the guard holds
behind several server processes too; this module runs those calls off the event loop and waits,
politely, for a submission another request is still handling.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool

from casework.services import submissions
from casework.store.unit_of_work import Database

#: How often a request waiting for the same form's first request looks again.
POLL_SECONDS = 0.05


class SubmissionGuard:
    """``claim`` answers ``("new", None)`` the first time, ``("done", result)`` once the first
    submission finished, and ``("pending", None)`` while it is still running; a failed submission
    is ``release``d so the corrected form can be sent again with the same id."""

    def __init__(self, ttl_seconds: float = submissions.TTL.total_seconds()) -> None:
        self.ttl = ttl_seconds

    async def claim(self, db: Database, user: uuid.UUID, submission: str) -> tuple[str, str | None]:
        return await run_in_threadpool(submissions.claim, db, user, submission, ttl=dt.timedelta(seconds=self.ttl))

    async def finish(self, db: Database, user: uuid.UUID, submission: str, result: str) -> None:
        await run_in_threadpool(submissions.finish, db, user, submission, result)

    async def release(self, db: Database, user: uuid.UUID, submission: str) -> None:
        await run_in_threadpool(submissions.release, db, user, submission)

    async def wait(self, db: Database, user: uuid.UUID, submission: str, timeout: float = 20) -> str | None:
        """The result of a submission still being handled by another request (None if it failed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            claimed, result = await run_in_threadpool(submissions.result_of, db, user, submission)
            if not claimed or result is not None:
                return result
            await asyncio.sleep(POLL_SECONDS)
        return None

    async def once(self, db: Database, user: uuid.UUID, submission: str, work: Callable[[], Awaitable[object]]) -> None:
        """Run ``work`` for this one-time form id unless it ran (or is running) already; a failed run
        is released so that the corrected form can be sent again. Without a valid id it just runs."""
        if not valid_submission_id(submission):
            await work()
            return
        state, _ = await self.claim(db, user, submission)
        if state == "pending":
            await self.wait(db, user, submission)
            return
        if state == "done":
            return
        try:
            await work()
        except BaseException:
            await self.release(db, user, submission)
            raise
        await self.finish(db, user, submission, "done")


def valid_submission_id(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower() and len(value) == 36
    except ValueError:
        return False
