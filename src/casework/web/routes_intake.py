"""New-case intake: pick a case type, fill in the form generated from it, see the screening outcome.

The form follows the case type: its ``intake`` items, rendered from the JSON Schema of its
``fields`` (an enum is a select, a boolean a checkbox, a number a number input, a date a date
input). Values are checked here only to turn text into numbers; every rule is the service's, and
its messages are shown at the field they name. A hidden one-time ``submission_id`` makes a
double click or a re-posted form open one case, not two.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from casework.casetypes.model import CaseTypeDef
from casework.domain.access import Perm
from casework.domain.errors import DomainError, Forbidden
from casework.domain.lifecycle import Phase, Priority
from casework.services import accounts, cases, casetypes, decisions, parties
from casework.services.schemas import CaseCreate, PartyCreate, PartyView
from casework.web.i18n import Translator
from casework.web.pages import StaffUser, WebUser, checked_form, db_of, field_errors, redirect, render
from casework.web.submissions import SubmissionGuard, valid_submission_id

router = APIRouter(include_in_schema=False)

#: The form's own controls, besides the case type's fields.
FORM_KEYS = ("title", "description", "priority", "customer_party_id", "party_q", "new_party_name", "new_party_email")
#: Longest text accepted in a custom field without a maxLength of its own.
TEXT_LIMIT = 2000


submissions = SubmissionGuard()


# ---------------------------------------------------------------- the form, from the case type


@dataclass
class FieldSpec:
    """One custom field of the intake form."""

    name: str
    label: str
    help: str
    kind: str  # select | checkbox | number | integer | date | text
    required: bool
    options: list[Any] = field(default_factory=list)
    maxlength: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    default: Any = None

    @property
    def input_id(self) -> str:
        """The control's id and name (prefixed, so a field cannot collide with the form's own controls)."""
        return "f-" + self.name

    @property
    def error_key(self) -> str:
        return "custom_data." + self.name


def _json_type(prop: dict[str, Any]) -> str:
    kind = prop.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return str(kind)


def _spec(name: str, prop: dict[str, Any], label: str, help_text: str, required: bool) -> FieldSpec:
    kind = _json_type(prop)
    spec = FieldSpec(name=name, label=label, help=help_text, kind="text", required=required, default=prop.get("default"))
    if "enum" in prop:
        spec.kind = "select"
        spec.options = list(prop["enum"])
    elif kind == "boolean":
        spec.kind = "checkbox"
    elif kind in ("number", "integer"):
        spec.kind = kind
        spec.minimum = prop.get("minimum")
        spec.maximum = prop.get("maximum")
    elif kind == "string" and prop.get("format") == "date":
        spec.kind = "date"
    else:
        spec.maxlength = int(prop.get("maxLength") or TEXT_LIMIT)
    return spec


def intake_fields(defn: CaseTypeDef) -> list[FieldSpec]:
    """The intake items in the type's order, then any required field the intake list forgot."""
    props: dict[str, Any] = dict(defn.fields.get("properties") or {})
    required = set(defn.fields.get("required") or [])
    specs: list[FieldSpec] = []
    for item in defn.intake:
        prop = props.get(item.field)
        if isinstance(prop, dict):
            specs.append(_spec(item.field, prop, item.label, item.help, item.field in required))
    listed = {s.name for s in specs}
    for name in sorted(required - listed):
        prop = props.get(name)
        if isinstance(prop, dict):
            specs.append(_spec(name, prop, str(prop.get("title") or name.replace("_", " ")), "", True))
    return specs


def option_label(value: Any) -> str:
    """An enum value as words: ``current_account`` → ``Current account``."""
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def parse_fields(specs: list[FieldSpec], form: FormData, t: Translator) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """The custom data typed, the raw values (to show again) and the fields that could not be read."""
    data: dict[str, Any] = {}
    raw: dict[str, str] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        if spec.kind == "checkbox":
            checked = str(form.get(spec.input_id) or "") in ("on", "true", "1")
            raw[spec.input_id] = "on" if checked else ""
            data[spec.name] = checked
            continue
        text = str(form.get(spec.input_id) or "").strip()
        raw[spec.input_id] = text
        if not text:
            if spec.required:
                errors[spec.error_key] = t.gettext("This field is required.")
            continue
        limit = spec.maxlength or TEXT_LIMIT
        if len(text) > limit:
            errors[spec.error_key] = t.gettext("Enter at most %(n)s characters.", n=limit)
            continue
        if spec.kind == "select":
            chosen = next((o for o in spec.options if str(o) == text), None)
            if chosen is None:
                errors[spec.error_key] = t.gettext("Choose one of the options.")
            else:
                data[spec.name] = chosen
        elif spec.kind in ("number", "integer"):
            number_text = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
            if "," in number_text and "." not in number_text:
                number_text = number_text.replace(",", ".")
            try:
                if spec.kind == "integer":
                    data[spec.name] = int(number_text)
                else:
                    value = float(number_text)
                    if not math.isfinite(value):
                        raise ValueError(text)
                    data[spec.name] = int(value) if value.is_integer() and abs(value) < 2**53 else value
            except ValueError:
                errors[spec.error_key] = (
                    t.gettext("Enter a whole number.") if spec.kind == "integer" else t.gettext("Enter a number, such as 120.50.")
                )
        elif spec.kind == "date":
            try:
                dt.date.fromisoformat(text)
                data[spec.name] = text
            except ValueError:
                errors[spec.error_key] = t.gettext("Enter a real date, such as 2026-03-01.")
        else:
            data[spec.name] = text
    return data, raw, errors


def _field_message(t: Translator, message: str) -> str:
    """A custom field's problem in the user's words where we know it, else the service's own text."""
    if message == "is required":
        return t.gettext("This field is required.")
    if message.startswith("must be one of"):
        return t.gettext("Choose one of the options.")
    if "does not match" in message:
        return t.gettext("This value does not have the expected format.")
    return message


def _clean_message(message: str) -> str:
    return message.removeprefix("Value error, ")


def _validation_errors(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    found: dict[str, str] = {}
    for problem in exc.errors():
        key = prefix + ".".join(str(p) for p in problem.get("loc", ())) or "form"
        found.setdefault(key, _clean_message(str(problem.get("msg", "invalid value"))))
    return found


def _domain_errors(exc: DomainError) -> dict[str, str]:
    """The service's error by field; the first field's message loses its ``field:`` prefix."""
    errors = field_errors(exc)
    main = exc.field or "form"
    errors[main] = errors[main].removeprefix(f"{main}: ")
    return errors


# ---------------------------------------------------------------- pages


def _require_create(user: WebUser) -> None:
    if not user.can(Perm.CASE_CREATE):
        raise Forbidden("your role may not open cases", field="role")


def _case_type(request: Request, user: WebUser, key: str) -> CaseTypeDef:
    detail = casetypes.get_case_type(db_of(request), user.who, key)
    return CaseTypeDef.model_validate(detail.definition)


def _form_page(
    request: Request,
    user: WebUser,
    defn: CaseTypeDef,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    submission_id: str,
    found_parties: list[PartyView] | None = None,
    party_searched: bool = False,
    status: int = 200,
) -> Response:
    specs = intake_fields(defn)
    for name in FORM_KEYS:
        values.setdefault(name, "")
    selected: PartyView | None = None
    chosen = values.get("customer_party_id") or ""
    if chosen:
        try:
            selected = parties.get_party(db_of(request), user.who, uuid.UUID(chosen))
        except (ValueError, DomainError):
            selected = None
    t = user.t
    labels = {"title": t.gettext("Title"), "description": t.gettext("Description"), "priority": t.gettext("Priority"),
              "customer_party_id": t.gettext("Customer"), "new_party_name": t.gettext("New customer's name"),
              "new_party_email": t.gettext("New customer's email address"), "form": t.gettext("Form")}  # fmt: skip
    labels.update({s.error_key: s.label for s in specs})
    anchors = {"title": "title", "description": "description", "priority": "priority", "customer_party_id": "party_q",
               "new_party_name": "new_party_name", "new_party_email": "new_party_email", "form": "title"}  # fmt: skip
    anchors.update({s.error_key: s.input_id for s in specs})
    context = {
        "nav": "new",
        "defn": defn,
        "specs": specs,
        "values": values,
        "errors": errors,
        "labels": labels,
        "anchors": anchors,
        "submission_id": submission_id,
        "priorities": [p.value for p in Priority],
        "found_parties": [p for p in (found_parties or []) if selected is None or p.id != selected.id],
        "selected_party": selected,
        "party_searched": party_searched,
        "option_label": option_label,
    }
    return render(request, "intake_form.html", context, status=status)


@router.get("/cases/new")
def new_case(request: Request, user: StaffUser, type: str | None = None) -> Response:
    _require_create(user)
    if not type:
        kinds = casetypes.list_case_types(db_of(request), user.who)
        return render(request, "intake_pick.html", {"nav": "new", "case_types": kinds})
    defn = _case_type(request, user, type[:64])
    values = {
        s.input_id: ("on" if s.default is True else "" if s.default in (None, False) else str(s.default)) for s in intake_fields(defn)
    }
    return _form_page(request, user, defn, values=values, errors={}, submission_id=str(uuid.uuid4()))


@router.get("/cases/new/parties")
def search_parties(request: Request, user: StaffUser, party_q: str = "") -> Response:
    """The customers whose name matches, as radio buttons for the intake form (an HTMX fragment)."""
    _require_create(user)
    q = party_q.strip()[:200]
    found = parties.list_parties(db_of(request), user.who, name=q, limit=20) if q else []
    return render(request, "intake_parties.html", {"found_parties": found, "party_searched": bool(q), "selected_party": None, "values": {}})


@router.post("/cases/new")
async def create(request: Request, user: StaffUser) -> Response:
    _require_create(user)
    form = await checked_form(request, user)
    t = user.t
    db = db_of(request)
    key = str(form.get("case_type") or "")[:64]
    defn = await run_in_threadpool(_case_type, request, user, key)
    specs = intake_fields(defn)
    custom, raw, errors = parse_fields(specs, form, t)
    values: dict[str, str] = {name: str(form.get(name) or "") for name in FORM_KEYS}
    values.update(raw)
    submission_id = str(form.get("submission_id") or "")

    if str(form.get("action") or "") == "search":
        q = values["party_q"].strip()[:200]
        found = parties.list_parties(db, user.who, name=q, limit=20) if q else []
        return _form_page(
            request, user, defn, values=values, errors={}, submission_id=submission_id, found_parties=found, party_searched=bool(q)
        )

    if not valid_submission_id(submission_id):
        errors["form"] = t.gettext("This form has expired. Check the values and submit it again.")
        return _form_page(request, user, defn, values=values, errors=errors, submission_id=str(uuid.uuid4()), status=422)

    user_key = user.who.user_id
    state, reference = await submissions.claim(db, user_key, submission_id)
    if state == "pending":  # the same form is being handled by another request: wait for its case
        reference = await submissions.wait(db, user_key, submission_id)
        if reference is None:
            state, reference = await submissions.claim(db, user_key, submission_id)
    if reference is not None:
        return redirect(f"/cases/new/done/{reference}", request)
    if state != "new":
        errors["form"] = t.gettext("This form is already being sent. Wait a moment and reload the page.")
        return _form_page(request, user, defn, values=values, errors=errors, submission_id=str(uuid.uuid4()), status=409)

    try:
        reference, errors, status = await _create(request, user, defn, custom, values, errors)
    except BaseException:
        await submissions.release(db, user_key, submission_id)
        raise
    if reference is None:
        await submissions.release(db, user_key, submission_id)
        return _form_page(request, user, defn, values=values, errors=errors, submission_id=submission_id, status=status)
    await submissions.finish(db, user_key, submission_id, reference)
    return redirect(f"/cases/new/done/{reference}", request)


async def _create(
    request: Request,
    user: WebUser,
    defn: CaseTypeDef,
    custom: dict[str, Any],
    values: dict[str, str],
    errors: dict[str, str],
) -> tuple[str | None, dict[str, str], int]:
    """Open the case (creating the new customer first): the reference, or None with the errors to show and the status."""
    t = user.t
    db = db_of(request)
    title = values["title"].strip()
    if not title:
        errors["title"] = t.gettext("Enter a title.")
    for name, limit in (("title", 300), ("description", 20000), ("new_party_name", 300), ("new_party_email", 320)):
        if len(values[name]) > limit:
            errors[name] = t.gettext("Enter at most %(n)s characters.", n=limit)
    body: dict[str, Any] = {"case_type": defn.key, "title": values["title"], "description": values["description"], "custom_data": custom}
    if values["priority"]:
        body["priority"] = values["priority"]
    party_id = values["customer_party_id"].strip()
    new_name = values["new_party_name"].strip()
    new_email = values["new_party_email"].strip()
    if party_id:
        try:
            body["customer_party_id"] = str(uuid.UUID(party_id))
        except ValueError:
            errors["customer_party_id"] = t.gettext("Choose a customer from the search results.")
    if party_id and (new_name or new_email):
        errors["new_party_name"] = t.gettext("Choose an existing customer or enter a new one, not both.")
    elif new_email and not new_name:
        errors["new_party_name"] = t.gettext("Enter the new customer's name.")
    try:
        command = CaseCreate.model_validate(body)
    except ValidationError as exc:
        for where, message in _validation_errors(exc).items():
            errors.setdefault(where, message)
        command = None
    new_party: PartyCreate | None = None
    if new_name and "new_party_name" not in errors:
        try:
            new_party = PartyCreate(name=new_name, email=new_email or None)
        except ValidationError as exc:
            for where, message in _validation_errors(exc, "new_party_").items():
                if where == "new_party_email":
                    message = t.gettext("Enter an email address such as name@example.org.")
                errors.setdefault(where, message)
    for problem in defn.validate_fields(custom):  # the service's own rules, checked before a new customer is created
        where = "custom_data" + problem.field.removeprefix("fields")
        errors.setdefault(where, _field_message(t, problem.message))
    if errors or command is None:
        return None, errors, 422
    if new_party is not None:
        try:
            made = await run_in_threadpool(parties.create_party, db, user.who, new_party)
        except DomainError as exc:
            named = {("new_party_" + k if k in ("name", "email") else k): v for k, v in _domain_errors(exc).items()}
            return None, {**errors, **named}, exc.status
        # From now on the form names the customer just created, so sending it again cannot create a second one.
        values["customer_party_id"] = str(made.id)
        values["new_party_name"] = values["new_party_email"] = ""
        command = command.model_copy(update={"customer_party_id": made.id})
    try:
        created = await run_in_threadpool(cases.create_case, db, user.who, command)
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        return None, {**errors, **_domain_errors(exc)}, exc.status
    return created.reference, errors, 303


# ---------------------------------------------------------------- the result


@dataclass
class ScreeningResult:
    state: str  # dropped | fast_tracked | opened | recommended | waiting | closed
    action: str | None
    explanation: str | None
    pending: bool


def screening_result(phase: Phase, outcome: str | None, decided: list[Any]) -> ScreeningResult:
    screening = [d for d in decided if d.point.value == "screening"]
    last = screening[-1] if screening else None
    action = None
    if last is not None:
        outputs = last.final_outputs or last.outputs
        action = str(outputs.get("action")) if outputs.get("action") is not None else None
    explanation = last.explanation if last is not None else None
    pending = last is not None and last.status.value == "pending"
    if phase is Phase.CLOSED:
        state = {"screened_out": "dropped", "fast_tracked": "fast_tracked"}.get(outcome or "", "closed")
    elif pending:
        state = "recommended"
    elif phase is not Phase.SCREENING:
        state = "opened"
    else:
        state = "waiting"
    return ScreeningResult(state, action, explanation, pending)


@router.get("/cases/new/done/{reference}")
def created(request: Request, user: StaffUser, reference: str) -> Response:
    db = db_of(request)
    case = cases.get_case(db, user.who, reference[:40])
    decided = decisions.list_decisions(db, user.who, case.id) if user.can(Perm.DECISION_READ) else []
    routing = next((d for d in reversed(decided) if d.point.value == "routing"), None)
    assignee = None
    if case.assignee_id is not None and user.can(Perm.USER_READ):
        try:
            assignee = accounts.get_account(db, user.who, str(case.assignee_id)).name
        except DomainError:
            assignee = None
    customer = None
    if case.customer_party_id is not None and user.can(Perm.PARTY_READ):
        customer = parties.get_party(db, user.who, case.customer_party_id)
    context = {
        "nav": "new",
        "case": case,
        "screening": screening_result(case.phase, case.outcome, decided),
        "routing": routing,
        "assignee": assignee,
        "customer": customer,
    }
    return render(request, "intake_done.html", context)
