"""Pure hashing and verification of the audit chain, independent of the database.

Each entry's hash covers its own fields and the previous entry's hash, so altering,
deleting or reordering any entry breaks every hash after it; the verifier reports the
first place where the stored chain stops matching what the entries say.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def to_jsonable(value: Any) -> Any:
    """Normalise values (UUIDs, dates, enums) to plain JSON so stored and hashed forms agree."""
    return json.loads(json.dumps(value, default=_default, allow_nan=False))


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return format_time(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def format_time(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default).encode()


@dataclass(frozen=True)
class Record:
    seq: int
    at: dt.datetime
    actor_id: uuid.UUID | None
    case_id: uuid.UUID | None
    action: str
    data: Any
    prev_hash: str
    hash: str


def compute_hash(
    *,
    seq: int,
    at: dt.datetime,
    actor_id: uuid.UUID | None,
    case_id: uuid.UUID | None,
    action: str,
    data: Any,
    prev_hash: str,
) -> str:
    body = {
        "seq": seq,
        "at": format_time(at),
        "actor": str(actor_id) if actor_id else None,
        "case": str(case_id) if case_id else None,
        "action": action,
        "data": data,
        "prev": prev_hash,
    }
    return hashlib.sha256(canonical(body)).hexdigest()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None

    def describe(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.checked} entries verified"
        return f"audit chain broken at entry {self.first_bad_seq}: {self.problem}"


def verify(records: Iterable[Record]) -> Verdict:
    """Walk entries in sequence order and name the first one that does not fit the chain."""
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    for rec in records:
        if rec.seq != expected_seq:
            if rec.seq > expected_seq:
                return Verdict(False, count, expected_seq, f"entry {expected_seq} is missing (deleted); next entry is {rec.seq}")
            return Verdict(False, count, rec.seq, f"entry {rec.seq} is out of order")
        if rec.prev_hash != prev_hash:
            return Verdict(False, count, rec.seq, "previous-hash link does not match the entry before it (deleted or reordered)")
        recomputed = compute_hash(
            seq=rec.seq,
            at=rec.at,
            actor_id=rec.actor_id,
            case_id=rec.case_id,
            action=rec.action,
            data=rec.data,
            prev_hash=rec.prev_hash,
        )
        if recomputed != rec.hash:
            return Verdict(False, count, rec.seq, "content does not match its hash (altered)")
        prev_hash = rec.hash
        expected_seq += 1
        count += 1
    return Verdict(True, count)
