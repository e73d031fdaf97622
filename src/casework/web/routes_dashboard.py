"""The staff dashboard: the work queue with filters, saved filters and bulk assignment.

``GET /dashboard`` lists cases most urgent first (priority, then the nearest SLA deadline) in
three views: the caller's own cases, their teams' cases and every case they may see. Filters are
GET parameters, so a filtered list can be bookmarked; the filter form also updates the list in
place with HTMX (only the ``#results`` fragment is sent back). Saved filters and bulk assignment
are CSRF-checked posts.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from casework.domain.access import Perm
from casework.domain.errors import DomainError, InvalidInput, NotFound, StaleVersion
from casework.domain.lifecycle import ORDER, Phase, Priority
from casework.services import cases, casetypes, dashboard, saved_filters
from casework.services.schemas import AssignRequest, CaseFilter
from casework.web.i18n import Translator
from casework.web.pages import PostedForm, StaffUser, WebUser, db_of, is_htmx, redirect, render, verified

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
MAX_BULK = 100
PARAM_KEYS = saved_filters.PARAM_KEYS
FILTER_KEYS = saved_filters.FILTER_KEYS
DEFAULTS = {"view": "mine", "status": "open"}


@dataclass
class Query:
    """The dashboard's parameters as typed by the user, and what they mean for the case list."""

    values: dict[str, str]
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)
    case_filter: CaseFilter | None = None

    @property
    def view(self) -> dashboard.QueueView:
        return dashboard.QueueView(self.values["view"])

    def params(self, **overrides: Any) -> dict[str, str]:
        """The non-default parameters (with ``overrides``), in a stable order for links."""
        merged = {**self.values, **{k: str(v) for k, v in overrides.items()}}
        out: dict[str, str] = {}
        for key in (*PARAM_KEYS, "page"):
            value = merged.get(key, "")
            if value and DEFAULTS.get(key) != value and not (key == "page" and value == "1"):
                out[key] = value
        return out

    def link(self, **overrides: Any) -> str:
        params = self.params(**overrides)
        return "/dashboard" + ("?" + urlencode(params) if params else "")


def read_query(source: Mapping[str, Any], t: Translator, *, queues: bool = True) -> Query:
    """Parse the dashboard parameters; a bad value is reported at its field and lists nothing.

    Without ``queues`` (roles that read cases but work none, such as auditors) the view is always ``all``.
    """
    values = {k: str(source.get(k) or "").strip()[:1000] for k in PARAM_KEYS}
    for key, default in DEFAULTS.items():
        values[key] = values[key] or default
    query = Query(values)
    if values["view"] not in saved_filters.VIEWS:
        query.errors["view"] = t.gettext("Choose one of the views: my work, my teams or all cases.")
        values["view"] = "mine"
    if not queues:
        values["view"] = "all"
    if values["status"] not in saved_filters.STATUSES:
        query.errors["status"] = t.gettext("Choose open, closed or any status.")
        values["status"] = "open"
    try:
        query.page = max(1, min(int(str(source.get("page") or "1")), 100_000))
    except ValueError:
        query.page = 1
    given: dict[str, Any] = {k: values[k] for k in FILTER_KEYS if values[k]}
    if values["status"] != "any":
        given["status"] = values["status"]
    try:
        query.case_filter = CaseFilter.model_validate(given)
    except ValidationError as exc:
        for problem in exc.errors():
            where = str(problem.get("loc", ("form",))[0])
            query.errors.setdefault(where, _filter_message(t, where, str(problem.get("msg", ""))))
    return query


def _filter_message(t: Translator, where: str, detail: str) -> str:
    if where in ("created_from", "created_to"):
        return t.gettext("Enter a date such as 2026-05-01.")
    if where == "assignee_id":
        return t.gettext("Choose an assignee from the list.")
    if where == "q":
        return t.gettext("Search for at most 200 characters.")
    if where == "team":
        return t.gettext("Choose a team from the list.")
    if where == "case_type":
        return t.gettext("Choose a case type from the list.")
    return t.gettext("This value is not valid: %(detail)s", detail=detail)


def _context(request: Request, user: WebUser, query: Query, **extra: Any) -> dict[str, Any]:
    db = db_of(request)
    who = user.who
    result = None
    if query.case_filter is not None and not query.errors:
        result = dashboard.dashboard_queue(db, who, query.case_filter, view=query.view, page=query.page, limit=PAGE_SIZE)
    types = {ct.key: ct.name for ct in casetypes.list_case_types(db, who)} if who.can(Perm.CASETYPE_READ) else {}
    can_assign = user.can(Perm.CASE_ASSIGN)
    ctx: dict[str, Any] = {
        "nav": "dashboard",
        "query": query,
        "values": query.values,
        "errors": query.errors,
        "result": result,
        "types": types,
        "phases": [p.value for p in ORDER] + [Phase.CLOSED.value],
        "priorities": [p.value for p in Priority],
        "colleagues": dashboard.colleagues(db, who),
        "teams": dashboard.team_names(db, who),
        "saved": saved_filters.list_saved_filters(db, who),
        "saved_params": {k: v for k, v in query.values.items() if v and DEFAULTS.get(k) != v},
        "saved_link": lambda params: "/dashboard" + ("?" + urlencode(params) if params else ""),
        "can_assign": can_assign,
        "queues": user.can(Perm.QUEUE_READ),
        "back": query.link(page=query.page),
        "summary": None,
        "save_name": "",
        "save_errors": {},
        "bulk_errors": {},
        "oob": False,
    }
    ctx.update(extra)
    return ctx


def _show(request: Request, user: WebUser, query: Query, *, status: int | None = None, **extra: Any) -> Response:
    ctx = _context(request, user, query, **extra)
    code = status if status is not None else (422 if query.errors else 200)
    restoring = request.headers.get("hx-history-restore-request") == "true"
    fragment = is_htmx(request) and request.headers.get("hx-target") == "results" and not restoring
    if not fragment:
        return render(request, "dashboard.html", ctx, status=code)
    # Also refresh the tabs' links and the saved-filter form's copy of the filters. HTMX swaps only
    # successful answers, so filter errors come back as 200 with the messages in the fragment.
    ctx["oob"] = True
    response = render(request, "dashboard/_results.html", ctx, status=200 if query.errors and code == 422 else code)
    response.headers["HX-Push-Url"] = query.link(page=query.page)  # the address bar without empty parameters
    return response


@router.get("/dashboard")
def dashboard_page(request: Request, user: StaffUser) -> Response:
    return _show(request, user, read_query(request.query_params, user.t, queues=user.can(Perm.QUEUE_READ)))


# ---------------------------------------------------------------- saved filters


@router.post("/dashboard/filters")
def save_filter(request: Request, user: StaffUser, posted: PostedForm) -> Response:
    form = verified(posted, user, request)
    t = user.t
    query = read_query(form, t, queues=user.can(Perm.QUEUE_READ))
    name = str(form.get("name") or "")
    params = {k: v for k, v in query.values.items() if v and DEFAULTS.get(k) != v}
    try:
        if query.errors:
            raise InvalidInput("fix the filters before saving them", field="params")
        saved = saved_filters.create_saved_filter(db_of(request), user.who, saved_filters.SavedFilterCreate(name=name, params=params))
    except ValidationError as exc:
        where = str(exc.errors()[0].get("loc", ("name",))[0])
        if where == "name":
            too_long = len(name.strip()) > saved_filters.NAME_MAX or len(name) > saved_filters.NAME_MAX
            message = t.gettext("Use at most 100 characters for the name.") if too_long else t.gettext("Enter a name for these filters.")
        else:
            message = t.gettext("These filters cannot be saved: %(detail)s", detail=str(exc.errors()[0].get("msg", "")))
        return _show(request, user, query, status=422, save_name=name[:1000], save_errors={"name": message})
    except DomainError as exc:
        return _show(request, user, query, status=exc.status, save_name=name[:1000], save_errors={"name": exc.message})
    return redirect("/dashboard" + ("?" + urlencode(saved.params) if saved.params else ""), request)


@router.post("/dashboard/filters/{filter_id}/delete")
def delete_filter(request: Request, user: StaffUser, filter_id: str, posted: PostedForm) -> Response:
    verified(posted, user, request)
    saved_filters.delete_saved_filter(db_of(request), user.who, filter_id)
    return redirect("/dashboard", request)


# ---------------------------------------------------------------- bulk assignment


def _back_query(form: Mapping[str, Any], t: Translator, queues: bool) -> Query:
    from urllib.parse import parse_qsl

    back = str(form.get("back") or "")
    raw = back.split("?", 1)[1] if "?" in back else ""
    return read_query(dict(parse_qsl(raw[:4000])), t, queues=queues)


@router.post("/dashboard/assign")
def bulk_assign(request: Request, user: StaffUser, posted: PostedForm) -> Response:
    """Assign every selected case, each guarded by the version the list showed; report each failure."""
    form = verified(posted, user, request)
    t = user.t
    query = _back_query(form, t, user.can(Perm.QUEUE_READ))
    if not user.can(Perm.CASE_ASSIGN):
        from casework.domain.errors import Forbidden

        raise Forbidden("your role may not assign cases", field="assignee_id")
    picked = [str(v) for v in form.getlist("case")][: MAX_BULK + 1]
    errors: dict[str, str] = {}
    if not picked:
        errors["case"] = t.gettext("Select at least one case to assign.")
    elif len(picked) > MAX_BULK:
        errors["case"] = t.gettext("Assign at most 100 cases at a time.")
    db = db_of(request)
    assignee_raw = str(form.get("assignee_id") or "")
    people = {str(c.id): c for c in dashboard.colleagues(db, user.who)}
    if assignee_raw not in people:
        errors["assignee_id"] = t.gettext("Choose who the cases go to.")
    if errors:
        return _show(request, user, query, status=422, bulk_errors=errors)
    assignee = people[assignee_raw]
    assigned: list[str] = []
    failed: list[tuple[str, str]] = []
    for case_id in dict.fromkeys(picked):  # a case ticked twice is assigned once
        label = str(form.get(f"ref_{case_id}") or case_id)[:40]
        try:
            version = int(str(form.get(f"version_{case_id}") or ""))
            key = uuid.UUID(case_id)
            view = cases.assign_case(db, user.who, key, AssignRequest(assignee_id=assignee.id, version=version))
            assigned.append(view.reference)
        except StaleVersion:
            failed.append((label, t.gettext("changed by someone else since the list was loaded; reload the list and try again")))
        except NotFound:
            failed.append((label, t.gettext("not found, or no longer visible to you")))
        except (ValueError, ValidationError):
            failed.append((label, t.gettext("the form did not say which version of the case you saw; reload the list")))
        except DomainError as exc:
            failed.append((label, exc.message))
    summary = {"assigned": assigned, "failed": failed, "assignee": assignee.name}
    status = 200 if assigned or not failed else 409
    return _show(request, user, query, status=status, summary=summary)


__all__ = ["router"]
