"""Loading case-type YAML: the shipped definitions, and errors that name file, line and field.

Every error test starts from one small valid definition (``SAMPLE``, whose line numbers the
tests rely on) and changes one line, so each asserts exactly where the loader points.
"""

from __future__ import annotations

import pytest

from casework.casetypes import SEED_CASE_TYPES
from casework.casetypes.loader import (
    CaseTypeError,
    definition_from_dict,
    definition_to_dict,
    definition_to_yaml,
    load_case_type_file,
    load_case_type_text,
    load_table_text,
    shipped_case_types,
    shipped_tables,
    validate_case_type_text,
)
from casework.casetypes.model import CaseTypeDef

SAMPLE_LINES = [
    "key: sample",  # 1
    "version: 1",  # 2
    "name: Sample",  # 3
    "fields:",  # 4
    "  type: object",  # 5
    "  additionalProperties: false",  # 6
    "  properties:",  # 7
    "    amount: {type: number, minimum: 0}",  # 8
    "    kind: {type: string, enum: [a, b]}",  # 9
    "intake:",  # 10
    "  - {field: amount, label: Amount}",  # 11
    "questionnaires:",  # 12
    "  - key: details",  # 13
    "    title: Details",  # 14
    "    questions:",  # 15
    "      - {key: first, text: First, type: boolean}",  # 16
    "      - key: second",  # 17
    "        text: Second",  # 18
    "        type: text",  # 19
    "        show_if: answers.details.first = true",  # 20
    "outcomes: [done, dropped]",  # 21
    "phases:",  # 22
    "  assessment:",  # 23
    "    exit:",  # 24
    "      - questionnaire_complete: details",  # 25
    "decisions:",  # 26
    "  risk: {table: sample.risk}",  # 27
]
TABLES = {"sample.risk"}


def sample(**replace: str) -> str:
    """SAMPLE with some lines replaced: ``sample(l8="...")`` replaces line 8 (1-based)."""
    lines = list(SAMPLE_LINES)
    for name, text in replace.items():
        lines[int(name[1:]) - 1] = text
    return "\n".join(lines) + "\n"


def first_error(text: str, tables: set[str] = TABLES) -> CaseTypeError:
    with pytest.raises(CaseTypeError) as info:
        load_case_type_text(text, filename="sample.yaml", known_tables=tables)
    return info.value


# ---------------------------------------------------------------- shipped definitions


def test_every_shipped_definition_loads_and_references_only_shipped_tables() -> None:
    defs = shipped_case_types()
    assert [d.key for d in defs] == ["complaint", "support_ticket", "onboarding", "disputed_transaction"]
    tables = {t.name for t in shipped_tables()}
    for defn in defs:
        assert defn.version == (2 if defn.key == "onboarding" else 1)  # onboarding v2: automated document checks
        assert set(defn.decisions) == {"screening", "risk", "routing", "next_action"}
        assert {b.table for b in defn.decisions.values()} <= tables
        assert defn.teams, defn.key
        assert defn.questionnaires and defn.plan_templates and defn.sla.resolution and defn.milestones


def test_seed_case_types_mapping_comes_from_the_shipped_files() -> None:
    assert {d.key: d.name for d in shipped_case_types()} == SEED_CASE_TYPES
    assert list(SEED_CASE_TYPES) == ["complaint", "support_ticket", "onboarding", "disputed_transaction"]


def test_shipped_files_load_one_by_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for defn in shipped_case_types():
        path = tmp_path / f"{defn.key}.yaml"
        path.write_text(definition_to_yaml(defn), encoding="utf-8")
        assert load_case_type_file(path) == defn


def test_sample_is_valid() -> None:
    defn = load_case_type_text(sample(), filename="sample.yaml", known_tables=TABLES)
    assert defn.key == "sample" and defn.questionnaire("details") is not None and defn.questionnaire("nope") is None
    assert validate_case_type_text(sample(), "sample.yaml", TABLES) == []


def test_dates_stay_strings() -> None:
    defn = load_case_type_text(sample(l3="name: 2026-01-31"), known_tables=TABLES)
    assert defn.name == "2026-01-31"


# ---------------------------------------------------------------- errors name file, line and field


def test_yaml_syntax_error_has_the_line() -> None:
    err = first_error(sample(l8="    amount: {type: number, minimum: 0"))
    assert err.file == "sample.yaml" and err.line in (8, 9) and "invalid YAML" in err.message


def test_document_must_be_a_mapping() -> None:
    err = first_error("- just\n- a list\n")
    assert err.line == 1 and "mapping" in err.message


def test_unknown_key() -> None:
    err = first_error(sample(l22="colour: blue\nphases:"))
    assert (err.line, err.field, err.message) == (22, "colour", "unknown key")
    assert str(err) == "sample.yaml:22: colour: unknown key"


def test_unknown_nested_key() -> None:
    errors = validate_case_type_text(sample(l14="    titel: Details"), "sample.yaml", TABLES)
    assert [(e.line, e.field, e.message) for e in errors] == [
        (13, "questionnaires[0].title", "required key is missing"),
        (14, "questionnaires[0].titel", "unknown key"),
    ]


def test_missing_key_points_at_the_enclosing_item() -> None:
    err = first_error(sample(l14="    phase: assessment"))
    assert err.field == "questionnaires[0].title" and err.message == "required key is missing" and err.line == 13


def test_wrong_type() -> None:
    err = first_error(sample(l2="version: one"))
    assert (err.line, err.field) == (2, "version") and "integer" in err.message


def test_bad_json_schema() -> None:
    err = first_error(sample(l8="    amount: {type: numbr}"))
    assert err.line == 8 and err.field.startswith("fields.properties.amount") and "JSON Schema" in err.message


def test_fields_must_close_additional_properties() -> None:
    err = first_error(sample(l6="  additionalProperties: true"))
    assert err.field == "fields" and "additionalProperties" in err.message


def test_intake_field_must_exist() -> None:
    err = first_error(sample(l11="  - {field: amout, label: Amount}"))
    assert (err.line, err.field) == (11, "intake[0].field") and "amout" in err.message


def test_criterion_naming_an_unknown_questionnaire() -> None:
    err = first_error(sample(l25="      - questionnaire_complete: incident"))
    assert (err.line, err.field, err.message) == (
        25,
        "phases.assessment.exit[0].questionnaire_complete",
        "unknown questionnaire 'incident'",
    )


def test_criterion_needs_exactly_one_condition() -> None:
    err = first_error(sample(l25="      - {questionnaire_complete: details, tasks_done: true}"))
    assert err.line == 25 and err.field == "phases.assessment.exit[0]" and "exactly one" in err.message


def test_bad_show_if_expression_points_at_the_show_if_line() -> None:
    err = first_error(sample(l20="        show_if: foo(answers.details.first)"))
    assert (err.line, err.field) == (20, "questionnaires[0].questions[1].show_if")
    assert "foo" in err.message


def test_show_if_may_not_reference_a_later_question() -> None:
    err = first_error(sample(l16='      - {key: first, text: First, type: boolean, show_if: answers.details.second = "x"}'))
    assert (err.line, err.field) == (16, "questionnaires[0].questions[0].show_if") and "earlier" in err.message


def test_expression_names_must_exist() -> None:
    err = first_error(sample(l20="        show_if: fields.amout > 3"))
    assert err.line == 20 and "amout" in err.message
    err = first_error(sample(l20="        show_if: whatever > 3"))
    assert "unknown name 'whatever'" in err.message


def test_unknown_decision_table() -> None:
    err = first_error(sample(), tables=set())
    assert (err.line, err.field, err.message) == (27, "decisions.risk.table", "unknown decision table 'sample.risk'")


def test_unknown_phase_key() -> None:
    err = first_error(sample(l23="  assesment:"))
    assert err.line == 23 and err.field == "phases.assesment" and err.message.startswith("invalid key")


def test_choice_question_needs_options() -> None:
    err = first_error(sample(l16="      - {key: first, text: First, type: choice}"))
    assert err.line == 16 and err.field == "questionnaires[0].questions[0]" and "options" in err.message


def test_duplicate_keys_are_reported() -> None:
    err = first_error(sample(l3="name: Sample\nname: Other"))
    assert (err.line, err.field, err.message) == (4, "name", "duplicate key")


def test_priority_bands_must_descend() -> None:
    err = first_error(sample(l27="  risk: {table: sample.risk}\npriority_bands: {P1: 50, P2: 60}"))
    assert err.line == 28 and err.field == "priority_bands" and "descend" in err.message


def test_validate_returns_every_error_at_once() -> None:
    structural = validate_case_type_text(sample(l2="version: zero", l22="colour: blue\nphases:"), "sample.yaml", TABLES)
    assert [(e.line, e.field) for e in structural] == [(2, "version"), (22, "colour")]
    semantic = validate_case_type_text(
        sample(l11="  - {field: amout, label: Amount}", l25="      - questionnaire_complete: incident"), "sample.yaml", set()
    )
    assert [(e.line, e.field) for e in semantic] == [
        (11, "intake[0].field"),
        (25, "phases.assessment.exit[0].questionnaire_complete"),
        (27, "decisions.risk.table"),
    ]
    assert all(e.file == "sample.yaml" for e in semantic)


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("key", list(SEED_CASE_TYPES))
def test_yaml_and_dict_round_trips(key: str) -> None:
    defn = next(d for d in shipped_case_types() if d.key == key)
    assert load_case_type_text(definition_to_yaml(defn)) == defn
    assert definition_from_dict(definition_to_dict(defn)) == defn
    assert isinstance(defn, CaseTypeDef)


def test_definition_from_dict_raises_case_type_errors() -> None:
    data = definition_to_dict(shipped_case_types()[0])
    data["intake"] = [{"field": "nope", "label": "Nope"}]
    with pytest.raises(CaseTypeError, match=r"<stored>: intake\[0\]\.field: 'nope' is not a custom field"):
        definition_from_dict(data)


# ---------------------------------------------------------------- decision tables


def test_table_errors_name_the_line() -> None:
    text = "\n".join(
        [
            "name: sample.risk",  # 1
            "hit_policy: FIRST",  # 2
            "inputs:",  # 3
            "  - {name: amount, expression: fields.amount}",  # 4
            "outputs:",  # 5
            "  - {name: score, type: number}",  # 6
            "rules:",  # 7
            "  - id: big",  # 8
            '    when: ["> > 3"]',  # 9
            "    then: {score: 40}",  # 10
        ]
    )
    with pytest.raises(CaseTypeError) as info:
        load_table_text(text, "sample.risk.yaml")
    assert info.value.file == "sample.risk.yaml" and info.value.line in (8, 9) and info.value.field.startswith("rules[0]")
    good = load_table_text(text.replace("> > 3", "> 3"), "sample.risk.yaml")
    assert good.name == "sample.risk"


def test_shipped_tables_are_named_after_their_files_and_have_the_expected_outputs() -> None:
    names = [t.name for t in shipped_tables()]
    assert len(names) == len(set(names)) == 16
    for defn in shipped_case_types():
        for point, binding in defn.decisions.items():
            table = next(t for t in shipped_tables() if t.name == binding.table)
            outputs = {o.name for o in table.outputs}
            expected = {"screening": {"action", "reason"}, "risk": {"score"}, "routing": {"team", "skill"}, "next_action": {"action"}}
            assert expected[point] <= outputs, (binding.table, outputs)
            assert binding.table == f"{defn.key}.{point}"


def test_control_characters_are_a_yaml_error_not_a_crash() -> None:
    errors = validate_case_type_text("\x1fkey: x", filename="bad.yaml")
    assert len(errors) == 1 and errors[0].line == 1 and "invalid YAML" in errors[0].message


def test_aliases_are_refused_so_a_small_text_cannot_expand_to_gigabytes() -> None:
    bomb = 'a: &a ["x", "x"]\nb: &b [*a, *a]\nc: [*b, *b]\n'
    errors = validate_case_type_text(bomb, filename="bomb.yaml")
    assert len(errors) == 1 and "aliases" in errors[0].message and errors[0].line == 2


# ---------------------------------------------------------------- automated document checks


def _with_documents(*lines: str) -> str:
    return sample() + "documents:\n" + "".join(f"{line}\n" for line in lines)


def test_document_checks_and_auto_validation_load() -> None:
    text = _with_documents(
        "  - {kind: id_card, title: ID, checks: [mrz], auto_validate: true}", "  - {kind: bill, title: Bill, checks: [twoddoc]}"
    )
    defn = load_case_type_text(text, filename="sample.yaml", known_tables=TABLES)
    assert [(d.kind, d.checks, d.auto_validate) for d in defn.documents] == [("id_card", ["mrz"], True), ("bill", ["twoddoc"], False)]


def test_four_eyes_kind_cannot_auto_validate() -> None:
    err = first_error(_with_documents("  - {kind: id_card, title: ID, four_eyes: true, checks: [mrz], auto_validate: true}"))
    assert err.field == "documents[0].auto_validate" and err.line == 29
    assert "four_eyes" in err.message and "auto_validate" in err.message


def test_unknown_document_check_is_refused() -> None:
    err = first_error(_with_documents("  - {kind: id_card, title: ID, checks: [selfie]}"))
    assert err.field.startswith("documents[0].checks") and err.line == 29


def test_auto_validate_needs_a_check() -> None:
    err = first_error(_with_documents("  - {kind: id_card, title: ID, auto_validate: true}"))
    assert err.field == "documents[0].auto_validate" and "checks" in err.message
