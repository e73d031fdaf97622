"""Decision tables: parsing and its error paths, every hit policy and aggregation, defaults,
explanations, round trips, and the indexed evaluator against a straightforward reference."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.decisions import (
    Aggregation,
    CompiledTable,
    DecisionError,
    HitPolicy,
    TableError,
    compile_expression,
    compile_table,
    compile_unary_test,
    parse_table,
    table_to_dict,
)

SEED_FRAUD_TABLE = """
name: disputed_transaction.risk
title: Risk score for disputed transactions
hit_policy: COLLECT
aggregation: SUM
inputs:
  - name: kind
    expression: fields.transaction_kind
  - name: amount
    expression: fields.amount
  - name: account
    expression: fields.account_type
  - name: balance_after
    expression: fields.balance_after
outputs:
  - name: score
    type: number
    default: 0
rules:
  - id: unauthorised
    when: ['"unauthorised_transfer"', "-", "-", "-"]
    then: {score: 40}
    note: money moved without the customer's consent
  - id: large
    when: ["-", ">= 5000", "-", "-"]
    then: {score: 20}
    note: large amount
  - id: savings-emptied
    when: ["-", "-", '"savings"', "<= 0"]
    then: {score: 30}
    note: savings account emptied
  - id: card-charge
    when: ['"card_charge", "direct_debit"', "< 100", "-", "-"]
    then: {score: 5}
  - id: per-thousand
    when: ["-", "[1000..100000]", "-", "-"]
    then: {score: "=round(fields.amount / 1000)"}
"""


def load(text: str) -> CompiledTable:
    return compile_table(parse_table(yaml.safe_load(text)))


def test_seed_fraud_example_scores_an_emptied_savings_account_far_above_a_small_card_charge() -> None:
    table = load(SEED_FRAUD_TABLE)
    emptied = table.evaluate(
        {"fields": {"transaction_kind": "unauthorised_transfer", "account_type": "savings", "balance_after": 0, "amount": 8000}}
    )
    small = table.evaluate({"fields": {"transaction_kind": "card_charge", "amount": 25}})
    assert emptied.matched == ["unauthorised", "large", "savings-emptied", "per-thousand"]
    assert emptied.outputs == {"score": 40 + 20 + 30 + 8}
    assert small.matched == ["card-charge"]
    assert small.outputs == {"score": 5}
    assert emptied.outputs["score"] >= 10 * small.outputs["score"]
    explanation = emptied.explain()
    assert "hit policy COLLECT SUM" in explanation
    assert 'kind = "unauthorised_transfer"' in explanation
    assert "savings-emptied (savings account emptied)" in explanation
    assert "Result: score = 98." in explanation
    nothing = table.evaluate({"fields": {}})
    assert nothing.matched == [] and nothing.outputs == {"score": 0}
    assert "No rule matched, so the defaults apply." in nothing.explain()


def doc(hit_policy: str = "UNIQUE", aggregation: str | None = None, **outputs: Any) -> dict[str, Any]:
    """A small table over fields.amount and fields.kind with the given rules' outputs."""
    data: dict[str, Any] = {
        "name": "test.table",
        "hit_policy": hit_policy,
        "inputs": [{"name": "amount", "expression": "fields.amount"}, {"name": "kind", "expression": "fields.kind"}],
        "outputs": [{"name": "level", "type": "string", "values": ["high", "medium", "low"]}, {"name": "points", "type": "number"}],
        "rules": [
            {"id": "big", "when": ["> 1000", "-"], "then": {"level": "high", "points": 10}, "note": "big amount"},
            {"id": "transfer", "when": ["-", '"transfer"'], "then": {"level": "medium", "points": 5}},
            {"id": "small-card", "when": ["<= 1000", '"card", "debit"'], "then": {"level": "low", "points": 1}},
        ],
    }
    if aggregation:
        data["aggregation"] = aggregation
    data["outputs"][0].update(outputs)
    return data


def run(data: dict[str, Any], amount: Any, kind: Any) -> Any:
    return compile_table(parse_table(data)).evaluate({"fields": {"amount": amount, "kind": kind}})


@pytest.mark.parametrize(
    ("hit_policy", "aggregation", "amount", "kind", "matched", "applied", "outputs"),
    [
        ("UNIQUE", None, 5000, "card", ["big"], ["big"], {"level": "high", "points": 10}),
        ("UNIQUE", None, 10, "cash", [], [], {"level": None, "points": None}),
        ("FIRST", None, 5000, "transfer", ["big", "transfer"], ["big"], {"level": "high", "points": 10}),
        ("FIRST", None, 50, "transfer", ["transfer"], ["transfer"], {"level": "medium", "points": 5}),
        ("PRIORITY", None, 50, "card", ["small-card"], ["small-card"], {"level": "low", "points": 1}),
        ("PRIORITY", None, 5000, "transfer", ["big", "transfer"], ["big"], {"level": "high", "points": 10}),
        ("COLLECT", None, 5000, "transfer", ["big", "transfer"], ["big", "transfer"], {"level": ["high", "medium"], "points": [10, 5]}),
        ("COLLECT", None, 10, "cash", [], [], {"level": [], "points": []}),
        ("COLLECT", "COUNT", 5000, "transfer", ["big", "transfer"], ["big", "transfer"], {"level": 2, "points": 2}),
        ("COLLECT", "COUNT", 10, "cash", [], [], {"level": 0, "points": 0}),
        ("COLLECT", "MIN", 5000, "transfer", ["big", "transfer"], ["big", "transfer"], {"level": "high", "points": 5}),
        ("COLLECT", "MAX", 5000, "transfer", ["big", "transfer"], ["big", "transfer"], {"level": "medium", "points": 10}),
        ("COLLECT", "MAX", 10, "cash", [], [], {"level": None, "points": None}),
    ],
)
def test_hit_policies_and_aggregations(
    hit_policy: str, aggregation: str | None, amount: Any, kind: Any, matched: list[str], applied: list[str], outputs: dict[str, Any]
) -> None:
    result = run(doc(hit_policy, aggregation), amount, kind)
    assert result.matched == matched
    assert result.applied == applied
    assert result.outputs == outputs
    assert result.hit_policy is HitPolicy(hit_policy)
    assert result.aggregation == (Aggregation(aggregation) if aggregation else None)
    assert result.inputs == {"amount": amount, "kind": kind}


def test_collect_sum() -> None:
    data = doc("COLLECT", "SUM")
    data["outputs"] = [{"name": "points", "type": "number", "default": -1}]
    for rule in data["rules"]:
        del rule["then"]["level"]
    assert run(data, 5000, "transfer").outputs == {"points": 15}
    assert run(data, 5, "debit").outputs == {"points": 1}
    assert run(data, None, None).outputs == {"points": -1}


def test_priority_follows_the_order_of_values_not_of_rules() -> None:
    data = doc("PRIORITY")
    data["outputs"][0]["values"] = ["low", "medium", "high"]  # now "low" is the highest priority
    data["rules"][2]["when"] = ["-", '"transfer"']
    result = run(data, 5000, "transfer")
    assert result.matched == ["big", "transfer", "small-card"]
    assert result.applied == ["small-card"]
    assert result.outputs == {"level": "low", "points": 1}
    assert "Applied small-card: its output has the highest priority." in result.explain()


def test_unique_violation_names_the_rules() -> None:
    with pytest.raises(DecisionError) as info:
        run(doc("UNIQUE"), 5000, "transfer")
    assert info.value.rules == ("big", "transfer")
    assert str(info.value) == "decision table 'test.table': hit policy UNIQUE but 2 rules match: big, transfer"
    assert isinstance(info.value, ValueError)


def test_defaults_apply_when_nothing_matches() -> None:
    data = doc("FIRST", default="low")
    data["outputs"][1]["default"] = 0
    assert run(data, 10, "cash").outputs == {"level": "low", "points": 0}
    collect = doc("COLLECT", default="low")
    assert run(collect, 10, "cash").outputs == {"level": ["low"], "points": []}


def test_computed_outputs_are_evaluated_and_checked() -> None:
    data = doc("FIRST")
    data["rules"][0]["then"]["points"] = "=fields.amount / 100"
    assert run(data, 5000, "x").outputs == {"level": "high", "points": 50}
    assert run(data, 1500.5, "x").outputs["points"] == pytest.approx(15.005)
    data["rules"][0]["then"]["level"] = "=fields.kind"
    assert run(data, 5000, "medium").outputs == {"level": "medium", "points": 50}
    assert list(run(data, 5000, "medium").outputs) == ["level", "points"]
    with pytest.raises(DecisionError, match=r"rule big computed level = 'urgent', which is not one of the allowed values"):
        run(data, 5000, "urgent")
    with pytest.raises(DecisionError, match=r"rule big computed level = 3, which is not a string"):
        run(data, 5000, 3)
    assert run(data, 5000, None).outputs["level"] is None  # null is "no value", allowed


def test_collect_sum_of_untyped_computed_strings_is_an_error() -> None:
    data = {
        "name": "t",
        "hit_policy": "COLLECT",
        "aggregation": "SUM",
        "inputs": [{"name": "a", "expression": "a"}],
        "outputs": [{"name": "o"}],
        "rules": [{"when": ["-"], "then": {"o": "=a"}}, {"when": ["-"], "then": {"o": 1}}],
    }
    table = compile_table(parse_table(data))
    assert table.evaluate({"a": 2}).outputs == {"o": 3}
    with pytest.raises(DecisionError, match="cannot SUM"):
        table.evaluate({"a": "x"})


def test_explain_lists_inputs_matches_notes_and_result() -> None:
    result = run(doc("FIRST"), 5000, "transfer")
    assert result.explain() == (
        "Decision table 'test.table' (hit policy FIRST).\n"
        'Inputs: amount = 5000, kind = "transfer".\n'
        "Matched 2 rules: big (big amount); transfer.\n"
        "Applied big: it is the first in table order.\n"
        'Result: level = "high", points = 10.'
    )
    single = run(doc("UNIQUE"), 1, "card").explain()
    assert "Matched rule: small-card." in single and "Applied" not in single
    assert 'level = ["high", "medium"]' in run(doc("COLLECT"), 5000, "transfer").explain()


def test_rule_ids_default_to_their_position() -> None:
    data = doc()
    for rule in data["rules"]:
        del rule["id"]
    table = parse_table(data)
    assert [r.id for r in table.rules] == ["r1", "r2", "r3"]


def test_round_trip_through_dict_and_yaml() -> None:
    original = parse_table(yaml.safe_load(SEED_FRAUD_TABLE))
    assert parse_table(table_to_dict(original)) == original
    assert parse_table(yaml.safe_load(yaml.safe_dump(table_to_dict(original)))) == original
    for data in (doc("PRIORITY", default="low"), doc("COLLECT", "MAX")):
        table = parse_table(data)
        assert parse_table(table_to_dict(table)) == table
        assert table_to_dict(parse_table(table_to_dict(table))) == table_to_dict(table)


def test_yaml_numbers_and_booleans_in_cells_are_kept_as_text() -> None:
    data = {
        "name": "t",
        "hit_policy": "FIRST",
        "inputs": [{"name": "a", "expression": "a"}, {"name": "b", "expression": "b"}],
        "outputs": [{"name": "o", "type": "boolean"}],
        "rules": [{"when": [10, True], "then": {"o": True}}, {"when": [-2.5, "-"], "then": {"o": False}}],
    }
    table = parse_table(data)
    assert table.rules[0].when == ("10", "true")
    assert table.rules[1].when == ("-2.5", "-")
    compiled = compile_table(table)
    assert compiled.evaluate({"a": 10, "b": True}).outputs == {"o": True}
    assert compiled.evaluate({"a": -2.5, "b": None}).outputs == {"o": False}


def mutate(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    data = copy.deepcopy(doc())
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda d: d.update(extra=1), "extra", "unknown key 'extra'"),
        (lambda d: d.pop("name"), "", "missing 'name'"),
        (lambda d: d.update(name="Bad Name"), "name", "not a valid table name"),
        (lambda d: d.update(name="x" * 101), "name", "not a valid table name"),
        (lambda d: d.update(hit_policy="ANY"), "hit_policy", "'ANY' is not one of UNIQUE, FIRST, PRIORITY, COLLECT"),
        (lambda d: d.update(aggregation="SUM"), "aggregation", "only allowed with hit policy COLLECT"),
        (lambda d: d.update(hit_policy="COLLECT", aggregation="AVG"), "aggregation", "'AVG' is not one of SUM, MIN, MAX, COUNT"),
        (lambda d: d.update(hit_policy="COLLECT", aggregation="SUM"), "outputs[0].type", "aggregation SUM needs number outputs"),
        (lambda d: d.update(inputs=[]), "inputs", "needs at least 1 item"),
        (lambda d: d["inputs"][1].update(name="amount"), "inputs[1].name", "duplicate input name 'amount'"),
        (lambda d: d["inputs"][0].update(name="1st"), "inputs[0].name", "not a valid name"),
        (lambda d: d["inputs"][0].update(expression="foo(1)"), "inputs[0].expression", "unknown function 'foo'"),
        (lambda d: d["inputs"][0].update(expression="x.__class__"), "inputs[0].expression", "names may not start with '_'"),
        (lambda d: d["inputs"][0].update(unit="EUR"), "inputs[0].unit", "unknown key 'unit'"),
        (lambda d: d["outputs"][0].update(type="date"), "outputs[0].type", "'date' is not one of number, string, boolean"),
        (lambda d: d["outputs"][0].update(values=["high", 1]), "outputs[0].values[1]", "expected a string, got 1"),
        (lambda d: d["outputs"][0].update(values=["high", "high"]), "outputs[0].values[1]", "duplicate value 'high'"),
        (lambda d: d["outputs"][0].update(default="urgent"), "outputs[0].default", "'urgent' is not one of the allowed values"),
        (lambda d: d["outputs"][1].update(default="=1"), "outputs[1].default", "expected a number"),
        (lambda d: d["outputs"][1].update(name="level"), "outputs[1].name", "duplicate output name 'level'"),
        (
            lambda d: [o.pop("values", None) for o in d["outputs"]] and d.update(hit_policy="PRIORITY"),
            "outputs",
            "PRIORITY needs an output",
        ),
        (lambda d: d["rules"][2]["when"].append("-"), "rules[2].when", "expected 2 cells (one per input), found 3"),
        (lambda d: d["rules"][1]["when"].__setitem__(1, "foo(?)"), "rules[1].when[1]", "unknown function 'foo' at position 0 in 'foo(?)'"),
        (lambda d: d["rules"][1]["when"].__setitem__(0, "[1..2"), "rules[1].when[0]", "expected ']' or ')' to close the range"),
        (lambda d: d["rules"][1]["when"].__setitem__(0, None), "rules[1].when[0]", "a cell must be text"),
        (lambda d: d["rules"][0]["then"].pop("points"), "rules[0].then", "missing output 'points'"),
        (lambda d: d["rules"][0]["then"].update(score=1), "rules[0].then.score", "unknown output 'score'"),
        (lambda d: d["rules"][0]["then"].update(level="urgent"), "rules[0].then.level", "not one of the allowed values"),
        (lambda d: d["rules"][0]["then"].update(points="ten"), "rules[0].then.points", "expected a number, got 'ten'"),
        (lambda d: d["rules"][0]["then"].update(points=True), "rules[0].then.points", "expected a number, got True"),
        (lambda d: d["rules"][0]["then"].update(points=[1]), "rules[0].then.points", "expected a number, string or boolean"),
        (lambda d: d["rules"][0]["then"].update(points=math.inf), "rules[0].then.points", "numbers must be finite"),
        (lambda d: d["rules"][0]["then"].update(points="=1 +"), "rules[0].then.points", "unexpected end of input"),
        (lambda d: d["rules"][0]["then"].update(points="=exec(1)"), "rules[0].then.points", "unknown function 'exec'"),
        (lambda d: d["rules"][0].update(when="-"), "rules[0].when", "expected a list"),
        (lambda d: d["rules"][0].update(then=[]), "rules[0].then", "must be a mapping"),
        (lambda d: d["rules"][0].update(priority=1), "rules[0].priority", "unknown key 'priority'"),
        (lambda d: d["rules"][1].update(id="big"), "rules[1].id", "duplicate rule id 'big' (also rules[0])"),
        (lambda d: d["rules"][1].update(id="has space"), "rules[1].id", "not a valid rule id"),
        (lambda d: d["rules"].__setitem__(1, "rule"), "rules[1]", "expected a mapping"),
        (lambda d: d["rules"][0].update(note=5), "rules[0].note", "expected text"),
    ],
)
def test_parse_errors_name_their_path(change: Callable[[dict[str, Any]], Any], path: str, message: str) -> None:
    with pytest.raises(TableError) as info:
        parse_table(mutate(change))
    assert info.value.path == path
    assert message in info.value.message
    assert str(info.value) == (f"{path}: {info.value.message}" if path else info.value.message)


def test_parse_rejects_non_mappings() -> None:
    with pytest.raises(TableError, match="expected a mapping"):
        parse_table([])  # type: ignore[arg-type]


# ---------------------------------------------------------------- indexed path edge cases
def column_table(*cells: str) -> CompiledTable:
    return compile_table(
        parse_table(
            {
                "name": "col",
                "hit_policy": "COLLECT",
                "inputs": [{"name": "v", "expression": "v"}],
                "outputs": [{"name": "o", "type": "number"}],
                "rules": [{"id": f"c{i}", "when": [c], "then": {"o": i}} for i, c in enumerate(cells)],
            }
        )
    )


@pytest.mark.parametrize(
    "value",
    [0, 1, 1.0, True, False, None, "1", "a", 5, 5.0, 4.999, 5.001, 10, 10.5, -1, -1.5, math.inf, -math.inf, math.nan, Decimal("5"),
     Decimal("5.0001"), Decimal("NaN"), Fraction(11, 2), 10**40, -(10**40), [1], {"a": 1}],
)  # fmt: skip
def test_indexed_columns_agree_with_cell_semantics(value: Any) -> None:
    cells = ["-", "1", "true", "null", '"a", "b"', "< 5", "<= 5", "> 5", ">= 5", "[1..5]", "(1..5)", "]5..10]", "[5..10)",
             "not(5)", "not(< 1, > 9)", "!= 1", "= 5", "[1, 5]", '"1"', "false", "< 5, = 10", "not(null)", "-1", "-1.5, 1.5"]  # fmt: skip
    table = column_table(*cells)
    expected = [f"c{i}" for i, c in enumerate(cells) if compile_unary_test(c)(value, {})]
    assert table.evaluate({"v": value}).matched == expected
    assert table.reference_matches({"v": value}) == expected


def test_dynamic_cells_are_checked_only_for_surviving_rules() -> None:
    table = column_table("> limit", "? > 1 and ? < limit", '< "m"', "= kind", "[low..high]")
    ctx = {"limit": 10, "kind": 4, "low": 3, "high": 4}
    assert table.evaluate({**ctx, "v": 4}).matched == ["c1", "c3", "c4"]
    assert table.evaluate({**ctx, "v": 11}).matched == ["c0"]
    assert table.evaluate({**ctx, "v": "a"}).matched == ["c2"]
    assert table.evaluate(MappingProxyType({**ctx, "v": 11})).matched == ["c0"]


def test_more_rules_than_a_machine_word() -> None:
    cells = [f"[{i}..{i + 10}]" for i in range(150)]
    table = column_table(*cells)
    assert table.evaluate({"v": 100}).matched == [f"c{i}" for i in range(90, 101)]
    assert table.evaluate({"v": 100}).outputs == {"o": list(range(90, 101))}


# ---------------------------------------------------------------- indexed vs reference (hypothesis)
NUMBERS = ["0", "1", "2.5", "-3", "10", "100", "1.0", "7"]
WORDS = ['"a"', '"b"', '"c"']
simple_cells = st.one_of(
    st.just("-"),
    st.sampled_from(NUMBERS + WORDS + ["true", "false", "null"]),
    st.builds(lambda op, n: f"{op} {n}", st.sampled_from(["<", "<=", ">", ">=", "=", "!="]), st.sampled_from(NUMBERS + WORDS)),
    st.builds(
        lambda lo, a, b, hi: f"{lo}{a}..{b}{hi}",
        st.sampled_from(["[", "(", "]"]),
        st.sampled_from(NUMBERS),
        st.sampled_from(NUMBERS),
        st.sampled_from(["]", ")", "["]),
    ),
    st.lists(st.sampled_from(NUMBERS + WORDS + ["null"]), min_size=1, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.sampled_from(["> fields.limit", "? > 1 and ? < fields.limit", "= fields.kind", '< "b"', "[fields.limit..100]", 'contains(?, "a")']),
)
cells = st.one_of(
    simple_cells,
    st.lists(simple_cells, min_size=2, max_size=3).map(", ".join),
    st.lists(simple_cells, min_size=1, max_size=3).map(lambda xs: "not(" + ", ".join(xs) + ")"),
)
input_values = st.one_of(
    st.sampled_from([0, 1, 1.0, 2.5, -3, 7, 10, 100, 5, 1000, True, False, None, "a", "b", "c", "", math.nan, math.inf]),
    st.integers(-10, 110),
    st.floats(-10, 110),
    st.decimals(min_value=-10, max_value=110, places=1),
    st.text(alphabet="abc", max_size=2),
)


@st.composite
def tables(draw: st.DrawFn) -> dict[str, Any]:
    n_inputs = draw(st.integers(1, 3))
    n_rules = draw(st.integers(0, 70))
    policy = draw(st.sampled_from(["FIRST", "COLLECT"]))
    data: dict[str, Any] = {
        "name": "random",
        "hit_policy": policy,
        "inputs": [{"name": f"i{k}", "expression": f"fields.x{k}"} for k in range(n_inputs)],
        "outputs": [{"name": "score", "type": "number", "default": 0}],
        "rules": [{"when": [draw(cells) for _ in range(n_inputs)], "then": {"score": draw(st.integers(0, 50))}} for _ in range(n_rules)],
    }
    if policy == "COLLECT":
        data["aggregation"] = "SUM"
    return data


def reference(data: dict[str, Any], ctx: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Independent, obvious evaluation: every cell's closure for every rule."""
    values = [compile_expression(i["expression"])(ctx) for i in data["inputs"]]
    matched = [
        (f"r{n + 1}", rule["then"]["score"])
        for n, rule in enumerate(data["rules"])
        if all(compile_unary_test(cell)(value, ctx) for cell, value in zip(rule["when"], values, strict=True))
    ]
    if not matched:
        return [], {"score": 0}
    if data["hit_policy"] == "FIRST":
        return [rid for rid, _ in matched], {"score": matched[0][1]}
    return [rid for rid, _ in matched], {"score": sum(score for _, score in matched)}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=tables(), xs=st.lists(input_values, min_size=3, max_size=3), limit=input_values, kind=input_values)
def test_indexed_evaluation_equals_reference(data: dict[str, Any], xs: list[Any], limit: Any, kind: Any) -> None:
    table = compile_table(parse_table(data))
    ctx = {"fields": {"x0": xs[0], "x1": xs[1], "x2": xs[2], "limit": limit, "kind": kind}}
    matched, outputs = reference(data, ctx)
    result = table.evaluate(ctx)
    assert result.matched == matched
    assert result.outputs == outputs
    assert table.reference_matches(ctx) == matched
