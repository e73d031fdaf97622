"""Questionnaire answers on a case: each save is a new version, so the file shows what was known when.

Answers may be saved incomplete (an interview in progress); completeness is what the phase
criteria look at. A save names the version it was based on, so two people editing the same
questionnaire cannot silently overwrite each other.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.casetypes.model import Questionnaire
from casework.casetypes.questionnaires import missing_answers, validate_answers, visible_questions
from casework.domain.access import Perm, Principal
from casework.domain.errors import InvalidInput, NotFound, StaleVersion
from casework.services.casetypes import definition_for
from casework.services.common import load_case, record_access, require
from casework.services.decisions import context_for, latest_answers
from casework.services.workflow_schemas import AnswersSubmit, AnswersVersionView, AnswersView, QuestionView
from casework.store.models import Case, QuestionnaireAnswers
from casework.store.unit_of_work import Database


def _questionnaire(s: Session, case: Case, key: str) -> Questionnaire:
    defn = definition_for(s, case.case_type, case.case_type_version)
    found = defn.questionnaire(key)
    if found is None:
        names = ", ".join(q.key for q in defn.questionnaires) or "none"
        raise NotFound(f"case type {case.case_type} has no questionnaire {key!r}; it has: {names}", field="questionnaire")
    return found


def _view(
    s: Session, case: Case, q: Questionnaire, row: QuestionnaireAnswers | None, typed: Mapping[str, Any] | None = None
) -> AnswersView:
    answers = dict(typed) if typed is not None else (dict(row.answers) if row else {})
    context = context_for(s, case)
    shown = visible_questions(q, answers, context)
    missing = missing_answers(q, answers, context)
    return AnswersView(
        questionnaire=q.key,
        title=q.title,
        phase=q.phase,
        version=row.version if row else 0,
        answers=answers,
        complete=not missing,
        missing=missing,
        questions=[
            QuestionView(key=x.key, text=x.text, type=x.type, required=x.required, options=list(x.options), help=x.help) for x in shown
        ],
        answered_by=row.answered_by if row else None,
        answered_at=row.answered_at if row else None,
    )


def list_questionnaires(db: Database, who: Principal, key: str | uuid.UUID) -> list[AnswersView]:
    require(who, Perm.ANSWERS_READ)
    with db.write() as s:
        case = load_case(s, key, who)
        defn = definition_for(s, case.case_type, case.case_type_version)
        rows = latest_answers(s, case.id)
        record_access(s, who, case.id, "answers")
        return [_view(s, case, q, rows.get(q.key)) for q in defn.questionnaires]


def get_answers(db: Database, who: Principal, key: str | uuid.UUID, questionnaire: str) -> AnswersView:
    require(who, Perm.ANSWERS_READ)
    with db.write() as s:
        case = load_case(s, key, who)
        q = _questionnaire(s, case, questionnaire)
        record_access(s, who, case.id, "answers")
        return _view(s, case, q, latest_answers(s, case.id).get(q.key))


def answer_history(db: Database, who: Principal, key: str | uuid.UUID, questionnaire: str) -> list[AnswersVersionView]:
    require(who, Perm.ANSWERS_READ)
    with db.write() as s:
        case = load_case(s, key, who)
        q = _questionnaire(s, case, questionnaire)
        record_access(s, who, case.id, "answers")
        rows = s.scalars(
            select(QuestionnaireAnswers)
            .where(QuestionnaireAnswers.case_id == case.id, QuestionnaireAnswers.questionnaire == q.key)
            .order_by(QuestionnaireAnswers.version)
        )
        return [AnswersVersionView.model_validate(r) for r in rows]


def preview_answers(db: Database, who: Principal, key: str | uuid.UUID, questionnaire: str, typed: Mapping[str, Any]) -> AnswersView:
    """The questionnaire as it would be with the ``typed`` answers, not saved: which questions show and
    which answers are missing. The page asks it while someone answers, so that a question depending on
    an earlier answer appears at once rather than after saving. Nothing is written (the saved version
    and the answers typed are all it tells)."""
    require(who, Perm.ANSWERS_WRITE)
    with db.read() as s:
        case = load_case(s, key, who)
        q = _questionnaire(s, case, questionnaire)
        return _view(s, case, q, latest_answers(s, case.id).get(q.key), typed)


def submit_answers(db: Database, who: Principal, key: str | uuid.UUID, questionnaire: str, cmd: AnswersSubmit) -> AnswersView:
    """Save a new version of the answers (the whole set; answers to hidden questions are dropped)."""
    require(who, Perm.ANSWERS_WRITE)
    with db.write() as s:
        case = load_case(s, key, who, for_update=True)
        q = _questionnaire(s, case, questionnaire)
        current = (
            s.execute(
                select(func.max(QuestionnaireAnswers.version)).where(
                    QuestionnaireAnswers.case_id == case.id, QuestionnaireAnswers.questionnaire == q.key
                )
            ).scalar()
            or 0
        )
        if cmd.version is not None and cmd.version != current:
            raise StaleVersion(
                f"answers version {cmd.version} is stale: they are now at version {current}; reload and retry",
                field="version",
                current_version=current,
            )
        context = context_for(s, case)
        clean, problems = validate_answers(q, cmd.answers, context)
        if problems:
            first = problems[0]
            raise InvalidInput(
                f"{first.field}: {first.message}", field=first.field, errors=[{"field": p.field, "message": p.message} for p in problems]
            )
        missing = missing_answers(q, clean, context)
        row = QuestionnaireAnswers(
            case_id=case.id, questionnaire=q.key, version=current + 1, answers=clean, complete=not missing, answered_by=who.user_id
        )
        s.add(row)
        s.flush()
        audit.append(
            s,
            actor_id=who.user_id,
            action="answers.submit",
            case_id=case.id,
            data={"questionnaire": q.key, "version": row.version, "complete": row.complete, "answers": clean},
        )
        return _view(s, case, q, row)
