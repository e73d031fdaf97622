"""What every page handler needs: who is signed in, their language, CSRF-checked forms, rendering.

Pages reuse the API's session cookie. A form or HTMX request that changes anything must carry
the session's CSRF token (hidden ``csrf_token`` field or ``X-CSRF-Token`` header, which
``base.html`` sets on every HTMX request); a cross-site page cannot read it.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import FormData

from casework.api.security import CSRF_HEADER, SESSION_COOKIE
from casework.domain.access import Perm, Principal, Role
from casework.domain.errors import DomainError, Forbidden
from casework.services import auth
from casework.services.auth import AuthenticationFailed, WebIdentity
from casework.store.unit_of_work import Database
from casework.web.i18n import LANGUAGES, Translator, negotiate, regional

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "casework_lang"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": True}


class SignInRequired(Exception):
    """Raised by page dependencies; answered with a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


@dataclass(frozen=True)
class WebUser:
    """The signed-in user of a page request."""

    identity: WebIdentity
    t: Translator

    @property
    def who(self) -> Principal:
        return self.identity.principal

    @property
    def csrf(self) -> str:
        return self.identity.csrf_token

    @property
    def is_staff(self) -> bool:
        return self.who.is_staff

    def can(self, perm: Perm | str) -> bool:
        return self.who.can(Perm(perm))


def db_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def translator_for(request: Request, preferred: str | None = None) -> Translator:
    accept = request.headers.get("accept-language")
    lang = negotiate(accept, preferred or request.cookies.get(LANG_COOKIE))
    return Translator(lang, regional(accept, lang))


def _next_url(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return path


def current_user(request: Request) -> WebUser:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie or len(cookie) > 200 or not cookie.isascii():
        raise SignInRequired(_next_url(request))
    try:
        identity = auth.web_identity(db_of(request), cookie)
    except AuthenticationFailed:
        raise SignInRequired(_next_url(request)) from None
    client = request.client.host if request.client else None
    identity = WebIdentity(identity.principal.with_client(client), identity.csrf_token, identity.name, identity.email, identity.locale)
    user = WebUser(identity, translator_for(request, identity.locale))
    request.state.user = user
    return user


def staff_user(user: Annotated[WebUser, Depends(current_user)]) -> WebUser:
    if not user.is_staff:
        raise Forbidden("this page is for staff; customers and partners use the portal", field="role")
    return user


AnyUser = Annotated[WebUser, Depends(current_user)]
StaffUser = Annotated[WebUser, Depends(staff_user)]


async def checked_form(request: Request, user: WebUser) -> FormData:
    """The submitted form, refused (403) unless it carries the session's CSRF token."""
    return verified(await request.form(), user, request)


async def _posted_form(request: Request) -> FormData:
    return await request.form()


#: The submitted form, read before a synchronous handler runs in the thread pool (service calls
#: and password hashing must not block the event loop). Check it with :func:`verified`.
PostedForm = Annotated[FormData, Depends(_posted_form)]


def verified(form: FormData, user: WebUser, request: Request | None = None) -> FormData:
    """``form`` when it carries the session's CSRF token (field or header); 403 otherwise."""
    sent = (request.headers.get(CSRF_HEADER) if request is not None else None) or str(form.get("csrf_token") or "")
    if not sent or not hmac.compare_digest(sent.encode(), user.csrf.encode()):
        raise Forbidden("the form has expired or was not sent from casework; reload the page and try again", field="csrf_token")
    return form


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200, t: Translator | None = None
) -> HTMLResponse:
    """Render a page (or an HTMX fragment) in the user's language."""
    user: WebUser | None = getattr(request.state, "user", None)
    translator = t or (user.t if user else translator_for(request))
    values: dict[str, Any] = {
        "request": request,
        "user": user,
        "t": translator,
        "_": translator.gettext,
        "ngettext": translator.ngettext,
        "lang": translator.lang,
        "languages": LANGUAGES,
        "csrf_token": user.csrf if user else "",
        "csrf_headers": json.dumps({CSRF_HEADER: user.csrf}) if user else "{}",
        "Role": Role,
        "Perm": Perm,
        "nav": None,
    }
    values.update(context or {})
    html = env.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Language"] = translator.lang
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def redirect(url: str, request: Request | None = None) -> RedirectResponse | HTMLResponse:
    """A 303 after a form post; HTMX requests get an HX-Redirect so the whole page changes."""
    if request is not None and is_htmx(request):
        response = HTMLResponse("", status_code=200)
        response.headers["HX-Redirect"] = url
        return response
    return RedirectResponse(url, status_code=303)


def sign_in_url(next_url: str) -> str:
    return "/login?next=" + quote(next_url, safe="/")


def field_errors(exc: DomainError) -> dict[str, str]:
    """A service error as {field: message} for showing next to the form control."""
    field = exc.field or "form"
    errors = {field: exc.message}
    listed = exc.extra.get("errors") if isinstance(exc.extra, dict) else None
    for problem in listed if isinstance(listed, list) else []:
        if isinstance(problem, dict) and problem.get("field"):
            errors.setdefault(str(problem["field"]), str(problem.get("message", "")))
    return errors
