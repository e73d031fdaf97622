"""Page-speed benchmark of the web interface (``make bench``): server time of the main pages.

For each backend (SQLite always; PostgreSQL when reachable, as in ``bench/cases.py``) the
benchmark builds a fresh database of ``--cases`` cases with ``bench_data.bulk_fill`` (the same
rows the services write), adds one SLA resolution clock per case (met, missed or running, so
the SLA chart has data), links a few cases to a customer party, signs accounts in through the
real sign-in form with Starlette's TestClient (the application in-process, no network) and
times ``--runs`` requests per page after ``--warmup`` untimed ones:

* as a case worker of team ``fraud`` (also an assignee): ``/dashboard``, ``/dashboard?q=<word>``
  (a common and a rare word), ``/cases/<reference>`` of a case they may see, ``/kpi``;
* as a supervisor (figures over every case): ``/kpi`` (the default twelve weeks) and ``/kpi`` over
  a year, and one chart's CSV;
* ``/kpi`` both from the report cache and computed fresh (a period a day longer on each request);
* as a customer: ``/portal``.

A page that answers 404 (its module is not there yet) is skipped with a note. The target is a
p95 under 200 ms. Run ``.venv/bin/python bench/web_pages.py`` for a quick check (3 000 cases) or
``--cases 100000`` as ``make bench`` does.

Building 100 000 cases takes minutes. ``--keep`` keeps the database afterwards, and ``--reuse``
times pages again on a database an earlier ``--keep`` run built (``--sqlite-path`` or
``--postgres-url``): it brings the schema up to date (new migrations run on the existing rows)
and signs in with the accounts already there instead of filling anew.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from rich.table import Table
from sqlalchemy import func, select, update

from bench_data import COMMON_WORD, RARE_WORD, DataGen, bulk_fill, rare_every_for
from cases import DEFAULT_PG_URL, WORKER_TEAM, console, drop_postgres, log, percentiles, prepare_postgres, prepare_sqlite, settle
from casework.domain.access import Role
from casework.services import accounts, parties, users
from casework.services.schemas import PartyCreate
from casework.store import migrate
from casework.store.db import WRITE_OPTION
from casework.store.models import Case, SlaClock
from casework.store.unit_of_work import Database

TARGET_MS = 200.0
PASSWORD = "bench-password-for-web-pages-2026"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--cases", type=int, default=3000, help="cases in the database (make bench: 100000)")
    p.add_argument("--runs", type=int, default=30, help="timed requests per page")
    p.add_argument("--warmup", type=int, default=3, help="untimed requests per page first")
    p.add_argument("--users", type=int, default=20, help="assignable case workers")
    p.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    p.add_argument("--postgres-url", default=os.environ.get("CASEWORK_BENCH_POSTGRES_URL", DEFAULT_PG_URL))
    p.add_argument("--sqlite-path", default=None, help="SQLite file to use (default: a fresh file in a temporary directory)")
    p.add_argument("--force-reset", action="store_true", help="allow wiping a database whose name does not contain 'bench'")
    p.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    p.add_argument("--reuse", action="store_true", help="time pages on a database an earlier --keep run filled (implies --keep)")
    p.add_argument("--seed", type=int, default=20261125)
    args = p.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(args.backends) - {"sqlite", "postgres"}:
        p.error("backends are sqlite and postgres")
    if args.reuse:
        if "sqlite" in args.backends and not args.sqlite_path:
            p.error("--reuse needs --sqlite-path (the database an earlier --keep run filled)")
        args.keep = True
    return args


# ---------------------------------------------------------------- data


def add_sla_clocks(db: Database, now: dt.datetime) -> int:
    """One resolution clock per case: met when closed within 30 days, missed otherwise (breached
    30 days after intake), running when open and not yet due. Core executemany, like bulk_fill."""
    target = dt.timedelta(days=30)
    writer = db.engine.execution_options(**{WRITE_OPTION: True})
    with db.engine.connect() as conn:
        rows = conn.execute(select(Case.id, Case.case_type, Case.priority, Case.created_at, Case.closed_at)).all()
    clocks = []
    for case_id, case_type, priority, created, closed in rows:
        due = created + target
        breached = due if (closed or now) > due else None
        clock = SlaClock(
            id=uuid.uuid4(), case_id=case_id, case_type=case_type, kind="resolution", name="resolution", priority=priority,
            started_at=created, due_at=due, warn_at=due - target * 0.2, warned_at=None, breached_at=breached, stopped_at=closed,
        )  # fmt: skip
        clock.settle()  # what the ORM does on every write
        clocks.append({c.key: getattr(clock, c.key) for c in SlaClock.__table__.columns})
    for start in range(0, len(clocks), 5000):
        with writer.begin() as conn:
            conn.execute(SlaClock.__table__.insert(), clocks[start : start + 5000])
    return len(clocks)


def link_customer(db: Database, party_id: uuid.UUID, n: int = 15) -> list[str]:
    """The customer party becomes the customer of ``n`` cases (the portal's list)."""
    writer = db.engine.execution_options(**{WRITE_OPTION: True})
    with writer.begin() as conn:
        ids = list(conn.execute(select(Case.id).order_by(Case.created_at.desc()).limit(n)).scalars())
        conn.execute(update(Case).where(Case.id.in_(ids)).values(customer_party_id=party_id))
        return list(conn.execute(select(Case.reference).where(Case.id.in_(ids))).scalars())


# ---------------------------------------------------------------- browsing


def signed_in(app: Any, email: str) -> Any:
    from fastapi.testclient import TestClient

    client = TestClient(app, base_url="http://testserver")
    client.__enter__()
    response = client.post("/login", data={"email": email, "password": PASSWORD}, follow_redirects=False)
    if response.status_code != 303:
        raise RuntimeError(f"sign-in of {email} failed: {response.status_code} {response.text[:300]}")
    return client


def time_page(client: Any, label: str, who: str, url: str | Callable[[int], str], args: argparse.Namespace) -> dict[str, Any]:
    def address(i: int) -> str:
        return url(i) if callable(url) else url

    t0 = time.perf_counter()
    first = client.get(address(0))
    first_ms = (time.perf_counter() - t0) * 1000
    row: dict[str, Any] = {
        "page": label,
        "as": who,
        "url": address(0),
        "status": first.status_code,
        "bytes": len(first.content),
        "first_ms": round(first_ms, 1),
    }
    if first.status_code == 404:
        row["note"] = "404: page not there (yet); skipped"
        return row
    if first.status_code != 200:
        row["note"] = f"answered {first.status_code}: {first.text[:120]!r}"
        return row
    for i in range(args.warmup):
        client.get(address(i + 1))
    samples = []
    for i in range(args.runs):
        t0 = time.perf_counter()
        response = client.get(address(args.warmup + i + 1))
        samples.append(time.perf_counter() - t0)
        if response.status_code != 200:
            row["note"] = f"{address(args.warmup + i + 1)} answered {response.status_code}"
    row.update(percentiles(samples))
    row["met"] = row["p95_ms"] < TARGET_MS
    log(f"  {label} as {who}: p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms")
    return row


def run_backend(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    from casework.api.app import create_app

    migrate.upgrade(url)
    db = Database(url)
    admin = users.system_principal(db)
    os.environ["CASEWORK_COOKIE_SECURE"] = "0"  # TestClient speaks plain http

    def account(email: str, role: Role, **extra: Any) -> uuid.UUID:
        cmd = accounts.AccountCreate(name=email.split("@")[0].title(), email=email, role=role, password=PASSWORD, **extra)
        return accounts.create_account(db, admin, cmd).id

    if args.reuse:
        worker_id = users.principal_by_email(db, "worker@example.org").user_id  # fails clearly on an unfilled database
        log(f"[{name}] reusing the cases already there")
    else:
        assignees = [account(f"bench{i}@example.org", Role.CASE_WORKER) for i in range(max(1, args.users))]
        worker_id = account("worker@example.org", Role.CASE_WORKER, teams=[WORKER_TEAM])
        assignees.insert(min(3, len(assignees)), worker_id)  # a moderately loaded assignee, as in bench/cases.py
        account("supervisor@example.org", Role.SUPERVISOR, teams=[WORKER_TEAM])
        party = parties.create_party(db, admin, PartyCreate(name="Bench Customer", email="customer@example.org"))
        account("customer@example.org", Role.CUSTOMER, party_id=party.id)

        gen = DataGen(seed=args.seed, assignees=assignees, rare_every=rare_every_for(args.cases))
        log(f"[{name}] bulk fill: {args.cases} cases ...")
        fill = bulk_fill(db.engine, gen, admin.user_id, args.cases)
        clocks = add_sla_clocks(db, dt.datetime.now(dt.UTC))
        portal_refs = link_customer(db, party.id)
        log(f"[{name}] {fill.cases} cases in {fill.seconds:.1f} s, {clocks} SLA clocks, {len(portal_refs)} cases of the customer")
    settle(db)
    with db.read() as s:
        worker_refs = list(
            s.scalars(
                select(Case.reference)
                .where((Case.team == WORKER_TEAM) | (Case.assignee_id == worker_id))
                .order_by(func.random())
                .limit(100)
            )
        )
        total = s.execute(select(func.count()).select_from(Case)).scalar_one()

    app = create_app(db)
    worker = signed_in(app, "worker@example.org")
    supervisor = signed_in(app, "supervisor@example.org")
    customer = signed_in(app, "customer@example.org")
    today = dt.datetime.now(dt.UTC).date()
    year_ago = (today - dt.timedelta(days=364)).isoformat()
    twelve = today - dt.timedelta(weeks=12)
    plan: list[tuple[Any, str, str, str | Callable[[int], str]]] = [
        (worker, "case worker", "/dashboard", "/dashboard"),
        (worker, "case worker", f"/dashboard?q={COMMON_WORD} (common word)", f"/dashboard?q={COMMON_WORD}"),
        (worker, "case worker", f"/dashboard?q={RARE_WORD} (rare word)", f"/dashboard?q={RARE_WORD}"),
        (worker, "case worker", "/cases/{reference}", lambda i: f"/cases/{worker_refs[i % len(worker_refs)]}"),
        (worker, "case worker", "/kpi (12 weeks, own cases)", "/kpi"),
        (supervisor, "supervisor", "/kpi (12 weeks, all cases)", "/kpi"),
        (supervisor, "supervisor", "/kpi (one year, all cases)", f"/kpi?from={year_ago}&to={today.isoformat()}"),
        # A different period on every request: nothing comes from the report cache (kpi.CACHE_SECONDS).
        (
            worker,
            "case worker",
            "/kpi (12 weeks, own cases, uncached)",
            lambda i: f"/kpi?from={(twelve - dt.timedelta(days=i)).isoformat()}",
        ),
        (
            supervisor,
            "supervisor",
            "/kpi (12 weeks, all cases, uncached)",
            lambda i: f"/kpi?from={(twelve - dt.timedelta(days=i)).isoformat()}",
        ),
        (
            supervisor,
            "supervisor",
            "/kpi (one year, all cases, uncached)",
            lambda i: f"/kpi?from={(today - dt.timedelta(days=364 + i)).isoformat()}&to={today.isoformat()}",
        ),
        (supervisor, "supervisor", "/kpi/flow.csv (one year)", f"/kpi/flow.csv?from={year_ago}&to={today.isoformat()}"),
        (customer, "customer", "/portal", "/portal"),
    ]
    rows = []
    try:
        for client, who, label, address in plan:
            rows.append(time_page(client, label, who, address, args))
    finally:
        for client in (worker, supervisor, customer):
            client.__exit__(None, None, None)
        db.dispose()
    return {"backend": name, "cases": total, "pages": rows}


def print_results(res: dict[str, Any], args: argparse.Namespace) -> None:
    table = Table(
        title=f"{res['backend']}: page server time over {res['cases']:,} cases ({args.runs} requests each, in-process TestClient)",
        title_justify="left",
    )
    for column, justify in (("page", "left"), ("as", "left"), ("status", "right"), ("KiB", "right"),
                            ("first ms", "right"), ("p50 ms", "right"),
                            ("p95 ms", "right"), ("max ms", "right"), (f"target < {TARGET_MS:.0f} ms (p95)", "center")):  # fmt: skip
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for r in res["pages"]:
        if "p50_ms" not in r:
            table.add_row(r["page"], r["as"], str(r["status"]), "-", "-", "-", "-", "-", f"[yellow]{r.get('note', '')}[/yellow]")
            continue
        verdict = "[green]met[/green]" if r["met"] else "[red]not met[/red]"
        if r.get("note"):
            verdict += f" [yellow]{r['note']}[/yellow]"
        table.add_row(
            r["page"], r["as"], str(r["status"]), f"{r['bytes'] / 1024:.0f}", f"{r['first_ms']:.1f}",
            f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}", f"{r['max_ms']:.1f}", verdict,
        )  # fmt: skip
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console.rule(f"[bold]casework web pages[/bold] — {args.cases:,} cases")
    results = []
    for backend in args.backends:
        if backend == "sqlite" and args.reuse:
            path = os.path.abspath(args.sqlite_path)
            if not os.path.exists(path):
                raise SystemExit(f"--reuse: {path} does not exist (build it first with --keep)")
            results.append(run_backend("sqlite", f"sqlite:///{path}", args))
        elif backend == "sqlite":
            url, cleanup = prepare_sqlite(args)
            try:
                results.append(run_backend("sqlite", url, args))
            finally:
                cleanup()
        elif args.reuse:
            results.append(run_backend("postgres", args.postgres_url, args))
        else:
            pg_url, note = prepare_postgres(args)
            if pg_url is None:
                log(f"[postgres] skipped: {note}")
                continue
            try:
                results.append(run_backend("postgres", pg_url, args))
            finally:
                if not args.keep:
                    drop_postgres(pg_url)
    for res in results:
        print_results(res, args)
    missed = [f"{res['backend']} {r['page']}" for res in results for r in res["pages"] if r.get("met") is False]
    console.print(
        f"[red]Over {TARGET_MS:.0f} ms (p95): {', '.join(missed)}[/red]"
        if missed
        else f"[green]Every page timed is under {TARGET_MS:.0f} ms (p95).[/green]"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
