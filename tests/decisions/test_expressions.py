"""The expression language and table cells: precedence, null handling, functions, names, errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from casework.decisions import ExpressionError, compile_expression, compile_unary_test, names_used

CTX: dict[str, Any] = {
    "fields": {"amount": 8000, "kind": "unauthorised_transfer", "balance_after": 0, "limit": 50, "tags": ["a", "b"], "name": "Ada"},
    "answers": {"kyc": {"pep": True, "country": "NL"}, "fraud": {"emptied": False}},
    "case": {"opened": "2026-01-10", "due": dt.date(2026, 2, 9)},
    "flag": True,
}


def ev(text: str, ctx: dict[str, Any] | None = None) -> Any:
    return compile_expression(text)(CTX if ctx is None else ctx)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # literals
        ("1", 1),
        ("1.5", 1.5),
        ('"a\\"b"', 'a"b'),
        ("'it\\'s'", "it's"),
        ('"x\\ny\\\\"', "x\ny\\"),
        ("true", True),
        ("false", False),
        ("null", None),
        ('[1, 2, "a"]', [1, 2, "a"]),
        ("[]", []),
        # precedence and associativity
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 3 - 2", 5),
        ("20 / 2 / 5", 2),
        ("7 % 4 * 2", 6),
        ("-2 * 3", -6),
        ("- (2 + 3)", -5),
        ("--2", 2),
        ("1 + 2 = 3", True),
        ("1 < 2 and 2 < 3", True),
        ("true or false and false", True),
        ("(true or false) and false", False),
        ("not 1 = 2", True),
        ("not true or true", True),
        ("not (true or true)", False),
        ("if 1 > 2 then 'a' else 'b'", "b"),
        ("if fields.amount > 1000 then fields.amount / 100 else 0", 80),
        ("1 + if true then 1 else 2", 2),
        # comparisons
        ("1 = 1.0", True),
        ("1 == 1", True),
        ("1 != 2", True),
        ("'a' < 'b'", True),
        ("'10' < 9", False),
        ("'1' = 1", False),
        ("true = 1", False),
        ("null = null", True),
        ("null != 1", True),
        ("[1, 'a'] = [1, 'a']", True),
        ("3 between 1 and 3", True),
        ("0 between 1 and 3", False),
        # membership
        ("'b' in ['a', 'b']", True),
        ("1 in [1.0]", True),
        ("true in [1]", False),
        ("'sav' in 'savings'", True),
        ("1 in 'savings'", False),
        ("'a' in fields.tags", True),
        ("5 in [1..5]", True),
        ("5 in [1..5)", False),
        ("1 in ]1..5]", False),
        ("1 in (1..5]", False),
        ("3 in (1..5)", True),
        ("fields.amount in [fields.limit..10000]", True),
        # dotted names
        ("fields.amount", 8000),
        ("answers.kyc.pep", True),
        ("answers.kyc.pep and fields.amount > 5000", True),
        ("flag", True),
        ("fields.missing", None),
        ("nothing.at.all", None),
        ("fields.amount.deeper", None),
        ("fields.name.upper", None),
        ("answers.fraud.emptied", False),
        # keywords may be dotted segments
        ("answers.kyc.country in ['NL', 'BE']", True),
    ],
)
def test_evaluates(text: str, expected: Any) -> None:
    result = ev(text)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fields.missing > 1", False),
        ("fields.missing < 1", False),
        ("fields.missing = 1", False),
        ("fields.missing = null", True),
        ("fields.missing + 1", None),
        ("-fields.missing", None),
        ("fields.missing * 2", None),
        ("1 / 0", None),
        ("1 % 0", None),
        ("1.5 / 0", None),
        ("'a' + 1", None),
        ("'a' - 'b'", None),
        ("'a' * 3", None),
        ("true + 1", None),
        ("'ab' + 'cd'", "abcd"),
        ("fields.missing and true", False),
        ("fields.missing or true", True),
        ("fields.missing or false", False),
        ("not fields.missing", True),
        ("if fields.missing then 1 else 2", 2),
        ("if 1 then 1 else 2", 2),
        ("fields.missing in [1, 2]", False),
        ("null in [null]", True),
        ("fields.missing between 1 and 2", False),
        ("1 in fields.missing", False),
    ],
)
def test_null_and_type_mismatches_never_raise(text: str, expected: Any) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("min(3, 1, 2)", 1),
        ("min([3, 1, 2])", 1),
        ("max(3, 1, 2)", 3),
        ("max(['a', 'c', 'b'])", "c"),
        ("max(1, 'a')", None),
        ("min([])", None),
        ("abs(-4)", 4),
        ("abs('x')", None),
        ("round(2.5)", 3),
        ("round(-2.5)", -3),
        ("round(2.675, 2)", 2.68),
        ("round(1234, -2)", 1200),
        ("round(1.5, 1000)", None),
        ("round('x')", None),
        ("len('abc')", 3),
        ("len(fields.tags)", 2),
        ("len(5)", None),
        ("lower('AbC')", "abc"),
        ("upper(fields.name)", "ADA"),
        ("upper(1)", None),
        ("contains('savings', 'vin')", True),
        ("contains(fields.tags, 'b')", True),
        ("contains(1, 'x')", None),
        ("starts_with(fields.kind, 'unauth')", True),
        ("ends_with(fields.kind, 'transfer')", True),
        ("starts_with(null, 'x')", None),
        ("is_null(fields.missing)", True),
        ("is_null(0)", False),
        ("coalesce(fields.missing, null, 3)", 3),
        ("coalesce(null)", None),
        ("days_between('2026-01-01', '2026-03-01')", 59),
        ("days_between(case.opened, case.due)", 30),
        ("days_between('2026-03-01T10:00:00', '2026-03-02')", 1),
        ("days_between('not a date', '2026-03-02')", None),
        ("days_between(1, 2)", None),
    ],
)
def test_functions(text: str, expected: Any) -> None:
    assert ev(text) == expected


def test_context_values_of_other_numeric_types() -> None:
    ctx = {"x": Decimal("2.50"), "y": 2.5, "d": dt.date(2026, 1, 1)}
    assert ev("x = y", ctx) is True
    assert ev("x * 2", ctx) == Decimal("5.00")
    assert ev("x + y", ctx) is None  # Decimal + float is refused rather than raising
    assert ev("d < d", ctx) is False
    assert ev("d = d", ctx) is True


def test_non_dict_mappings_are_walked_but_objects_are_not() -> None:
    from types import MappingProxyType

    class Obj:
        amount = 5

    ctx = MappingProxyType({"fields": MappingProxyType({"amount": 3}), "obj": Obj()})
    assert compile_expression("fields.amount + 1")(ctx) == 4
    assert compile_expression("obj.amount")(ctx) is None


def test_string_concatenation_is_capped() -> None:
    ctx = {"s": "x" * 6000}
    assert ev("s + s", ctx) is None
    assert ev("s + 'y'", ctx) == "x" * 6000 + "y"


def test_large_integer_products_are_refused() -> None:
    big = "9" * 30
    assert ev(f"{big} * {big} * {big}") is None
    assert ev(f"{big} * 2") == int(big) * 2


def test_names_used() -> None:
    assert names_used("fields.amount > 1 and answers.fraud.emptied") == {"fields.amount", "answers.fraud.emptied"}
    assert names_used("max(fields.a, risk.score) + x") == {"fields.a", "risk.score", "x"}
    assert names_used("1 + 2") == set()
    assert names_used("? > fields.a, < answers.b", unary_test=True) == {"fields.a", "answers.b"}
    with pytest.raises(ExpressionError):
        names_used("1 +")


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("exec(1)", "unknown function 'exec'", 0),
        ("1 +", "unexpected end of input", 3),
        ("(1", "expected ')'", 2),
        ("1 2", "unexpected number 2", 2),
        ("'abc", "unterminated string", 0),
        ("'a\\qb'", "unknown escape", 2),
        ("a._b", "names may not start with '_'", 2),
        ("1 < 2 < 3", "comparisons cannot be chained", 6),
        ("x between 1", "expected 'and' after 'between ...'", 11),
        ("abs()", "function 'abs' takes 1 argument (0 given)", 0),
        ("round(1, 2, 3)", "function 'round' takes 1 to 2 arguments (3 given)", 0),
        ("coalesce()", "function 'coalesce' takes at least 1 argument (0 given)", 0),
        ("[1..2]", "a range such as [1..10] can only follow 'in'", 0),
        ("1abc", "invalid number", 0),
        ("@", "unexpected character '@'", 0),
        ("x.", "unexpected '.'", 1),
        ("? = 1", "'?' (the input value) can only be used in a decision-table cell", 0),
        ("fields['x']", "indexing with [...] is not supported", 6),
        ("if true then 1", "expected 'else'", 14),
    ],
)
def test_compile_errors_name_the_problem_and_position(text: str, message: str, position: int) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression(text)
    assert message in info.value.message
    assert info.value.position == position
    assert info.value.source == text
    assert str(info.value) == f"{info.value.message} at position {position} in {text!r}"


def test_error_rendering_of_long_sources_is_shortened() -> None:
    text = "1 + " * 100 + "@"
    with pytest.raises(ExpressionError) as info:
        compile_expression(text)
    assert len(str(info.value)) < 200
    assert info.value.source == text


def test_compiled_expression_is_reusable_and_pure() -> None:
    fn = compile_expression("fields.amount * 2")
    assert [fn({"fields": {"amount": n}}) for n in (1, 2, 3)] == [2, 4, 6]
    lst = compile_expression("[1, 2]")
    first = lst({})
    first.append(3)
    assert lst({}) == [1, 2]


# ---------------------------------------------------------------- unary tests (table cells)
@pytest.mark.parametrize(
    ("cell", "value", "expected"),
    [
        ("-", "anything", True),
        ("", None, True),
        ("  -  ", 3, True),
        ('"gold"', "gold", True),
        ('"gold"', "silver", False),
        ("10", 10.0, True),
        ("10", "10", False),
        ("true", True, True),
        ("true", 1, False),
        ("null", None, True),
        ("null", 0, False),
        ("-5", -5, True),
        ("< 100", 99, True),
        ("< 100", 100, False),
        ("<= 100", 100, True),
        ("> 100", None, False),
        ("> fields.limit", 51, True),
        (">= fields.limit", 50, True),
        ("= 'a'", "a", True),
        ("!= 'a'", "b", True),
        ("[1..10]", 1, True),
        ("[1..10]", 10, True),
        ("[1..10]", 10.5, False),
        ("(1..10)", 1, False),
        ("(1..10)", 5, True),
        ("[1..10)", 10, False),
        ("]1..10[", 1, False),
        ("]1..10[", 9.99, True),
        ("[fields.limit..100]", 50, True),
        ("[1..10]", "5", False),
        ('"a", "b"', "b", True),
        ('"a", "b"', "c", False),
        ("< 0, > 100", -1, True),
        ("< 0, > 100", 50, False),
        ('["x", "y"]', "y", True),
        ('not("a", "b")', "c", True),
        ('not("a", "b")', "a", False),
        ('not("a", "b")', None, True),
        ("not(< 10)", 12, True),
        ("not([1..5])", 3, False),
        ("? > 10 and ? < fields.limit", 20, True),
        ("? > 10 and ? < fields.limit", 60, False),
        ("? > 10 and ? < fields.limit", None, False),
        ("not(? > 5)", 3, True),
        ("not(? > 5) and ? > 1", 3, True),
        ("contains(?, 'sav')", "savings", True),
        ("contains(?, 'sav')", 5, False),
        ("fields.limit", 50, True),
        ("fields.tags", "a", True),
        ("fields.tags", "z", False),
        ("-, 1", 7, True),
    ],
)
def test_unary_tests(cell: str, value: Any, expected: bool) -> None:
    assert compile_unary_test(cell)(value, CTX) is expected


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("< ", "unexpected end of input"),
        ("[1..", "unexpected end of input"),
        ("[1..2", "expected ']' or ')' to close the range"),
        ("]1, 2[", "expected '..' in range"),
        ("not(1", "expected ')'"),
        ('"a",', "unexpected end of input"),
        ("foo(?)", "unknown function 'foo'"),
        ("> ? ?", "unexpected '?'"),
    ],
)
def test_unary_test_errors(cell: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_unary_test(cell)
    assert message in info.value.message
