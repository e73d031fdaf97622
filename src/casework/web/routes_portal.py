"""The portal for customers and third parties: their cases in plain words and what is expected of them.

A customer sees the cases where they are the customer party: the status in everyday words, the
documents the case team asked for (with an upload form), the shared documents, and the messages
(shared notes and communications) with a form to write to the case team. A third party sees the
cases shared with them, and of each only the parts shared (tasks assigned to them, shared notes,
shared documents). Staff opening the portal are sent to their dashboard.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from casework.domain.access import Perm, Role
from casework.domain.errors import DomainError
from casework.domain.lifecycle import Phase
from casework.services import documents, notes, plans, portal
from casework.services.schemas import NoteCreate, NoteVisibility, TaskStatus, TaskUpdate, TaskView
from casework.web.i18n import Translator
from casework.web.pages import AnyUser, WebUser, checked_form, db_of, redirect, render
from casework.web.submissions import SubmissionGuard

router = APIRouter(include_in_schema=False)

PORTAL_CASE = "/portal/cases/{reference}"
CHUNK = 1 << 20
MESSAGE_LIMIT = 20000

#: One-time ids of the portal's forms: a message or document sent twice is sent once.
sent_forms = SubmissionGuard()


# ---------------------------------------------------------------- words a customer understands


def status_words(t: Translator, phase: Phase | str, outcome: str | None) -> str:
    """Where the case stands, in everyday words (every text a literal, for extraction)."""
    value = phase.value if isinstance(phase, Phase) else str(phase)
    if value == Phase.CLOSED.value:
        return t.gettext("Closed: %(outcome)s", outcome=outcome_words(t, outcome))
    words = {
        "screening": t.gettext("We have received your request and are reviewing it"),
        "assessment": t.gettext("We are assessing your situation"),
        "risk": t.gettext("We are checking the details of your request"),
        "planning": t.gettext("We are preparing the next steps"),
        "implementation": t.gettext("We are carrying out the agreed actions"),
        "follow_up": t.gettext("We are checking that the actions worked"),
        "evaluation": t.gettext("We are completing our final checks"),
    }
    return words.get(value, t.gettext("We are working on your request"))


def outcome_words(t: Translator, outcome: str | None) -> str:
    known = {
        "screened_out": t.gettext("no further action needed"),
        "fast_tracked": t.gettext("answered straight away"),
        "upheld": t.gettext("your complaint was upheld"),
        "partially_upheld": t.gettext("your complaint was partly upheld"),
        "rejected": t.gettext("not accepted"),
        "withdrawn": t.gettext("withdrawn"),
        "referred_to_ombudsman": t.gettext("referred to the ombudsman"),
        "resolved": t.gettext("resolved"),
        "workaround_provided": t.gettext("a workaround was provided"),
        "duplicate": t.gettext("handled in another request"),
        "no_response": t.gettext("no answer received from you"),
        "escalated_to_it": t.gettext("passed to our technical team"),
        "wont_fix": t.gettext("will not be changed"),
        "approved": t.gettext("approved"),
        "approved_with_conditions": t.gettext("approved with conditions"),
        "referred_to_compliance": t.gettext("referred to our compliance team"),
        "refunded": t.gettext("refunded"),
        "partially_refunded": t.gettext("partly refunded"),
        "chargeback_raised": t.gettext("a chargeback was raised"),
        "recalled": t.gettext("the payment was recalled"),
    }
    if not outcome:
        return t.gettext("finished")
    return known.get(outcome, outcome.replace("_", " "))


def document_status_words(t: Translator, status: str) -> str:
    return {
        "received": t.gettext("Received"),
        "in_review": t.gettext("Being checked"),
        "validated": t.gettext("Accepted"),
        "rejected": t.gettext("Not accepted"),
        "archived": t.gettext("Archived"),
    }.get(status, status)


def task_status_words(t: Translator, status: str) -> str:
    return {
        "todo": t.gettext("To do"),
        "in_progress": t.gettext("In progress"),
        "done": t.gettext("Done"),
        "cancelled": t.gettext("Cancelled"),
    }.get(status, status)


@dataclass(frozen=True)
class Message:
    """A shared note or a communication, for one timeline."""

    at: dt.datetime
    mine: bool
    inbound: bool  # written by the customer (or received from them)
    subject: str
    body: str
    channel: str | None


# ---------------------------------------------------------------- pages


def _staff_elsewhere(user: WebUser, request: Request, reference: str | None = None) -> Response | None:
    if user.is_staff:
        return redirect(f"/cases/{reference}" if reference else "/dashboard", request)
    return None


@router.get("/portal")
def portal_home(request: Request, user: AnyUser) -> Response:
    elsewhere = _staff_elsewhere(user, request)
    if elsewhere is not None:
        return elsewhere
    rows = portal.portal_cases(db_of(request), user.who)
    return render(request, "portal.html", {"nav": "portal", "rows": rows, "status_words": status_words})


def _timeline(request: Request, user: WebUser, detail: portal.PortalCase) -> list[Message]:
    db = db_of(request)
    found: list[Message] = []
    if "notes" in detail.parts:
        for note in notes.list_notes(db, user.who, detail.case.id):
            mine = note.author_id == user.who.user_id
            found.append(Message(note.created_at, mine, mine and user.who.role is Role.CUSTOMER, "", note.body, None))
    if "messages" in detail.parts and user.can(Perm.COMMUNICATION_READ):
        for comm in notes.list_communications(db, user.who, detail.case.id):
            found.append(
                Message(comm.occurred_at, comm.recorded_by == user.who.user_id, comm.direction.value == "inbound",
                        comm.subject, comm.body, comm.channel.value)
            )  # fmt: skip
    return sorted(found, key=lambda m: m.at)


def _case_page(
    request: Request,
    user: WebUser,
    reference: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    db = db_of(request)
    detail = portal.portal_case(db, user.who, reference[:40])
    docs = documents.list_documents(db, user.who, detail.case.id) if "documents" in detail.parts else []
    tasks: list[TaskView] = []
    if "tasks" in detail.parts:
        tasks = [task for goal in plans.get_plan(db, user.who, detail.case.id) for task in goal.tasks]
    requested = [e.kind for e in detail.expected]
    kinds = [(k, detail.document_kinds[k]) for k in dict.fromkeys([*requested, *detail.document_kinds]) if k in detail.document_kinds]
    kinds += [(k, k.replace("_", " ")) for k in requested if k not in detail.document_kinds]
    done = request.query_params.get("done", "")
    values = dict(values or {})
    values.setdefault("body", "")
    values.setdefault("kind", requested[0] if requested else "")
    context: dict[str, Any] = {
        "nav": "portal",
        "detail": detail,
        "case": detail.case,
        "status_text": status_words(user.t, detail.case.phase, detail.case.outcome),
        "documents": docs,
        "kind_titles": detail.document_kinds,
        "upload_kinds": kinds,
        "tasks": tasks,
        "timeline": _timeline(request, user, detail),
        "errors": errors or {},
        "values": values,
        "done": done if done in ("message", "document", "task") else "",
        "can_write": user.can(Perm.NOTE_ADD) and "notes" in detail.parts,
        "can_upload": user.can(Perm.DOCUMENT_UPLOAD) and "documents" in detail.parts,
        "can_update_tasks": user.can(Perm.TASK_UPDATE),
        "task_statuses": [s.value for s in TaskStatus if s is not TaskStatus.CANCELLED],
        "message_id": str(uuid.uuid4()),
        "upload_id": str(uuid.uuid4()),
        "document_status_words": document_status_words,
        "task_status_words": task_status_words,
        "MESSAGE_LIMIT": MESSAGE_LIMIT,
    }
    return render(request, "portal_case.html", context, status=status)


@router.get(PORTAL_CASE)
def portal_case_page(request: Request, user: AnyUser, reference: str) -> Response:
    elsewhere = _staff_elsewhere(user, request, reference)
    if elsewhere is not None:
        return elsewhere
    return _case_page(request, user, reference)


def _done_url(reference: str, what: str) -> str:
    anchor = {"message": "messages", "task": "tasks"}.get(what, "expected")
    return f"/portal/cases/{reference}?done={what}#{anchor}"


@router.post(PORTAL_CASE + "/messages")
async def send_message(request: Request, user: AnyUser, reference: str) -> Response:
    """A message to the case team: a shared note written by the customer."""
    form = await checked_form(request, user)
    elsewhere = _staff_elsewhere(user, request, reference)
    if elsewhere is not None:
        return elsewhere
    t = user.t
    reference = reference[:40]
    body = str(form.get("body") or "")
    values = {"body": body}
    once = str(form.get("submission_id") or "")
    if not body.strip():
        return _case_page(request, user, reference, errors={"body": t.gettext("Write your message first.")}, values=values, status=422)
    if len(body) > MESSAGE_LIMIT:
        error = t.gettext("Your message is too long: write at most %(n)s characters.", n=MESSAGE_LIMIT)
        return _case_page(request, user, reference, errors={"body": error}, values=values, status=422)
    try:
        command = NoteCreate(body=body, visibility=NoteVisibility.SHARED)
    except ValidationError as exc:
        problems = exc.errors()
        message = str(problems[0]["msg"]).removeprefix("Value error, ") if problems else "invalid message"
        return _case_page(request, user, reference, errors={"body": message}, values=values, status=422)
    try:
        await sent_forms.once(
            db_of(request), user.who.user_id, once, lambda: run_in_threadpool(notes.add_note, db_of(request), user.who, reference, command)
        )
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        return _case_page(request, user, reference, errors={"body": exc.message}, values=values, status=exc.status)
    return redirect(_done_url(reference, "message"), request)


def _chunks(file: BinaryIO) -> Iterator[bytes]:
    while chunk := file.read(CHUNK):
        yield chunk


@router.post(PORTAL_CASE + "/documents")
async def send_document(request: Request, user: AnyUser, reference: str) -> Response:
    """A document sent through the portal; the service makes it shared and fulfils the open requests of its kind."""
    form = await checked_form(request, user)
    elsewhere = _staff_elsewhere(user, request, reference)
    if elsewhere is not None:
        return elsewhere
    t = user.t
    reference = reference[:40]
    kind = str(form.get("kind") or "")[:64]
    values = {"kind": kind}
    upload = form.get("file")
    once = str(form.get("submission_id") or "")
    if not kind:
        return _case_page(
            request, user, reference, errors={"kind": t.gettext("Choose which document you are sending.")}, values=values, status=422
        )
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _case_page(request, user, reference, errors={"file": t.gettext("Choose a file to send.")}, values=values, status=422)
    try:
        await sent_forms.once(
            db_of(request),
            user.who.user_id,
            once,
            lambda: run_in_threadpool(
                lambda: documents.upload_document(
                    db_of(request), user.who, reference, kind=kind, filename=upload.filename or "document",
                    stream=_chunks(upload.file), declared_mime=upload.content_type,
                )
            ),
        )  # fmt: skip
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        where = "kind" if exc.field == "kind" else "file"
        return _case_page(request, user, reference, errors={where: exc.message}, values=values, status=exc.status)
    return redirect(_done_url(reference, "document"), request)


@router.post(PORTAL_CASE + "/tasks/{task_id}")
async def update_task_status(request: Request, user: AnyUser, reference: str, task_id: uuid.UUID) -> Response:
    """A third party reports progress on a task assigned to them; the version sent guards against lost updates."""
    form = await checked_form(request, user)
    elsewhere = _staff_elsewhere(user, request, reference)
    if elsewhere is not None:
        return elsewhere
    reference = reference[:40]
    try:
        command = TaskUpdate.model_validate({"status": str(form.get("status") or ""), "version": str(form.get("version") or "")})
    except ValidationError:
        error = user.t.gettext("Choose a status for the task.")
        return _case_page(request, user, reference, errors={f"task-{task_id}": error}, status=422)
    try:
        await run_in_threadpool(plans.update_task, db_of(request), user.who, reference, task_id, command)
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        message = exc.message
        if exc.field == "version":
            message = user.t.gettext("Someone changed this task in the meantime. Here it is as it is now; check it and try again.")
        return _case_page(request, user, reference, errors={f"task-{task_id}": message}, status=exc.status)
    return redirect(_done_url(reference, "task"), request)
