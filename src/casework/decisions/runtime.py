"""Value semantics shared by compiled expressions and decision tables.

Everything here is total: operators and functions return a value (often None) instead of
raising, because an expression is evaluated against case data that was not known when it was
written. The rules, chosen to be predictable for the people writing the rules:

* values have kinds: number (int, float, Decimal, Fraction; never bool), string, boolean, null,
  date, datetime, list, mapping. ``=`` is true only for equal values of the same kind, so
  ``true = 1`` is false and ``null = null`` is true;
* ``< <= > >=`` compare numbers with numbers, strings with strings, dates with dates; anything
  else (null, mixed kinds, NaN) is simply false;
* arithmetic works on numbers (``+`` also joins strings, up to ``MAX_STRING_RESULT``); anything
  else, division by zero and overflow give None;
* only ``true`` is true in a condition: null and every non-boolean count as false.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction
from typing import Any

MAX_STRING_RESULT = 10_000
MAX_INT_RESULT = 10**60
MAX_ROUND_DIGITS = 20

_KINDS: dict[type, str] = {
    int: "n",
    float: "n",
    Decimal: "n",
    Fraction: "n",
    str: "s",
    bool: "b",
    type(None): "z",
    dt.date: "d",
    dt.datetime: "t",
    list: "l",
    tuple: "l",
    dict: "m",
}


def kind(value: object) -> str:
    """One letter naming the value's kind (see module docstring); "o" for anything foreign."""
    k = _KINDS.get(type(value))
    if k is not None:
        return k
    if isinstance(value, bool):
        return "b"
    if isinstance(value, int | float | Decimal | Fraction):
        return "n"
    if isinstance(value, str):
        return "s"
    if isinstance(value, dt.datetime):
        return "t"
    if isinstance(value, dt.date):
        return "d"
    if isinstance(value, list | tuple):
        return "l"
    if isinstance(value, Mapping):
        return "m"
    return "o"


def is_number(value: object) -> bool:
    return kind(value) == "n"


def eq(a: object, b: object) -> bool:
    ka = kind(a)
    if ka != kind(b):
        return False
    if ka == "l":
        assert isinstance(a, list | tuple) and isinstance(b, list | tuple)
        try:
            return len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b, strict=True))
        except RecursionError:  # absurdly nested context data: not equal rather than a crash
            return False
    if ka == "o":
        return a is b
    try:
        return bool(a == b)
    except ArithmeticError:  # Decimal signalling NaN
        return False


_ORDERED = frozenset("nsdt")


def compare(op: str, a: Any, b: Any) -> bool:
    """``a op b`` for op in < <= > >=; false unless both are numbers, strings or dates alike."""
    ka = kind(a)
    if ka != kind(b) or ka not in _ORDERED:
        return False
    try:
        if op == "<":
            return bool(a < b)
        if op == "<=":
            return bool(a <= b)
        if op == ">":
            return bool(a > b)
        return bool(a >= b)
    except (ArithmeticError, TypeError):  # Decimal NaN, naive vs aware datetimes
        return False


def lt(a: Any, b: Any) -> bool:
    return compare("<", a, b)


def le(a: Any, b: Any) -> bool:
    return compare("<=", a, b)


def gt(a: Any, b: Any) -> bool:
    return compare(">", a, b)


def ge(a: Any, b: Any) -> bool:
    return compare(">=", a, b)


def contains(container: object, item: object) -> bool:
    """``item in container``: list membership (by ``eq``) or substring."""
    kc = kind(container)
    if kc == "l":
        assert isinstance(container, list | tuple)
        return any(eq(item, x) for x in container)
    if kc == "s" and kind(item) == "s":
        assert isinstance(container, str) and isinstance(item, str)
        return item in container
    return False


def truth(value: object) -> bool:
    return value is True


def _number_op(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def op(a: Any, b: Any) -> Any:
        if kind(a) != "n" or kind(b) != "n":
            return None
        try:
            result = fn(a, b)
        except (ArithmeticError, TypeError):  # zero division, overflow, Decimal vs float
            return None
        if type(result) is int and not -MAX_INT_RESULT <= result <= MAX_INT_RESULT:
            return None
        return result

    return op


def _add_numbers(a: Any, b: Any) -> Any:
    return a + b


_add = _number_op(_add_numbers)


def add(a: Any, b: Any) -> Any:
    if type(a) is str and type(b) is str:
        return a + b if len(a) + len(b) <= MAX_STRING_RESULT else None
    return _add(a, b)


def _div(a: Any, b: Any) -> Any:
    result = a / b
    if type(result) is float and result.is_integer() and type(a) is int and type(b) is int:
        return int(result) if abs(result) < 2**53 else result
    return result


ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": add,
    "-": _number_op(lambda a, b: a - b),
    "*": _number_op(lambda a, b: a * b),
    "/": _number_op(_div),
    "%": _number_op(lambda a, b: a % b),
}


def negate(a: Any) -> Any:
    return -a if kind(a) == "n" else None


# ---------------------------------------------------------------- functions
def _items(args: tuple[Any, ...]) -> list[Any] | None:
    values = list(args[0]) if len(args) == 1 and kind(args[0]) == "l" else list(args)
    if not values:
        return None
    k = kind(values[0])
    if k not in _ORDERED or any(kind(v) != k for v in values):
        return None
    return values


def _min(*args: Any) -> Any:
    values = _items(args)
    return None if values is None else min(values)


def _max(*args: Any) -> Any:
    values = _items(args)
    return None if values is None else max(values)


def _abs(x: Any) -> Any:
    return abs(x) if kind(x) == "n" else None


_ROUNDING = Context(prec=400, rounding=ROUND_HALF_UP)


def _round(x: Any, digits: Any = 0) -> Any:
    """Half away from zero (2.5 -> 3, 2.675 -> 2.68 as written), unlike Python's round."""
    if kind(x) != "n" or kind(digits) != "n" or digits != int(digits) or abs(digits) > MAX_ROUND_DIGITS:
        return None
    places = int(digits)
    if type(x) is int and places >= 0:
        return x
    exact = Decimal(repr(x)) if type(x) is float else Decimal(x) if not isinstance(x, Fraction) else Decimal(float(x))
    if not exact.is_finite():
        return None
    rounded = exact.quantize(Decimal(1).scaleb(-places), context=_ROUNDING)
    if places <= 0:
        return int(rounded)
    return rounded if isinstance(x, Decimal) else float(rounded)


def _len(x: Any) -> Any:
    return len(x) if kind(x) in ("s", "l", "m") else None


def _lower(x: Any) -> Any:
    return x.lower() if kind(x) == "s" else None


def _upper(x: Any) -> Any:
    return x.upper() if kind(x) == "s" else None


def _contains(s: Any, sub: Any) -> Any:
    if kind(s) == "l":
        return contains(s, sub)
    return sub in s if kind(s) == "s" and kind(sub) == "s" else None


def _starts_with(s: Any, prefix: Any) -> Any:
    return s.startswith(prefix) if kind(s) == "s" and kind(prefix) == "s" else None


def _ends_with(s: Any, suffix: Any) -> Any:
    return s.endswith(suffix) if kind(s) == "s" and kind(suffix) == "s" else None


def _is_null(x: Any) -> Any:
    return x is None


def _coalesce(*args: Any) -> Any:
    return next((a for a in args if a is not None), None)


def to_date(value: Any) -> dt.date | None:
    """A date from a date, a datetime (its date part) or an ISO 8601 string; else None."""
    k = kind(value)
    if k == "t":
        return value.date()  # type: ignore[no-any-return]
    if k == "d":
        return value  # type: ignore[no-any-return]
    if k != "s" or len(value) > 40:
        return None
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value).date()
    except ValueError:
        return None


def _days_between(a: Any, b: Any) -> Any:
    """Days from ``a`` to ``b`` (positive when ``b`` is later)."""
    start, end = to_date(a), to_date(b)
    return None if start is None or end is None else (end - start).days


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": _min,
    "max": _max,
    "abs": _abs,
    "round": _round,
    "len": _len,
    "lower": _lower,
    "upper": _upper,
    "contains": _contains,
    "starts_with": _starts_with,
    "ends_with": _ends_with,
    "is_null": _is_null,
    "coalesce": _coalesce,
    "days_between": _days_between,
}


def call(name: str, args: tuple[Any, ...]) -> Any:
    try:
        return FUNCTIONS[name](*args)
    except (ArithmeticError, ValueError, TypeError):  # belt and braces: foreign values
        return None


def lookup(value: Any, key: str) -> Any:
    """One step of a dotted name: a key of a mapping, else None (never an attribute)."""
    if type(value) is dict:
        return value.get(key)
    if isinstance(value, Mapping):
        try:
            return value.get(key)
        except (KeyError, TypeError):
            return None
    return None
