"""The background tasks and the queue handle they are registered on.

``huey`` is made from the environment when this module is imported (``casework worker`` sets
CASEWORK_DATABASE_URL first). Tasks read the database URL when they run, so a worker follows
the environment it was started with.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from huey import Huey, crontab
from huey.api import TaskWrapper

from casework.config import Settings
from casework.jobs import make_huey
from casework.services import sla
from casework.services.database import open_database

log = logging.getLogger("casework.jobs")


def scan_once() -> dict[str, int]:
    """One SLA scan against the database named by the environment; returns the report as a dict."""
    db = open_database(Settings.from_env().database_url)
    try:
        report = sla.scan(db)
    finally:
        db.dispose()
    if report.warned or report.breached or report.failed:
        log.info("SLA scan: %d warned, %d breached, %d escalated, %d failed", report.warned, report.breached, report.escalated,
                 report.failed)  # fmt: skip
    return report.model_dump()


@dataclass(frozen=True)
class Tasks:
    huey: Huey
    sla_scan: TaskWrapper  # periodic: every minute
    run_sla_scan_now: TaskWrapper  # on demand: run_sla_scan_now() enqueues a scan


def register(queue: Huey) -> Tasks:
    """Register the tasks on ``queue`` (tests register them on queues of their own)."""

    @queue.periodic_task(crontab(minute="*"), name="sla_scan")  # type: ignore[untyped-decorator]
    def sla_scan() -> dict[str, int]:
        return scan_once()

    @queue.task(name="run_sla_scan_now")  # type: ignore[untyped-decorator]
    def run_sla_scan_now() -> dict[str, int]:
        return scan_once()

    return Tasks(queue, sla_scan, run_sla_scan_now)


huey: Huey = make_huey(Settings.from_env())
_tasks = register(huey)
sla_scan = _tasks.sla_scan
run_sla_scan_now = _tasks.run_sla_scan_now

__all__ = ["Tasks", "huey", "register", "run_sla_scan_now", "scan_once", "sla_scan"]
