"""The common result type of every automated document check.

Each check (MRZ check digits, IBAN checksum, file sanity, 2D-Doc signature...) returns one or more
:class:`CheckResult` so that the caller can store them, show them to a person and fold them into
an authenticity score (:mod:`casework.documents.checks.score`) without knowing about each check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Outcome(str, Enum):
    """What a check concluded: passed, failed, or could not decide (missing data, unreadable)."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CheckResult:
    """One automated check's conclusion.

    ``check`` is a stable machine name ("mrz_check_digits", "iban", "file_type"...), ``message``
    one human sentence explaining the outcome, ``details`` JSON-safe data (strings, numbers,
    booleans, lists, dicts, None) for the audit trail and the reviewer.
    """

    check: str
    outcome: Outcome
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAIL

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: ``{"check", "outcome", "message", "details"}``."""
        return {"check": self.check, "outcome": self.outcome.value, "message": self.message, "details": dict(self.details)}


def passed(check: str, message: str, **details: Any) -> CheckResult:
    """Shorthand for a passing result."""
    return CheckResult(check, Outcome.PASS, message, details)


def failed(check: str, message: str, **details: Any) -> CheckResult:
    """Shorthand for a failing result."""
    return CheckResult(check, Outcome.FAIL, message, details)


def unknown(check: str, message: str, **details: Any) -> CheckResult:
    """Shorthand for an undecided result."""
    return CheckResult(check, Outcome.UNKNOWN, message, details)
