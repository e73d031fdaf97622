"""Questionnaire logic: conditional questions, answer validation per type, missing answers."""

from __future__ import annotations

from typing import Any

import pytest

from casework.casetypes.loader import shipped_case_types
from casework.casetypes.model import FieldProblem, Question, Questionnaire
from casework.casetypes.questionnaires import is_complete, missing_answers, validate_answers, visible_questions

ALL_TYPES = Questionnaire(
    key="all",
    title="Every type",
    questions=[
        Question(key="t", text="Text", type="text"),
        Question(key="n", text="Number", type="number"),
        Question(key="i", text="Integer", type="integer"),
        Question(key="b", text="Boolean", type="boolean"),
        Question(key="c", text="Choice", type="choice", options=["red", "green"]),
        Question(key="m", text="Multi", type="multichoice", options=["x", "y", "z"]),
        Question(key="d", text="Date", type="date", required=False),
    ],
)


def details() -> Questionnaire:
    complaint = next(d for d in shipped_case_types() if d.key == "complaint")
    q = complaint.questionnaire("complaint_details")
    assert q is not None
    return q


def keys(questions: list[Question]) -> list[str]:
    return [q.key for q in questions]


def test_conditional_question_follows_the_earlier_answer() -> None:
    q = details()
    assert "compensation_amount" not in keys(visible_questions(q, {}, {}))
    assert "compensation_amount" not in keys(visible_questions(q, {"wants_compensation": False}, {}))
    assert "compensation_amount" in keys(visible_questions(q, {"wants_compensation": True}, {}))
    assert "compensation_amount" in keys(visible_questions(q, {"wants_compensation": "true"}, {}))  # form input


def test_show_if_can_read_case_fields() -> None:
    onboarding = next(d for d in shipped_case_types() if d.key == "onboarding")
    kyc = onboarding.questionnaire("kyc")
    assert kyc is not None
    person = keys(visible_questions(kyc, {}, {"fields": {"customer_type": "person"}}))
    organisation = keys(visible_questions(kyc, {}, {"fields": {"customer_type": "organisation", "pep": True}}))
    assert "beneficial_owners" not in person and "beneficial_owners" in organisation and "pep_position" in organisation


def test_answers_to_hidden_questions_are_dropped() -> None:
    answers = {"what_happened": "charged twice", "wants_compensation": False, "compensation_amount": 50}
    clean, problems = validate_answers(details(), answers, {})
    assert problems == [] and "compensation_amount" not in clean and clean["what_happened"] == "charged twice"


def test_unknown_answer_keys_are_rejected() -> None:
    _, problems = validate_answers(details(), {"favourite_colour": "blue"}, {})
    assert problems == [FieldProblem("answers.favourite_colour", "is not a question of this questionnaire")]


GOOD = [
    ("t", "  hello ", "hello"),
    ("n", 12.5, 12.5),
    ("n", "12.5", 12.5),
    ("n", 3, 3),
    ("i", 4, 4),
    ("i", 4.0, 4),
    ("i", "7", 7),
    ("b", False, False),
    ("b", "true", True),
    ("c", "red", "red"),
    ("m", ["x", "z", "x"], ["x", "z"]),
    ("d", "2026-02-28", "2026-02-28"),
]
BAD = [
    ("t", 12, "must be text"),
    ("t", "x" * 10_001, "must be at most 10000 characters"),
    ("n", "twelve", "must be a number"),
    ("n", True, "must be a number"),
    ("n", float("nan"), "must be a number"),
    ("i", 4.5, "must be a whole number"),
    ("i", "4.5", "must be a whole number"),
    ("b", "yes please", "must be true or false"),
    ("b", 1, "must be true or false"),
    ("c", "blue", "must be one of: red, green"),
    ("m", "x", "must be a list of options"),
    ("m", ["x", "w"], "unknown option 'w'; options are: x, y, z"),
    ("d", "2026-02-30", "must be a date (YYYY-MM-DD)"),
    ("d", "28/02/2026", "must be a date (YYYY-MM-DD)"),
    ("d", "20260228", "must be a date (YYYY-MM-DD)"),
]


@pytest.mark.parametrize(("key", "given", "expected"), GOOD)
def test_valid_answers_are_coerced(key: str, given: Any, expected: Any) -> None:
    clean, problems = validate_answers(ALL_TYPES, {key: given}, {})
    assert problems == [] and clean == {key: expected}
    assert type(clean[key]) is type(expected)


@pytest.mark.parametrize(("key", "given", "message"), BAD)
def test_invalid_answers_are_problems(key: str, given: Any, message: str) -> None:
    clean, problems = validate_answers(ALL_TYPES, {key: given}, {})
    assert clean == {} and problems == [FieldProblem(f"answers.{key}", message)]


def test_missing_answers_lists_required_visible_questions() -> None:
    q = details()
    assert missing_answers(q, {}, {}) == [
        "what_happened",
        "raised_before",
        "preferred_resolution",
        "wants_compensation",
        "regulator_contacted",
    ]
    answers: dict[str, Any] = {
        "what_happened": "charged twice",
        "raised_before": False,
        "preferred_resolution": "refund",
        "wants_compensation": True,
        "regulator_contacted": False,
    }
    assert missing_answers(q, answers, {}) == ["compensation_amount"]
    assert not is_complete(q, answers, {})
    answers["compensation_amount"] = 40
    assert missing_answers(q, answers, {}) == [] and is_complete(q, answers, {})
    assert not is_complete(q, {**answers, "compensation_amount": "forty"}, {})
    assert missing_answers(ALL_TYPES, {"t": "  ", "m": []}, {}) == ["t", "n", "i", "b", "c", "m"]
