"""Synthetic but realistic case data for the benchmark, and the bulk path that fills a database.

Everything is drawn from a seeded generator so two runs build the same database. The text
follows a skewed word distribution: ``COMMON_WORD`` appears in roughly a third of the cases,
``RARE_WORD`` in about one case in ten thousand, so full-text search is timed for both a broad
and a needle-in-a-haystack query.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select, text

from casework.audit.chain import GENESIS, compute_hash, to_jsonable
from casework.casetypes.loader import shipped_case_type_files
from casework.domain.lifecycle import ORDER, MoveKind, Phase, Priority, Status
from casework.domain.references import format_reference
from casework.services.cases import CASE_FIELDS
from casework.store import search
from casework.store.db import WRITE_OPTION
from casework.store.models import AuditEntry, Case, PhaseChange, ReferenceCounter, SearchDoc

#: The version of each shipped case type a fresh database installs (cases are judged by theirs).
SHIPPED_VERSIONS = {defn.key: defn.version for defn, _name, _text in shipped_case_type_files()}

COMMON_WORD = "customer"
RARE_WORD = "quokka"
RARE_EVERY = 9973  # at most one case in this many mentions RARE_WORD (fewer cases: see rare_every_for)

CASE_TYPES = ["complaint", "support_ticket", "onboarding", "disputed_transaction"]
CASE_TYPE_WEIGHTS = [40, 35, 15, 10]
PRIORITIES = [p.value for p in Priority]
PRIORITY_WEIGHTS = [5, 20, 55, 20]
# Each case type is worked by one team, as in a back office organised by case type: a case
# worker of one team sees that team's share of the cases (plus the ones assigned to them).
TEAM_OF_TYPE = {"complaint": "complaints", "support_ticket": "support", "onboarding": "onboarding", "disputed_transaction": "fraud"}
TEAMS = sorted(set(TEAM_OF_TYPE.values()))

_TITLES = {
    "complaint": [
        "Complaint about {thing}",
        "Unhappy with {thing}",
        "{Thing} handled badly",
        "Formal complaint: {thing}",
    ],
    "support_ticket": [
        "{Thing} not working",
        "Cannot access {thing}",
        "Question about {thing}",
        "Error when using {thing}",
    ],
    "onboarding": [
        "Onboarding of {company}",
        "KYC review for {company}",
        "New business account: {company}",
    ],
    "disputed_transaction": [
        "Disputed card payment at {merchant}",
        "Unrecognised transfer to {merchant}",
        "Chargeback request: {merchant}",
    ],
}
_THINGS = [
    "the mobile app", "online banking", "a late refund", "the branch visit", "card delivery", "the overdraft fee",
    "the statement", "a standing order", "the savings rate", "the call centre", "the password reset", "a direct debit",
]  # fmt: skip
_COMPANIES = ["Acme Ltd", "Northwind BV", "Globex GmbH", "Initech SA", "Umbrella plc", "Hooli Inc", "Vandelay Imports"]
_MERCHANTS = ["CoffeeCorner", "MegaMart", "TravelNow", "StreamFlix", "QuickTaxi", "BookBarn", "GadgetHub", "FuelStop"]
# Description vocabulary, most frequent first; drawn with Zipf-like weights.
_VOCAB = [
    "the", "a", "to", "and", "of", "was", "on", "for", "with", "account", "payment", "card", "bank", "called", "asked", "said",
    "refund", "fee", "transfer", "statement", "branch", "online", "app", "balance", "charge", "again", "received", "email", "letter",
    "phone", "manager", "delay", "error", "password", "login", "blocked", "limit", "overdraft", "interest", "loan", "mortgage",
    "savings", "deposit", "withdrawal", "fraud", "suspicious", "unauthorised", "merchant", "receipt", "invoice", "address",
    "document", "passport", "identity", "verification", "complaint", "apology", "compensation", "escalated", "urgent", "pending",
    "resolved", "promised", "weeks", "days", "yesterday", "twice", "nobody", "explained", "confusing", "rude", "helpful", "slow",
    "missing", "duplicate", "wrong", "incorrect"
]  # fmt: skip
_VOCAB_WEIGHTS = [1.0 / (rank + 1) ** 0.9 for rank in range(len(_VOCAB))]

# Open cases by phase (closed cases are decided by age, see _phase_for_age).
_OPEN_PHASES = [p for p in ORDER]
_OPEN_PHASE_WEIGHTS = [30, 22, 12, 10, 14, 7, 5]


def search_body(reference: str, title: str, description: str) -> str:
    """The search document create_case writes (normalised with store.search.searchable when it exists)."""
    body = f"{reference}\n{title}\n{description}"
    normalise = getattr(search, "searchable", None)
    return normalise(body) if normalise else body


@dataclass
class DataGen:
    """Seeded generator of case payloads and of complete case histories."""

    seed: int = 20261125
    assignees: list[uuid.UUID] = field(default_factory=list)
    rare_every: int = RARE_EVERY
    rng: random.Random = field(init=False)
    _counter: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def _words(self, k: int) -> str:
        return " ".join(self.rng.choices(_VOCAB, weights=_VOCAB_WEIGHTS, k=k))

    def _title(self, case_type: str) -> str:
        template = self.rng.choice(_TITLES[case_type])
        thing = self.rng.choice(_THINGS)
        return template.format(
            thing=thing,
            Thing=thing[0].upper() + thing[1:],
            company=self.rng.choice(_COMPANIES),
            merchant=self.rng.choice(_MERCHANTS),
        )

    def payload(self, today: dt.date | None = None) -> dict[str, Any]:
        """A JSON body for POST /api/v1/cases (also fed to CaseCreate for the service path)."""
        rng = self.rng
        self._counter += 1
        case_type = rng.choices(CASE_TYPES, weights=CASE_TYPE_WEIGHTS)[0]
        words = [self._words(rng.randint(12, 40))]
        if rng.random() < 0.35:
            words.insert(rng.randint(0, 1), f"The {COMMON_WORD}")
        if self._counter % self.rare_every == 0:
            words.append(f"mentions a {RARE_WORD}")
        body: dict[str, Any] = {
            "case_type": case_type,
            "title": self._title(case_type),
            "description": " ".join(words).capitalize() + ".",
            "priority": rng.choices(PRIORITIES, weights=PRIORITY_WEIGHTS)[0],
            "team": TEAM_OF_TYPE[case_type],
        }
        if self.assignees and rng.random() < 0.85:
            # A few users carry most of the load.
            idx = min(int(rng.paretovariate(1.2)) - 1, len(self.assignees) - 1)
            body["assignee_id"] = str(self.assignees[idx])
        if rng.random() < 0.5:
            body["risk_score"] = rng.randint(0, 100)
        if rng.random() < 0.7:
            body["due_date"] = ((today or dt.date.today()) + dt.timedelta(days=rng.randint(5, 60))).isoformat()
        if case_type == "disputed_transaction":
            body["custom_data"] = {"amount": round(rng.uniform(5, 2500), 2), "currency": "EUR", "channel": "card"}
        elif case_type == "complaint":
            body["custom_data"] = {"channel": rng.choice(["email", "phone", "letter", "portal"])}
        return body

    def phase_for_age(self, age_days: float) -> Phase:
        """Older cases are more likely closed; open ones are spread over the working phases."""
        p_closed = min(0.92, age_days / 400)
        if self.rng.random() < p_closed:
            return Phase.CLOSED
        return self.rng.choices(_OPEN_PHASES, weights=_OPEN_PHASE_WEIGHTS)[0]


def rare_every_for(n: int) -> int:
    """About ten cases mention RARE_WORD, whatever the database size (one in 9973 at 100 000 cases)."""
    return max(50, min(RARE_EVERY, n // 10))


@dataclass
class FillStats:
    cases: int = 0
    phase_rows: int = 0
    audit_rows: int = 0
    seconds: float = 0.0
    by_phase: dict[str, int] = field(default_factory=dict)


def _moves_to(target: Phase, rng: random.Random) -> list[tuple[Phase | None, Phase, MoveKind]]:
    """The phase history of a case that reached ``target`` by the ordinary route."""
    moves: list[tuple[Phase | None, Phase, MoveKind]] = [(None, Phase.SCREENING, MoveKind.OPEN)]
    last = target
    if target is Phase.CLOSED:
        # One in five is closed straight from screening (rejected / duplicate); the rest go all the way.
        last = Phase.SCREENING if rng.random() < 0.2 else Phase.EVALUATION
    for prev, nxt in itertools.pairwise(ORDER):
        if ORDER.index(nxt) > ORDER.index(last):
            break
        moves.append((prev, nxt, MoveKind.FORWARD))
    if target is Phase.CLOSED:
        moves.append((last, Phase.CLOSED, MoveKind.CLOSE))
    return moves


def _head(conn: Any) -> tuple[int, str]:
    row = conn.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def _counter(conn: Any, year: int) -> int:
    value = conn.execute(select(ReferenceCounter.last).where(ReferenceCounter.year == year)).scalar()
    return int(value or 0)


def _timeline(n: int, now: dt.datetime, rng: random.Random, years: float = 3.0) -> list[dt.datetime]:
    """``n`` creation times over the past ``years`` (volume growing over time), oldest first."""
    span = years * 365 * 86400
    # Square-root skew: more recent periods hold more cases, as a growing service would see.
    return sorted(now - dt.timedelta(seconds=span * (1 - rng.random() ** 0.5) + 3600) for _ in range(n))


def bulk_fill(engine: Engine, gen: DataGen, actor_id: uuid.UUID, n: int, *, batch: int = 2000) -> FillStats:
    """Insert ``n`` complete cases (case row, phase history, search document, audit entries).

    This is the benchmark's shortcut for reaching a realistic table size: Core executemany in
    batches of ``batch`` cases per transaction instead of one service call per case. It writes
    exactly the rows the services would (references from the per-year counters, the search
    document the FTS index is built from, one hash-chained audit entry per creation and per
    phase move), so the audit chain verifies and every query behaves as on organic data.
    """
    import time

    stats = FillStats()
    if n <= 0:
        return stats
    t0 = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    rng = gen.rng
    times = _timeline(n, now, rng)
    writer = engine.execution_options(**{WRITE_OPTION: True})
    postgres = engine.dialect.name == "postgresql"
    next_number: dict[int, int] = {}
    for start in range(0, n, batch):
        chunk = times[start : start + batch]
        case_rows: list[dict[str, Any]] = []
        phase_rows: list[dict[str, Any]] = []
        doc_rows: list[dict[str, Any]] = []
        audit_rows: list[dict[str, Any]] = []
        with writer.begin() as conn:
            if postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(424242)"))
            seq, prev = _head(conn)
            for created in chunk:
                year = created.year
                if year not in next_number:
                    next_number[year] = _counter(conn, year)
                next_number[year] += 1
                body = gen.payload(today=created.date())
                target = gen.phase_for_age((now - created).total_seconds() / 86400)
                case_id = uuid.uuid4()
                reference = format_reference(year, next_number[year])
                moves = _moves_to(target, rng)
                # Moves are spread between creation and now (at most ~40 days per phase).
                at = created
                stamps = [created]
                for _ in moves[1:]:
                    at = min(now, at + dt.timedelta(hours=rng.uniform(2, 40 * 24)))
                    stamps.append(at)
                closed = target is Phase.CLOSED
                outcome = rng.choice(["resolved", "upheld", "not upheld", "withdrawn"]) if closed else None
                row = {
                    "id": case_id,
                    "reference": reference,
                    "case_type": body["case_type"],
                    "title": body["title"],
                    "description": body["description"],
                    "status": Status.CLOSED.value if closed else Status.OPEN.value,
                    "phase": target.value,
                    "outcome": outcome,
                    "priority": body["priority"],
                    "risk_score": body.get("risk_score"),
                    "assignee_id": uuid.UUID(body["assignee_id"]) if "assignee_id" in body else None,
                    "team": body["team"],
                    "customer_party_id": None,
                    "custom_data": body.get("custom_data", {}),
                    "due_date": dt.date.fromisoformat(body["due_date"]) if "due_date" in body else None,
                    "created_at": created,
                    "updated_at": stamps[-1],
                    "closed_at": stamps[-1] if closed else None,
                    "version": len(moves),  # 1 at creation, +1 per phase move
                    "case_type_version": SHIPPED_VERSIONS[body["case_type"]],  # what a fresh database installs
                }
                case_rows.append(row)
                doc_rows.append({"case_id": case_id, "body": search_body(reference, row["title"], row["description"])})
                fields = {k: row[k] for k in CASE_FIELDS}
                fields["status"], fields["phase"] = Status.OPEN.value, Phase.SCREENING.value
                events: list[tuple[dt.datetime, str, dict[str, Any]]] = [(created, "case.create", {"fields": fields})]
                for i, ((src, dst, kind), stamp) in enumerate(zip(moves, stamps, strict=True), start=1):
                    is_close = kind is MoveKind.CLOSE
                    # left_at: the next move ends the stay (lifecycle.move_in writes it on the previous row).
                    phase_rows.append({
                        "id": uuid.uuid4(), "case_id": case_id, "seq": i, "from_phase": src.value if src else None,
                        "to_phase": dst.value, "kind": kind.value, "reason": None,
                        "outcome": outcome if is_close else None, "actor_id": actor_id, "at": stamp,
                        "left_at": stamps[i] if i < len(stamps) else None,
                        "stay_seconds": math.floor((stamps[i] - stamp).total_seconds()) if i < len(stamps) else None,
                    })  # fmt: skip
                    if src is not None:
                        events.append((stamp, "case.transition", {
                            "from": src, "to": dst, "kind": kind, "reason": None, "outcome": outcome if is_close else None,
                        }))  # fmt: skip
                for stamp, action, data in events:
                    seq += 1
                    payload = to_jsonable(data)
                    digest = compute_hash(
                        seq=seq, at=stamp, actor_id=actor_id, case_id=case_id, action=action, data=payload, prev_hash=prev
                    )
                    audit_rows.append({
                        "seq": seq, "at": stamp, "actor_id": actor_id, "case_id": case_id, "action": action,
                        "data": payload, "prev_hash": prev, "hash": digest,
                    })  # fmt: skip
                    prev = digest
                stats.by_phase[target.value] = stats.by_phase.get(target.value, 0) + 1
            conn.execute(Case.__table__.insert(), case_rows)
            conn.execute(PhaseChange.__table__.insert(), phase_rows)
            conn.execute(SearchDoc.__table__.insert(), doc_rows)
            conn.execute(AuditEntry.__table__.insert(), audit_rows)
            for year, last in next_number.items():
                _set_counter(conn, year, last, postgres)
        stats.cases += len(case_rows)
        stats.phase_rows += len(phase_rows)
        stats.audit_rows += len(audit_rows)
    stats.seconds = time.perf_counter() - t0
    return stats


def _set_counter(conn: Any, year: int, last: int, postgres: bool) -> None:
    if postgres:
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    stmt = insert(ReferenceCounter).values(year=year, last=last)
    conn.execute(stmt.on_conflict_do_update(index_elements=[ReferenceCounter.year], set_={"last": stmt.excluded.last}))


def payloads(gen: DataGen, n: int) -> Iterator[dict[str, Any]]:
    for _ in range(n):
        yield gen.payload()
