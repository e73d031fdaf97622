"""Decision-table cells ("unary tests"): tests on an implicit input value.

Forms (FEEL-like)::

    -   or empty         any value
    "gold"  10  true     equal to the value (a list literal [..] means "one of")
    null                 the input is null
    < 100   >= fields.x  comparison with any expression (also = and !=)
    [1..10] (1..10) ]1..10[ [1..10)   ranges, round/outward brackets are open bounds
    "a", "b"   < 0, > 100            any of several tests
    not("a", "b")                     none of them
    ? > 10 and ? < fields.limit       a boolean expression where ? is the input value

The parsed structure (``UnaryTest`` subclasses) is public because decision tables look at it
to index constant cells (see ``casework.decisions.engine``) instead of calling closures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from casework.decisions import runtime as rt
from casework.decisions.expressions import Context, compile_node, range_test
from casework.decisions.lexer import ExpressionError
from casework.decisions.nodes import ListNode, Literal, Node, RangeNode, uses_input
from casework.decisions.syntax import COMPARISON_OPS, Parser

Matcher = Callable[[Any, Context], bool]


class UnaryTest:
    """Base of the parsed cell structure."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class AnyValue(UnaryTest):
    """``-`` or an empty cell."""


@dataclass(frozen=True, slots=True)
class Comparison(UnaryTest):
    """``input op operand``; a bare value is ``=``. With ``=``, a list value means membership."""

    op: str
    operand: Node

    @property
    def constant(self) -> bool:
        return isinstance(self.operand, Literal)


@dataclass(frozen=True, slots=True)
class InRange(UnaryTest):
    range: RangeNode

    @property
    def constant(self) -> bool:
        return isinstance(self.range.lo, Literal) and isinstance(self.range.hi, Literal)


@dataclass(frozen=True, slots=True)
class Predicate(UnaryTest):
    """A boolean expression mentioning ``?``; matches when it is ``true``."""

    expression: Node


@dataclass(frozen=True, slots=True)
class AnyOf(UnaryTest):
    tests: tuple[UnaryTest, ...]


@dataclass(frozen=True, slots=True)
class NoneOf(UnaryTest):
    tests: tuple[UnaryTest, ...]


def parse_unary_test(text: str) -> UnaryTest:
    """Parse one cell; raises ExpressionError with a position on bad input."""
    if text.strip() in ("", "-"):
        return AnyValue()
    negation_error: ExpressionError | None = None
    parser = Parser(text, allow_input=True)
    if parser.at("kw", "not") and parser.tokens[1].kind == "(":
        # ``not(tests)`` when that is the whole cell; otherwise (``not(? > 1) and ...``) the
        # cell is a boolean expression. Brackets cannot be paired by counting, since FEEL
        # ranges close with either bracket (``[1..5)``), so parse and fall back instead.
        try:
            parser.advance()
            parser.enter(parser.advance().pos)
            inner = _test_list(parser)
            parser.expect(")", what="')' or ','")
            parser.leave()
            parser.finish()
            return NoneOf(inner)
        except ExpressionError as err:
            negation_error = err
        parser = Parser(text, allow_input=True)
    try:
        tests = _test_list(parser)
        parser.finish()
    except ExpressionError as err:
        if negation_error is not None and (negation_error.position or 0) > (err.position or 0):
            raise negation_error from None
        raise
    return tests[0] if len(tests) == 1 else AnyOf(tests)


def _test_list(parser: Parser) -> tuple[UnaryTest, ...]:
    tests = [_one_test(parser)]
    while parser.at(","):
        parser.advance()
        tests.append(_one_test(parser))
    return tuple(tests)


def _one_test(parser: Parser) -> UnaryTest:
    token = parser.tok
    if token.kind == "op" and token.value in COMPARISON_OPS:
        parser.advance()
        return Comparison(str(token.value), parser.expression())
    if token.kind == "op" and token.value == "-" and parser.tokens[parser.i + 1].kind in (",", ")", "eof"):
        parser.advance()
        return AnyValue()
    node = parser.expression()
    if isinstance(node, RangeNode):
        return InRange(node)
    if uses_input(node):
        return Predicate(node)
    if isinstance(node, ListNode):
        return AnyOf(tuple(Comparison("=", item) for item in node.items))
    return Comparison("=", node)


def test_nodes(test: UnaryTest) -> list[Node]:
    """Expression nodes inside a parsed cell (for ``names_used``)."""
    if isinstance(test, Comparison):
        return [test.operand]
    if isinstance(test, InRange):
        return [test.range]
    if isinstance(test, Predicate):
        return [test.expression]
    if isinstance(test, AnyOf | NoneOf):
        return [node for t in test.tests for node in test_nodes(t)]
    return []


def compile_test(test: UnaryTest, source: str) -> Matcher:
    """The straightforward matcher for a cell: ``(input value, context) -> bool``."""
    if isinstance(test, AnyValue):
        return lambda value, ctx: True
    if isinstance(test, Comparison):
        return _comparison(test, source)
    if isinstance(test, InRange):
        in_range = range_test(test.range, source)
        return lambda value, ctx: in_range(value, ctx, value)
    if isinstance(test, Predicate):
        predicate = compile_node(test.expression, source)
        return lambda value, ctx: predicate(ctx, value) is True
    if isinstance(test, AnyOf):
        matchers = [compile_test(t, source) for t in test.tests]
        return lambda value, ctx: any(m(value, ctx) for m in matchers)
    if isinstance(test, NoneOf):
        matchers = [compile_test(t, source) for t in test.tests]
        return lambda value, ctx: not any(m(value, ctx) for m in matchers)
    raise TypeError(f"unknown unary test {test!r}")  # pragma: no cover


def _comparison(test: Comparison, source: str) -> Matcher:
    operand = compile_node(test.operand, source)
    op = test.op
    if op == "=":
        if isinstance(test.operand, Literal):
            constant = test.operand.value
            return lambda value, ctx: rt.eq(value, constant)

        def equals(value: Any, ctx: Context) -> bool:
            expected = operand(ctx, value)
            return rt.contains(expected, value) if rt.kind(expected) == "l" else rt.eq(value, expected)

        return equals
    if op == "!=":
        return lambda value, ctx: not rt.eq(value, operand(ctx, value))
    return lambda value, ctx: rt.compare(op, value, operand(ctx, value))
