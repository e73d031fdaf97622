"""The background tasks and the queue handle they are registered on.

``huey`` is made from the environment when this module is imported (``casework worker`` sets
CASEWORK_DATABASE_URL first). Tasks read the database URL when they run, so a worker follows
the environment it was started with.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

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


def check_document_once(case_id: str, document_id: str) -> dict[str, Any]:
    """The automated checks of one document (enqueued by the upload), on the database named by the environment."""
    from casework.domain.errors import Gone, NotFound
    from casework.services.document_checks import run_document_checks

    db = open_database(Settings.from_env().database_url)
    try:
        view = run_document_checks(db, None, uuid.UUID(case_id), uuid.UUID(document_id))
    except (NotFound, Gone) as exc:  # removed (or purged) since it was queued: nothing to check
        log.info("document checks skipped: %s", exc)
        return {"document_id": document_id, "skipped": str(exc)}
    finally:
        db.dispose()
    log.info("document %s checked: %s, score %s", document_id, view.status.value, view.authenticity_score)
    return {"document_id": document_id, "status": view.status.value, "authenticity_score": view.authenticity_score}


@dataclass(frozen=True)
class Tasks:
    huey: Huey
    sla_scan: TaskWrapper  # periodic: every minute
    run_sla_scan_now: TaskWrapper  # on demand: run_sla_scan_now() enqueues a scan
    document_checks: TaskWrapper  # document_checks(case_id, document_id): after an upload whose kind has checks


def register(queue: Huey) -> Tasks:
    """Register the tasks on ``queue`` (tests register them on queues of their own)."""

    @queue.periodic_task(crontab(minute="*"), name="sla_scan")  # type: ignore[untyped-decorator]
    def sla_scan() -> dict[str, int]:
        return scan_once()

    @queue.task(name="run_sla_scan_now")  # type: ignore[untyped-decorator]
    def run_sla_scan_now() -> dict[str, int]:
        return scan_once()

    # A locked database or a restarting server is worth a retry; a missing document is not (it returns).
    @queue.task(name="document_checks", retries=2, retry_delay=30)  # type: ignore[untyped-decorator]
    def document_checks(case_id: str, document_id: str) -> dict[str, Any]:
        return check_document_once(case_id, document_id)

    return Tasks(queue, sla_scan, run_sla_scan_now, document_checks)


huey: Huey = make_huey(Settings.from_env())
_tasks = register(huey)
sla_scan = _tasks.sla_scan
run_sla_scan_now = _tasks.run_sla_scan_now
document_checks = _tasks.document_checks

__all__ = ["Tasks", "check_document_once", "document_checks", "huey", "register", "run_sla_scan_now", "scan_once", "sla_scan"]
