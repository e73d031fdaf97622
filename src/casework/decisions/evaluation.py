"""The result of one decision-table evaluation, and its explanation in plain words.

Kept as data (a slots dataclass) so callers can store it with the case: which rules matched,
which were applied under the hit policy, the input values seen and the outputs chosen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from casework.decisions.model import Aggregation, HitPolicy


def show(value: Any) -> str:
    """A value as a rule author would write it."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)


@dataclass(slots=True)
class Evaluation:
    """One decision: the input values, the rules that matched (ids in table order), the rules
    whose outputs were used (``applied``: all matches for COLLECT, at most one otherwise) and
    the outputs. For COLLECT without aggregation each output is the list of the matched rules'
    values; ``notes`` maps rule ids to their annotations (shared with the table, read-only)."""

    inputs: dict[str, Any]
    matched: list[str]
    outputs: dict[str, Any]
    applied: list[str] = field(default_factory=list)
    table: str = ""
    hit_policy: HitPolicy = HitPolicy.UNIQUE
    aggregation: Aggregation | None = None
    notes: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def explain(self) -> str:
        """Plain sentences for case workers and the audit trail."""
        policy = self.hit_policy.value + (f" {self.aggregation.value}" if self.aggregation else "")
        lines = [f"Decision table '{self.table}' (hit policy {policy})."]
        if self.inputs:
            lines.append("Inputs: " + ", ".join(f"{k} = {show(v)}" for k, v in self.inputs.items()) + ".")
        if not self.matched:
            lines.append("No rule matched, so the defaults apply.")
        else:
            described = [f"{rid} ({self.notes[rid]})" if rid in self.notes else rid for rid in self.matched]
            noun = "rule" if len(described) == 1 else f"{len(described)} rules"
            lines.append(f"Matched {noun}: {'; '.join(described)}.")
            if self.applied != self.matched:
                reason = "it is the first in table order" if self.hit_policy is HitPolicy.FIRST else "its output has the highest priority"
                lines.append(f"Applied {', '.join(self.applied)}: {reason}.")
        lines.append("Result: " + ", ".join(f"{k} = {show(v)}" for k, v in self.outputs.items()) + ".")
        return "\n".join(lines)
