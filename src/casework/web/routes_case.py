"""The staff case page: header, phase bar, details and custom fields, notes, communications,
timeline, and the actions (edit, move phase, assign, add a note or a communication).

Every action is a plain form POST answered with a 303 back to the case page (so a reload does
not post again); a refused action re-renders the whole page with the message at the field and
what the user typed kept, with the status the API would give (409 conflict, 422 invalid). Edits
and moves carry the case version they were made on, so a second submission of the same form is
a conflict, never a second change.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import FormData

from casework.domain.access import Perm, Role
from casework.domain.errors import CriteriaNotMet, DomainError, Forbidden, NotFound, PreconditionFailed, StaleVersion
from casework.domain.lifecycle import ORDER, Phase
from casework.services import accounts, cases, casetypes, decisions, history, lifecycle, notes, parties, sla, workflow
from casework.services.decisions import SCREENING_OUTCOMES
from casework.services.schemas import (
    AssignRequest,
    CaseUpdate,
    CaseView,
    Channel,
    CommunicationCreate,
    NoteCreate,
    NoteVisibility,
    TransitionRequest,
)
from casework.services.workflow_schemas import DecisionPoint
from casework.web.i18n import Translator
from casework.web.pages import PostedForm, StaffUser, WebUser, db_of, is_htmx, redirect, render, verified

router = APIRouter(include_in_schema=False)


class CaseReference(Convertor[str]):
    """Only human references match the case page, so ``/cases/new`` and other pages stay reachable."""

    regex = r"CASE-[0-9]{4}-[0-9]{6,}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("case_ref", CaseReference())

PAGE = "/cases/{reference:case_ref}"
#: A second identical note or communication from the same person within this time is a double submission.
DUPLICATE_WINDOW = dt.timedelta(seconds=30)
PART_PERMS = (
    ("plan", Perm.PLAN_READ),
    ("documents", Perm.DOCUMENT_READ),
    ("decisions", Perm.DECISION_READ),
    ("answers", Perm.ANSWERS_READ),
)


# ---------------------------------------------------------------- labels


def phase_label(t: Translator, phase: Phase | str | None) -> str:
    """A phase name in the user's language (every label a literal, for extraction)."""
    value = phase.value if isinstance(phase, Phase) else phase
    labels = {
        "screening": t.gettext("Screening"),
        "assessment": t.gettext("Assessment"),
        "risk": t.gettext("Risk"),
        "planning": t.gettext("Planning"),
        "implementation": t.gettext("Implementation"),
        "follow_up": t.gettext("Follow-up"),
        "evaluation": t.gettext("Evaluation"),
        "closed": t.gettext("Closed"),
    }
    return labels.get(str(value), str(value or "—"))


def move_kind_label(t: Translator, kind: str) -> str:
    labels = {
        "open": t.gettext("Opened"),
        "forward": t.gettext("Moved forward"),
        "return": t.gettext("Returned"),
        "close": t.gettext("Closed"),
        "reopen": t.gettext("Reopened"),
    }
    return labels.get(kind, kind)


def sla_state(t: Translator, state: str) -> tuple[str, str]:
    """(label, badge class) for an SLA clock state."""
    return {
        "running": (t.gettext("On time"), "ok"),
        "warning": (t.gettext("At risk"), "warn"),
        "breached": (t.gettext("Breached"), "bad"),
        "met": (t.gettext("Met"), "ok"),
        "missed": (t.gettext("Missed"), "bad"),
    }.get(state, (state, "muted"))


def describe_entry(t: Translator, action: str, data: dict[str, Any]) -> str:
    """One line of the timeline for an audit entry."""
    if action == "case.create":
        return t.gettext("Case opened")
    if action == "case.update":
        changed = ", ".join(sorted((data.get("changes") or {}).keys()))
        return t.gettext("Details changed: %(fields)s", fields=changed)
    if action == "case.assign":
        return t.gettext("Assignment changed")
    if action == "case.transition":
        text = t.gettext("Phase: %(from)s → %(to)s", **{"from": phase_label(t, data.get("from")), "to": phase_label(t, data.get("to"))})
        if data.get("reason"):
            text += " — " + t.gettext("reason: %(reason)s", reason=data["reason"])
        if data.get("outcome"):
            text += " — " + t.gettext("outcome: %(outcome)s", outcome=data["outcome"])
        return text
    if action == "note.add":
        return t.gettext("Internal note added") if data.get("visibility") == "internal" else t.gettext("Shared note added")
    if action == "communication.add":
        return t.gettext("Communication recorded: %(subject)s", subject=data.get("subject") or "—")
    if action.startswith("decision."):
        return t.gettext("Decision: %(action)s", action=action.removeprefix("decision."))
    if action.startswith("plan."):
        return t.gettext("Plan changed: %(action)s", action=action.removeprefix("plan."))
    if action.startswith("document."):
        return t.gettext("Documents: %(action)s", action=action.removeprefix("document."))
    if action.startswith("answers."):
        return t.gettext("Questionnaire answers saved")
    return action


# ---------------------------------------------------------------- custom fields


@dataclass(frozen=True)
class FieldSpec:
    """One custom field of the case type, as a form control."""

    name: str
    label: str
    help: str
    kind: str  # select | checkbox | number | date | text
    required: bool
    options: tuple[str, ...] = ()
    step: str = "any"
    minimum: Any = None
    maximum: Any = None
    maxlength: int | None = None

    @property
    def input_name(self) -> str:
        return "cf." + self.name

    @property
    def error_key(self) -> str:
        return "custom_data." + self.name

    @property
    def dom_id(self) -> str:
        return "cf-" + self.name


def field_specs(definition: dict[str, Any]) -> list[FieldSpec]:
    """The edit form generated from the case type's JSON Schema (labels and help from its intake list)."""
    schema = definition.get("fields") or {}
    required = set(schema.get("required") or [])
    intake = {str(i.get("field")): i for i in definition.get("intake") or [] if isinstance(i, dict)}
    specs = []
    for name, prop in (schema.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        kind_of = prop.get("type")
        if isinstance(kind_of, list):
            kind_of = next((k for k in kind_of if k != "null"), "string")
        label = str(intake.get(name, {}).get("label") or prop.get("title") or name)
        help_text = str(intake.get(name, {}).get("help") or prop.get("description") or "")
        common = {"name": name, "label": label, "help": help_text, "required": name in required}
        if "enum" in prop:
            specs.append(FieldSpec(kind="select", options=tuple(str(v) for v in prop["enum"]), **common))
        elif kind_of == "boolean":
            specs.append(FieldSpec(kind="checkbox", **common))
        elif kind_of in ("number", "integer"):
            step = "1" if kind_of == "integer" else "any"
            specs.append(FieldSpec(kind="number", step=step, minimum=prop.get("minimum"), maximum=prop.get("maximum"), **common))
        elif prop.get("format") == "date":
            specs.append(FieldSpec(kind="date", **common))
        else:
            specs.append(FieldSpec(kind="text", maxlength=prop.get("maxLength"), **common))
    return specs


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def form_values_of(case: CaseView, specs: list[FieldSpec]) -> dict[str, str]:
    """The edit form's values as the stored case has them."""
    values = {"title": case.title, "description": case.description}
    for spec in specs:
        values[spec.input_name] = _as_text(case.custom_data.get(spec.name))
    return values


def parse_custom(t: Translator, specs: list[FieldSpec], form: FormData, current: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Custom data from the submitted form; fields the schema does not know are kept as they are."""
    known = {s.name for s in specs}
    data = {k: v for k, v in current.items() if k not in known}
    errors: dict[str, str] = {}
    for spec in specs:
        raw = str(form.get(spec.input_name) or "").strip()
        if spec.kind == "checkbox":
            if raw:
                data[spec.name] = True
            elif spec.name in current:
                data[spec.name] = False
            continue
        if not raw:
            continue  # left empty: not set (the schema says whether that is allowed)
        if spec.kind == "number":
            try:
                number: int | float = int(raw)
            except ValueError:
                try:
                    number = float(raw.replace(",", "."))
                except ValueError:
                    errors[spec.error_key] = t.gettext("Enter a number.")
                    continue
                if number != number or number in (float("inf"), float("-inf")):
                    errors[spec.error_key] = t.gettext("Enter a number.")
                    continue
                if spec.step == "1":
                    if not number.is_integer():
                        errors[spec.error_key] = t.gettext("Enter a whole number.")
                        continue
                    number = int(number)
            data[spec.name] = number
        else:
            data[spec.name] = raw
    return data, errors


def pydantic_errors(exc: ValidationError) -> dict[str, str]:
    """A command's validation errors as {field: message}."""
    out: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        key = ".".join(loc) or "form"
        out.setdefault(key, str(error.get("msg", "invalid value")).removeprefix("Value error, "))
    return out


def _int(value: Any) -> int | None:
    try:
        number = int(str(value or "").strip())
    except ValueError:
        return None
    return number if 1 <= number <= 2**31 - 1 else None


# ---------------------------------------------------------------- page assembly


@dataclass
class FormState:
    """What one form on the page shows: the values typed, messages per field, a conflict flag."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    conflict: bool = False
    which: str = ""  # for the move forms: forward | return | close
    current: dict[str, str] = field(default_factory=dict)  # the stored values, shown beside a stale edit

    def error(self, key: str) -> str:
        return self.errors.get(key, "")


def _latest_risk(items: list[Any]) -> Any:
    risky = [d for d in items if d.point is DecisionPoint.RISK]
    return risky[-1] if risky else None


def _sla_summary(t: Translator, clocks: list[Any]) -> dict[str, Any] | None:
    running = [c for c in clocks if c.stopped_at is None]
    if not running:
        return None
    order = {"breached": 0, "warning": 1, "running": 2}
    worst = min(running, key=lambda c: (order.get(c.state, 3), c.due_at))
    resolution = next((c for c in running if c.kind.value == "resolution"), None)
    label, badge = sla_state(t, worst.state)
    rows = []
    for c in sorted(running, key=lambda c: c.due_at):
        c_label, c_badge = sla_state(t, c.state)
        rows.append({"name": c.name, "kind": c.kind.value, "due_at": c.due_at, "label": c_label, "badge": c_badge})
    return {"label": label, "badge": badge, "deadline": (resolution or worst).due_at, "clocks": rows}


def _move_options(t: Translator, case: CaseView, ready: Any, outcomes: list[str]) -> dict[str, Any]:
    """The allowed moves split into the forms the page offers, with what blocks each."""
    current = case.phase
    forward, returns, close = [], [], None
    for move in ready.moves:
        target = move.to_phase
        if target is Phase.CLOSED:
            close = move
        elif current is Phase.CLOSED or ORDER.index(target) < ORDER.index(current):
            returns.append(move)
        else:
            forward.append(move)
    closing_outcomes = list(outcomes)
    if current is Phase.SCREENING:
        closing_outcomes += [o for o in SCREENING_OUTCOMES.values() if o not in closing_outcomes]
    return {
        "forward": forward,
        "returns": returns,
        "close": close,
        "outcomes": closing_outcomes,
        "reopen": current is Phase.CLOSED,
    }


def _recent_duplicate(items: list[Any], who_id: uuid.UUID, author_attr: str, same: dict[str, Any]) -> bool:
    now = dt.datetime.now(dt.UTC)
    for item in reversed(items):
        created = item.created_at if item.created_at.tzinfo else item.created_at.replace(tzinfo=dt.UTC)
        if now - created > DUPLICATE_WINDOW:
            break
        if getattr(item, author_attr) == who_id and all(getattr(item, k) == v for k, v in same.items()):
            return True
    return False


def _actions_context(request: Request, user: WebUser, case: CaseView, forms: dict[str, FormState]) -> dict[str, Any]:
    """What the move and assignment forms need: the allowed moves with what blocks them, people and teams."""
    db, who, t = db_of(request), user.who, user.t
    ready = workflow.readiness(db, who, case.id)
    ctype = casetypes.get_case_type(db, who, case.case_type, ready.case_type_version) if user.can(Perm.CASETYPE_READ) else None
    staff = accounts.list_accounts(db, who, limit=5000) if user.can(Perm.USER_READ) else []
    assignable = [p for p in staff if p.is_active and p.role in (Role.CASE_WORKER, Role.SUPERVISOR, Role.ADMINISTRATOR)]
    assignable.sort(key=lambda p: (case.team not in p.teams, p.name.lower()))
    type_teams = set((ctype.definition if ctype else {}).get("teams") or [])
    teams = sorted({team for p in staff for team in p.teams} | type_teams | ({case.team} if case.team else set()))
    for name in ("move", "assign"):
        forms.setdefault(name, FormState())
    return {
        "case": case,
        "ctype": ctype,
        "ready": ready,
        "moves": _move_options(t, case, ready, ready.outcomes),
        "names": {p.id: p.name for p in staff},
        "assignable": assignable,
        "teams": teams,
        "forms": forms,
        "blank": FormState(),
        "phase_label": lambda p: phase_label(t, p),
    }


def case_context(request: Request, user: WebUser, reference: str, forms: dict[str, FormState] | None = None) -> dict[str, Any]:
    """Everything the case page shows, read through the services with the user's rights."""
    db, who, t = db_of(request), user.who, user.t
    case = cases.get_case(db, who, reference)
    forms = dict(forms or {})
    ctx = _actions_context(request, user, case, forms)
    ctype = ctx["ctype"]
    specs = field_specs(ctype.definition if ctype else {})
    phases = lifecycle.phase_history(db, who, case.id)
    decided = decisions.list_decisions(db, who, case.id) if user.can(Perm.DECISION_READ) else []
    clocks = sla.case_clocks(db, who, case.id)
    note_items = notes.list_notes(db, who, case.id)
    comms = notes.list_communications(db, who, case.id) if user.can(Perm.COMMUNICATION_READ) else []
    timeline = history.case_history(db, who, case.id) if user.can(Perm.HISTORY_READ) else []
    customer = None
    if case.customer_party_id and user.can(Perm.PARTY_READ):
        try:
            customer = parties.get_party(db, who, case.customer_party_id)
        except NotFound:
            customer = None
    forms.setdefault("edit", FormState(values=form_values_of(case, specs)))
    for name in ("note", "comm"):
        forms.setdefault(name, FormState())
    phase_index = len(ORDER) if case.phase is Phase.CLOSED else ORDER.index(case.phase)
    ctx.update(
        {
            "specs": specs,
            "phases": phases,
            "phase_bar": [(p, "done" if i < phase_index else "current" if i == phase_index else "ahead") for i, p in enumerate(ORDER)],
            "risk": _latest_risk(decided),
            "sla": _sla_summary(t, clocks),
            "notes": note_items,
            "comms": comms,
            "timeline": [(e, describe_entry(t, e.action, e.data)) for e in reversed(timeline)],
            "customer": customer,
            "parts": [name for name, perm in PART_PERMS if user.can(perm)],
            "move_kind_label": lambda k: move_kind_label(t, k),
            "channels": [c.value for c in Channel],
            "can_internal": user.can(Perm.NOTE_INTERNAL_ADD),
        }
    )
    return ctx


def show(request: Request, user: WebUser, reference: str, forms: dict[str, FormState] | None = None, *, status: int = 200) -> Response:
    ctx = case_context(request, user, reference, forms)
    return render(request, "case.html", ctx, status=status)


def _back(reference: str, anchor: str = "") -> str:
    return f"/cases/{reference}" + (f"#{anchor}" if anchor else "")


# ---------------------------------------------------------------- routes


@router.get(PAGE)
def case_page(request: Request, reference: str, user: StaffUser) -> Response:
    return show(request, user, reference)


@router.get(PAGE + "/actions")
def case_actions(request: Request, reference: str, user: StaffUser) -> Response:
    """The move and assignment forms alone (HTMX): refreshed after a change made in a part of the page,
    so their version and the criteria they list stay current."""
    case = cases.get_case(db_of(request), user.who, reference)
    return render(request, "case/actions.html", _actions_context(request, user, case, {}))


@router.post(PAGE + "/edit")
def edit_case(request: Request, reference: str, user: StaffUser, posted: PostedForm) -> Response:
    form = verified(posted, user, request)
    db, t = db_of(request), user.t
    before = cases.get_case(db, user.who, reference)
    ready = workflow.readiness(db, user.who, before.id)
    ctype = casetypes.get_case_type(db, user.who, before.case_type, ready.case_type_version) if user.can(Perm.CASETYPE_READ) else None
    specs = field_specs(ctype.definition if ctype else {})
    typed = {"title": str(form.get("title") or ""), "description": str(form.get("description") or "")}
    typed.update({s.input_name: str(form.get(s.input_name) or "") for s in specs})
    version = _int(form.get("version"))
    custom, errors = parse_custom(t, specs, form, before.custom_data)
    if version is None:
        errors["version"] = t.gettext("The form has no valid version; reload the page and edit again.")
    if not errors:
        try:
            cmd = CaseUpdate(title=typed["title"], description=typed["description"], custom_data=custom, version=version)
            cases.update_case(db, user.who, before.id, cmd)
        except ValidationError as exc:
            errors = pydantic_errors(exc)
        except (StaleVersion, PreconditionFailed):
            current = cases.get_case(db, user.who, before.id)
            state = FormState(values=typed, conflict=True, current=form_values_of(current, specs))
            return show(request, user, reference, {"edit": state}, status=409)
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            errors = _domain_field_errors(exc)
        else:
            return redirect(_back(reference), request)
    return show(request, user, reference, {"edit": FormState(values=typed, errors=errors)}, status=422)


def _domain_field_errors(exc: DomainError) -> dict[str, str]:
    errors: dict[str, str] = {}
    extra: dict[str, Any] = exc.extra if isinstance(exc.extra, dict) else {}
    problems = extra.get("errors")
    for problem in problems if isinstance(problems, list) else []:
        if isinstance(problem, dict) and problem.get("field"):
            errors.setdefault(str(problem["field"]), str(problem.get("message", "")))
    if not errors:
        errors[exc.field or "form"] = exc.message
    return errors


@router.post(PAGE + "/move")
def move_case(request: Request, reference: str, user: StaffUser, posted: PostedForm) -> Response:
    form = verified(posted, user, request)
    db, t = db_of(request), user.t
    which = str(form.get("which") or "forward")
    which = which if which in ("forward", "return", "close") else "forward"
    typed = {k: str(form.get(k) or "") for k in ("to_phase", "reason", "outcome")}
    errors: dict[str, str] = {}
    status = 422
    conflict = False
    version = _int(form.get("version"))
    try:
        target = Phase(typed["to_phase"])
    except ValueError:
        errors["to_phase"] = t.gettext("Choose the phase to move to.")
    if version is None:
        errors["version"] = t.gettext("The form has no valid version; reload the page and try again.")
    if not errors:
        try:
            cmd = TransitionRequest(to_phase=target, reason=typed["reason"] or None, outcome=typed["outcome"] or None, version=version)
            lifecycle.transition_case(db, user.who, reference, cmd)
        except ValidationError as exc:
            errors = pydantic_errors(exc)
        except (StaleVersion, PreconditionFailed):
            conflict, status = True, 409
        except CriteriaNotMet as exc:
            status = 409
            errors = {"to_phase": t.gettext("This move is not possible yet:"), "unmet": "; ".join(exc.unmet)}
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            status = exc.status if exc.status in (409, 422) else 422
            errors = {exc.field or "to_phase": exc.message}
        else:
            return redirect(_back(reference, "phases"), request)
    return show(request, user, reference, {"move": FormState(values=typed, errors=errors, conflict=conflict, which=which)}, status=status)


@router.post(PAGE + "/assign")
def assign_case(request: Request, reference: str, user: StaffUser, posted: PostedForm) -> Response:
    form = verified(posted, user, request)
    db, t = db_of(request), user.t
    typed = {k: str(form.get(k) or "").strip() for k in ("assignee_id", "team")}
    errors: dict[str, str] = {}
    version = _int(form.get("version"))
    assignee: uuid.UUID | None = None
    if typed["assignee_id"]:
        try:
            assignee = uuid.UUID(typed["assignee_id"])
        except ValueError:
            errors["assignee_id"] = t.gettext("Choose a person from the list.")
    if version is None:
        errors["version"] = t.gettext("The form has no valid version; reload the page and try again.")
    if not errors:
        try:
            cases.assign_case(db, user.who, reference, AssignRequest(assignee_id=assignee, team=typed["team"] or None, version=version))
        except ValidationError as exc:
            errors = pydantic_errors(exc)
        except (StaleVersion, PreconditionFailed):
            return show(request, user, reference, {"assign": FormState(values=typed, conflict=True)}, status=409)
        except NotFound as exc:
            if exc.field == "case_id":
                raise
            errors = {exc.field or "assignee_id": exc.message}
        except DomainError as exc:
            if exc.status == 403:
                raise
            errors = {exc.field or "assignee_id": exc.message}
        else:
            try:
                cases.get_case(db, user.who, reference)
            except NotFound:  # assigned away from the user's teams: they no longer see it
                return redirect("/dashboard", request)
            return redirect(_back(reference, "assignment"), request)
    return show(request, user, reference, {"assign": FormState(values=typed, errors=errors)}, status=422)


@router.post(PAGE + "/notes")
def add_note(request: Request, reference: str, user: StaffUser, posted: PostedForm) -> Response:
    form = verified(posted, user, request)
    db, t = db_of(request), user.t
    typed = {"body": str(form.get("body") or ""), "visibility": str(form.get("visibility") or "")}
    errors: dict[str, str] = {}
    status = 422
    try:
        visibility = NoteVisibility(typed["visibility"] or ("internal" if user.can(Perm.NOTE_INTERNAL_ADD) else "shared"))
    except ValueError:
        errors["visibility"] = t.gettext("Choose who may read the note.")
    if not errors and visibility is NoteVisibility.INTERNAL and not user.can(Perm.NOTE_INTERNAL_ADD):
        errors["visibility"] = t.gettext("You may not add internal notes.")
        status = 403
    if not errors:
        try:
            cmd = NoteCreate(body=typed["body"], visibility=visibility)
            existing = notes.list_notes(db, user.who, reference)
            if not _recent_duplicate(existing, user.who.user_id, "author_id", {"body": cmd.body, "visibility": cmd.visibility}):
                notes.add_note(db, user.who, reference, cmd)
        except ValidationError as exc:
            errors = pydantic_errors(exc)
        except Forbidden as exc:
            errors, status = {"visibility": exc.message}, 403
        else:
            if is_htmx(request):
                return _notes_fragment(request, user, reference, FormState())
            return redirect(_back(reference, "notes"), request)
    state = FormState(values=typed, errors=errors)
    if is_htmx(request):
        return _notes_fragment(request, user, reference, state, status=status)
    return show(request, user, reference, {"note": state}, status=status)


def _notes_fragment(request: Request, user: WebUser, reference: str, state: FormState, *, status: int = 200) -> Response:
    db = db_of(request)
    case = cases.get_case(db, user.who, reference)
    staff = accounts.list_accounts(db, user.who, limit=5000) if user.can(Perm.USER_READ) else []
    ctx = {
        "case": case,
        "notes": notes.list_notes(db, user.who, case.id),
        "names": {p.id: p.name for p in staff},
        "forms": {"note": state},
        "can_internal": user.can(Perm.NOTE_INTERNAL_ADD),
    }
    return render(request, "case/notes.html", ctx, status=status)


@router.post(PAGE + "/communications")
def add_communication(request: Request, reference: str, user: StaffUser, posted: PostedForm) -> Response:
    form = verified(posted, user, request)
    db = db_of(request)
    typed = {k: str(form.get(k) or "") for k in ("channel", "direction", "subject", "body", "occurred_at")}
    errors: dict[str, str] = {}
    try:
        cmd = CommunicationCreate(
            channel=typed["channel"],  # type: ignore[arg-type]
            direction=typed["direction"],  # type: ignore[arg-type]
            subject=typed["subject"],
            body=typed["body"],
            occurred_at=typed["occurred_at"] or None,  # type: ignore[arg-type]
        )
        existing = notes.list_communications(db, user.who, reference)
        same = {"channel": cmd.channel, "direction": cmd.direction, "subject": cmd.subject, "body": cmd.body}
        if not _recent_duplicate(existing, user.who.user_id, "recorded_by", same):
            notes.add_communication(db, user.who, reference, cmd)
    except ValidationError as exc:
        errors = pydantic_errors(exc)
    else:
        return redirect(_back(reference, "communications"), request)
    return show(request, user, reference, {"comm": FormState(values=typed, errors=errors)}, status=422)
