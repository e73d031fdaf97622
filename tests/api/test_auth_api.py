"""Authentication over HTTP: bearer tokens, web sessions with CSRF, login lockout and disabled accounts."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from casework.services import auth
from casework.store.models import ApiToken, AuditEntry, WebSession
from casework.store.unit_of_work import Database
from tests.factories import case_body

PROBLEM = "application/problem+json"
CASES = "/api/v1/cases"
USERS = "/api/v1/users"
LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
TOKENS = "/api/v1/auth/tokens"
COOKIE = "casework_session"
CSRF = "X-CSRF-Token"

EMAIL = "wendy.worker@example.org"
PASSWORD = "correct horse battery staple"

Clients = Callable[..., TestClient]


def problem(resp: Response, status: int, field: str | None = None) -> dict[str, Any]:
    """Assert an RFC 9457 problem report with this status (and offending field), without internals."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == PROBLEM
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert "Traceback" not in resp.text and 'File "' not in resp.text
    if field is not None:
        assert body["field"] == field, body
    if status == 401:
        assert resp.headers["www-authenticate"].startswith("Bearer")
    return body


def new_case(client: TestClient, **headers: str) -> Response:
    resp: Response = client.post(CASES, json=case_body(), headers=headers)
    return resp


def case_count(api: TestClient) -> int:
    resp = api.get(CASES, params={"limit": 500})
    assert resp.status_code == 200, resp.text
    return len(resp.json()["items"])


def make_account(api: TestClient, email: str = EMAIL, password: str | None = PASSWORD) -> dict[str, Any]:
    payload: dict[str, Any] = {"name": "Wendy Worker", "email": email, "role": "case_worker", "teams": ["fraud"]}
    if password is not None:
        payload["password"] = password
    resp = api.post(USERS, json=payload)
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    assert "password" not in body and "password_hash" not in body
    return body


def sign_in(client: TestClient, email: str = EMAIL, password: str = PASSWORD) -> Response:
    resp: Response = client.post(LOGIN, json={"email": email, "password": password})
    return resp


def audit_entries(db: Database, action: str) -> list[AuditEntry]:
    with db.read() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))
        s.expunge_all()
    return rows


@pytest.fixture
def worker(api: TestClient) -> dict[str, Any]:
    """A case worker in team "fraud" who can sign in with PASSWORD."""
    return make_account(api)


@pytest.fixture
def session(worker: dict[str, Any], client_for: Clients) -> tuple[TestClient, str]:
    """A client holding only the worker's session cookie, and the session's CSRF token."""
    client = client_for(None)
    resp = sign_in(client)
    assert resp.status_code == 200, resp.text
    return client, resp.json()["csrf_token"]


# ------------------------------------------------------------------ anonymous requests


def test_anonymous_request_is_refused_with_a_problem_naming_authorization(anon: TestClient) -> None:
    body = problem(anon.get(CASES), 401, "Authorization")
    assert body["instance"] == CASES
    problem(anon.post(CASES, json=case_body()), 401, "Authorization")
    problem(anon.get(ME), 401, "Authorization")
    problem(anon.get(USERS), 401, "Authorization")


def test_health_needs_no_credentials(anon: TestClient) -> None:
    resp = anon.get("/api/v1/health")
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "ok"


# ------------------------------------------------------------------ bearer tokens


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer    ",
        "Basic abc",
        "Basic dXNlcjpwYXNz",
        "Token x",
        "bearer",
        "",
        "cwt_abc",
        "Bearer " + "x" * 500,
        "Bearer cwt_" + "a" * 1000,
        "Bearer café".encode(),
        "Bearer \u00ff\u00fe".encode("latin-1"),
        "Bearer tok en",
    ],
    ids=[
        "bare-bearer", "bearer-space", "bearer-spaces", "basic", "basic-b64", "token-scheme", "lowercase-bare",
        "empty", "no-scheme", "500-chars", "1000-chars", "utf8", "latin1", "two-words",
    ],
)  # fmt: skip
def test_malformed_or_unknown_authorization_is_a_401_never_a_500(client_for: Clients, header: str | bytes) -> None:
    client = client_for(None)
    resp = client.get(CASES, headers={"Authorization": header})
    problem(resp, 401, "Authorization")


def test_unknown_well_formed_token_is_refused(client_for: Clients) -> None:
    client = client_for(None)
    body = problem(client.get(CASES, headers={"Authorization": "Bearer cwt_" + "A" * 43}), 401, "Authorization")
    assert "unknown" in body["detail"]


def test_a_new_token_is_shown_once_and_never_listed(api: TestClient, client_for: Clients) -> None:
    resp = api.post(TOKENS, json={"name": "reporting", "scope": "read", "expires_in_days": 30})
    assert resp.status_code == 201, resp.text
    made = resp.json()
    secret = made["token"]
    assert secret.startswith("cwt_") and len(secret) > 30
    assert secret.startswith(made["prefix"])
    assert made["scope"] == "read" and made["revoked_at"] is None
    expires = dt.datetime.fromisoformat(made["expires_at"])
    assert dt.timedelta(days=29) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=30)

    listed = api.get(TOKENS)
    assert listed.status_code == 200, listed.text
    assert secret not in listed.text
    mine = [t for t in listed.json() if t["id"] == made["id"]]
    assert len(mine) == 1
    assert "token" not in mine[0] and "token_hash" not in mine[0]
    assert mine[0]["prefix"] == made["prefix"]

    # The secret works, and lists the same tokens (those of the same user).
    reader = client_for(None)
    reader.headers["Authorization"] = f"Bearer {secret}"
    assert reader.get(ME).json()["id"] == api.get(ME).json()["id"]


def test_read_scoped_token_reads_but_cannot_write_or_mint_tokens(api: TestClient, client_for: Clients) -> None:
    assert new_case(api).status_code == 201
    secret = api.post(TOKENS, json={"name": "read only", "scope": "read"}).json()["token"]
    reader = client_for(None)
    reader.headers["Authorization"] = f"Bearer {secret}"

    resp = reader.get(CASES)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["items"]) == 1

    before = case_count(api)
    problem(new_case(reader), 403)
    assert case_count(api) == before
    problem(reader.post(TOKENS, json={"name": "escalate", "scope": "write"}), 403)
    problem(reader.post(TOKENS, json={"name": "another reader", "scope": "read"}), 403)
    assert len(api.get(TOKENS).json()) == 2  # the fixture's token and the read token, nothing more


def test_write_token_creates_a_case_and_revoking_it_through_the_api_stops_it(api: TestClient, client_for: Clients) -> None:
    made = api.post(TOKENS, json={"name": "integration", "scope": "write"}).json()
    writer = client_for(None)
    writer.headers["Authorization"] = f"Bearer {made['token']}"
    assert new_case(writer).status_code == 201

    resp = api.delete(f"{TOKENS}/{made['id']}")
    assert resp.status_code == 204, resp.text
    body = problem(writer.get(CASES), 401, "Authorization")
    assert "revoked" in body["detail"]
    problem(new_case(writer), 401, "Authorization")

    listed = {t["id"]: t for t in api.get(TOKENS).json()}
    assert listed[made["id"]]["revoked_at"] is not None
    # Revoking again is harmless; an unknown or malformed id is a problem, not a crash.
    assert api.delete(f"{TOKENS}/{made['id']}").status_code == 204
    problem(api.delete(f"{TOKENS}/{uuid.uuid4()}"), 404)
    problem(api.delete(f"{TOKENS}/not-a-uuid"), 422)


def test_a_user_cannot_revoke_someone_elses_token(api: TestClient, client_for: Clients, db: Database) -> None:
    other = make_account(api, "other@example.org", password=None)
    other_client = client_for(auth.load_principal(db, uuid.UUID(other["id"])))
    admin_token = api.post(TOKENS, json={"name": "admin's", "scope": "read"}).json()
    problem(other_client.delete(f"{TOKENS}/{admin_token['id']}"), 404)
    assert {t["id"]: t for t in api.get(TOKENS).json()}[admin_token["id"]]["revoked_at"] is None
    assert admin_token["id"] not in other_client.get(TOKENS).text


def test_expired_token_is_refused(api: TestClient, client_for: Clients, db: Database) -> None:
    made = api.post(TOKENS, json={"name": "short lived", "scope": "write", "expires_in_days": 1}).json()
    client = client_for(None)
    client.headers["Authorization"] = f"Bearer {made['token']}"
    assert client.get(CASES).status_code == 200

    with db.write() as s:
        tok = s.get(ApiToken, uuid.UUID(made["id"]))
        assert tok is not None
        tok.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)

    body = problem(client.get(CASES), 401, "Authorization")
    assert "expired" in body["detail"]


def test_token_request_is_validated(api: TestClient) -> None:
    problem(api.post(TOKENS, json={"name": "x", "scope": "admin"}), 422, "scope")
    problem(api.post(TOKENS, json={"name": "x", "expires_in_days": 0}), 422, "expires_in_days")
    problem(api.post(TOKENS, json={"name": "x", "expires_in_days": 366}), 422, "expires_in_days")
    problem(api.post(TOKENS, json={"name": "x" * 101}), 422, "name")
    problem(api.post(TOKENS, json={"name": "x", "user_id": str(uuid.uuid4())}), 422, "user_id")


# ------------------------------------------------------------------ web sessions and CSRF


def test_login_sets_a_hardened_session_cookie(worker: dict[str, Any], client_for: Clients) -> None:
    client = client_for(None)
    resp = sign_in(client)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["user"]["email"] == EMAIL and body["user"]["id"] == worker["id"]
    assert body["csrf_token"]

    raw = [v for k, v in resp.headers.multi_items() if k.lower() == "set-cookie"]
    assert len(raw) == 1, raw
    cookie = raw[0]
    attrs = [a.strip().lower() for a in cookie.split(";")]
    name, _, value = cookie.split(";")[0].partition("=")
    assert name == COOKIE and len(value) >= 32
    assert value != body["csrf_token"]
    assert "httponly" in attrs
    assert "secure" in attrs
    assert "samesite=lax" in attrs
    assert "path=/" in attrs
    assert value not in resp.text  # the cookie secret is not echoed in the body


def test_session_cookie_alone_authenticates_safe_requests(session: tuple[TestClient, str], worker: dict[str, Any]) -> None:
    client, _csrf = session
    assert "authorization" not in client.headers
    resp = client.get(ME)
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == worker["id"]
    assert resp.json()["teams"] == ["fraud"]
    assert client.get(CASES).status_code == 200  # GET needs no CSRF token
    assert client.get(TOKENS).status_code == 200


def test_cookie_authenticated_writes_need_the_csrf_token(session: tuple[TestClient, str], api: TestClient) -> None:
    client, csrf = session
    before = case_count(api)

    body = problem(new_case(client), 403, CSRF)
    assert CSRF in body["detail"]
    problem(new_case(client, **{CSRF: ""}), 403, CSRF)
    problem(new_case(client, **{CSRF: csrf[:-1] + ("A" if csrf[-1] != "A" else "B")}), 403, CSRF)
    problem(new_case(client, **{CSRF: "x" * 500}), 403, CSRF)
    assert case_count(api) == before

    resp = new_case(client, **{CSRF: csrf})
    assert resp.status_code == 201, resp.text
    assert resp.json()["team"] == "fraud"
    assert case_count(api) == before + 1

    # Minting a token from the session is a write as well.
    problem(client.post(TOKENS, json={"name": "cli"}), 403, CSRF)
    assert client.post(TOKENS, json={"name": "cli"}, headers={CSRF: csrf}).status_code == 201


def test_csrf_token_of_another_session_is_refused(worker: dict[str, Any], client_for: Clients) -> None:
    first, second = client_for(None), client_for(None)
    csrf_first = sign_in(first).json()["csrf_token"]
    csrf_second = sign_in(second).json()["csrf_token"]
    assert csrf_first != csrf_second
    problem(new_case(first, **{CSRF: csrf_second}), 403, CSRF)
    assert new_case(first, **{CSRF: csrf_first}).status_code == 201


def test_logout_ends_the_session_on_the_server(session: tuple[TestClient, str], client_for: Clients) -> None:
    client, csrf = session
    value = client.cookies[COOKIE]
    problem(client.post(LOGOUT), 403, CSRF)  # logging out is a write: it needs the token too
    resp = client.post(LOGOUT, headers={CSRF: csrf})
    assert resp.status_code == 204, resp.text
    assert any(COOKIE in v for k, v in resp.headers.multi_items() if k.lower() == "set-cookie")

    # Even a client that kept the old cookie cannot use it.
    replay = client_for(None)
    problem(replay.get(ME, headers={"Cookie": f"{COOKIE}={value}"}), 401, "session")
    problem(replay.post(CASES, json={}, headers={"Cookie": f"{COOKIE}={value}", CSRF: csrf}), 401, "session")


def test_expired_session_is_refused(session: tuple[TestClient, str], db: Database) -> None:
    client, csrf = session
    with db.write() as s:
        sess = s.get(WebSession, auth.digest(client.cookies[COOKIE]))
        assert sess is not None
        sess.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    body = problem(client.get(ME), 401, "session")
    assert "expired" in body["detail"]
    problem(new_case(client, **{CSRF: csrf}), 401, "session")


def test_forged_or_garbage_session_cookies_are_refused(client_for: Clients) -> None:
    client = client_for(None)
    for value in ("nope", "x" * 500, "%00", '"quoted"'):
        problem(client.get(ME, headers={"Cookie": f"{COOKIE}={value}"}), 401)


def test_bearer_token_takes_precedence_over_a_cookie_and_needs_no_csrf(session: tuple[TestClient, str], api: TestClient) -> None:
    client, _csrf = session
    client.headers["Authorization"] = api.headers["Authorization"]
    assert new_case(client).status_code == 201  # tokens are not sent by browsers on their own: no CSRF check
    client.headers["Authorization"] = "Bearer cwt_unknown"
    problem(client.get(ME), 401, "Authorization")  # a bad token is not rescued by a good cookie


# ------------------------------------------------------------------ login failures and lockout


def test_wrong_password_is_refused_and_audited(worker: dict[str, Any], client_for: Clients, db: Database) -> None:
    client = client_for(None)
    resp = sign_in(client, password="not the right password")
    body = problem(resp, 401)
    assert "wrong email or password" in body["detail"]
    assert COOKIE not in resp.headers.get("set-cookie", "")
    assert COOKIE not in client.cookies
    problem(client.get(ME), 401)

    failed = audit_entries(db, "auth.login.failed")
    assert len(failed) == 1
    assert failed[0].actor_id == uuid.UUID(worker["id"])
    assert failed[0].data["email"] == EMAIL
    assert "not the right password" not in str(failed[0].data)  # the attempted password is never logged


def test_login_email_is_case_insensitive(worker: dict[str, Any], client_for: Clients) -> None:
    assert sign_in(client_for(None), email="  Wendy.Worker@Example.ORG ").status_code == 200


def test_unknown_email_is_refused_like_a_wrong_password_and_audited(client_for: Clients, db: Database) -> None:
    body = problem(sign_in(client_for(None), email="nobody@example.org"), 401)
    assert "wrong email or password" in body["detail"]  # does not reveal whether the account exists
    failed = audit_entries(db, "auth.login.failed")
    assert len(failed) == 1
    assert failed[0].actor_id is None
    assert failed[0].data["email"] == "nobody@example.org"


def test_five_failures_lock_the_account_even_against_the_right_password(worker: dict[str, Any], client_for: Clients, db: Database) -> None:
    client = client_for(None)
    for attempt in range(auth.MAX_FAILURES):
        body = problem(sign_in(client, password=f"wrong password {attempt}"), 401)
        assert "locked" not in body["detail"]

    body = problem(sign_in(client), 401)
    assert "locked" in body["detail"]
    assert COOKIE not in client.cookies
    problem(client.get(ME), 401)

    failed = audit_entries(db, "auth.login.failed")
    assert len(failed) == auth.MAX_FAILURES + 1
    assert "locked" in failed[auth.MAX_FAILURES - 1].data["why"]
    assert failed[-1].data["why"] == "locked"


def test_resetting_the_password_lifts_the_lockout(worker: dict[str, Any], api: TestClient, client_for: Clients) -> None:
    client = client_for(None)
    for attempt in range(auth.MAX_FAILURES):
        problem(sign_in(client, password=f"wrong password {attempt}"), 401)
    new_password = "a different long passphrase"
    assert api.patch(f"{USERS}/{EMAIL}", json={"password": new_password}).status_code == 200
    problem(sign_in(client), 401)  # the old password is gone
    assert sign_in(client, password=new_password).status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": EMAIL, "password": PASSWORD, "remember_me": True}, "remember_me"),
        ({"email": EMAIL, "password": PASSWORD, "role": "administrator"}, "role"),
        ({"email": "a" * 321, "password": PASSWORD}, "email"),
        ({"email": EMAIL, "password": "p" * 257}, "password"),
        ({"email": EMAIL, "password": ""}, "password"),
        ({"email": "", "password": PASSWORD}, "email"),
        ({"email": EMAIL}, "password"),
        ({"password": PASSWORD}, "email"),
        ({"email": EMAIL, "password": "nul\x00byte-password"}, "password"),
        ({"email": ["x"], "password": PASSWORD}, "email"),
    ],
    ids=["extra-field", "extra-role", "long-email", "long-password", "empty-password", "empty-email", "no-password", "no-email",
         "nul", "list-email"],
)  # fmt: skip
def test_malformed_login_payload_is_a_422(client_for: Clients, db: Database, payload: dict[str, Any], field: str) -> None:
    resp = client_for(None).post(LOGIN, json=payload)
    problem(resp, 422, field)
    assert audit_entries(db, "auth.login.failed") == []  # rejected before any account lookup


def test_login_with_a_non_json_body_is_a_422(client_for: Clients) -> None:
    client = client_for(None)
    problem(client.post(LOGIN, content=b"email=a&password=b", headers={"Content-Type": "application/x-www-form-urlencoded"}), 422)
    problem(client.post(LOGIN, content=b"{not json", headers={"Content-Type": "application/json"}), 422)


def test_account_without_a_password_cannot_sign_in(api: TestClient, client_for: Clients) -> None:
    make_account(api, "nopass@example.org", password=None)
    problem(sign_in(client_for(None), email="nopass@example.org", password="anything at all here"), 401)


# ------------------------------------------------------------------ disabled accounts


def test_disabling_an_account_ends_its_sessions_and_tokens_but_keeps_it(
    session: tuple[TestClient, str], worker: dict[str, Any], api: TestClient, client_for: Clients, db: Database
) -> None:
    browser, csrf = session
    made = browser.post(TOKENS, json={"name": "script", "scope": "write"}, headers={CSRF: csrf})
    assert made.status_code == 201, made.text
    script = client_for(None)
    script.headers["Authorization"] = f"Bearer {made.json()['token']}"
    assert script.get(ME).status_code == 200
    assert browser.get(ME).status_code == 200

    resp = api.patch(f"{USERS}/{EMAIL}", json={"is_active": False})
    assert resp.status_code == 200, resp.text
    assert resp.json()["is_active"] is False and resp.json()["disabled_at"] is not None

    problem(browser.get(ME), 401)
    problem(new_case(browser, **{CSRF: csrf}), 401)
    problem(script.get(ME), 401, "Authorization")
    problem(new_case(script), 401, "Authorization")
    problem(sign_in(client_for(None)), 401)  # the right password no longer opens a session
    assert any(e.data.get("why", "").startswith("disabled") for e in audit_entries(db, "auth.login.failed"))

    listed = {u["email"]: u for u in api.get(USERS).json()}
    assert listed[EMAIL]["is_active"] is False
    assert listed[EMAIL]["id"] == worker["id"]
    assert api.get(f"{USERS}/{worker['id']}").json()["is_active"] is False


def test_re_enabling_an_account_restores_token_access(api: TestClient, client_for: Clients, db: Database) -> None:
    account = make_account(api, "back@example.org", password=None)
    client = client_for(auth.load_principal(db, uuid.UUID(account["id"])))
    assert api.patch(f"{USERS}/back@example.org", json={"is_active": False}).status_code == 200
    problem(client.get(ME), 401)
    resp = api.patch(f"{USERS}/back@example.org", json={"is_active": True})
    assert resp.status_code == 200 and resp.json()["disabled_at"] is None
    assert client.get(ME).status_code == 200


def test_an_administrator_cannot_disable_themselves(api: TestClient) -> None:
    me = api.get(ME).json()
    problem(api.patch(f"{USERS}/{me['id']}", json={"is_active": False}), 422, "is_active")
    assert api.get(ME).status_code == 200


# ------------------------------------------------------------------ password policy and attribution


@pytest.mark.parametrize(
    "password",
    ["password1234", "short", "aaaaaaaaaaaaaaaa", "policy.person@example.org", "policy.person"],
    ids=["breached", "short", "few-distinct", "own-email", "email-local-part"],
)
def test_weak_passwords_are_refused_when_creating_an_account(api: TestClient, password: str) -> None:
    payload = {"name": "Policy Person", "email": "policy.person@example.org", "role": "case_worker", "password": password}
    problem(api.post(USERS, json=payload), 422, "password")
    problem(api.get(f"{USERS}/policy.person@example.org"), 404)  # nothing was created


def test_weak_password_is_refused_when_resetting(api: TestClient) -> None:
    make_account(api, "reset@example.org", password=None)
    problem(api.patch(f"{USERS}/reset@example.org", json={"password": "password1234"}), 422, "password")


def test_history_records_the_tokens_user_as_the_actor(api: TestClient, client_for: Clients, db: Database) -> None:
    account = make_account(api, "actor@example.org", password=None)
    worker_client = client_for(auth.load_principal(db, uuid.UUID(account["id"])))
    assert worker_client.get(ME).json()["id"] == account["id"]

    case = new_case(worker_client).json()
    history = api.get(f"{CASES}/{case['id']}/history")
    assert history.status_code == 200, history.text
    created = [e for e in history.json() if e["action"] == "case.create"]
    assert len(created) == 1
    assert created[0]["actor_id"] == account["id"]
    assert created[0]["actor_id"] != api.get(ME).json()["id"]


def test_history_records_the_session_user_as_the_actor(session: tuple[TestClient, str], worker: dict[str, Any], api: TestClient) -> None:
    client, csrf = session
    case = new_case(client, **{CSRF: csrf}).json()
    created = [e for e in api.get(f"{CASES}/{case['id']}/history").json() if e["action"] == "case.create"]
    assert [e["actor_id"] for e in created] == [worker["id"]]
