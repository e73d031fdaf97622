"""Questionnaire logic: which questions are shown, which answers are valid, what is missing.

Questions may depend on earlier answers (``show_if``), so visibility is decided in order,
each condition seeing only the answers to questions that are themselves visible. An answer to
a question that is hidden is dropped rather than rejected: the customer may have changed an
earlier answer, and the stale one must not linger in the case file.

Answers arrive from JSON and from HTML forms, so values are coerced where the intent is
unambiguous ("12" for a number, "true" for a boolean) and rejected otherwise.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from casework.casetypes.model import FieldProblem, Question, Questionnaire, compiled_expression

MAX_TEXT = 10_000


def _is_answered(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip()) and value != []


def _shown(question: Question, context: Mapping[str, Any]) -> bool:
    if question.show_if is None:
        return True
    try:
        return compiled_expression(question.show_if)(context) is True
    except Exception:
        # A condition that cannot be evaluated shows the question: asking too much is safer than skipping a required one.
        return True


def _with_answers(context: Mapping[str, Any], key: str, answers: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(context)
    merged["answers"] = {**dict(context.get("answers") or {}), key: dict(answers)}
    return merged


def _walk(q: Questionnaire, answers: Mapping[str, Any], context: Mapping[str, Any]) -> list[Question]:
    """Visible questions in order; ``show_if`` sees the answers to visible earlier questions only."""
    so_far: dict[str, Any] = {}
    visible: list[Question] = []
    for question in q.questions:
        if _shown(question, _with_answers(context, q.key, so_far)):
            visible.append(question)
            value = answers.get(question.key)
            if _is_answered(value):
                try:
                    so_far[question.key] = _coerce(question, value)
                except ValueError:
                    so_far[question.key] = value
    return visible


def visible_questions(q: Questionnaire, answers: Mapping[str, Any], context: Mapping[str, Any]) -> list[Question]:
    """The questions to show given the answers so far."""
    return _walk(q, answers, context)


def _coerce(question: Question, value: Any) -> Any:
    """The answer in its canonical type, or raise ValueError with a message for the user."""
    kind = question.type
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError("must be text")
        if len(value) > MAX_TEXT:
            raise ValueError(f"must be at most {MAX_TEXT} characters")
        return value.strip()
    if kind in ("number", "integer"):
        if isinstance(value, str):
            try:
                value = float(value.strip()) if kind == "number" else int(value.strip())
            except ValueError:
                raise ValueError(f"must be {'a number' if kind == 'number' else 'a whole number'}") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"must be {'a number' if kind == 'number' else 'a whole number'}")
        if kind == "integer":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError("must be a whole number")
            return int(value)
        return value
    if kind == "boolean":
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if kind == "choice":
        if value not in question.options:
            raise ValueError("must be one of: " + ", ".join(question.options))
        return value
    if kind == "multichoice":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("must be a list of options")
        unknown = [v for v in value if v not in question.options]
        if unknown:
            raise ValueError(f"unknown option '{unknown[0]}'; options are: " + ", ".join(question.options))
        return list(dict.fromkeys(value))
    # date
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise ValueError("must be a date (YYYY-MM-DD)")


def validate_answers(q: Questionnaire, answers: Mapping[str, Any], context: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Clean answers (coerced, hidden and empty ones dropped) and the problems found.

    Problems name ``answers.<question>``; unknown question keys are problems too.
    """
    known = {question.key for question in q.questions}
    problems = [FieldProblem(f"answers.{key}", "is not a question of this questionnaire") for key in answers if key not in known]
    clean: dict[str, Any] = {}
    for question in q.questions:
        if not _shown(question, _with_answers(context, q.key, clean)):
            continue
        value = answers.get(question.key)
        if not _is_answered(value):
            continue
        try:
            coerced = _coerce(question, value)
        except ValueError as exc:
            problems.append(FieldProblem(f"answers.{question.key}", str(exc)))
            continue
        if _is_answered(coerced):
            clean[question.key] = coerced
    return clean, problems


def missing_answers(q: Questionnaire, answers: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
    """Keys of the required, visible questions without an answer, in question order."""
    return [question.key for question in _walk(q, answers, context) if question.required and not _is_answered(answers.get(question.key))]


def is_complete(q: Questionnaire, answers: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    """Complete when every required visible question is answered and every answer is valid."""
    clean, problems = validate_answers(q, answers, context)
    return not problems and not missing_answers(q, clean, context)
