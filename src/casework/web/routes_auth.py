"""Sign-in, sign-out, the start page and the language choice."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from casework.api.routes_auth import cookie_secure
from casework.api.security import SESSION_COOKIE
from casework.domain.errors import DomainError
from casework.services import auth
from casework.web.i18n import LANGUAGES
from casework.web.pages import LANG_COOKIE, AnyUser, PostedForm, db_of, redirect, render, translator_for, verified

router = APIRouter(include_in_schema=False)


def _safe_next(url: str | None, default: str) -> str:
    """Only a path on this site: never an absolute or protocol-relative address (open redirect)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url or len(url) > 2000:
        return default
    return url


def home_for(user_is_staff: bool) -> str:
    return "/dashboard" if user_is_staff else "/portal"


@router.get("/")
def start(request: Request) -> Response:
    from casework.web.pages import SignInRequired, current_user

    try:
        user = current_user(request)
    except SignInRequired:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(home_for(user.is_staff), status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next, ""), "email": "", "error": None})


@router.post("/login")
def login(request: Request, form: PostedForm) -> Response:
    email = str(form.get("email") or "").strip()[:320]
    password = str(form.get("password") or "")[:1000]
    next_url = str(form.get("next") or "")
    t = translator_for(request)
    if not email or not password:
        error = t.gettext("Enter your email address and password.")
        return render(request, "login.html", {"next": _safe_next(next_url, ""), "email": email, "error": error}, status=422)
    db = db_of(request)
    client = request.client.host if request.client else None
    try:
        who = auth.login(db, email, password, client)
    except DomainError as exc:
        status = exc.status if exc.status in (401, 403, 423, 429) else 401
        locked = "locked" in exc.message.lower()
        error = (
            t.gettext("This account is locked for a while after too many failed attempts.")
            if locked
            else t.gettext("The email address or password is not right.")
        )
        return render(request, "login.html", {"next": _safe_next(next_url, ""), "email": email, "error": error}, status=status)
    session = auth.open_session(db, who, client)
    response = RedirectResponse(_safe_next(next_url, home_for(who.is_staff)), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, session.cookie, max_age=int(auth.SESSION_TTL.total_seconds()),
        httponly=True, secure=cookie_secure(), samesite="lax", path="/",
    )  # fmt: skip
    return response


@router.post("/logout")
def logout(request: Request, user: AnyUser, posted: PostedForm) -> Response:
    verified(posted, user, request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        auth.close_session(db_of(request), cookie)
    response = redirect("/login", request)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=cookie_secure(), samesite="lax")
    return response


@router.post("/language")
def set_language(request: Request, user: AnyUser, posted: PostedForm) -> Response:
    """Store the chosen language on the account ("" follows the browser again)."""
    form = verified(posted, user, request)
    lang = str(form.get("lang") or "")
    if lang and lang not in LANGUAGES:
        from casework.domain.errors import InvalidInput

        raise InvalidInput(f"unknown language '{lang[:20]}'; choose one of {', '.join(LANGUAGES)}", field="lang")
    auth.set_own_locale(db_of(request), user.who, lang or None)
    back = str(form.get("back") or "")
    response = redirect(_safe_next(back, home_for(user.is_staff)), request)
    if lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/", secure=cookie_secure())
    else:
        response.delete_cookie(LANG_COOKIE, path="/")
    return response
