"""Syntax tree of the expression language (plain frozen dataclasses).

Trees are small (the parser caps them at ``MAX_NODES``) and walked iteratively, so tools such
as ``names_used`` never recurse on user-controlled depth.
"""

from __future__ import annotations

from dataclasses import dataclass


class Node:
    """Base of the syntax tree; ``pos`` is the offset of the node's first character."""

    __slots__ = ()
    pos: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: object
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Name(Node):
    segments: tuple[str, ...]
    pos: int = 0

    @property
    def dotted(self) -> str:
        return ".".join(self.segments)


@dataclass(frozen=True, slots=True)
class InputRef(Node):
    """``?`` in a decision-table cell: the value of the cell's input column."""

    pos: int = 0


@dataclass(frozen=True, slots=True)
class ListNode(Node):
    items: tuple[Node, ...]
    pos: int = 0


@dataclass(frozen=True, slots=True)
class RangeNode(Node):
    lo: Node
    hi: Node
    lo_closed: bool
    hi_closed: bool
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Negate(Node):
    operand: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Arith(Node):
    """``first (op operand)*`` for one precedence level of + - or * / %."""

    first: Node
    rest: tuple[tuple[str, Node], ...]
    pos: int = 0


@dataclass(frozen=True, slots=True)
class BoolOp(Node):
    op: str  # "and" | "or"
    operands: tuple[Node, ...]
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Compare(Node):
    op: str  # = != < <= > >= in
    left: Node
    right: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Between(Node):
    value: Node
    lo: Node
    hi: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class IfNode(Node):
    cond: Node
    then: Node
    otherwise: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]
    pos: int = 0


def children(node: Node) -> tuple[Node, ...]:
    """Direct sub-nodes, for generic walks (names used, ``?`` detection)."""
    if isinstance(node, ListNode):
        return node.items
    if isinstance(node, RangeNode):
        return (node.lo, node.hi)
    if isinstance(node, Negate | Not):
        return (node.operand,)
    if isinstance(node, Arith):
        return (node.first, *(n for _, n in node.rest))
    if isinstance(node, BoolOp):
        return node.operands
    if isinstance(node, Compare):
        return (node.left, node.right)
    if isinstance(node, Between):
        return (node.value, node.lo, node.hi)
    if isinstance(node, IfNode):
        return (node.cond, node.then, node.otherwise)
    if isinstance(node, Call):
        return node.args
    return ()


def walk(node: Node) -> list[Node]:
    """All nodes of the tree (iterative: no recursion on user-controlled depth)."""
    out: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(children(current))
    return out


def uses_input(node: Node) -> bool:
    return any(isinstance(n, InputRef) for n in walk(node))
