"""Sections of the case page as HTMX fragments: plan, documents, decisions and answers.

``GET /cases/{reference}/parts/{part}`` answers an HTMX request with the fragment alone (its root
is ``<div id="part-{part}">``, swapped in place of a placeholder by the case page), and a plain
request with a small page holding the fragment, so each section also works without JavaScript.

Actions are form posts under ``/cases/{reference}/parts/{part}/...`` (CSRF-checked). An HTMX post
is answered with the re-rendered fragment; a plain one with a 303 back to the case page. A refused
action re-renders the fragment with the message at the field (HTMX: status 200, as htmx swaps only
successful answers, with the message in a ``role="alert"`` summary; plain posts: the page holding
the fragment, with the service's 409/413/422 status), keeping what the user typed.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from casework.config import max_upload_bytes
from casework.domain.access import Perm, Role
from casework.domain.errors import DomainError, Forbidden, NotFound
from casework.services import accounts, answers, cases, decisions, documents, plans, rulesets
from casework.services.documents import DocumentRequestCreate, DocumentReview, DocumentStatus, DocumentVisibility
from casework.services.schemas import CaseView, GoalCreate, TaskCreate, TaskStatus, TaskUpdate
from casework.services.workflow_schemas import AnswersSubmit, DecisionResolve, DecisionStatus
from casework.store.unit_of_work import Database
from casework.web.i18n import Translator
from casework.web.pages import PostedForm, StaffUser, WebUser, checked_form, db_of, is_htmx, redirect, render, verified

router = APIRouter(include_in_schema=False)

PARTS = ("plan", "documents", "decisions", "answers")
#: Statuses a service reports with a message for the form (anything else is an error page).
FORM_STATUSES = (409, 412, 413, 422)
#: A second identical "add" within this time is taken for a double submission.
DOUBLE_SUBMIT = dt.timedelta(seconds=30)
CHUNK = 256 * 1024
#: Room for the multipart envelope and the other form fields on top of the file itself.
ENVELOPE = 64 * 1024
#: Roles that may be given a task.
ASSIGNABLE = (Role.CASE_WORKER, Role.SUPERVISOR, Role.ADMINISTRATOR)


class FormProblem(Exception):
    """Input refused by the page itself before it reaches a service (e.g. a malformed number)."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


# ---------------------------------------------------------------- shared helpers


def _names(db: Database, user: WebUser) -> dict[uuid.UUID, Any]:
    """Every account by id (one query), or only oneself when the role may not list accounts."""
    if not user.can(Perm.USER_READ):
        return {}
    try:
        return {a.id: a for a in accounts.list_accounts(db, user.who, limit=5000)}
    except Forbidden:
        return {}


def _name_of(names: dict[uuid.UUID, Any], user: WebUser, user_id: uuid.UUID | None) -> str:
    if user_id is None:
        return ""
    if user_id == user.who.user_id:
        return user.identity.name
    account = names.get(user_id)
    return account.name if account is not None else str(user_id)[:8]


def _size(user: WebUser, size: int) -> str:
    t = user.t
    if size < 1024:
        return t.ngettext("%(num)s byte", "%(num)s bytes", size, num=t.number(size))
    if size < 1024 * 1024:
        return t.gettext("%(size)s KB", size=t.number(size / 1024, 1))
    return t.gettext("%(size)s MB", size=t.number(size / (1024 * 1024), 1))


def _problem_fields(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    found: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ()) if p != "body"]
        field = prefix + ".".join(loc) if loc else "form"
        message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
        found.setdefault(field or "form", message)
    return found


def _errors_of(exc: Exception) -> tuple[dict[str, str], int]:
    if isinstance(exc, FormProblem):
        return {exc.field: exc.message}, exc.status
    if isinstance(exc, ValidationError):
        return _problem_fields(exc), 422
    assert isinstance(exc, DomainError)
    found: dict[str, str] = {}
    extra: dict[str, Any] = exc.extra if isinstance(exc.extra, dict) else {}
    problems = extra.get("errors")
    for problem in problems if isinstance(problems, list) else []:  # each field's own message, without its name
        if isinstance(problem, dict) and problem.get("field"):
            found.setdefault(str(problem["field"]), str(problem.get("message", "")))
    found.setdefault(exc.field or "form", exc.message)
    return found, 422 if isinstance(exc, NotFound) else exc.status


def _text(form: FormData, name: str, limit: int = 100_000) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return value[:limit]


def _version(form: FormData, t: Translator, name: str = "version") -> int | None:
    raw = _text(form, name, 20).strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 <= int(raw) <= 2**31 - 1:
        raise FormProblem(name, t.gettext("The form is damaged (bad version number): reload the page."))
    return int(raw)


def _uuid(raw: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"{field.replace('_id', '')} {raw[:40]!r} not found", field=field) from None


def _optional_uuid(form: FormData, t: Translator, name: str) -> uuid.UUID | None:
    raw = _text(form, name, 100).strip()
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise FormProblem(name, t.gettext("Choose somebody from the list.")) from None


# ---------------------------------------------------------------- what each part shows


def _plan(db: Database, user: WebUser, case: CaseView) -> dict[str, Any]:
    goals = plans.get_plan(db, user.who, case.id)
    names = _names(db, user)
    people: dict[uuid.UUID, str] = {user.who.user_id: user.identity.name}
    for account in names.values():
        if not account.is_active or account.role not in ASSIGNABLE:
            continue
        if case.team is None or case.team in account.teams:
            people[account.id] = account.name
    for goal in goals:
        for task in goal.tasks:
            if task.assignee_id is not None:
                people.setdefault(task.assignee_id, _name_of(names, user, task.assignee_id))
    if case.assignee_id is not None:
        people.setdefault(case.assignee_id, _name_of(names, user, case.assignee_id))
    staff = sorted(people.items(), key=lambda item: item[1].lower())
    done = sum(1 for g in goals for task in g.tasks if task.status in (TaskStatus.DONE, TaskStatus.CANCELLED))
    total = sum(len(g.tasks) for g in goals)
    return {
        "goals": goals,
        "staff": staff,
        "assignee_name": lambda uid: _name_of(names, user, uid),
        "tasks_done": done,
        "tasks_total": total,
        "may_manage": user.can(Perm.PLAN_MANAGE),
        "may_update": user.can(Perm.TASK_UPDATE),
        "today": dt.date.today(),
    }


def _documents(db: Database, user: WebUser, case: CaseView) -> dict[str, Any]:
    items = documents.checklist(db, user.who, case.id)
    docs = documents.list_documents(db, user.who, case.id)
    names = _names(db, user)
    titles = {item.kind: item.title for item in items}
    kinds = [(item.kind, item.title) for item in items]
    if documents.OTHER not in titles:
        kinds.append((documents.OTHER, user.t.gettext("Other document")))
    return {
        "checklist": items,
        "documents": docs,
        "kind_title": lambda kind: titles.get(kind, kind),
        "kinds": kinds,
        "person": lambda uid: _name_of(names, user, uid),
        "size": lambda n: _size(user, n),
        "reviewable": tuple(DocumentStatus(s) for s in documents.REVIEWABLE),
        "in_review": DocumentStatus.IN_REVIEW,
        "may_review": user.can(Perm.DOCUMENT_REVIEW),
        "may_request": user.can(Perm.DOCUMENT_REQUEST),
        "may_upload": user.can(Perm.DOCUMENT_UPLOAD),
        "visibilities": [v.value for v in DocumentVisibility],
        "max_upload": _size(user, max_upload_bytes()),
        "me": user.who.user_id,
    }


def _output_fields(db: Database, user: WebUser, decision: Any) -> list[dict[str, Any]]:
    """The override form of a recommendation: one control per output the table decides."""
    declared: list[dict[str, Any]] = []
    if user.can(Perm.RULES_READ):
        try:
            table = rulesets.get_table(db, user.who, decision.table_name, decision.table_version)
            declared = [o for o in table.definition.get("outputs") or [] if isinstance(o, dict) and o.get("name")]
        except DomainError:
            declared = []
    if not declared:
        declared = [{"name": key} for key in decision.outputs]
    fields = []
    for output in declared:
        name = str(output["name"])
        values = output.get("values")
        kind = output.get("type")
        current = decision.outputs.get(name, output.get("default"))
        if kind is None:
            kind = "boolean" if isinstance(current, bool) else "number" if isinstance(current, int | float) else "string"
        fields.append({"name": name, "type": kind, "values": list(values) if values else None, "current": current})
    return fields


def _decisions(db: Database, user: WebUser, case: CaseView) -> dict[str, Any]:
    found = decisions.list_decisions(db, user.who, case.id)
    may_resolve = user.can(Perm.DECISION_RESOLVE)
    forms = {d.id: _output_fields(db, user, d) for d in found if d.status is DecisionStatus.PENDING and may_resolve}
    names = _names(db, user)
    return {
        "decisions": list(reversed(found)),
        "override_fields": forms,
        "may_resolve": may_resolve,
        "pending": DecisionStatus.PENDING,
        "person": lambda uid: _name_of(names, user, uid),
    }


def _answers(db: Database, user: WebUser, case: CaseView) -> dict[str, Any]:
    return {"questionnaires": answers.list_questionnaires(db, user.who, case.id), "may_answer": user.can(Perm.ANSWERS_WRITE)}


BUILDERS: dict[str, Callable[[Database, WebUser, CaseView], dict[str, Any]]] = {
    "plan": _plan,
    "documents": _documents,
    "decisions": _decisions,
    "answers": _answers,
}


def _render_part(
    request: Request,
    user: WebUser,
    reference: str,
    part: str,
    *,
    failed: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    notice: str | None = None,
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> Response:
    db = db_of(request)
    case = cases.get_case(db, user.who, reference)
    context = BUILDERS[part](db, user, case)
    context.update(
        case=case,
        part=part,
        base=f"/cases/{case.reference}/parts/{part}",
        failed=failed,
        errors=errors or {},
        values=values or {},
        notice=notice,
        **(extra or {}),
    )
    if is_htmx(request):
        return render(request, f"case_parts/{part}.html", context)
    return render(request, "case_parts/page.html", context, status=status)


def _done(request: Request, user: WebUser, reference: str, part: str, notice: str) -> Response:
    if is_htmx(request):
        response = _render_part(request, user, reference, part, notice=notice)
        # The rest of the case page (phase, readiness, priority...) may listen and refresh itself.
        response.headers["HX-Trigger"] = json.dumps({"case-changed": {"part": part}})
        return response
    case = cases.get_case(db_of(request), user.who, reference)
    return redirect(f"/cases/{case.reference}#part-{part}")


def _refused(
    request: Request,
    user: WebUser,
    reference: str,
    part: str,
    exc: Exception,
    failed: str,
    values: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> Response:
    errors, status = _errors_of(exc)
    return _render_part(request, user, reference, part, failed=failed, errors=errors, values=values, status=status, extra=extra)


def _form_error(exc: Exception) -> bool:
    """Whether the error belongs next to a form field (else it is an error page: 403, 404...)."""
    if isinstance(exc, FormProblem | ValidationError):
        return True
    if isinstance(exc, NotFound):
        return exc.field == "assignee_id"  # somebody picked from a stale list; anything else missing is a 404 page
    return isinstance(exc, DomainError) and exc.status in FORM_STATUSES


# ---------------------------------------------------------------- reading


@router.get("/cases/{reference}/parts/{part}")
def case_part(request: Request, reference: str, part: str, user: StaffUser) -> Response:
    if part not in PARTS:
        raise NotFound(f"the case page has no part {part[:40]!r}", field="part")
    return _render_part(request, user, reference, part)


# ---------------------------------------------------------------- plan


@router.post("/cases/{reference}/parts/plan/goals")
def add_goal(request: Request, reference: str, user: StaffUser, posted: PostedForm) -> Response:
    form = verified(posted, user, request)
    values = {"title": _text(form, "title", 1000), "description": _text(form, "description", 30_000)}
    db = db_of(request)
    try:
        cmd = GoalCreate.model_validate(values)
        now = dt.datetime.now(dt.UTC)
        recent = [g for g in plans.get_plan(db, user.who, reference) if g.title == cmd.title and now - _aware(g.created_at) < DOUBLE_SUBMIT]
        if not recent:  # the same goal again within seconds is the same click twice
            plans.add_goal(db, user.who, reference, cmd)
    except Exception as exc:
        if not _form_error(exc):
            raise
        return _refused(request, user, reference, "plan", exc, "add-goal", values)
    return _done(request, user, reference, "plan", user.t.gettext("Goal added."))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@router.post("/cases/{reference}/parts/plan/goals/{goal_id}/tasks")
def add_task(request: Request, reference: str, goal_id: str, user: StaffUser, posted: PostedForm) -> Response:
    form = verified(posted, user, request)
    goal = _uuid(goal_id, "goal_id")
    values = {
        "title": _text(form, "title", 1000),
        "due_date": _text(form, "due_date", 40).strip(),
        "assignee_id": _text(form, "assignee_id", 100).strip(),
    }
    db = db_of(request)
    try:
        cmd = TaskCreate.model_validate(
            {"title": values["title"], "due_date": values["due_date"] or None, "assignee_id": _optional_uuid(form, user.t, "assignee_id")}
        )
        now = dt.datetime.now(dt.UTC)
        existing = [t for g in plans.get_plan(db, user.who, reference) if g.id == goal for t in g.tasks]
        if not any(t.title == cmd.title and now - _aware(t.created_at) < DOUBLE_SUBMIT for t in existing):
            plans.add_task(db, user.who, reference, goal, cmd)
    except Exception as exc:
        if not _form_error(exc):
            raise
        return _refused(request, user, reference, "plan", exc, f"add-task-{goal}", values)
    return _done(request, user, reference, "plan", user.t.gettext("Task added."))


@router.post("/cases/{reference}/parts/plan/tasks/{task_id}/status")
def task_status(request: Request, reference: str, task_id: str, user: StaffUser, posted: PostedForm) -> Response:
    form = verified(posted, user, request)
    task = _uuid(task_id, "task_id")
    wanted = _text(form, "status", 40)
    try:
        if wanted not in {s.value for s in TaskStatus}:
            raise FormProblem("status", user.t.gettext("Choose a task status from the list."))
        cmd = TaskUpdate(status=TaskStatus(wanted), version=_version(form, user.t))
        view = plans.update_task(db_of(request), user.who, reference, task, cmd)
    except Exception as exc:
        if not _form_error(exc):
            raise
        return _refused(request, user, reference, "plan", exc, f"task-{task}", {"status": wanted})
    notice = user.t.gettext("Task marked done.") if view.status is TaskStatus.DONE else user.t.gettext("Task reopened.")
    return _done(request, user, reference, "plan", notice)


@router.post("/cases/{reference}/parts/plan/tasks/{task_id}/assignee")
def task_assignee(request: Request, reference: str, task_id: str, user: StaffUser, posted: PostedForm) -> Response:
    form = verified(posted, user, request)
    task = _uuid(task_id, "task_id")
    values = {"assignee_id": _text(form, "assignee_id", 100).strip()}
    try:
        cmd = TaskUpdate(assignee_id=_optional_uuid(form, user.t, "assignee_id"), version=_version(form, user.t))
        plans.update_task(db_of(request), user.who, reference, task, cmd)
    except Exception as exc:
        if not _form_error(exc):
            raise
        return _refused(request, user, reference, "plan", exc, f"task-{task}", values)
    return _done(request, user, reference, "plan", user.t.gettext("Task reassigned."))


# ---------------------------------------------------------------- documents


@router.post("/cases/{reference}/parts/documents/{document_id}/review")
def review(request: Request, reference: str, document_id: str, user: StaffUser, posted: PostedForm) -> Response:
    form = verified(posted, user, request)
    doc = _uuid(document_id, "document_id")
    values = {"decision": _text(form, "decision", 20), "reason": _text(form, "reason", 5000)}
    try:
        cmd = DocumentReview.model_validate(
            {"decision": values["decision"], "reason": values["reason"] or None, "version": _version(form, user.t)}
        )
        view = documents.review_document(db_of(request), user.who, reference, doc, cmd.decision, cmd.reason, version=cmd.version)
    except Exception as exc:
        if not _form_error(exc):
            raise
        return _refused(request, user, reference, "documents", exc, f"review-{doc}", values)
    t = user.t
    if view.status is DocumentStatus.VALIDATED:
        notice = t.gettext("Document validated.")
    elif view.status is DocumentStatus.REJECTED:
        notice = t.gettext("Document rejected.")
    else:
        notice = t.gettext("Your validation is recorded; this kind of document needs a second, different reviewer to validate it.")
    return _done(request, user, reference, "documents", notice)


@router.post("/cases/{reference}/parts/documents/requests")
def request_missing(request: Request, reference: str, user: StaffUser, posted: PostedForm) -> Response:
    form = verified(posted, user, request)
    values = {"kind": _text(form, "kind", 100), "reason": _text(form, "reason", 5000)}
    try:
        cmd = DocumentRequestCreate.model_validate(values)
        documents.request_document(db_of(request), user.who, reference, cmd.kind, cmd.reason)
    except Exception as exc:
        if not _form_error(exc):
            raise
        return _refused(request, user, reference, "documents", exc, "request", values)
    return _done(request, user, reference, "documents", user.t.gettext("Document requested."))


def _read(upload: UploadFile) -> Iterator[bytes]:
    while chunk := upload.file.read(CHUNK):
        yield chunk


@router.post("/cases/{reference}/parts/documents/upload")
async def upload(request: Request, reference: str, user: StaffUser) -> Response:
    declared = request.headers.get("content-length", "")
    limit = max_upload_bytes()
    if declared.isdigit() and int(declared) > limit + ENVELOPE:
        # Refused before the body is read; the CSRF token cannot be checked, but nothing changes either.
        too_big = FormProblem("file", user.t.gettext("The file is larger than the limit of %(size)s.", size=_size(user, limit)), 413)
        return _refused(request, user, reference, "documents", too_big, "upload", {})
    form = await checked_form(request, user)
    values = {"kind": _text(form, "kind", 100), "visibility": _text(form, "visibility", 20)}
    file = form.get("file")
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            raise FormProblem("file", user.t.gettext("Choose a file to upload."))
        try:
            visibility = DocumentVisibility(values["visibility"] or DocumentVisibility.INTERNAL.value)
        except ValueError:
            raise FormProblem("visibility", user.t.gettext("Choose who may see the document.")) from None
        if not values["kind"]:
            raise FormProblem("kind", user.t.gettext("Choose the kind of document."))
        try:
            await run_in_threadpool(  # hashing and checking the bytes must not block other requests
                documents.upload_document,
                db_of(request), user.who, reference, kind=values["kind"], filename=file.filename, stream=_read(file),
                declared_mime=file.content_type, visibility=visibility,
            )  # fmt: skip
        finally:
            await file.close()
    except Exception as exc:
        if not _form_error(exc):
            raise
        return _refused(request, user, reference, "documents", exc, "upload", values)
    return _done(request, user, reference, "documents", user.t.gettext("Document uploaded."))


# ---------------------------------------------------------------- decisions


@router.post("/cases/{reference}/parts/decisions/{decision_id}/accept")
def accept(request: Request, reference: str, decision_id: str, user: StaffUser, posted: PostedForm) -> Response:
    verified(posted, user, request)
    decision = _uuid(decision_id, "decision_id")
    try:
        decisions.resolve_decision(db_of(request), user.who, reference, decision, DecisionResolve())
    except Exception as exc:
        if not _form_error(exc):
            raise
        return _refused(request, user, reference, "decisions", exc, f"decision-{decision}", {})
    return _done(request, user, reference, "decisions", user.t.gettext("Recommendation accepted."))


def _output_value(kind: str, raw: str, name: str, t: Translator) -> Any:
    if kind == "number":
        try:
            number = float(raw.strip().replace(",", "."))
        except ValueError:
            raise FormProblem(f"outputs.{name}", t.gettext("Enter a number.")) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise FormProblem(f"outputs.{name}", t.gettext("Enter a number."))
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise FormProblem(f"outputs.{name}", t.gettext("Choose yes or no."))
        return raw == "true"
    return raw.strip()


@router.post("/cases/{reference}/parts/decisions/{decision_id}/override")
def override(request: Request, reference: str, decision_id: str, user: StaffUser, posted: PostedForm) -> Response:
    form = verified(posted, user, request)
    decision = _uuid(decision_id, "decision_id")
    db = db_of(request)
    values: dict[str, Any] = {"reason": _text(form, "reason", 5000)}
    for key, raw in form.multi_items():
        if key.startswith("outputs.") and isinstance(raw, str) and len(key) < 120:
            values[key] = raw[:5000]
    try:
        found = {d.id: d for d in decisions.list_decisions(db, user.who, reference)}
        record = found.get(decision)
        if record is None:
            raise NotFound(f"decision {decision} not found on this case", field="decision_id")
        kinds = {f["name"]: str(f["type"]) for f in _output_fields(db, user, record)}
        outputs = {}
        for key, raw in values.items():
            if key.startswith("outputs."):
                name = key.removeprefix("outputs.")
                outputs[name] = _output_value(kinds.get(name, "string"), str(raw), name, user.t)
        if not values["reason"].strip():
            raise FormProblem("reason", user.t.gettext("Say why you override the recommendation."))
        cmd = DecisionResolve.model_validate({"outputs": outputs, "reason": values["reason"]})
        decisions.resolve_decision(db, user.who, reference, decision, cmd)
    except Exception as exc:
        if not _form_error(exc):
            raise
        return _refused(request, user, reference, "decisions", exc, f"decision-{decision}", values)
    return _done(request, user, reference, "decisions", user.t.gettext("Recommendation overridden."))


# ---------------------------------------------------------------- answers


def _typed_answers(form: Any) -> dict[str, Any]:
    """The answers a questionnaire form carries: text as typed, a list for a multiple choice."""
    given: dict[str, Any] = {}
    for key in dict.fromkeys(k for k in form if k.startswith("answers.") and len(k) < 120):
        name = key.removeprefix("answers.")
        items = [v for v in form.getlist(key) if isinstance(v, str)]
        if _text(form, f"multi.{name}", 5):
            given[name] = items
        elif items and items[-1].strip():
            given[name] = items[-1][:20_000]
    for key in form:  # a multiple choice with nothing ticked sends only its marker
        if key.startswith("multi.") and key.removeprefix("multi.") not in given and len(key) < 120:
            given[key.removeprefix("multi.")] = []
    return given


@router.post("/cases/{reference}/parts/answers/{questionnaire}/preview")
def preview_answers(request: Request, reference: str, questionnaire: str, user: StaffUser, posted: PostedForm) -> Response:
    """The questionnaire redrawn with the answers chosen so far (nothing saved): a question that depends
    on an earlier answer shows or hides at once. The page swaps only this questionnaire's section, so
    only it is drawn: one read, and no access entry written for every answer chosen."""
    form = verified(posted, user, request)
    questionnaire = questionnaire[:64]
    given = _typed_answers(form)
    view = answers.preview_answers(db_of(request), user.who, reference, questionnaire, {k: v for k, v in given.items() if v != []})
    version = _text(form, "version", 20).strip()
    # The form keeps the version its edit is based on: a save still detects answers saved meanwhile.
    extra = {"base_version": {questionnaire: int(version)}} if version.isdigit() else {}
    context = {
        "questionnaires": [view],
        "may_answer": True,  # preview_answers needs the right to answer
        "part": "answers",
        "base": f"/cases/{reference}/parts/answers",  # the address the form posted to
        "failed": f"answers-{questionnaire}",  # the typed values are shown, as after a refused save
        "errors": {},
        "values": {f"answers.{k}": v for k, v in given.items()},
        "notice": None,
        **extra,
    }
    return render(request, "case_parts/answers.html", context)


@router.post("/cases/{reference}/parts/answers/{questionnaire}")
def save_answers(request: Request, reference: str, questionnaire: str, user: StaffUser, posted: PostedForm) -> Response:
    form = verified(posted, user, request)
    questionnaire = questionnaire[:64]
    given = _typed_answers(form)
    kept = {f"answers.{k}": v for k, v in given.items()}
    try:
        cmd = AnswersSubmit.model_validate({"answers": {k: v for k, v in given.items() if v != []}, "version": _version(form, user.t)})
        answers.submit_answers(db_of(request), user.who, reference, questionnaire, cmd)
    except Exception as exc:
        if not _form_error(exc):
            raise
        extra: dict[str, Any] = {}
        if isinstance(exc, DomainError) and exc.field == "version" and isinstance(exc.extra, dict) and "current_version" in exc.extra:
            # Keep what was typed, and let the next save replace the other person's version knowingly.
            extra["conflict_version"] = {questionnaire: exc.extra["current_version"]}
        return _refused(request, user, reference, "answers", exc, f"answers-{questionnaire}", kept, extra)
    return _done(request, user, reference, "answers", user.t.gettext("Answers saved."))
