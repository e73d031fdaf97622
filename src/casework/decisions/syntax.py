"""Syntax tree and recursive-descent parser for expressions and decision-table cells.

Nesting is counted while parsing (parentheses, lists, ranges, calls, unary operators and
``if``) and refused beyond ``MAX_NESTING``, so hostile input such as a thousand ``(`` is an
ExpressionError long before Python's recursion limit. Same-precedence chains (``a + b - c``,
``a and b and c``) are kept flat, so the tree depth — and the call depth of the compiled
closures — stays proportional to the nesting, not to the length of the expression.
"""

from __future__ import annotations

from collections.abc import Callable

from casework.decisions.lexer import ExpressionError, Token, tokenize
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
)

MAX_NESTING = 32
MAX_NODES = 600
MAX_LIST_ITEMS = 500

#: Whitelisted functions: name -> (minimum, maximum or None) number of arguments.
FUNCTION_ARITY: dict[str, tuple[int, int | None]] = {
    "min": (1, None),
    "max": (1, None),
    "abs": (1, 1),
    "round": (1, 2),
    "len": (1, 1),
    "lower": (1, 1),
    "upper": (1, 1),
    "contains": (2, 2),
    "starts_with": (2, 2),
    "ends_with": (2, 2),
    "is_null": (1, 1),
    "coalesce": (1, None),
    "days_between": (2, 2),
}

COMPARISON_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})


def describe(token: Token) -> str:
    if token.kind == "eof":
        return "end of input"
    if token.kind == "name":
        assert isinstance(token.value, tuple)
        return f"name '{'.'.join(token.value)}'"
    if token.kind == "str":
        return "string"
    if token.kind == "num":
        return f"number {token.value!r}"
    return f"'{token.value}'"


class Parser:
    """One parse of one source text. ``allow_input`` enables ``?`` (decision-table cells)."""

    def __init__(self, source: str, *, allow_input: bool = False) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0
        self.nodes = 0
        self.allow_input = allow_input

    # ------------------------------------------------------------------ helpers
    def error(self, message: str, pos: int | None) -> ExpressionError:
        return ExpressionError(message, source=self.source, position=pos)

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        if token.kind != "eof":
            self.i += 1
        return token

    def at(self, kind: str, value: object = None) -> bool:
        token = self.tokens[self.i]
        return token.kind == kind and (value is None or token.value == value)

    def expect(self, kind: str, value: object = None, what: str | None = None) -> Token:
        if not self.at(kind, value):
            wanted = what or f"'{value if value is not None else kind}'"
            raise self.error(f"expected {wanted}, found {describe(self.tok)}", self.tok.pos)
        return self.advance()

    def count(self, node: Node) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.error(f"expression is too large (more than {MAX_NODES} parts)", None)
        return node

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"expression is nested too deeply (more than {MAX_NESTING} levels)", pos)

    def leave(self) -> None:
        self.depth -= 1

    def unexpected(self) -> ExpressionError:
        token = self.tok
        prev = self.tokens[self.i - 1] if self.i else None
        if token.kind == "[" and prev is not None and prev.kind in ("name", ")", "]", "str"):
            return self.error("indexing with [...] is not supported; use a dotted name such as fields.amount", token.pos)
        return self.error(f"unexpected {describe(token)}", token.pos)

    def finish(self) -> None:
        if not self.at("eof"):
            raise self.unexpected()

    # ------------------------------------------------------------------ grammar
    def parse_expression_text(self) -> Node:
        node = self.expression()
        self.finish()
        return node

    def expression(self) -> Node:
        if self.at("kw", "if"):
            return self.if_expr()
        return self.or_expr()

    def if_expr(self) -> Node:
        start = self.advance().pos
        self.enter(start)
        cond = self.expression()
        self.expect("kw", "then")
        then = self.expression()
        self.expect("kw", "else")
        otherwise = self.expression()
        self.leave()
        return self.count(IfNode(cond, then, otherwise, start))

    def or_expr(self) -> Node:
        first = self.and_expr()
        operands = [first]
        while self.at("kw", "or"):
            self.advance()
            operands.append(self.and_expr())
        return first if len(operands) == 1 else self.count(BoolOp("or", tuple(operands), first.pos))

    def and_expr(self) -> Node:
        first = self.not_expr()
        operands = [first]
        while self.at("kw", "and"):
            self.advance()
            operands.append(self.not_expr())
        return first if len(operands) == 1 else self.count(BoolOp("and", tuple(operands), first.pos))

    def not_expr(self) -> Node:
        if self.at("kw", "not"):
            start = self.advance().pos
            self.enter(start)
            operand = self.not_expr()
            self.leave()
            return self.count(Not(operand, start))
        return self.comparison()

    def comparison(self) -> Node:
        left = self.additive()
        token = self.tok
        if token.kind == "op" and token.value in COMPARISON_OPS:
            self.advance()
            node: Node = Compare(str(token.value), left, self.additive(), token.pos)
        elif token.kind == "kw" and token.value == "in":
            self.advance()
            node = Compare("in", left, self.additive(), token.pos)
        elif token.kind == "kw" and token.value == "between":
            self.advance()
            lo = self.additive()
            self.expect("kw", "and", "'and' after 'between ...'")
            node = Between(left, lo, self.additive(), token.pos)
        else:
            return left
        nxt = self.tok
        if (nxt.kind == "op" and nxt.value in COMPARISON_OPS) or (nxt.kind == "kw" and nxt.value in ("in", "between")):
            raise self.error("comparisons cannot be chained; combine them with 'and'", nxt.pos)
        return self.count(node)

    def additive(self) -> Node:
        return self._chain(self.multiplicative, ("+", "-"))

    def multiplicative(self) -> Node:
        return self._chain(self.unary, ("*", "/", "%"))

    def _chain(self, operand: Callable[[], Node], ops: tuple[str, ...]) -> Node:
        first = operand()
        rest: list[tuple[str, Node]] = []
        while self.tok.kind == "op" and self.tok.value in ops:
            op = str(self.advance().value)
            rest.append((op, operand()))
        return first if not rest else self.count(Arith(first, tuple(rest), first.pos))

    def unary(self) -> Node:
        if self.at("op", "-"):
            start = self.advance().pos
            self.enter(start)
            operand = self.unary()
            self.leave()
            if isinstance(operand, Literal) and type(operand.value) in (int, float):
                return Literal(-operand.value, start)  # type: ignore[operator]
            return self.count(Negate(operand, start))
        return self.primary()

    def primary(self) -> Node:
        token = self.tok
        kind = token.kind
        if kind in ("num", "str"):
            self.advance()
            return self.count(Literal(token.value, token.pos))
        if kind == "kw":
            if token.value in ("true", "false", "null"):
                self.advance()
                return self.count(Literal({"true": True, "false": False, "null": None}[str(token.value)], token.pos))
            if token.value == "if":
                return self.if_expr()
            raise self.unexpected()
        if kind == "name":
            self.advance()
            assert isinstance(token.value, tuple)
            segments: tuple[str, ...] = token.value
            if self.at("("):
                return self.call(segments, token.pos)
            return self.count(Name(segments, token.pos))
        if kind == "?":
            if not self.allow_input:
                raise self.error("'?' (the input value) can only be used in a decision-table cell", token.pos)
            self.advance()
            return self.count(InputRef(token.pos))
        if kind == "(":
            return self.paren_or_range()
        if kind == "[":
            return self.list_or_range()
        if kind == "]":
            return self.open_range()
        raise self.unexpected()

    def call(self, segments: tuple[str, ...], pos: int) -> Node:
        func = ".".join(segments)
        if func not in FUNCTION_ARITY:
            raise self.error(f"unknown function '{func}'", pos)
        self.enter(pos)
        self.advance()  # (
        args: list[Node] = []
        if not self.at(")"):
            args.append(self.expression())
            while self.at(","):
                self.advance()
                args.append(self.expression())
        self.expect(")", what="')' or ','")
        self.leave()
        low, high = FUNCTION_ARITY[func]
        if len(args) < low or (high is not None and len(args) > high):
            wanted = str(low) if low == high else f"at least {low}" if high is None else f"{low} to {high}"
            plural = "" if wanted.endswith("1") else "s"
            raise self.error(f"function '{func}' takes {wanted} argument{plural} ({len(args)} given)", pos)
        return self.count(Call(func, tuple(args), pos))

    def _range_rest(self, lo: Node, lo_closed: bool, start: int) -> Node:
        self.advance()  # ..
        hi = self.expression()
        token = self.tok
        if token.kind not in ("]", ")", "["):
            raise self.error(f"expected ']' or ')' to close the range, found {describe(token)}", token.pos)
        self.advance()
        self.leave()
        return self.count(RangeNode(lo, hi, lo_closed, token.kind == "]", start))

    def paren_or_range(self) -> Node:
        start = self.advance().pos
        self.enter(start)
        inner = self.expression()
        if self.at(".."):
            return self._range_rest(inner, False, start)
        self.expect(")", what="')'")
        self.leave()
        return inner

    def open_range(self) -> Node:
        start = self.advance().pos
        self.enter(start)
        lo = self.expression()
        if not self.at(".."):
            raise self.error(f"expected '..' in range, found {describe(self.tok)}", self.tok.pos)
        return self._range_rest(lo, False, start)

    def list_or_range(self) -> Node:
        start = self.advance().pos
        self.enter(start)
        items: list[Node] = []
        if not self.at("]"):
            first = self.expression()
            if self.at(".."):
                return self._range_rest(first, True, start)
            items.append(first)
            while self.at(","):
                self.advance()
                items.append(self.expression())
                if len(items) > MAX_LIST_ITEMS:
                    raise self.error(f"list is too long (at most {MAX_LIST_ITEMS} items)", start)
        self.expect("]", what="']' or ','")
        self.leave()
        return self.count(ListNode(tuple(items), start))


def parse_expression(source: str) -> Node:
    """Parse a full expression (no ``?``)."""
    return Parser(source).parse_expression_text()
