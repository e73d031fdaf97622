"""DMN-style decision tables: reading and checking table documents (YAML/JSON as dicts).

``parse_table`` validates everything an author can get wrong and names the place
(``rules[3].when[1]: unknown function 'foo' ...``): unknown keys, names, cell and expression
syntax (every cell is compiled), output literals against the output's type and allowed values,
and combinations the hit policy does not allow. A table that parses therefore only fails at
evaluation time on data: several matches under UNIQUE, or a computed output of the wrong type.

Document shape::

    name: disputed_transaction.risk        # [a-z0-9_.-]+, at most 100 characters
    title: Risk score for disputed transactions
    hit_policy: COLLECT                    # UNIQUE (default) | FIRST | PRIORITY | COLLECT
    aggregation: SUM                       # COLLECT only: SUM | MAX | MIN | COUNT
    inputs:  [{name: amount, expression: fields.amount}, ...]
    outputs: [{name: score, type: number, values: [...], default: 0}, ...]
    rules:
      - id: big-transfer                   # optional, default r1, r2, ... (1-based)
        when: ["> 10000", '"unauthorised_transfer"']   # one cell per input
        then: {score: 40}                  # literal, or "=expression"
        note: large unauthorised transfers
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from casework.decisions import runtime as rt
from casework.decisions.engine import CompiledTable
from casework.decisions.evaluation import Evaluation
from casework.decisions.expressions import compile_expression, compile_unary_test
from casework.decisions.lexer import ExpressionError
from casework.decisions.model import (
    Aggregation,
    DecisionError,
    DecisionTable,
    HitPolicy,
    OutputType,
    Rule,
    TableError,
    TableInput,
    TableOutput,
)

__all__ = [
    "Aggregation",
    "CompiledTable",
    "DecisionError",
    "DecisionTable",
    "Evaluation",
    "HitPolicy",
    "OutputType",
    "Rule",
    "TableError",
    "TableInput",
    "TableOutput",
    "compile_table",
    "parse_table",
    "table_to_dict",
]

TABLE_NAME = re.compile(r"[a-z0-9_.-]{1,100}")
IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
RULE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_TITLE = 200
MAX_NOTE = 1000
MAX_COLUMNS = 50
MAX_RULES = 5000
MAX_VALUES = 100

E = TypeVar("E", HitPolicy, Aggregation, OutputType)

_TABLE_KEYS = frozenset({"name", "title", "hit_policy", "aggregation", "inputs", "outputs", "rules"})
_INPUT_KEYS = frozenset({"name", "expression"})
_OUTPUT_KEYS = frozenset({"name", "type", "values", "default"})
_RULE_KEYS = frozenset({"id", "when", "then", "note"})


def compile_table(table: DecisionTable) -> CompiledTable:
    """Compile a parsed table for fast repeated evaluation (see ``casework.decisions.engine``)."""
    return CompiledTable(table)


def parse_table(data: Mapping[str, Any]) -> DecisionTable:
    """Validate a table document; raises TableError naming the first problem's path."""
    _mapping(data, "", _TABLE_KEYS, required=("name", "inputs", "outputs", "rules"))
    name = _string(data["name"], "name")
    if not TABLE_NAME.fullmatch(name):
        raise TableError("name", f"'{name}' is not a valid table name (lower-case letters, digits, '_', '.', '-'; at most 100)")
    title = _string(data.get("title", ""), "title", max_length=MAX_TITLE, allow_empty=True)
    hit_policy = _enum(HitPolicy, data.get("hit_policy", HitPolicy.UNIQUE.value), "hit_policy")
    aggregation = None
    if data.get("aggregation") is not None:
        aggregation = _enum(Aggregation, data["aggregation"], "aggregation")
        if hit_policy is not HitPolicy.COLLECT:
            raise TableError("aggregation", f"aggregation is only allowed with hit policy COLLECT, not {hit_policy.value}")
    inputs = tuple(_input(item, f"inputs[{i}]") for i, item in enumerate(_list(data["inputs"], "inputs", 1, MAX_COLUMNS)))
    _unique([i.name for i in inputs], "inputs", "input")
    outputs = tuple(_output(item, f"outputs[{i}]") for i, item in enumerate(_list(data["outputs"], "outputs", 1, MAX_COLUMNS)))
    _unique([o.name for o in outputs], "outputs", "output")
    if hit_policy is HitPolicy.PRIORITY and not any(o.values for o in outputs):
        raise TableError("outputs", "hit policy PRIORITY needs an output with 'values' listing them from highest to lowest priority")
    if aggregation is Aggregation.SUM:
        for i, o in enumerate(outputs):
            if o.type not in (None, OutputType.NUMBER):
                raise TableError(
                    f"outputs[{i}].type", f"aggregation SUM needs number outputs, '{o.name}' is {o.type.value if o.type else ''}"
                )
    rules = tuple(_rule(item, f"rules[{i}]", i, inputs, outputs) for i, item in enumerate(_list(data["rules"], "rules", 0, MAX_RULES)))
    seen: dict[str, int] = {}
    for i, rule in enumerate(rules):
        if rule.id in seen:
            raise TableError(f"rules[{i}].id", f"duplicate rule id '{rule.id}' (also rules[{seen[rule.id]}])")
        seen[rule.id] = i
    return DecisionTable(name, title, hit_policy, aggregation, inputs, outputs, rules)


def table_to_dict(table: DecisionTable) -> dict[str, Any]:
    """The document form; ``parse_table(table_to_dict(t)) == t``."""
    doc: dict[str, Any] = {"name": table.name}
    if table.title:
        doc["title"] = table.title
    doc["hit_policy"] = table.hit_policy.value
    if table.aggregation is not None:
        doc["aggregation"] = table.aggregation.value
    doc["inputs"] = [{"name": i.name, "expression": i.expression} for i in table.inputs]
    outputs: list[dict[str, Any]] = []
    for o in table.outputs:
        out: dict[str, Any] = {"name": o.name}
        if o.type is not None:
            out["type"] = o.type.value
        if o.values is not None:
            out["values"] = list(o.values)
        if o.default is not None:
            out["default"] = o.default
        outputs.append(out)
    doc["outputs"] = outputs
    rules: list[dict[str, Any]] = []
    for r in table.rules:
        rule: dict[str, Any] = {"id": r.id, "when": list(r.when), "then": dict(r.then)}
        if r.note is not None:
            rule["note"] = r.note
        rules.append(rule)
    doc["rules"] = rules
    return doc


# ---------------------------------------------------------------- parts
def _input(item: Any, path: str) -> TableInput:
    _mapping(item, path, _INPUT_KEYS, required=("name", "expression"))
    name = _identifier(item["name"], f"{path}.name")
    expression = _string(item["expression"], f"{path}.expression", max_length=None)
    _compiles(expression, f"{path}.expression")
    return TableInput(name, expression)


def _output(item: Any, path: str) -> TableOutput:
    _mapping(item, path, _OUTPUT_KEYS, required=("name",))
    name = _identifier(item["name"], f"{path}.name")
    out_type = _enum(OutputType, item["type"], f"{path}.type") if item.get("type") is not None else None
    values: tuple[Any, ...] | None = None
    if item.get("values") is not None:
        raw = _list(item["values"], f"{path}.values", 1, MAX_VALUES)
        values = tuple(_literal(v, f"{path}.values[{i}]", out_type, None) for i, v in enumerate(raw))
        for i, v in enumerate(values):
            if any(rt.eq(v, w) for w in values[:i]):
                raise TableError(f"{path}.values[{i}]", f"duplicate value {v!r}")
    default = _literal(item.get("default"), f"{path}.default", out_type, values)
    if isinstance(default, str) and default.startswith("="):
        raise TableError(f"{path}.default", "a default must be a literal value, not an expression")
    return TableOutput(name, out_type, values, default)


def _rule(item: Any, path: str, index: int, inputs: tuple[TableInput, ...], outputs: tuple[TableOutput, ...]) -> Rule:
    _mapping(item, path, _RULE_KEYS, required=("when", "then"))
    rule_id = f"r{index + 1}"
    if item.get("id") is not None:
        rule_id = _string(item["id"], f"{path}.id")
        if not RULE_ID.fullmatch(rule_id):
            raise TableError(f"{path}.id", f"'{rule_id}' is not a valid rule id (letters, digits, '_', '.', '-'; at most 64)")
    raw_cells = _list(item["when"], f"{path}.when", 0, MAX_COLUMNS)
    if len(raw_cells) != len(inputs):
        raise TableError(
            f"{path}.when", f"expected {len(inputs)} cell{'s' if len(inputs) != 1 else ''} (one per input), found {len(raw_cells)}"
        )
    when = tuple(_cell(cell, f"{path}.when[{i}]") for i, cell in enumerate(raw_cells))
    then_raw = item["then"]
    if not isinstance(then_raw, Mapping):
        raise TableError(f"{path}.then", "must be a mapping of output name to value")
    names = [o.name for o in outputs]
    for key in then_raw:
        if key not in names:
            raise TableError(f"{path}.then.{key}", f"unknown output '{key}' (outputs: {', '.join(names)})")
    then: dict[str, Any] = {}
    for o in outputs:
        if o.name not in then_raw:
            raise TableError(f"{path}.then", f"missing output '{o.name}'")
        value = then_raw[o.name]
        if isinstance(value, str) and value.startswith("="):
            _compiles(value[1:], f"{path}.then.{o.name}")
            then[o.name] = value
        else:
            then[o.name] = _literal(value, f"{path}.then.{o.name}", o.type, o.values)
    note = None
    if item.get("note") is not None:
        note = _string(item["note"], f"{path}.note", max_length=MAX_NOTE)
    return Rule(rule_id, when, then, note)


def _cell(cell: Any, path: str) -> str:
    """A cell is text; YAML numbers and booleans are accepted and kept as their text."""
    if isinstance(cell, bool):
        text = "true" if cell else "false"
    elif isinstance(cell, int):
        text = str(cell)
    elif isinstance(cell, float) and math.isfinite(cell):
        text = repr(cell)
    elif isinstance(cell, str):
        text = cell
    else:
        raise TableError(path, f"a cell must be text such as '-', '\"gold\"' or '< 100', not {type(cell).__name__}")
    try:
        compile_unary_test(text)
    except ExpressionError as err:
        raise TableError(path, str(err)) from None
    return text


def _compiles(text: str, path: str) -> None:
    try:
        compile_expression(text)
    except ExpressionError as err:
        raise TableError(path, str(err)) from None


def _literal(value: Any, path: str, out_type: OutputType | None, values: tuple[Any, ...] | None) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        raise TableError(path, "numbers must be finite")
    actual = {"n": OutputType.NUMBER, "s": OutputType.STRING, "b": OutputType.BOOLEAN}.get(rt.kind(value))
    if actual is None or not isinstance(value, bool | int | float | str):
        raise TableError(path, f"expected a number, string or boolean, not {type(value).__name__}")
    if out_type is not None and actual is not out_type:
        raise TableError(path, f"expected a {out_type.value}, got {value!r}")
    if values is not None and not (isinstance(value, str) and value.startswith("=")) and not any(rt.eq(value, v) for v in values):
        raise TableError(path, f"{value!r} is not one of the allowed values {', '.join(repr(v) for v in values)}")
    return value


def _mapping(value: Any, path: str, allowed: frozenset[str], required: tuple[str, ...]) -> None:
    if not isinstance(value, Mapping):
        raise TableError(path, f"expected a mapping, not {type(value).__name__}")
    for key in value:
        if key not in allowed:
            prefix = f"{path}." if path else ""
            raise TableError(f"{prefix}{key}", f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})")
    for key in required:
        if key not in value:
            raise TableError(path, f"missing '{key}'")


def _list(value: Any, path: str, least: int, most: int) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise TableError(path, f"expected a list, not {type(value).__name__}")
    if len(value) < least:
        raise TableError(path, f"needs at least {least} item{'s' if least != 1 else ''}")
    if len(value) > most:
        raise TableError(path, f"at most {most} items, found {len(value)}")
    return list(value)


def _string(value: Any, path: str, *, max_length: int | None = 200, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise TableError(path, f"expected text, not {type(value).__name__}")
    if not value.strip() and not allow_empty:
        raise TableError(path, "must not be empty")
    if max_length is not None and len(value) > max_length:
        raise TableError(path, f"at most {max_length} characters")
    return value


def _identifier(value: Any, path: str) -> str:
    name = _string(value, path)
    if not IDENTIFIER.fullmatch(name):
        raise TableError(path, f"'{name}' is not a valid name (a letter, then letters, digits or '_'; at most 64)")
    return name


def _enum(cls: type[E], value: Any, path: str) -> E:
    for member in cls:
        if value == member.value:
            return member
    raise TableError(path, f"{value!r} is not one of {', '.join(m.value for m in cls)}")


def _unique(names: list[str], path: str, what: str) -> None:
    for i, name in enumerate(names):
        if name in names[:i]:
            raise TableError(f"{path}[{i}].name", f"duplicate {what} name '{name}'")
