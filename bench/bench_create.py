"""The ways the benchmark creates cases, each timed on its own sample.

* ``raw_insert``  — the yardstick: one INSERT of a case-sized row into a scratch table plus
  COMMIT, straight through the DB-API driver, on a connection from ``make_engine`` (so the
  same WAL + synchronous=FULL / synchronous_commit=on settings apply).
* ``core_transaction`` — diagnostic: the very rows ``create_case`` writes (reference counter,
  case, phase history, search document, chained audit entry) in one transaction through
  SQLAlchemy Core, without the ORM, Pydantic or HTTP. It shows what the database work alone costs.
* ``service_create`` — ``casework.services.cases.create_case`` as a given principal, one transaction per case.
* ``asgi_create`` — POST /api/v1/cases through httpx's in-process ASGI transport.
* ``http_create`` — POST /api/v1/cases to a real uvicorn server in a subprocess.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Column, Date, DateTime, Engine, Integer, MetaData, String, Table, Text, Uuid, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.types import JSON

from bench_data import search_body
from casework.audit.chain import GENESIS, compute_hash, to_jsonable
from casework.domain.access import Principal, Scope
from casework.domain.lifecycle import MoveKind, Phase, Status
from casework.domain.references import format_reference
from casework.services.cases import CASE_FIELDS
from casework.store.db import WRITE_OPTION
from casework.store.models import AuditEntry, Case, PhaseChange, ReferenceCounter, SearchDoc, User

RAW_PATH = "raw single-row INSERT + COMMIT (DB-API)"
DRIVER_PATH = "same statements as create_case via DB-API (floor)"
CORE_PATH = "same rows via SQLAlchemy Core (diagnostic)"
SERVICE_PATH = "services.cases.create_case"
ASGI_PATH = "HTTP in-process (httpx ASGITransport)"
UVICORN_PATH = "HTTP uvicorn server (subprocess)"


@dataclass
class Rate:
    path: str
    concurrency: int
    count: int
    seconds: float
    errors: int = 0
    note: str = ""

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "concurrency": self.concurrency,
            "count": self.count,
            "seconds": round(self.seconds, 4),
            "per_second": round(self.per_second, 1),
            "errors": self.errors,
            "note": self.note,
        }


def _split(items: Sequence[Any], parts: int) -> list[Sequence[Any]]:
    return [items[i::parts] for i in range(parts)]


def _run_threads(work: Callable[[Sequence[Any]], int], items: Sequence[Any], concurrency: int) -> tuple[float, int]:
    """Run ``work`` over ``items`` split across ``concurrency`` threads; returns (seconds, errors)."""
    errors = [0] * concurrency
    start = threading.Barrier(concurrency + 1)

    def runner(i: int, chunk: Sequence[Any]) -> None:
        start.wait()
        errors[i] = work(chunk)

    threads = [threading.Thread(target=runner, args=(i, c), daemon=True) for i, c in enumerate(_split(items, concurrency))]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, sum(errors)


# ---------------------------------------------------------------- raw single-row insert

RAW_TABLE = "bench_raw_insert"


def _raw_table() -> Table:
    """A scratch table shaped like ``cases`` (same column types, primary key and unique reference)."""
    return Table(
        RAW_TABLE,
        MetaData(),
        Column("id", Uuid, primary_key=True),
        Column("reference", String(32), nullable=False, unique=True),
        Column("case_type", String(64), nullable=False),
        Column("title", String(300), nullable=False),
        Column("description", Text, nullable=False),
        Column("status", String(10), nullable=False),
        Column("phase", String(20), nullable=False),
        Column("priority", String(2), nullable=False),
        Column("risk_score", Integer),
        Column("assignee_id", Uuid),
        Column("team", String(100)),
        Column("custom_data", JSON, nullable=False),
        Column("due_date", Date),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Column("version", Integer, nullable=False),
    )


def raw_insert(engine: Engine, bodies: Sequence[dict[str, Any]], concurrency: int = 1) -> Rate:
    """Rows/s for INSERT + COMMIT per row through the bare DB-API connection."""
    table = _raw_table()
    table.metadata.drop_all(engine)
    table.metadata.create_all(engine)
    sqlite = engine.dialect.name == "sqlite"
    cols = [c.name for c in table.columns]
    mark = "?" if sqlite else "%s"
    sql = f"INSERT INTO {RAW_TABLE} ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"
    counter = iter(range(1, 10**9))
    lock = threading.Lock()

    def params(body: dict[str, Any]) -> tuple[Any, ...]:
        with lock:
            number = next(counter)
        now = dt.datetime.now(dt.UTC)
        ident, assignee = uuid.uuid4(), body.get("assignee_id")
        values = {
            "id": ident.hex if sqlite else ident,
            "reference": format_reference(now.year, number),
            "case_type": body["case_type"],
            "title": body["title"],
            "description": body.get("description", ""),
            "status": "open",
            "phase": "screening",
            "priority": body.get("priority", "P3"),
            "risk_score": body.get("risk_score"),
            "assignee_id": (uuid.UUID(assignee).hex if sqlite else uuid.UUID(assignee)) if assignee else None,
            "team": body.get("team"),
            "custom_data": json.dumps(body.get("custom_data", {})),
            "due_date": body.get("due_date"),
            "created_at": now.replace(tzinfo=None).isoformat(sep=" ") if sqlite else now,
            "updated_at": now.replace(tzinfo=None).isoformat(sep=" ") if sqlite else now,
            "version": 1,
        }
        return tuple(values[c] for c in cols)

    def work(chunk: Sequence[dict[str, Any]]) -> int:
        rows = [params(b) for b in chunk]  # built before the clock matters as little as possible
        conn = engine.raw_connection()
        try:
            cur = conn.cursor()
            for row in rows:
                if sqlite:
                    cur.execute("BEGIN IMMEDIATE")
                    cur.execute(sql, row)
                    cur.execute("COMMIT")
                else:
                    cur.execute(sql, row)
                    conn.commit()
            cur.close()
        finally:
            conn.close()
        return 0

    try:
        seconds, errors = _run_threads(work, bodies, concurrency)
    finally:
        table.metadata.drop_all(engine)
    return Rate(RAW_PATH, concurrency, len(bodies), seconds, errors)


# ---------------------------------------------------------------- the same transaction through the bare driver

_CASE_COLS = [
    "id", "reference", "case_type", "title", "description", "status", "phase", "outcome", "priority", "risk_score",
    "assignee_id", "team", "customer_party_id", "custom_data", "due_date", "created_at", "updated_at", "closed_at", "version",
]  # fmt: skip
_PHASE_COLS = ["id", "case_id", "seq", "from_phase", "to_phase", "kind", "reason", "outcome", "actor_id", "at"]
_AUDIT_COLS = ["seq", "at", "actor_id", "case_id", "action", "data", "prev_hash", "hash"]


def driver_transaction(engine: Engine, actor_id: uuid.UUID, bodies: Sequence[dict[str, Any]]) -> Rate:
    """create_case's statements, one transaction per case, as hand-written SQL on the DB-API connection.

    The floor for this transaction shape: no SQLAlchemy at all between Python and the driver. Values
    are stored exactly as SQLAlchemy would store them (hex UUIDs and naive UTC timestamps on SQLite),
    so these cases read back, search and verify like any other.
    """
    sqlite = engine.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"

    def ins(table: str, cols: list[str]) -> str:
        return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"

    def u(value: uuid.UUID | None) -> Any:
        return value.hex if (sqlite and value is not None) else value

    def ts(value: dt.datetime) -> Any:
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ") if sqlite else value

    sql_case, sql_phase, sql_audit = ins("cases", _CASE_COLS), ins("phase_history", _PHASE_COLS), ins("audit_entries", _AUDIT_COLS)
    sql_doc = ins("search_docs", ["case_id", "body"])
    sql_user = f"SELECT id FROM users WHERE id = {mark}"
    sql_ref = (
        f"INSERT INTO reference_counters (year, last) VALUES ({mark}, 1) "
        "ON CONFLICT (year) DO UPDATE SET last = reference_counters.last + 1 RETURNING last"
    )
    sql_head = "SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1"
    conn = engine.raw_connection()  # make_engine's durability settings apply
    try:
        cur = conn.cursor()
        t0 = time.perf_counter()
        for body in bodies:
            now = dt.datetime.now(dt.UTC)
            assignee = uuid.UUID(body["assignee_id"]) if body.get("assignee_id") else None
            if sqlite:
                cur.execute("BEGIN IMMEDIATE")
            if assignee is not None:
                cur.execute(sql_user, (u(assignee),))
                if cur.fetchone() is None:
                    raise RuntimeError("assignee vanished")
            cur.execute(sql_ref, (now.year,))
            number = cur.fetchone()[0]
            case_id = uuid.uuid4()
            row = {
                "id": case_id, "reference": format_reference(now.year, number), "case_type": body["case_type"],
                "title": body["title"], "description": body.get("description", ""), "status": Status.OPEN.value,
                "phase": Phase.SCREENING.value, "outcome": None, "priority": body.get("priority", "P3"),
                "risk_score": body.get("risk_score"), "assignee_id": assignee, "team": body.get("team"),
                "customer_party_id": None, "custom_data": body.get("custom_data", {}),
                "due_date": dt.date.fromisoformat(body["due_date"]) if body.get("due_date") else None,
                "created_at": now, "updated_at": now, "closed_at": None, "version": 1,
            }  # fmt: skip
            stored = {
                **row,
                "id": u(case_id),
                "assignee_id": u(assignee),
                "custom_data": json.dumps(row["custom_data"]),
                "due_date": row["due_date"].isoformat() if (sqlite and row["due_date"]) else row["due_date"],
                "created_at": ts(now),
                "updated_at": ts(now),
            }
            cur.execute(sql_case, tuple(stored[c] for c in _CASE_COLS))
            cur.execute(sql_phase, (u(uuid.uuid4()), u(case_id), 1, None, Phase.SCREENING.value, MoveKind.OPEN.value,
                                    None, None, u(actor_id), ts(now)))  # fmt: skip
            cur.execute(sql_doc, (u(case_id), search_body(row["reference"], row["title"], row["description"])))
            if not sqlite:
                cur.execute("SELECT pg_advisory_xact_lock(424242)")
            cur.execute(sql_head)
            head = cur.fetchone()
            seq, prev = (head[0], head[1]) if head else (0, GENESIS)
            payload = to_jsonable({"fields": {k: row[k] for k in CASE_FIELDS}})
            at = dt.datetime.now(dt.UTC)
            digest = compute_hash(
                seq=seq + 1, at=at, actor_id=actor_id, case_id=case_id, action="case.create", data=payload, prev_hash=prev
            )
            cur.execute(sql_audit, (seq + 1, ts(at), u(actor_id), u(case_id), "case.create", json.dumps(payload), prev, digest))
            if sqlite:
                cur.execute("COMMIT")
            else:
                conn.commit()
        seconds = time.perf_counter() - t0
        cur.close()
    finally:
        conn.close()
    return Rate(DRIVER_PATH, 1, len(bodies), seconds)


# ---------------------------------------------------------------- the same transaction through Core


def core_transaction(engine: Engine, actor_id: uuid.UUID, bodies: Sequence[dict[str, Any]]) -> Rate:
    """create_case's rows, one transaction per case, through SQLAlchemy Core (no ORM/Pydantic/HTTP)."""
    writer = engine.execution_options(**{WRITE_OPTION: True})
    postgres = engine.dialect.name == "postgresql"
    ins = (pg_insert if postgres else sqlite_insert)(ReferenceCounter)
    t0 = time.perf_counter()
    for body in bodies:
        now = dt.datetime.now(dt.UTC)
        assignee = uuid.UUID(body["assignee_id"]) if body.get("assignee_id") else None
        with writer.begin() as conn:
            if assignee is not None and conn.execute(select(User.id).where(User.id == assignee)).first() is None:
                raise RuntimeError("assignee vanished")
            stmt = ins.values(year=now.year, last=1).on_conflict_do_update(
                index_elements=[ReferenceCounter.year], set_={"last": ReferenceCounter.last + 1}
            )
            number = conn.execute(stmt.returning(ReferenceCounter.last)).scalar_one()
            case_id = uuid.uuid4()
            row = {
                "id": case_id,
                "reference": format_reference(now.year, number),
                "case_type": body["case_type"],
                "title": body["title"],
                "description": body.get("description", ""),
                "status": Status.OPEN.value,
                "phase": Phase.SCREENING.value,
                "outcome": None,
                "priority": body.get("priority", "P3"),
                "risk_score": body.get("risk_score"),
                "assignee_id": assignee,
                "team": body.get("team"),
                "customer_party_id": None,
                "custom_data": body.get("custom_data", {}),
                "due_date": dt.date.fromisoformat(body["due_date"]) if body.get("due_date") else None,
                "created_at": now,
                "updated_at": now,
                "closed_at": None,
                "version": 1,
            }
            conn.execute(Case.__table__.insert(), row)
            conn.execute(
                PhaseChange.__table__.insert(),
                {"id": uuid.uuid4(), "case_id": case_id, "seq": 1, "from_phase": None, "to_phase": Phase.SCREENING.value,
                 "kind": MoveKind.OPEN.value, "reason": None, "outcome": None, "actor_id": actor_id, "at": now},
            )  # fmt: skip
            conn.execute(
                SearchDoc.__table__.insert(), {"case_id": case_id, "body": search_body(row["reference"], row["title"], row["description"])}
            )
            if postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(424242)"))
            head = conn.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
            seq, prev = (head[0], head[1]) if head else (0, GENESIS)
            payload = to_jsonable({"fields": {k: row[k] for k in CASE_FIELDS}})
            at = dt.datetime.now(dt.UTC)
            digest = compute_hash(
                seq=seq + 1, at=at, actor_id=actor_id, case_id=case_id, action="case.create", data=payload, prev_hash=prev
            )
            conn.execute(
                AuditEntry.__table__.insert(),
                {"seq": seq + 1, "at": at, "actor_id": actor_id, "case_id": case_id, "action": "case.create",
                 "data": payload, "prev_hash": prev, "hash": digest},
            )  # fmt: skip
    return Rate(CORE_PATH, 1, len(bodies), time.perf_counter() - t0)


# ---------------------------------------------------------------- services


def service_create(db: Any, who: Principal, bodies: Sequence[dict[str, Any]]) -> Rate:
    from casework.services import cases
    from casework.services.schemas import CaseCreate

    t0 = time.perf_counter()
    for body in bodies:
        cases.create_case(db, who, CaseCreate.model_validate(body))
    return Rate(SERVICE_PATH, 1, len(bodies), time.perf_counter() - t0)


# ---------------------------------------------------------------- HTTP


def asgi_create(app: Any, bodies: Sequence[dict[str, Any]], concurrency: int, headers: dict[str, str]) -> Rate:
    """POST through httpx.AsyncClient + ASGITransport (app and client share one process)."""
    import httpx

    async def main() -> tuple[float, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client:
            # One untimed request so one-time set-up (system user lookup, route compilation) is not counted.
            warm = await client.get("/api/v1/cases", params={"limit": 1})
            warm.raise_for_status()
            errors = 0

            async def worker(chunk: Sequence[dict[str, Any]]) -> None:
                nonlocal errors
                for body in chunk:
                    r = await client.post("/api/v1/cases", json=body)
                    if r.status_code != 201:
                        errors += 1
                        if errors == 1:
                            print(f"  ASGI create failed: {r.status_code} {r.text[:300]}", file=sys.stderr)

            t0 = time.perf_counter()
            await asyncio.gather(*(worker(c) for c in _split(bodies, concurrency)))
            return time.perf_counter() - t0, errors

    seconds, errors = asyncio.run(main())
    return Rate(ASGI_PATH, concurrency, len(bodies) - errors, seconds, errors)


def http_headers(app: Any, db: Any) -> tuple[dict[str, str], str]:
    """Headers the HTTP paths send, and how they were obtained.

    The API always requires authentication: a personal API token (write scope) of the built-in
    system administrator is created through the services and sent as ``Authorization: Bearer``,
    so per-request token authentication is part of what is measured. The token is checked
    here: an anonymous request must be refused with 401 and the token's must succeed.
    """
    import httpx

    from casework.services import auth, users

    token = auth.create_token(db, users.system_principal(db), "bench", Scope.WRITE)
    headers = {"Authorization": f"Bearer {token.token}"}

    async def probe(with_headers: dict[str, str]) -> int:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            return (await client.get("/api/v1/cases", params={"limit": 1}, headers=with_headers)).status_code

    anonymous, authenticated = asyncio.run(probe({})), asyncio.run(probe(headers))
    if authenticated != 200:
        raise RuntimeError(f"GET /api/v1/cases with the bench token answered {authenticated}, expected 200")
    how = "personal API token of the system administrator (Authorization: Bearer)"
    if anonymous != 401:
        how += f"; note: an anonymous request answered {anonymous}, not 401"
    return headers, how


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def uvicorn_server(database_url: str, *, workers: int = 1, log: Any = None) -> Iterator[int]:
    """Start ``uvicorn casework.api.app:create_app --factory`` on a free port; yields the port."""
    port = free_port()
    env = {**os.environ, "CASEWORK_DATABASE_URL": database_url}
    cmd = [
        sys.executable, "-m", "uvicorn", "casework.api.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=log or subprocess.DEVNULL, stderr=log or subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with code {proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/openapi.json")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not start within 60 s") from None
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class HttpClient:
    """A keep-alive HTTP/1.1 connection with as little client-side overhead as the stdlib allows."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = headers

    def request(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> tuple[int, bytes]:
        if params:
            path = f"{path}?{urlencode({k: v for k, v in params.items() if v is not None})}"
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        return resp.status, resp.read()

    def close(self) -> None:
        self.conn.close()


def http_create(port: int, bodies: Sequence[dict[str, Any]], concurrency: int, headers: dict[str, str]) -> Rate:
    """POST to the uvicorn server from ``concurrency`` client threads (one keep-alive connection each)."""

    def work(chunk: Sequence[dict[str, Any]]) -> int:
        client = HttpClient(port, headers)
        errors = 0
        try:
            for body in chunk:
                status, data = client.request("POST", "/api/v1/cases", body)
                if status != 201:
                    errors += 1
                    if errors == 1:
                        print(f"  HTTP create failed: {status} {data[:300]!r}", file=sys.stderr)
        finally:
            client.close()
        return errors

    # Warm the server (first request resolves the system user and builds caches).
    warm = HttpClient(port, headers)
    status, data = warm.request("GET", "/api/v1/cases", params={"limit": 1})
    warm.close()
    if status != 200:
        raise RuntimeError(f"uvicorn warm-up request failed: {status} {data[:300]!r}")
    seconds, errors = _run_threads(work, bodies, concurrency)
    return Rate(UVICORN_PATH, concurrency, len(bodies) - errors, seconds, errors)
