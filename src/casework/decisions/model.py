"""Plain data for decision tables, kept apart from parsing and evaluation.

A ``DecisionTable`` holds texts, not compiled code: it compares equal after a round trip
through ``table_to_dict``/``parse_table`` and can be stored or versioned as is. Compiling is
``compile_table``'s job (``casework.decisions.engine``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class HitPolicy(str, Enum):
    """How matches become a result: exactly one (UNIQUE), the first in table order (FIRST),
    the one whose output ranks highest in the output's ``values`` (PRIORITY), or all (COLLECT)."""

    UNIQUE = "UNIQUE"
    FIRST = "FIRST"
    PRIORITY = "PRIORITY"
    COLLECT = "COLLECT"


class Aggregation(str, Enum):
    """How COLLECT combines the matched rules' outputs (None values are skipped)."""

    SUM = "SUM"
    MIN = "MIN"
    MAX = "MAX"
    COUNT = "COUNT"


class OutputType(str, Enum):
    NUMBER = "number"
    STRING = "string"
    BOOLEAN = "boolean"


class TableError(ValueError):
    """An invalid table document; ``path`` names the offending part (``rules[3].when[1]``)."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class DecisionError(ValueError):
    """A table that cannot give a result for this context: several matches under UNIQUE, or a
    computed output of the wrong type. ``rules`` names the rules involved."""

    def __init__(self, table: str, message: str, rules: tuple[str, ...] = ()) -> None:
        self.table = table
        self.message = message
        self.rules = rules
        super().__init__(f"decision table '{table}': {message}")


@dataclass(frozen=True)
class TableInput:
    name: str
    expression: str


@dataclass(frozen=True)
class TableOutput:
    name: str
    type: OutputType | None = None
    values: tuple[Any, ...] | None = None
    default: Any = None


@dataclass(frozen=True)
class Rule:
    """One row. ``when`` holds one cell text per input; ``then`` maps every output to a literal
    or to an ``=expression`` string."""

    id: str
    when: tuple[str, ...]
    then: dict[str, Any] = field(hash=False)
    note: str | None = None


@dataclass(frozen=True)
class DecisionTable:
    name: str
    title: str
    hit_policy: HitPolicy
    aggregation: Aggregation | None
    inputs: tuple[TableInput, ...]
    outputs: tuple[TableOutput, ...]
    rules: tuple[Rule, ...]
