"""Evaluating decision tables fast: one bitmask of candidate rules per input column.

Why: a table is evaluated for every case and every change, and calling one closure per cell
per rule costs ~50 calls per decision for a 50-rule table. Instead each input expression is
evaluated once, and each column is turned into an index that maps the input value to the
bitmask (a Python int, bit i = rule i) of rules whose cell in that column accepts it:

* cells that only mention literals — ``-``, ``"gold"``, ``"a", "b"``, ``not("x")``, ``null``,
  ``< 100``, ``[1..10)`` — are folded into the index. Strings, booleans and null look up a dict;
  numbers use a dict (equality-only columns) or ``bisect`` over the sorted numeric bounds of the
  column. Every mask is computed by running the cells' reference matchers on one representative
  value per region (each bound, a point strictly between neighbouring bounds, one below, one
  above, and a foreign sentinel for every other value), so the index agrees with the
  straightforward evaluation by construction: within a region no literal cell can tell two
  values apart;
* cells with non-constant parts (``> fields.limit``, ``? > 10 and ...``, string ordering) stay
  closures and are only called for rules that survived the indexed columns.

The column masks are ANDed; the lowest set bit is the first rule in table order.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from casework.decisions import runtime as rt
from casework.decisions.evaluation import Evaluation
from casework.decisions.expressions import Context, Evaluator, compile_node
from casework.decisions.model import Aggregation, DecisionError, DecisionTable, HitPolicy, OutputType, TableOutput
from casework.decisions.nodes import Literal
from casework.decisions.syntax import parse_expression
from casework.decisions.unary import AnyOf, AnyValue, Comparison, InRange, Matcher, NoneOf, UnaryTest, compile_test, parse_unary_test

_SENTINEL = object()  # kind "o": stands for every value that no literal cell mentions
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_KIND_OF_TYPE = {OutputType.NUMBER: "n", OutputType.STRING: "s", OutputType.BOOLEAN: "b"}


def _is_number_literal(node: object) -> bool:
    return isinstance(node, Literal) and type(node.value) in (int, float)


def _is_static(test: UnaryTest) -> bool:
    """True when the cell depends on literals only, so it can be folded into a column index."""
    if isinstance(test, AnyValue):
        return True
    if isinstance(test, Comparison):
        return isinstance(test.operand, Literal) if test.op in ("=", "!=") else _is_number_literal(test.operand)
    if isinstance(test, InRange):
        return _is_number_literal(test.range.lo) and _is_number_literal(test.range.hi)
    if isinstance(test, AnyOf | NoneOf):
        return all(_is_static(t) for t in test.tests)
    return False


def _literals(test: UnaryTest) -> tuple[list[Any], list[Any], bool]:
    """(numeric literals, other literals, whether any ordering comparison or range occurs)."""
    if isinstance(test, Comparison):
        assert isinstance(test.operand, Literal)
        value = test.operand.value
        ordered = test.op not in ("=", "!=")
        return ([value], [], ordered) if rt.kind(value) == "n" else ([], [value], ordered)
    if isinstance(test, InRange):
        assert isinstance(test.range.lo, Literal) and isinstance(test.range.hi, Literal)
        return [test.range.lo.value, test.range.hi.value], [], True
    numbers: list[Any] = []
    others: list[Any] = []
    ordered = False
    if isinstance(test, AnyOf | NoneOf):
        for t in test.tests:
            n, o, d = _literals(t)
            numbers += n
            others += o
            ordered = ordered or d
    return numbers, others, ordered


def build_column_index(cells: list[tuple[int, UnaryTest, Matcher]], pass_mask: int) -> Callable[[Any], int]:
    """Index for the static cells (rule index, parsed cell, reference matcher) of one column;
    ``pass_mask`` holds the rules whose cell here is not static (checked later, per rule)."""
    numbers: list[Any] = []
    strings: set[str] = set()
    ordered = False
    for _, test, _ in cells:
        n, o, d = _literals(test)
        numbers += n
        strings.update(v for v in o if type(v) is str)
        ordered = ordered or d

    def mask(value: Any) -> int:
        result = pass_mask
        for index, _, matcher in cells:
            if matcher(value, _EMPTY):
                result |= 1 << index
        return result

    default = mask(_SENTINEL)
    by_string = {s: mask(s) for s in strings}
    none_mask, true_mask, false_mask = mask(None), mask(True), mask(False)
    bounds = sorted(set(numbers))
    if not ordered:
        by_number = {b: mask(b) for b in bounds}
        other_number = mask(Fraction(max(bounds)) + 1 if bounds else Fraction(1, 3))

        def number_mask(v: Any) -> int:
            return by_number.get(v, other_number)

    else:
        k = len(bounds)
        regions: list[int] = []
        for i, b in enumerate(bounds):
            below = Fraction(b) - 1 if i == 0 else (Fraction(bounds[i - 1]) + Fraction(b)) / 2
            regions += [mask(below), mask(b)]
        regions.append(mask(Fraction(bounds[-1]) + 1))

        def number_mask(v: Any) -> int:
            if v != v:  # NaN: no comparison holds
                return default
            i = bisect_left(bounds, v)
            return regions[2 * i + 1] if i < k and bounds[i] == v else regions[2 * i]

    def slow(v: Any) -> int:
        k = rt.kind(v)
        if k == "n":
            if isinstance(v, Decimal) and v.is_nan():
                return default
            return number_mask(v)
        if k == "s":
            return by_string.get(str(v), default)
        if k == "b":
            return true_mask if v else false_mask
        return default

    def match(v: Any) -> int:
        t = type(v)
        if t is str:
            return by_string.get(v, default)
        if t is int or t is float:
            return number_mask(v)
        if v is None:
            return none_mask
        if t is bool:
            return true_mask if v else false_mask
        return slow(v)

    return match


class CompiledTable:
    """A table ready for repeated evaluation; immutable and safe to share between threads."""

    def __init__(self, table: DecisionTable) -> None:
        self.table = table
        rules = table.rules
        self._ids = [r.id for r in rules]
        self._notes: Mapping[str, str] = MappingProxyType({r.id: r.note for r in rules if r.note})
        self._input_names = [i.name for i in table.inputs]
        self._input_fns: list[Evaluator] = [compile_node(parse_expression(i.expression), i.expression) for i in table.inputs]
        self._all = (1 << len(rules)) - 1
        self._reference: list[list[Matcher]] = [[] for _ in rules]
        self._matchers: list[tuple[int, Callable[[Any], int]]] = []
        self._dynamic: list[list[tuple[int, Matcher]]] = [[] for _ in rules]
        self._dynamic_mask = 0
        for col in range(len(table.inputs)):
            static: list[tuple[int, UnaryTest, Matcher]] = []
            pass_mask = 0
            for index, rule in enumerate(rules):
                text = rule.when[col]
                test = parse_unary_test(text)
                matcher = compile_test(test, text)
                self._reference[index].append(matcher)
                if isinstance(test, AnyValue):
                    pass_mask |= 1 << index
                elif _is_static(test):
                    static.append((index, test, matcher))
                else:
                    pass_mask |= 1 << index
                    self._dynamic[index].append((col, matcher))
                    self._dynamic_mask |= 1 << index
            if static:
                self._matchers.append((col, build_column_index(static, pass_mask)))
        self._outputs = table.outputs
        # Per output, per rule: the literal value, or the compiled "=expression" (else None).
        self._values: list[list[Any]] = [[rule.then[o.name] for rule in rules] for o in table.outputs]
        self._fns: list[list[Evaluator | None]] = [[None] * len(rules) for _ in table.outputs]
        self._any_computed = False
        for o_index, out in enumerate(table.outputs):
            for index, rule in enumerate(rules):
                value = rule.then[out.name]
                if isinstance(value, str) and value.startswith("="):
                    self._fns[o_index][index] = compile_node(parse_expression(value[1:]), value[1:])
                    self._values[o_index][index] = None
                    self._any_computed = True
        self._literal_rows = [{o.name: self._values[k][index] for k, o in enumerate(table.outputs)} for index in range(len(rules))]

    # ------------------------------------------------------------------ matching
    def _check_dynamic(self, mask: int, values: list[Any], context: Context) -> int:
        pending = mask & self._dynamic_mask
        while pending:
            low = pending & -pending
            pending ^= low
            for col, matcher in self._dynamic[low.bit_length() - 1]:
                if not matcher(values[col], context):
                    mask ^= low
                    break
        return mask

    def reference_matches(self, context: Context) -> list[str]:
        """The straightforward evaluation (every cell's closure, rule by rule): for tests and
        the benchmark's cross-check of the indexed path."""
        values = [fn(context, None) for fn in self._input_fns]
        return [self._ids[i] for i, row in enumerate(self._reference) if all(m(v, context) for m, v in zip(row, values, strict=True))]

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, context: Context) -> Evaluation:
        """Match the rules against ``context`` and apply the hit policy; raises DecisionError
        for several matches under UNIQUE or a computed output of the wrong type."""
        values = [fn(context, None) for fn in self._input_fns]
        mask = self._all
        for col, match in self._matchers:
            mask &= match(values[col])
            if not mask:
                break
        if mask & self._dynamic_mask:
            mask = self._check_dynamic(mask, values, context)
        matched: list[int] = []
        while mask:
            low = mask & -mask
            matched.append(low.bit_length() - 1)
            mask ^= low
        table = self.table
        policy = table.hit_policy
        applied = matched
        if not matched:
            outputs = self._defaults()
        elif policy is HitPolicy.COLLECT:
            outputs = self._collect(matched, context)
        elif len(matched) == 1 or policy is HitPolicy.FIRST:
            applied = matched[:1]
            outputs = self._rule_outputs(matched[0], context)
        elif policy is HitPolicy.UNIQUE:
            both = tuple(self._ids[i] for i in matched)
            raise DecisionError(table.name, f"hit policy UNIQUE but {len(both)} rules match: {', '.join(both)}", both)
        else:
            best, outputs = self._priority(matched, context)
            applied = [best]
        ids = self._ids
        matched_ids = [ids[i] for i in matched]
        applied_ids = matched_ids if applied is matched else [ids[i] for i in applied]
        inputs = dict(zip(self._input_names, values, strict=False))  # equal lengths by construction
        return Evaluation(inputs, matched_ids, outputs, applied_ids, table.name, policy, table.aggregation, self._notes)

    def _defaults(self) -> dict[str, Any]:
        if self.table.hit_policy is not HitPolicy.COLLECT:
            return {o.name: o.default for o in self._outputs}
        aggregation = self.table.aggregation
        if aggregation is None:
            return {o.name: [] if o.default is None else [o.default] for o in self._outputs}
        if aggregation is Aggregation.COUNT:
            return {o.name: 0 for o in self._outputs}
        return {o.name: o.default for o in self._outputs}

    def _rule_outputs(self, index: int, context: Context) -> dict[str, Any]:
        outputs = dict(self._literal_rows[index])
        if self._any_computed:
            for k, out in enumerate(self._outputs):
                fn = self._fns[k][index]
                if fn is not None:
                    outputs[out.name] = self._checked(index, out, fn(context, None))
        return outputs

    def _checked(self, index: int, out: TableOutput, value: Any) -> Any:
        if value is None:
            return None
        if out.type is not None and rt.kind(value) != _KIND_OF_TYPE[out.type]:
            message = f"rule {self._ids[index]} computed {out.name} = {value!r}, which is not a {out.type.value}"
            raise DecisionError(self.table.name, message, (self._ids[index],))
        if out.values is not None and not any(rt.eq(value, v) for v in out.values):
            message = f"rule {self._ids[index]} computed {out.name} = {value!r}, which is not one of the allowed values"
            raise DecisionError(self.table.name, message, (self._ids[index],))
        return value

    def _collect(self, matched: list[int], context: Context) -> dict[str, Any]:
        aggregation = self.table.aggregation
        result: dict[str, Any] = {}
        for k, out in enumerate(self._outputs):
            if aggregation is Aggregation.COUNT:
                result[out.name] = len(matched)
                continue
            row = self._values[k]
            values = [row[i] for i in matched]
            if self._any_computed:
                fns = self._fns[k]
                for position, index in enumerate(matched):
                    fn = fns[index]
                    if fn is not None:
                        values[position] = self._checked(index, out, fn(context, None))
            if aggregation is None:
                result[out.name] = values
            else:
                result[out.name] = self._aggregate(aggregation, out, values, matched)
        return result

    def _aggregate(self, aggregation: Aggregation, out: TableOutput, values: list[Any], matched: list[int]) -> Any:
        """SUM, MIN or MAX of the non-null values (None when there are none)."""
        values = [v for v in values if v is not None]
        if not values:
            return None
        kinds = {rt.kind(v) for v in values}
        summable = kinds == {"n"} if aggregation is Aggregation.SUM else kinds in ({"n"}, {"s"})
        if not summable:
            ids = tuple(self._ids[i] for i in matched)
            raise DecisionError(self.table.name, f"cannot {aggregation.value} the values of '{out.name}': {values!r}", ids)
        try:
            if aggregation is Aggregation.SUM:
                total = values[0]
                for v in values[1:]:
                    total = total + v
                return total
            return min(values) if aggregation is Aggregation.MIN else max(values)
        except (TypeError, ArithmeticError):
            ids = tuple(self._ids[i] for i in matched)
            raise DecisionError(self.table.name, f"cannot {aggregation.value} the values of '{out.name}': {values!r}", ids) from None

    def _priority(self, matched: list[int], context: Context) -> tuple[int, dict[str, Any]]:
        ranked = [o for o in self._outputs if o.values is not None]
        best: tuple[tuple[int, ...], int, dict[str, Any]] | None = None
        for index in matched:
            outputs = self._rule_outputs(index, context)
            key = tuple(_rank(o, outputs[o.name]) for o in ranked)
            if best is None or key < best[0]:
                best = (key, index, outputs)
        assert best is not None
        return best[1], best[2]


def _rank(out: TableOutput, value: Any) -> int:
    assert out.values is not None
    for position, allowed in enumerate(out.values):
        if rt.eq(value, allowed):
            return position
    return len(out.values)
