"""Structural diff between two versions of a case type."""

from __future__ import annotations

from typing import Any

from casework.casetypes.diff import Change, diff_definitions, format_diff
from casework.casetypes.loader import definition_to_dict, shipped_case_types


def complaint() -> dict[str, Any]:
    return definition_to_dict(next(d for d in shipped_case_types() if d.key == "complaint"))


def test_identical_definitions_have_no_changes() -> None:
    defn = next(d for d in shipped_case_types() if d.key == "complaint")
    assert diff_definitions(defn, complaint()) == [] and format_diff([]) == ""


def test_changed_sla_added_question_removed_document() -> None:
    old = complaint()
    new = complaint()
    new["version"] = 2
    new["sla"]["phases"]["screening"]["P1"] = 2
    question = {"key": "reference_number", "text": "Reference of the transaction", "type": "text", "required": False}
    new["questionnaires"][0]["questions"].insert(0, question)
    new["documents"] = [d for d in new["documents"] if d["kind"] != "customer_evidence"]
    changes = diff_definitions(old, new)
    paths = {(c.path, c.kind) for c in changes}
    assert paths == {
        ("version", "changed"),
        ("sla.phases.screening.P1", "changed"),
        ("questionnaires[complaint_details].questions[reference_number]", "added"),
        ("documents[customer_evidence]", "removed"),
    }
    text = format_diff(changes)
    assert "~ sla.phases.screening.P1: 4 -> 2" in text.splitlines()
    assert "~ version: 1 -> 2" in text.splitlines()
    assert any(line.startswith("+ questionnaires[complaint_details].questions[reference_number]: {") for line in text.splitlines())
    assert any(line.startswith("- documents[customer_evidence]: {") for line in text.splitlines())


def test_keyed_items_are_matched_by_key_and_fields_diffed_inside() -> None:
    old = complaint()
    new = complaint()
    new["questionnaires"][0]["questions"][0]["text"] = "Tell us what happened"
    new["outcomes"] = [*new["outcomes"], "goodwill_gesture"]
    new["fields"]["properties"]["channel"]["enum"].remove("letter")
    changes = diff_definitions(old, new)
    assert (
        Change(
            "questionnaires[complaint_details].questions[what_happened].text",
            "changed",
            "What happened, in the customer's words?",
            "Tell us what happened",
        )
        in changes
    )
    assert Change("outcomes", "added", None, "goodwill_gesture") in changes
    assert Change("fields.properties.channel.enum", "removed", "letter", None) in changes
    assert "+ outcomes: goodwill_gesture" in format_diff(changes)


def test_reordering_a_keyed_list_is_one_change() -> None:
    old = complaint()
    new = complaint()
    new["milestones"].reverse()
    changes = diff_definitions(old, new)
    assert [(c.path, c.kind) for c in changes] == [("milestones", "changed")]
