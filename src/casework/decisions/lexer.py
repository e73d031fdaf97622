"""Tokenizer for the decision expression language.

The language is parsed by hand (no ``eval``, ``compile`` or ``ast`` on user text) so that what
an expression can do is exactly what this package implements and nothing more. Size limits that
can be checked on the raw text (source length, number digits, string length, names starting
with ``_``, the missing exponent operator) are enforced here, before any parsing work is done.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_SOURCE_LENGTH = 2000
MAX_NUMBER_DIGITS = 30
MAX_STRING_LENGTH = 1000

KEYWORDS = frozenset({"and", "or", "not", "in", "if", "then", "else", "true", "false", "null", "between"})

_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t"}
_TWO_CHAR_OPS = frozenset({"<=", ">=", "!=", "=="})
_ONE_CHAR = frozenset("<>=+-*/%()[],?")
_DIGITS = frozenset("0123456789")


class ExpressionError(ValueError):
    """An expression or decision-table cell that does not compile.

    ``position`` is a 0-based character offset into ``source`` (None when the whole text is at
    fault, e.g. too long). ``str()`` gives one readable line for logs and API problem reports.
    """

    def __init__(self, message: str, *, source: str, position: int | None = None) -> None:
        self.message = message
        self.source = source
        self.position = position
        super().__init__(self._render())

    def _render(self) -> str:
        shown = self.source if len(self.source) <= 120 else self.source[:117] + "..."
        where = f" at position {self.position}" if self.position is not None else ""
        return f"{self.message}{where} in {shown!r}"

    def __str__(self) -> str:
        return self._render()


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical unit. ``kind`` is one of: num, str, name, kw, op, ``(`` ``)`` ``[`` ``]``
    ``,`` ``..`` ``?``, eof. For ``name`` the value is the tuple of dotted segments."""

    kind: str
    value: object
    pos: int


def _is_name_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_"


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens, rejecting anything outside the language early."""
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(f"expression is too long ({len(source)} characters, at most {MAX_SOURCE_LENGTH})", source=source)
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
        elif ch in _DIGITS:
            i = _number(source, i, tokens)
        elif ch in "\"'":
            i = _string(source, i, tokens)
        elif _is_name_start(ch):
            i = _name(source, i, tokens)
        elif ch == ".":
            if source.startswith("..", i):
                tokens.append(Token("..", "..", i))
                i += 2
            else:
                raise ExpressionError("unexpected '.'", source=source, position=i)
        elif source.startswith("**", i) or ch == "^":
            raise ExpressionError("exponent operator is not supported", source=source, position=i)
        elif source[i : i + 2] in _TWO_CHAR_OPS:
            op = source[i : i + 2]
            tokens.append(Token("op", "=" if op == "==" else op, i))
            i += 2
        elif ch in _ONE_CHAR:
            kind = "op" if ch in "<>=+-*/%" else ch
            tokens.append(Token(kind, ch, i))
            i += 1
        else:
            raise ExpressionError(f"unexpected character {ch!r}", source=source, position=i)
    tokens.append(Token("eof", None, n))
    return tokens


def _number(source: str, start: int, tokens: list[Token]) -> int:
    i, n = start, len(source)
    while i < n and source[i] in _DIGITS:
        i += 1
    is_float = False
    if i + 1 < n and source[i] == "." and source[i + 1] in _DIGITS:
        is_float = True
        i += 1
        while i < n and source[i] in _DIGITS:
            i += 1
    text = source[start:i]
    if len(text) - is_float > MAX_NUMBER_DIGITS:
        raise ExpressionError(f"number has too many digits (at most {MAX_NUMBER_DIGITS})", source=source, position=start)
    if i < n and _is_name_char(source[i]):
        raise ExpressionError(f"invalid number {source[start : i + 1]!r}", source=source, position=start)
    tokens.append(Token("num", float(text) if is_float else int(text), start))
    return i


def _string(source: str, start: int, tokens: list[Token]) -> int:
    quote = source[start]
    i, n = start + 1, len(source)
    chars: list[str] = []
    while True:
        if i >= n:
            raise ExpressionError("unterminated string", source=source, position=start)
        ch = source[i]
        if ch == quote:
            break
        if ch == "\\":
            if i + 1 >= n or source[i + 1] not in _ESCAPES:
                raise ExpressionError("unknown escape in string (use \\\" \\' \\\\ \\n or \\t)", source=source, position=i)
            chars.append(_ESCAPES[source[i + 1]])
            i += 2
        else:
            chars.append(ch)
            i += 1
        if len(chars) > MAX_STRING_LENGTH:
            raise ExpressionError(f"string is too long (at most {MAX_STRING_LENGTH} characters)", source=source, position=start)
    tokens.append(Token("str", "".join(chars), start))
    return i + 1


def _name(source: str, start: int, tokens: list[Token]) -> int:
    """A dotted name is one token (``answers.kyc.pep``); ``..`` ends it, so ``[a..b]`` works."""
    segments: list[str] = []
    i, n = start, len(source)
    while True:
        seg_start = i
        if source[i] == "_":
            raise ExpressionError("names may not start with '_'", source=source, position=i)
        while i < n and _is_name_char(source[i]):
            i += 1
        segments.append(source[seg_start:i])
        if i + 1 < n and source[i] == "." and _is_name_start(source[i + 1]):
            i += 1
            continue
        break
    if len(segments) == 1 and segments[0] in KEYWORDS:
        tokens.append(Token("kw", segments[0], start))
    else:
        tokens.append(Token("name", tuple(segments), start))
    return i
