"""Background jobs: the Huey tasks run the SLA scan, on a schedule and on demand, through a real queue.

The tasks read the database URL from the environment when they run, so each test points
CASEWORK_DATABASE_URL at its own test database.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from huey import MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy import delete, func, select

from casework.config import Settings, default_jobs_path
from casework.domain.access import Principal
from casework.jobs import make_huey, tasks
from casework.services import sla
from casework.store.models import Case, SlaBreach, SlaClock
from casework.store.unit_of_work import Database
from tests.factories import new_case

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(autouse=True)
def no_policy_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Escalations leave the other clocks alone here, whatever policy source the case types register."""
    monkeypatch.setattr(sla, "_policy_resolver", None)


def overdue_case(db: Database, who: Principal) -> uuid.UUID:
    """A case whose resolution target (1 h) was missed an hour ago."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    view = new_case(db, who, opened_at=start, priority="P3")
    with db.write() as s:
        s.execute(delete(SlaClock).where(SlaClock.case_id == view.id))
        sla.on_case_opened(s, s.get(Case, view.id), sla.SlaPolicy(resolution_hours={"P3": 1}), start)
    return view.id


def breaches(db: Database) -> int:
    with db.read() as s:
        return int(s.execute(select(func.count()).select_from(SlaBreach)).scalar_one())


def settings(**extra: str | None) -> Settings:
    return Settings(database_url="sqlite:///./x.db", host="127.0.0.1", port=8000, log_level="info", **extra)  # type: ignore[arg-type]


@pytest.fixture
def test_database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEWORK_DATABASE_URL", db_url)


def test_make_huey_picks_redis_when_configured_else_a_sqlite_file(tmp_path: Path) -> None:
    redis = make_huey(settings(redis_url=REDIS_URL))
    assert isinstance(redis, RedisHuey) and redis.name == "casework"
    path = tmp_path / "jobs.db"
    local = make_huey(settings(jobs_path=str(path)))
    assert isinstance(local, SqliteHuey) and local.name == "casework"
    assert not path.exists()  # made on first use, not when the queue handle is created
    local.enqueue(tasks.register(local).run_sla_scan_now.s())
    assert path.exists() and local.pending_count() == 1


def test_settings_read_the_jobs_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASEWORK_REDIS_URL", raising=False)
    monkeypatch.delenv("CASEWORK_JOBS_PATH", raising=False)
    monkeypatch.setenv("CASEWORK_DATABASE_URL", "sqlite:////srv/casework/main.db")
    assert (Settings.from_env().redis_url, Settings.from_env().jobs_path) == (None, "/srv/casework/main-jobs.db")
    monkeypatch.setenv("CASEWORK_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("CASEWORK_JOBS_PATH", "/tmp/q.db")
    assert (Settings.from_env().redis_url, Settings.from_env().jobs_path) == (REDIS_URL, "/tmp/q.db")
    assert default_jobs_path("postgresql://db/casework") == "./casework-jobs.db"


def test_the_scan_is_scheduled_every_minute() -> None:
    assert [t.name for t in tasks.huey._registry.periodic_tasks] == ["sla_scan"]
    for minute in range(0, 60, 7):
        due = tasks.huey.read_periodic(dt.datetime(2026, 3, 2, 9, minute))
        assert [t.name for t in due] == ["sla_scan"]


def test_the_periodic_task_scans_the_database(db: Database, actor: Principal, test_database: None) -> None:
    case_id = overdue_case(db, actor)
    queue = MemoryHuey(name=f"test-{uuid.uuid4().hex}", immediate=True)
    jobs = tasks.register(queue)
    jobs.sla_scan()  # immediate mode: runs now (periodic tasks keep no result)
    assert breaches(db) == 1
    with db.read() as s:
        assert s.get(Case, case_id).priority == "P2"  # type: ignore[union-attr]
    jobs.sla_scan()
    assert breaches(db) == 1  # idempotent
    assert jobs.run_sla_scan_now().get() == {"warned": 0, "breached": 0, "escalated": 0, "failed": 0}


def test_the_module_queue_in_immediate_mode(db: Database, actor: Principal, test_database: None) -> None:
    overdue_case(db, actor)
    tasks.huey.immediate = True
    try:
        assert tasks.run_sla_scan_now().get()["breached"] == 1
        assert tasks.sla_scan.call_local()["breached"] == 0
    finally:
        tasks.huey.immediate = False
    assert breaches(db) == 1


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")


def test_a_scan_round_trip_through_redis(db: Database, actor: Principal, test_database: None) -> None:
    _redis_or_skip()
    queue = make_huey(settings(redis_url=REDIS_URL), name=f"casework-test-{uuid.uuid4().hex}")
    assert isinstance(queue, RedisHuey)
    jobs = tasks.register(queue)
    try:
        overdue_case(db, actor)
        result = jobs.run_sla_scan_now()  # enqueued in Redis, not run
        assert queue.pending_count() == 1 and breaches(db) == 0
        task = queue.dequeue()
        assert task is not None and task.name == "run_sla_scan_now"
        queue.execute(task)  # what a consumer's worker does
        assert result.get(blocking=True, timeout=10) == {"warned": 0, "breached": 1, "escalated": 1, "failed": 0}
        assert breaches(db) == 1 and queue.pending_count() == 0
    finally:
        queue.flush()


def test_the_worker_runs_the_scan_and_stops_on_sigterm(db: Database, db_url: str, actor: Principal, tmp_path: Path) -> None:
    case_id = overdue_case(db, actor)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEWORK_")}
    env.update(CASEWORK_JOBS_PATH=str(tmp_path / "jobs.db"), PYTHONUNBUFFERED="1")
    command = [sys.executable, "-c", "from casework.cli import main; main()", "--database-url", db_url, "worker", "--workers", "2"]
    log = tmp_path / "worker.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            # The scheduler enqueues the every-minute scan as soon as it starts.
            deadline = time.monotonic() + 60
            while breaches(db) == 0 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.2)
            assert breaches(db) == 1, log.read_text()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = log.read_text()
    assert "casework worker: queue in SQLite file" in text and "Traceback" not in text, text
    with db.read() as s:
        assert s.get(Case, case_id).priority == "P2"  # type: ignore[union-attr]
