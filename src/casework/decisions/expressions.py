"""A small, safe, FEEL-like expression language compiled to Python closures.

Why hand-written: rules are authored by administrators and stored as data, so evaluating them
must not be able to reach Python (attributes, imports, builtins) or exhaust the process. The
text is tokenized and parsed here (no ``eval``/``exec``/``compile``/``ast``), checked against
size and nesting limits, and turned into nested closures that only call the total functions in
``casework.decisions.runtime``. Names are dotted paths walked through nested mappings of the
context (``fields.amount``); a missing key or a non-mapping on the way gives None.

Example::

    check = compile_expression("fields.amount > 1000 and answers.kyc.pep = true")
    check({"fields": {"amount": 5000}, "answers": {"kyc": {"pep": True}}})  # -> True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from casework.decisions import runtime as rt
from casework.decisions.lexer import ExpressionError
from casework.decisions.nodes import (
    Arith,
    Between,
    BoolOp,
    Call,
    Compare,
    IfNode,
    InputRef,
    ListNode,
    Literal,
    Name,
    Negate,
    Node,
    Not,
    RangeNode,
    walk,
)
from casework.decisions.syntax import parse_expression

__all__ = ["Context", "ExpressionError", "compile_expression", "compile_node", "compile_unary_test", "names_used"]

Context = Mapping[str, Any]
#: Internal compiled form: (context, input value for ``?``) -> value.
Evaluator = Callable[[Context, Any], Any]


def compile_expression(text: str) -> Callable[[Context], Any]:
    """Compile ``text`` once; the result evaluates it against a context and never raises."""
    evaluator = compile_node(parse_expression(text), text)

    def evaluate(context: Context) -> Any:
        return evaluator(context, None)

    return evaluate


def compile_unary_test(text: str) -> Callable[[Any, Context], bool]:
    """Compile a decision-table cell; see ``casework.decisions.unary``."""
    from casework.decisions.unary import compile_test, parse_unary_test

    return compile_test(parse_unary_test(text), text)


def names_used(text: str, *, unary_test: bool = False) -> set[str]:
    """Dotted names an expression (or, with ``unary_test=True``, a table cell) reads."""
    if unary_test:
        from casework.decisions.unary import parse_unary_test, test_nodes

        nodes = [n for root in test_nodes(parse_unary_test(text)) for n in walk(root)]
    else:
        nodes = walk(parse_expression(text))
    return {n.dotted for n in nodes if isinstance(n, Name)}


# ---------------------------------------------------------------- compiler
def compile_node(node: Node, source: str) -> Evaluator:
    """Turn a syntax tree into a closure; ``source`` is only used for error messages."""
    if isinstance(node, Literal):
        return _constant(node.value)
    if isinstance(node, Name):
        return _name(node.segments)
    if isinstance(node, InputRef):
        return _input
    if isinstance(node, ListNode):
        items = [compile_node(n, source) for n in node.items]
        if all(isinstance(n, Literal) for n in node.items):
            values = [n.value for n in node.items]  # type: ignore[attr-defined]
            return lambda ctx, inp: list(values)
        return lambda ctx, inp: [item(ctx, inp) for item in items]
    if isinstance(node, RangeNode):
        message = "a range such as [1..10] can only follow 'in' or stand in a decision-table cell"
        raise ExpressionError(message, source=source, position=node.pos)
    if isinstance(node, Negate):
        operand = compile_node(node.operand, source)
        return lambda ctx, inp: rt.negate(operand(ctx, inp))
    if isinstance(node, Not):
        operand = compile_node(node.operand, source)
        return lambda ctx, inp: operand(ctx, inp) is not True
    if isinstance(node, Arith):
        return _arith(node, source)
    if isinstance(node, BoolOp):
        return _boolop(node, source)
    if isinstance(node, Compare):
        return _compare(node, source)
    if isinstance(node, Between):
        value, lo, hi = (compile_node(n, source) for n in (node.value, node.lo, node.hi))

        def between(ctx: Context, inp: Any) -> Any:
            v = value(ctx, inp)
            return rt.ge(v, lo(ctx, inp)) and rt.le(v, hi(ctx, inp))

        return between
    if isinstance(node, IfNode):
        cond, then, otherwise = (compile_node(n, source) for n in (node.cond, node.then, node.otherwise))
        return lambda ctx, inp: then(ctx, inp) if cond(ctx, inp) is True else otherwise(ctx, inp)
    if isinstance(node, Call):
        args = [compile_node(n, source) for n in node.args]
        func = node.func
        return lambda ctx, inp: rt.call(func, tuple(arg(ctx, inp) for arg in args))
    raise ExpressionError(f"cannot compile {type(node).__name__}", source=source, position=node.pos)  # pragma: no cover


def _constant(value: object) -> Evaluator:
    return lambda ctx, inp: value


def _input(ctx: Context, inp: Any) -> Any:
    return inp


def _name(segments: tuple[str, ...]) -> Evaluator:
    """Specialised for the common one- and two-segment names: they run on every decision."""
    lookup = rt.lookup
    if len(segments) == 1:
        (a,) = segments

        def get1(ctx: Context, inp: Any) -> Any:
            return ctx.get(a) if type(ctx) is dict else lookup(ctx, a)

        return get1
    if len(segments) == 2:
        a, b = segments

        def get2(ctx: Context, inp: Any) -> Any:
            v = ctx.get(a) if type(ctx) is dict else lookup(ctx, a)
            return v.get(b) if type(v) is dict else lookup(v, b)

        return get2

    def get_n(ctx: Context, inp: Any) -> Any:
        v: Any = ctx
        for segment in segments:
            v = v.get(segment) if type(v) is dict else lookup(v, segment)
            if v is None:
                return None
        return v

    return get_n


def _arith(node: Arith, source: str) -> Evaluator:
    first = compile_node(node.first, source)
    rest = [(rt.ARITH[op], compile_node(n, source)) for op, n in node.rest]
    if len(rest) == 1:
        ((op, second),) = rest
        return lambda ctx, inp: op(first(ctx, inp), second(ctx, inp))

    def chain(ctx: Context, inp: Any) -> Any:
        acc = first(ctx, inp)
        for fn, operand in rest:
            acc = fn(acc, operand(ctx, inp))
        return acc

    return chain


def _boolop(node: BoolOp, source: str) -> Evaluator:
    operands = [compile_node(n, source) for n in node.operands]
    if node.op == "and":

        def all_true(ctx: Context, inp: Any) -> bool:
            return all(operand(ctx, inp) is True for operand in operands)

        return all_true

    def any_true(ctx: Context, inp: Any) -> bool:
        return any(operand(ctx, inp) is True for operand in operands)

    return any_true


def _compare(node: Compare, source: str) -> Evaluator:
    left = compile_node(node.left, source)
    if node.op == "in":
        return _membership(left, node.right, source)
    right = compile_node(node.right, source)
    if node.op == "=":
        return lambda ctx, inp: rt.eq(left(ctx, inp), right(ctx, inp))
    if node.op == "!=":
        return lambda ctx, inp: not rt.eq(left(ctx, inp), right(ctx, inp))
    op = node.op
    return lambda ctx, inp: rt.compare(op, left(ctx, inp), right(ctx, inp))


def range_test(node: RangeNode, source: str) -> Callable[[Any, Context, Any], bool]:
    """``value in <range>``, shared with decision-table cells."""
    lo, hi = compile_node(node.lo, source), compile_node(node.hi, source)
    lo_op = ">=" if node.lo_closed else ">"
    hi_op = "<=" if node.hi_closed else "<"
    compare = rt.compare

    def in_range(value: Any, ctx: Context, inp: Any) -> bool:
        return compare(lo_op, value, lo(ctx, inp)) and compare(hi_op, value, hi(ctx, inp))

    return in_range


def _membership(left: Evaluator, right: Node, source: str) -> Evaluator:
    if isinstance(right, RangeNode):
        in_range = range_test(right, source)
        return lambda ctx, inp: in_range(left(ctx, inp), ctx, inp)
    container = compile_node(right, source)
    return lambda ctx, inp: rt.contains(container(ctx, inp), left(ctx, inp))
