"""Case creation and query benchmark for SQLite and PostgreSQL (``make bench``).

For each backend the benchmark:

1. builds a fresh database (migrations, the system administrator and ``--users`` case-worker
   accounts as assignees, one of whom is a member of team ``fraud``: the team-restricted worker);
2. fills it to ``--n`` cases minus the ones the creation paths will add, through a bulk
   Core path (see ``bench_data.bulk_fill``: same rows as the services write, valid references,
   search documents and a verifiable audit chain) — a shortcut, reported as such;
3. measures the raw single-row insert rate of the same database (INSERT + COMMIT per row,
   same durability settings) as the yardstick;
4. creates ``--create-n`` cases through each path — SQLAlchemy Core (diagnostic), the service
   layer, HTTP in-process (ASGI) and HTTP against a real uvicorn server with concurrent
   clients — and reports cases/s and the ratio to the raw rate (target: HTTP >= 0.40 x raw);
5. times list/filter/search/get queries over the ``--n`` cases (p50/p95 over ``--runs`` runs)
   through the service layer as the administrator, a few as the team-restricted case worker
   (visibility filter ``team IN (...) OR assignee_id = me``) and a few through HTTP;
6. checks the data (case count, search hits, audit chain) and prints tables and a summary;
   the figures are also written as JSON (default bench/results/latest.json).

Run ``.venv/bin/python bench/cases.py --quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bench_create import (
    CORE_PATH,
    DRIVER_PATH,
    SERVICE_PATH,
    HttpClient,
    Rate,
    asgi_create,
    core_transaction,
    driver_transaction,
    http_create,
    http_headers,
    raw_insert,
    service_create,
    uvicorn_server,
)
from bench_data import COMMON_WORD, RARE_WORD, TEAMS, DataGen, bulk_fill, payloads, rare_every_for
from casework.domain.access import Principal, Role
from casework.domain.lifecycle import ORDER, Phase, Priority, Status
from casework.services import accounts, auth, cases, users
from casework.services.schemas import CaseFilter, SortKey
from casework.store import migrate
from casework.store.models import AuditEntry, Case
from casework.store.unit_of_work import Database

TARGET_RATIO = 0.40
CREATE_PATHS = ("driver", "core", "service", "asgi", "uvicorn1", "uvicornC")
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/casework_bench"
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"  # bench/results/ is gitignored
# The case worker whose queries are timed: a member of one team (cases are teamed by case type,
# see bench_data.TEAM_OF_TYPE) who is also one of the assignees, so the visibility filter
# ``team IN (...) OR assignee_id = me`` has both branches to satisfy.
WORKER_TEAM = "fraud"
WORKER_SLOT = 3  # position among the assignees: a moderately loaded one (assignees are Pareto-weighted)
assert WORKER_TEAM in TEAMS

console = Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def log(msg: str) -> None:
    console.print(f"[dim]{dt.datetime.now():%H:%M:%S}[/dim] {msg}")
    sys.stdout.flush()


# ---------------------------------------------------------------- options


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--n", type=int, default=100_000, help="cases in the database when the queries run")
    p.add_argument("--create-n", type=int, default=2000, help="cases created through each creation path (the rate sample)")
    p.add_argument("--raw-n", type=int, default=None, help="rows for the raw insert yardstick (default: --create-n, at least 1000)")
    p.add_argument("--concurrency", type=int, default=4, help="concurrent clients for the HTTP creation paths")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds the creation samples are split into")
    p.add_argument("--runs", type=int, default=50, help="timed runs per query")
    p.add_argument("--warmup", type=int, default=3, help="untimed runs per query before timing")
    p.add_argument("--users", type=int, default=50, help="assignable users")
    p.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    p.add_argument("--postgres-url", default=os.environ.get("CASEWORK_BENCH_POSTGRES_URL", DEFAULT_PG_URL))
    p.add_argument("--sqlite-path", default=None, help="SQLite file to use (default: a fresh file in a temporary directory)")
    p.add_argument("--force-reset", action="store_true", help="allow wiping a database whose name does not contain 'bench'")
    p.add_argument("--keep", action="store_true", help="keep the SQLite file and the PostgreSQL database afterwards (default: remove both)")
    p.add_argument("--uvicorn-workers", type=int, default=1)
    p.add_argument("--no-verify", action="store_true", help="skip the audit-chain verification at the end")
    p.add_argument("--seed", type=int, default=20261125)
    p.add_argument("--json", default=str(RESULTS), help="where to write the figures ('' to skip)")
    p.add_argument("--quick", action="store_true", help="smoke run: --n 3000 --create-n 200 --runs 10 --users 10 --rounds 2")
    args = p.parse_args(argv)
    if args.quick:
        args.n, args.create_n, args.runs, args.users, args.rounds = 3000, 200, 10, 10, 2
    args.raw_n = args.raw_n or max(args.create_n, 1000)
    if args.users < 1:
        p.error("--users must be at least 1 (one of them is the case worker whose queries are timed)")
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - {"sqlite", "postgres"}
    if unknown:
        p.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    return args


# ---------------------------------------------------------------- databases


def _is_bench_name(name: str) -> bool:
    return "bench" in name.lower()


def prepare_sqlite(args: argparse.Namespace) -> tuple[str, Callable[[], None]]:
    if args.sqlite_path:
        path = Path(args.sqlite_path).resolve()
        if path.exists() and not (_is_bench_name(path.name) or args.force_reset):
            raise SystemExit(f"{path} exists; pass --force-reset to let the benchmark overwrite it")
        tmpdir = None
    else:
        tmpdir = tempfile.mkdtemp(prefix="casework-bench-")
        path = Path(tmpdir) / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)

    def cleanup() -> None:
        if args.keep:
            log(f"kept SQLite database at {path}")
            return
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        if tmpdir:
            os.rmdir(tmpdir)

    return f"sqlite:///{path}", cleanup


def prepare_postgres(args: argparse.Namespace) -> tuple[str | None, str]:
    """Create (or recreate) the benchmark database; returns (url, note) or (None, why not)."""
    import psycopg
    from psycopg import sql

    url = make_url(args.postgres_url)
    name = url.database or ""
    if not name:
        return None, "no database name in --postgres-url"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        return None, f"PostgreSQL not reachable ({str(exc).strip().splitlines()[0]})"
    with conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            if not (_is_bench_name(name) or args.force_reset):
                return None, f"database {name!r} exists and its name does not contain 'bench' (use --force-reset)"
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.render_as_string(hide_password=False), "recreated" if exists else "created"


def drop_postgres(url: str) -> None:
    import psycopg
    from psycopg import sql

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(parsed.database or "")))


# ---------------------------------------------------------------- timing helpers


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    q = [ordered[0]] * 99 if len(ordered) == 1 else statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50_ms": round(q[49] * 1000, 3),
        "p95_ms": round(q[94] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


def time_query(name: str, via: str, fn: Callable[[int], int], runs: int, warmup: int) -> dict[str, Any]:
    for i in range(warmup):
        fn(i)
    samples: list[float] = []
    rows = 0
    for i in range(runs):
        t0 = time.perf_counter()
        rows = fn(warmup + i)
        samples.append(time.perf_counter() - t0)
    return {"query": name, "via": via, "rows": rows, "runs": runs, **percentiles(samples)}


# ---------------------------------------------------------------- one backend


def _server_version(db: Database) -> str:
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            return "SQLite " + str(conn.exec_driver_sql("select sqlite_version()").scalar())
        return str(conn.exec_driver_sql("show server_version").scalar()).join(["PostgreSQL ", ""])


def _durability(db: Database) -> str:
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(conn.exec_driver_sql("PRAGMA synchronous").scalar(), "?")
            return f"journal_mode={mode}, synchronous={sync}"
        return (
            "synchronous_commit="
            + str(conn.exec_driver_sql("SHOW synchronous_commit").scalar())
            + (", fsync=" + str(conn.exec_driver_sql("SHOW fsync").scalar()))
        )


def service_queries(db: Database, who: Principal, assignees: list[uuid.UUID], args: argparse.Namespace) -> list[dict[str, Any]]:
    """The query plan through the service layer as ``who`` (the system administrator: sees every case)."""
    rng = random.Random(args.seed + 1)
    with db.read() as s:
        refs = list(s.scalars(select(Case.reference).order_by(func.random()).limit(500)))
        oldest, newest = s.execute(select(func.min(Case.created_at), func.max(Case.created_at))).one()
    open_phases = list(ORDER)
    priorities = list(Priority)
    span_days = max(1, (newest - oldest).days - 30)
    windows = []
    for _ in range(64):
        start = oldest.date() + dt.timedelta(days=rng.randint(0, span_days))
        windows.append((start, start + dt.timedelta(days=29)))
    # The cursor that opens page 10 (pages of 50, default sort).
    cursor = None
    for _ in range(9):
        page = cases.list_cases(db, who, CaseFilter(), cursor=cursor, limit=50)
        cursor = page.next_cursor
        if cursor is None:
            break

    def first_page(i: int) -> int:
        return len(cases.list_cases(db, who, CaseFilter()).items)

    def status_phase(i: int) -> int:
        return len(cases.list_cases(db, who, CaseFilter(status=Status.OPEN, phase=open_phases[i % len(open_phases)])).items)

    def closed_cases(i: int) -> int:
        return len(cases.list_cases(db, who, CaseFilter(status=Status.CLOSED, phase=Phase.CLOSED)).items)

    def priority(i: int) -> int:
        return len(cases.list_cases(db, who, CaseFilter(priority=priorities[i % len(priorities)])).items)

    def assignee(i: int) -> int:
        return len(cases.list_cases(db, who, CaseFilter(assignee_id=assignees[i % min(10, len(assignees))])).items)

    def assignee_open(i: int) -> int:
        return len(cases.list_cases(db, who, CaseFilter(assignee_id=assignees[i % min(10, len(assignees))], status=Status.OPEN)).items)

    def date_range(i: int) -> int:
        start, end = windows[i % len(windows)]
        return len(cases.list_cases(db, who, CaseFilter(created_from=start, created_to=end)).items)

    def page10(i: int) -> int:
        return len(cases.list_cases(db, who, CaseFilter(), cursor=cursor).items) if cursor else 0

    def by_due(i: int) -> int:
        return len(cases.list_cases(db, who, CaseFilter(), sort=SortKey.DUE).items)

    def list_q_common(i: int) -> int:
        return len(cases.list_cases(db, who, CaseFilter(q=COMMON_WORD)).items)

    def list_q_rare(i: int) -> int:
        return len(cases.list_cases(db, who, CaseFilter(q=RARE_WORD)).items)

    def search_common(i: int) -> int:
        return len(cases.search_cases(db, who, COMMON_WORD))

    def search_rare(i: int) -> int:
        return len(cases.search_cases(db, who, RARE_WORD))

    def get_ref(i: int) -> int:
        return 1 if cases.get_case(db, who, refs[i % len(refs)]) else 0

    def count_open(i: int) -> int:
        return cases.count_cases(db, who, CaseFilter(status=Status.OPEN))

    plan: list[tuple[str, Callable[[int], int]]] = [
        ("list first page (sort -created_at)", first_page),
        ("filter status=open & phase=<each>", status_phase),
        ("filter status=closed & phase=closed", closed_cases),
        ("filter priority=<P1..P4>", priority),
        ("filter assignee=<user>", assignee),
        ("filter assignee=<user> & status=open", assignee_open),
        ("filter created in a 30-day window", date_range),
        ("page 10 via cursor", page10),
        ("sort by due_date", by_due),
        (f"list q={COMMON_WORD!r} (common word)", list_q_common),
        (f"list q={RARE_WORD!r} (rare word)", list_q_rare),
        (f"search {COMMON_WORD!r} ranked (common)", search_common),
        (f"search {RARE_WORD!r} ranked (rare)", search_rare),
        ("get case by reference (+ access audit entry)", get_ref),
        ("count open cases", count_open),
    ]
    return _run_plan(plan, "services", args)


def worker_queries(db: Database, worker: Principal, args: argparse.Namespace) -> list[dict[str, Any]]:
    """A few queries as a team-restricted case worker: every one carries ``team IN (...) OR assignee_id = me``."""
    open_phases = list(ORDER)

    def first_page(i: int) -> int:
        return len(cases.list_cases(db, worker, CaseFilter()).items)

    def status_phase(i: int) -> int:
        return len(cases.list_cases(db, worker, CaseFilter(status=Status.OPEN, phase=open_phases[i % len(open_phases)])).items)

    def list_q_rare(i: int) -> int:
        return len(cases.list_cases(db, worker, CaseFilter(q=RARE_WORD)).items)

    def search_common(i: int) -> int:
        return len(cases.search_cases(db, worker, COMMON_WORD))

    def search_rare(i: int) -> int:
        return len(cases.search_cases(db, worker, RARE_WORD))

    plan: list[tuple[str, Callable[[int], int]]] = [
        ("list first page (sort -created_at)", first_page),
        ("filter status=open & phase=<each>", status_phase),
        (f"list q={RARE_WORD!r} (rare word)", list_q_rare),
        (f"search {COMMON_WORD!r} ranked (common)", search_common),
        (f"search {RARE_WORD!r} ranked (rare)", search_rare),
    ]
    return _run_plan(plan, "services as case worker", args)


def _run_plan(plan: list[tuple[str, Callable[[int], int]]], via: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    for name, fn in plan:
        results.append(time_query(name, via, fn, args.runs, args.warmup))
        log(f"  {name} ({via}): p50 {results[-1]['p50_ms']:.2f} ms, p95 {results[-1]['p95_ms']:.2f} ms")
    return results


def http_queries(port: int, refs: list[str], args: argparse.Namespace, headers: dict[str, str]) -> list[dict[str, Any]]:
    client = HttpClient(port, headers)

    def call(path: str, params: dict[str, Any] | None = None) -> int:
        status, body = client.request("GET", path, params=params)
        if status != 200:
            raise RuntimeError(f"GET {path} {params} -> {status} {body[:200]!r}")
        data = json.loads(body)
        return len(data["items"]) if isinstance(data, dict) and "items" in data else (len(data) if isinstance(data, list) else 1)

    plan: list[tuple[str, Callable[[int], int]]] = [
        ("list first page (sort -created_at)", lambda i: call("/api/v1/cases")),
        ("filter status=open & phase=<each>", lambda i: call("/api/v1/cases", {"status": "open", "phase": ORDER[i % 7].value})),
        (f"search {COMMON_WORD!r} ranked (common)", lambda i: call("/api/v1/search", {"q": COMMON_WORD})),
        ("get case by reference (+ access audit entry)", lambda i: call(f"/api/v1/cases/{refs[i % len(refs)]}")),
    ]
    try:
        return [time_query(name, "HTTP (uvicorn)", fn, args.runs, args.warmup) for name, fn in plan]
    finally:
        client.close()


def settle(db: Database) -> None:
    """Start measurements from a quiet database: no pending checkpoint or autovacuum work.

    PostgreSQL: VACUUM ANALYZE (what autovacuum would do after a bulk load anyway) and CHECKPOINT.
    SQLite: checkpoint and truncate the WAL. SQLite gets no ANALYZE, because casework never runs it.
    """
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("VACUUM ANALYZE"))
            conn.execute(text("CHECKPOINT"))
        else:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def run_backend(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"backend": name}
    migrate.upgrade(url)
    db = Database(url)
    out["server"] = _server_version(db)
    out["durability"] = _durability(db)
    log(f"[{name}] {out['server']}, {out['durability']}")
    admin = users.system_principal(db)  # administrator: sees every case; the actor of the bulk fill and the creation paths
    actor = admin.user_id
    worker_slot = min(WORKER_SLOT, args.users - 1)
    assignees = []
    for i in range(args.users):
        is_worker = i == worker_slot
        account = accounts.AccountCreate(
            name="Bench Worker" if is_worker else f"Bench User {i}",
            email=f"bench{i}@example.org",
            role=Role.CASE_WORKER,
            teams=[WORKER_TEAM] if is_worker else [],
        )
        assignees.append(accounts.create_account(db, admin, account).id)
    worker = auth.load_principal(db, assignees[worker_slot])

    paths_n = len(CREATE_PATHS) * args.create_n
    fill_n = max(0, args.n - paths_n)
    gen = DataGen(seed=args.seed, assignees=assignees, rare_every=rare_every_for(args.n))
    log(f"[{name}] bulk fill: {fill_n} cases (Core executemany, 2000 per transaction) ...")
    fill = bulk_fill(db.engine, gen, actor, fill_n)
    out["fill"] = {
        "cases": fill.cases,
        "phase_history_rows": fill.phase_rows,
        "audit_rows": fill.audit_rows,
        "seconds": round(fill.seconds, 2),
        "cases_per_second": round(fill.cases / fill.seconds, 1) if fill.seconds else None,
        "by_phase": fill.by_phase,
        "method": "bulk Core executemany (benchmark shortcut, not a service path)",
    }
    log(f"[{name}] filled {fill.cases} cases ({fill.phase_rows} phase rows, {fill.audit_rows} audit entries) in {fill.seconds:.1f} s")
    settle(db)

    gen_bodies = DataGen(seed=args.seed + 7, assignees=assignees, rare_every=rare_every_for(args.n))
    rounds = max(1, min(args.rounds, args.create_n))
    raw_bodies = list(payloads(gen_bodies, args.raw_n))
    path_bodies = {key: list(payloads(gen_bodies, args.create_n)) for key in CREATE_PATHS}
    from casework.api.app import create_app

    app = create_app(db)
    headers, out["http_auth"] = http_headers(app, db)
    log(f"[{name}] HTTP authentication: {out['http_auth']}")
    totals: dict[str, Rate] = {}
    ratios: list[float] = []

    def add(key: str, r: Rate) -> None:
        if key not in totals:
            totals[key] = Rate(r.path, r.concurrency, 0, 0.0)
        totals[key].count += r.count
        totals[key].seconds += r.seconds
        totals[key].errors += r.errors

    with tempfile.TemporaryFile() as server_log:
        with uvicorn_server(url, workers=args.uvicorn_workers, log=server_log) as port:
            log(
                f"[{name}] uvicorn on 127.0.0.1:{port} ({args.uvicorn_workers} worker(s)); creating {args.create_n} cases per path "
                f"in {rounds} interleaved rounds (raw, DB-API, Core, service, ASGI x{args.concurrency}, "
                f"uvicorn x1, uvicorn x{args.concurrency})"
            )
            add("raw_c", raw_insert(db.engine, raw_bodies, args.concurrency))
            for k in range(rounds):
                chunk = {key: b[k::rounds] for key, b in path_bodies.items()}
                raw = raw_insert(db.engine, raw_bodies[k::rounds], 1)
                add("raw", raw)
                add("driver", driver_transaction(db.engine, actor, chunk["driver"]))
                add("core", core_transaction(db.engine, actor, chunk["core"]))
                add("service", service_create(db, admin, chunk["service"]))
                add("asgi", asgi_create(app, chunk["asgi"], args.concurrency, headers))
                add("uvicorn1", http_create(port, chunk["uvicorn1"], 1, headers))
                http = http_create(port, chunk["uvicornC"], args.concurrency, headers)
                add("uvicornC", http)
                ratios.append(http.per_second / raw.per_second if raw.per_second else 0.0)
                log(
                    f"[{name}]   round {k + 1}/{rounds}: raw {raw.per_second:.0f}/s, uvicorn x{args.concurrency} "
                    f"{http.per_second:.0f}/s, ratio {ratios[-1]:.3f}"
                )
            for key in ("raw", "raw_c", *CREATE_PATHS):
                log(f"[{name}]   {totals[key].path} x{totals[key].concurrency}: {totals[key].per_second:.0f}/s")

            with db.read() as s:
                total = s.execute(select(func.count()).select_from(Case)).scalar_one()
            out["cases_in_database"] = total
            log(f"[{name}] queries over {total} cases, {args.runs} runs each (services) ...")
            queries = service_queries(db, admin, assignees, args)
            log(f"[{name}] queries as a case worker of team {WORKER_TEAM!r} (also an assignee) ...")
            queries += worker_queries(db, worker, args)
            with db.read() as s:
                refs = list(s.scalars(select(Case.reference).order_by(func.random()).limit(200)))
            log(f"[{name}] queries through HTTP ...")
            queries += http_queries(port, refs, args, headers)
        server_log.seek(0)
        errors_text = server_log.read().decode(errors="replace").strip()
        if errors_text:
            out["server_log_tail"] = errors_text[-2000:]

    raw1 = totals["raw"].per_second
    rates = [totals[key] for key in ("raw", "raw_c", *CREATE_PATHS)]
    out["creation"] = [{**r.as_dict(), "ratio_to_raw": round(r.per_second / raw1, 4) if raw1 else None} for r in rates]
    out["rounds"] = rounds
    out["raw_rows_per_second"] = round(raw1, 1)
    out["raw_rows_per_second_concurrent"] = round(totals["raw_c"].per_second, 1)
    out["http_cases_per_second"] = round(totals["uvicornC"].per_second, 1)
    out["http_concurrency"] = totals["uvicornC"].concurrency
    out["http_ratio"] = round(totals["uvicornC"].per_second / raw1, 4) if raw1 else None
    out["http_ratio_per_round"] = [round(r, 4) for r in ratios]
    out["core_ratio"] = round(totals["core"].per_second / raw1, 4) if raw1 else None
    out["driver_ratio"] = round(totals["driver"].per_second / raw1, 4) if raw1 else None
    out["target_met"] = bool(out["http_ratio"] is not None and out["http_ratio"] >= TARGET_RATIO)
    out["queries"] = queries

    # Sanity checks: the data is what the queries assume.
    checks: dict[str, Any] = {"cases": total}
    checks["rare_word_hits"] = len(cases.search_cases(db, admin, RARE_WORD, limit=200))
    checks["common_word_matches"] = cases.count_cases(db, admin, CaseFilter(q=COMMON_WORD))
    checks["worker_visible_cases"] = cases.count_cases(db, worker, CaseFilter())
    checks["worker_team_cases"] = cases.count_cases(db, admin, CaseFilter(team=WORKER_TEAM))
    checks["worker_assigned_cases"] = cases.count_cases(db, admin, CaseFilter(assignee_id=worker.user_id))
    checks["worker_rare_word_hits"] = len(cases.search_cases(db, worker, RARE_WORD, limit=200))
    with db.read() as s:
        checks["audit_entries"] = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        dup = s.execute(select(Case.reference).group_by(Case.reference).having(func.count() > 1).limit(1)).first()
        checks["duplicate_references"] = 0 if dup is None else 1
    if not args.no_verify:
        from casework.audit.log import verify_chain

        t0 = time.perf_counter()
        with db.read() as s:
            verdict = verify_chain(s)
        checks["audit_chain"] = verdict.describe()
        checks["audit_verify_seconds"] = round(time.perf_counter() - t0, 1)
    out["checks"] = checks
    db.dispose()
    return out


# ---------------------------------------------------------------- output


def _fmt_rate(v: float) -> str:
    return f"{v:,.0f}"


def print_backend(res: dict[str, Any], args: argparse.Namespace) -> None:
    name = res["backend"]
    console.rule(f"[bold]{name}[/bold] — {res['server']} ({res['durability']})")
    fill = res["fill"]
    console.print(
        f"Database: {res['cases_in_database']:,} cases. Of these {fill['cases']:,} were bulk-loaded (shortcut: Core executemany, "
        f"{fill['cases_per_second']:,} cases/s, with {fill['phase_history_rows']:,} phase-history rows and "
        f"{fill['audit_rows']:,} chained audit entries); the rest were created by the paths below."
    )
    console.print(f"HTTP requests authenticate with: {res['http_auth']}.")
    c = res["checks"]
    console.print(
        f"Case worker (team {WORKER_TEAM!r}, also an assignee) sees {c['worker_visible_cases']:,} cases: "
        f"{c['worker_team_cases']:,} of the team, {c['worker_assigned_cases']:,} assigned to them (overlapping)."
    )
    t = Table(
        title=f"{name}: case creation ({args.create_n} per path, {res['rounds']} interleaved rounds; raw: {args.raw_n} rows)",
        title_justify="left",
    )
    t.add_column("path")
    t.add_column("clients", justify="right")
    t.add_column("count", justify="right")
    t.add_column("seconds", justify="right")
    t.add_column("per second", justify="right")
    t.add_column("x raw (1 conn)", justify="right")
    t.add_column("ms each", justify="right")
    for r in res["creation"]:
        per = r["per_second"]
        t.add_row(
            r["path"] + (f" [dim]{r['note']}[/dim]" if r["note"] else "") + (f" [red]({r['errors']} errors)[/red]" if r["errors"] else ""),
            str(r["concurrency"]),
            f"{r['count']:,}",
            f"{r['seconds']:.2f}",
            _fmt_rate(per),
            f"{r['ratio_to_raw']:.3f}" if r["ratio_to_raw"] is not None else "-",
            f"{1000 / per:.2f}" if per else "-",
        )
    console.print(t)
    q = Table(title=f"{name}: queries over {res['cases_in_database']:,} cases ({args.runs} runs each)", title_justify="left")
    q.add_column("query")
    q.add_column("via")
    q.add_column("rows", justify="right")
    q.add_column("p50 ms", justify="right")
    q.add_column("p95 ms", justify="right")
    q.add_column("max ms", justify="right")
    for r in res["queries"]:
        q.add_row(r["query"], r["via"], str(r["rows"]), f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}", f"{r['max_ms']:.2f}")
    console.print(q)
    checks = res["checks"]
    console.print(
        f"Checks: {checks['cases']:,} cases, {checks['audit_entries']:,} audit entries, "
        f"duplicate references: {checks['duplicate_references']}, '{RARE_WORD}' hits: {checks['rare_word_hits']} "
        f"({checks['worker_rare_word_hits']} visible to the case worker), "
        f"'{COMMON_WORD}' matches: {checks['common_word_matches']:,}"
        + (f", {checks['audit_chain']} ({checks['audit_verify_seconds']} s)" if "audit_chain" in checks else "")
    )
    if res.get("server_log_tail"):
        console.print("[yellow]uvicorn wrote to its log:[/yellow]\n" + res["server_log_tail"])


def print_summary(results: list[dict[str, Any]], skipped: dict[str, str]) -> None:
    console.rule("[bold]Summary[/bold]")
    if not results:
        console.print("[yellow]No backend ran.[/yellow]")
        for name, why in skipped.items():
            console.print(f"[yellow]{name} skipped:[/yellow] {why}")
        return
    t = Table(title_justify="left")
    t.add_column("backend")
    t.add_column("raw insert/s (1 conn)", justify="right")
    t.add_column("raw insert/s (C conns)", justify="right")
    t.add_column("DB-API txn/s", justify="right")
    t.add_column("Core txn/s", justify="right")
    t.add_column("service/s", justify="right")
    t.add_column("HTTP/s (uvicorn, C clients)", justify="right")
    t.add_column("HTTP / raw", justify="right")
    t.add_column(f"target {TARGET_RATIO:.2f}", justify="center")
    for res in results:
        c = {r["path"]: r for r in res["creation"]}
        t.add_row(
            res["backend"],
            _fmt_rate(res["raw_rows_per_second"]),
            _fmt_rate(res["raw_rows_per_second_concurrent"]),
            _fmt_rate(c[DRIVER_PATH]["per_second"]),
            _fmt_rate(c[CORE_PATH]["per_second"]),
            _fmt_rate(c[SERVICE_PATH]["per_second"]),
            f"{_fmt_rate(res['http_cases_per_second'])} (C={res['http_concurrency']})",
            f"{res['http_ratio']:.3f}",
            "[green]met[/green]" if res["target_met"] else "[red]not met[/red]",
        )
    console.print(t)
    for res in results:
        per_round = res["http_ratio_per_round"]
        console.print(
            f"{res['backend']}: HTTP creation runs at {res['http_ratio']:.1%} of the raw single-row insert rate "
            f"(per round {min(per_round):.1%}..{max(per_round):.1%}). The same transaction reaches {res['driver_ratio']:.1%} "
            f"as hand-written SQL on the bare driver and {res['core_ratio']:.1%} through SQLAlchemy Core (no ORM/Pydantic/HTTP)."
        )
    for name, why in skipped.items():
        console.print(f"[yellow]{name} skipped:[/yellow] {why}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()
    meta: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite_library": sqlite3.sqlite_version,
        "load_average_at_start": [round(x, 2) for x in load_before],
        "options": {k: v for k, v in vars(args).items() if k not in ("postgres_url",)},
    }
    console.print(
        f"[bold]casework bench[/bold]: n={args.n:,} create-n={args.create_n:,} raw-n={args.raw_n:,} "
        f"concurrency={args.concurrency} runs={args.runs} backends={','.join(args.backends)} "
        f"({meta['cpus']} CPUs, load average {load_before[0]:.2f})"
    )
    results: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for backend in args.backends:
        if backend == "sqlite":
            url, cleanup = prepare_sqlite(args)
            try:
                results.append(run_backend("sqlite", url, args))
            finally:
                cleanup()
        else:
            pg_url, note = prepare_postgres(args)
            if pg_url is None:
                skipped["postgres"] = note
                log(f"[postgres] skipped: {note}")
                continue
            log(f"[postgres] database {make_url(pg_url).database} {note}")
            try:
                results.append(run_backend("postgres", pg_url, args))
            finally:
                if args.keep:
                    log(f"[postgres] kept database {make_url(pg_url).database}")
                else:
                    drop_postgres(pg_url)
        print_backend(results[-1], args)
    meta["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print_summary(results, skipped)
    console.print(
        f"Load average at start {meta['load_average_at_start']}, at end {meta['load_average_at_end']} "
        f"on {meta['cpus']} CPUs (the benchmark, its uvicorn server and the database share them)."
    )
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"meta": meta, "results": results, "skipped": skipped}, indent=2, default=str) + "\n")
        console.print(f"Figures written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
