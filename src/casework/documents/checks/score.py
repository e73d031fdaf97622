"""Fold check results into one authenticity score and a verdict for the reviewer.

Why so simple: the score is shown to a person, who must be able to redo it in their head. Every
check weighs the same: a failure costs :data:`FAIL_PENALTY` points, an undecided check
:data:`UNKNOWN_PENALTY`, from 100, never below 0. Automation only ever *validates*: anything
short of all checks passing goes to a person ("review") with the reasons listed, failures first.
The machine never rejects a customer's document on its own; "rejected" is left to the person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from casework.documents.checks.result import CheckResult, Outcome

__all__ = ["FAIL_PENALTY", "UNKNOWN_PENALTY", "Authenticity", "authenticity"]

FAIL_PENALTY = 40
UNKNOWN_PENALTY = 15
Verdict = Literal["validated", "review"]


@dataclass(frozen=True)
class Authenticity:
    """``score`` 0..100, ``verdict`` "validated" (every check passed) or "review", and the why."""

    score: int
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "verdict": self.verdict, "reasons": list(self.reasons)}


def authenticity(results: list[CheckResult]) -> Authenticity:
    """Score ``results``: 100 and "validated" when all pass; otherwise "review" with each failed
    check's message, then each undecided check's message. No result at all is "review" with 0."""
    if not results:
        return Authenticity(0, "review", ["No automated check could be run on this document."])
    fails = [r for r in results if r.outcome is Outcome.FAIL]
    unknowns = [r for r in results if r.outcome is Outcome.UNKNOWN]
    score = max(0, 100 - FAIL_PENALTY * len(fails) - UNKNOWN_PENALTY * len(unknowns))
    reasons = [r.message for r in fails] + [f"Not verified: {r.message}" for r in unknowns]
    return Authenticity(score, "validated" if not reasons else "review", reasons)
