"""OpenID Connect sign-in against a fake identity provider served by an httpx.MockTransport.

The fake provider publishes a discovery document and a JWKS holding an RSA key generated
here, and its token endpoint checks the client's credentials and the PKCE verifier before
returning an ID token signed with that key, carrying the nonce of the authorization request.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select

from casework.domain.access import Role
from casework.services import accounts, oidc, parties, users
from casework.services.schemas import PartyCreate
from casework.store.models import AuditEntry
from casework.store.unit_of_work import Database

ISSUER = "https://idp.example.test"
CLIENT_ID = "casework-tests"
CLIENT_SECRET = "s3cret:with&odd+chars"
REDIRECT = "https://testserver/api/v1/auth/oidc/callback"
LOGIN = "/api/v1/auth/oidc/login"
CALLBACK = "/api/v1/auth/oidc/callback"
DROP = object()  # a claim override that removes the claim


@pytest.fixture(scope="module")
def signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig", "alg": "RS256"})


@pytest.fixture(scope="module")
def other_key() -> RSAKey:
    """Same key id, different key: a token signed with it must fail the signature check."""
    return RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig", "alg": "RS256"})


class FakeProvider:
    def __init__(self, key: RSAKey) -> None:
        self.key = key
        self.grants: dict[str, dict[str, Any]] = {}
        self.token_requests: list[dict[str, str]] = []
        self.down = False

    def authorize(
        self, location: str, email: str, claims: dict[str, Any] | None = None, sign_with: RSAKey | None = None
    ) -> tuple[str, str]:
        """What the provider does once the user signed in there: issue a code for the request in `location`.

        Returns (code, state) for the callback."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        code = secrets.token_urlsafe(16)
        self.grants[code] = {
            "nonce": query["nonce"],
            "challenge": query["code_challenge"],
            "redirect_uri": query["redirect_uri"],
            "email": email,
            "claims": claims or {},
            "key": sign_with or self.key,
        }
        return code, query["state"]

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("provider down", request=request)
        if request.url.host != "idp.example.test":
            return httpx.Response(404)
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": ISSUER + "/authorize",
                    "token_endpoint": ISSUER + "/token",
                    "jwks_uri": ISSUER + "/jwks",
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                },
            )
        if path == "/jwks":
            return httpx.Response(200, json={"keys": [self.key.as_dict(private=False)]})
        if path == "/token" and request.method == "POST":
            return self._token(request)
        return httpx.Response(404)

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.token_requests.append(form)
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        user, _, password = base64.b64decode(encoded).decode().partition(":") if scheme == "Basic" else ("", "", "")
        if (unquote_plus(user), unquote_plus(password)) != (CLIENT_ID, CLIENT_SECRET):
            return httpx.Response(401, json={"error": "invalid_client"})
        grant = self.grants.pop(form.get("code", ""), None)
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant["redirect_uri"]
            or create_s256_code_challenge(form.get("code_verifier", "")) != grant["challenge"]
        ):
            return httpx.Response(400, json={"error": "invalid_grant"})
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": "subject-" + grant["email"],
            "email": grant["email"],
            "email_verified": True,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
        }
        claims.update(grant["claims"])
        claims = {k: v for k, v in claims.items() if v is not DROP}
        id_token = jwt.encode({"alg": "RS256", "kid": "key-1"}, claims, grant["key"])
        return httpx.Response(200, json={"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token})


@pytest.fixture
def provider(signing_key: RSAKey, monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    fake = FakeProvider(signing_key)
    monkeypatch.setenv("CASEWORK_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("CASEWORK_OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CASEWORK_OIDC_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("CASEWORK_OIDC_REDIRECT_URL", REDIRECT)
    monkeypatch.setenv("CASEWORK_SECRET_KEY", "test-secret-key")
    monkeypatch.setattr(oidc, "http_client_factory", lambda: httpx.Client(transport=httpx.MockTransport(fake.handler)))
    return fake


@pytest.fixture
def anon(client_for: Callable[..., TestClient]) -> TestClient:
    return client_for(None)


def _staff(db: Database, email: str = "sue@example.org", role: Role = Role.SUPERVISOR) -> accounts.AccountView:
    return accounts.create_account(db, None, accounts.AccountCreate(name="Sue Staff", email=email, role=role))


def _start(client: TestClient) -> str:
    resp = client.get(LOGIN, follow_redirects=False)
    assert resp.status_code == 302, resp.text
    return resp.headers["location"]


def _sign_in(
    client: TestClient, provider: FakeProvider, email: str, claims: dict[str, Any] | None = None, sign_with: RSAKey | None = None
) -> httpx.Response:
    code, state = provider.authorize(_start(client), email, claims, sign_with)
    return client.get(CALLBACK, params={"code": code, "state": state})


def _audit(db: Database, action: str) -> list[dict[str, Any]]:
    with db.read() as s:
        return [dict(e.data) for e in s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))]


def _assert_problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    return body


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize("path", [LOGIN, CALLBACK + "?code=x&state=y"])
def test_not_configured_is_404(path: str, anon: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CASEWORK_OIDC_ISSUER", "CASEWORK_OIDC_CLIENT_ID", "CASEWORK_OIDC_CLIENT_SECRET", "CASEWORK_OIDC_REDIRECT_URL"):
        monkeypatch.delenv(name, raising=False)
    body = _assert_problem(anon.get(path, follow_redirects=False), 404)
    assert body["detail"] == "OpenID Connect sign-in is not configured"


def test_partial_configuration_counts_as_not_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"CASEWORK_OIDC_ISSUER": ISSUER + "/", "CASEWORK_OIDC_CLIENT_ID": CLIENT_ID, "CASEWORK_OIDC_CLIENT_SECRET": CLIENT_SECRET}
    assert oidc.OidcConfig.from_env(env) is None
    cfg = oidc.OidcConfig.from_env({**env, "CASEWORK_OIDC_REDIRECT_URL": REDIRECT})
    assert cfg is not None and cfg.issuer == ISSUER


def test_routes_are_in_the_openapi_document_without_configuration(anon: TestClient) -> None:
    paths = anon.get("/openapi.json").json()["paths"]
    assert "get" in paths[LOGIN] and "get" in paths[CALLBACK]


# ---------------------------------------------------------------- the redirect


def test_login_redirects_to_the_provider_with_pkce(anon: TestClient, provider: FakeProvider) -> None:
    resp = anon.get(LOGIN, follow_redirects=False)
    assert resp.status_code == 302
    location = urlsplit(resp.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == ISSUER + "/authorize"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT
    assert query["response_type"] == "code"
    assert "openid" in query["scope"].split()
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32 and len(query["code_challenge"]) == 43
    cookie = resp.headers["set-cookie"]
    assert "casework_oidc=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Path=/api/v1/auth/oidc" in cookie
    # the verifier is not in the URL, and two sign-ins never share state or nonce
    again = {k: v[0] for k, v in parse_qs(urlsplit(_start(anon)).query).items()}
    assert again["state"] != query["state"] and again["nonce"] != query["nonce"]


# ---------------------------------------------------------------- the full flow


def test_staff_account_signs_in(db: Database, anon: TestClient, provider: FakeProvider) -> None:
    sue = _staff(db)
    resp = _sign_in(anon, provider, "Sue@Example.org")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["user"]["id"] == str(sue.id) and body["user"]["role"] == "supervisor"
    assert body["csrf_token"] and body["expires_at"]
    assert "casework_session=" in resp.headers.get("set-cookie", "")
    assert anon.cookies.get("casework_session")
    # the provider got the client's credentials and the PKCE verifier
    assert provider.token_requests[-1]["code_verifier"]
    me = anon.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["email"] == "sue@example.org"
    # a state-changing request with the session needs the CSRF token, exactly as after a password login
    token = anon.post("/api/v1/auth/tokens", json={"name": "t"}, headers={"X-CSRF-Token": body["csrf_token"]})
    assert token.status_code == 201, token.text
    [entry] = _audit(db, "auth.login.oidc")
    assert entry["issuer"] == ISSUER and entry["subject"] == "subject-Sue@Example.org"
    assert _audit(db, "auth.login.failed") == []


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.CASE_WORKER, Role.AUDITOR])
def test_every_staff_role_may_sign_in(role: Role, db: Database, anon: TestClient, provider: FakeProvider) -> None:
    _staff(db, "staff@example.org", role)
    resp = _sign_in(anon, provider, "staff@example.org")
    assert resp.status_code == 200, resp.text
    assert resp.json()["user"]["role"] == role.value


def test_a_code_cannot_be_replayed(db: Database, anon: TestClient, provider: FakeProvider) -> None:
    _staff(db)
    code, state = provider.authorize(_start(anon), "sue@example.org")
    assert anon.get(CALLBACK, params={"code": code, "state": state}).status_code == 200
    _assert_problem(anon.get(CALLBACK, params={"code": code, "state": state}), 400)  # the flow cookie is gone


# ---------------------------------------------------------------- refusals


def test_wrong_state_is_refused(db: Database, anon: TestClient, provider: FakeProvider) -> None:
    _staff(db)
    code, _state = provider.authorize(_start(anon), "sue@example.org")
    body = _assert_problem(anon.get(CALLBACK, params={"code": code, "state": "forged-state"}), 400)
    assert body["field"] == "state"
    assert provider.token_requests == []  # the code was never even exchanged
    assert _audit(db, "auth.login.oidc") == []
    assert anon.cookies.get("casework_session") is None


def test_callback_without_the_flow_cookie_is_refused(db: Database, anon: TestClient, provider: FakeProvider) -> None:
    _staff(db)
    code, state = provider.authorize(_start(anon), "sue@example.org")
    anon.cookies.clear()
    _assert_problem(anon.get(CALLBACK, params={"code": code, "state": state}), 400)
    assert _audit(db, "auth.login.oidc") == []


def test_tampered_flow_cookie_is_refused(db: Database, anon: TestClient, provider: FakeProvider) -> None:
    _staff(db)
    code, state = provider.authorize(_start(anon), "sue@example.org")
    sealed = anon.cookies.get("casework_oidc")
    assert sealed
    payload, mac = sealed.split(".")
    anon.cookies.clear()
    anon.cookies.set("casework_oidc", payload + "." + mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB"), path="/api/v1/auth/oidc")
    _assert_problem(anon.get(CALLBACK, params={"code": code, "state": state}), 400)


def test_flow_cookie_signed_with_another_secret_is_refused(
    db: Database, anon: TestClient, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    _staff(db)
    code, state = provider.authorize(_start(anon), "sue@example.org")
    monkeypatch.setenv("CASEWORK_SECRET_KEY", "another-secret")
    _assert_problem(anon.get(CALLBACK, params={"code": code, "state": state}), 400)


def test_provider_error_is_401(anon: TestClient, provider: FakeProvider) -> None:
    _start(anon)
    body = _assert_problem(anon.get(CALLBACK, params={"error": "access_denied"}), 401)
    assert "access_denied" in body["detail"]


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"aud": "someone-else"}, "claims"),
        ({"aud": ["someone-else", "another"]}, "claims"),
        ({"iss": "https://evil.example.test"}, "claims"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"nonce": "not-the-nonce"}, "claims"),
        ({"nonce": DROP}, "claims"),
        ({"sub": DROP}, "claims"),
        ({"email": DROP}, "e-mail"),
        ({"email_verified": False}, "verified"),
    ],
    ids=["wrong-audience", "wrong-audience-list", "wrong-issuer", "expired", "wrong-nonce", "no-nonce", "no-sub", "no-email", "unverified"],
)
def test_invalid_id_token_is_401(claims: dict[str, Any], why: str, db: Database, anon: TestClient, provider: FakeProvider) -> None:
    _staff(db)
    body = _assert_problem(_sign_in(anon, provider, "sue@example.org", claims), 401)
    assert why in body["detail"]
    assert anon.cookies.get("casework_session") is None
    assert _audit(db, "auth.login.oidc") == []
    [failed] = _audit(db, "auth.login.failed")
    assert failed["why"].startswith("oidc:")


def test_bad_signature_is_401(db: Database, anon: TestClient, provider: FakeProvider, other_key: RSAKey) -> None:
    _staff(db)
    body = _assert_problem(_sign_in(anon, provider, "sue@example.org", sign_with=other_key), 401)
    assert "signature" in body["detail"]
    assert anon.cookies.get("casework_session") is None
    assert _audit(db, "auth.login.oidc") == []


def test_unsigned_token_is_401(db: Database, anon: TestClient, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    _staff(db)
    code, state = provider.authorize(_start(anon), "sue@example.org")
    real = provider.handler

    def strip_signature(request: httpx.Request) -> httpx.Response:
        resp = real(request)
        if request.url.path == "/token" and resp.status_code == 200:
            _header, claims, _sig = resp.json()["id_token"].split(".")
            none = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
            return httpx.Response(200, json={"id_token": f"{none}.{claims}."})
        return resp

    monkeypatch.setattr(oidc, "http_client_factory", lambda: httpx.Client(transport=httpx.MockTransport(strip_signature)))
    _assert_problem(anon.get(CALLBACK, params={"code": code, "state": state}), 401)
    assert _audit(db, "auth.login.oidc") == []


def test_customer_account_cannot_sign_in(db: Database, anon: TestClient, provider: FakeProvider) -> None:
    admin = users.system_principal(db)
    party = parties.create_party(db, admin, PartyCreate(name="Chloe Customer"))
    accounts.create_account(
        db, admin, accounts.AccountCreate(name="Chloe", email="chloe@example.org", role=Role.CUSTOMER, party_id=party.id)
    )
    _assert_problem(_sign_in(anon, provider, "chloe@example.org"), 401)
    assert anon.cookies.get("casework_session") is None
    assert _audit(db, "auth.login.oidc") == []
    [failed] = _audit(db, "auth.login.failed")
    assert failed["why"] == "oidc: not a staff account"


def test_third_party_account_cannot_sign_in(db: Database, anon: TestClient, provider: FakeProvider) -> None:
    admin = users.system_principal(db)
    accounts.create_account(db, admin, accounts.AccountCreate(name="Theo", email="theo@example.org", role=Role.THIRD_PARTY))
    _assert_problem(_sign_in(anon, provider, "theo@example.org"), 401)
    assert _audit(db, "auth.login.oidc") == []


def test_unknown_email_is_401_audited_and_creates_nothing(db: Database, anon: TestClient, provider: FakeProvider) -> None:
    resp = _sign_in(anon, provider, "stranger@example.org")
    _assert_problem(resp, 401)
    assert resp.headers["www-authenticate"].startswith("Bearer")
    [failed] = _audit(db, "auth.login.failed")
    assert failed["email"] == "stranger@example.org" and failed["why"] == "oidc: unknown account"
    admin = users.system_principal(db)
    assert all(a.email != "stranger@example.org" for a in accounts.list_accounts(db, admin))


def test_disabled_account_cannot_sign_in(db: Database, anon: TestClient, provider: FakeProvider) -> None:
    sue = _staff(db)
    accounts.update_account(db, users.system_principal(db), sue.id, accounts.AccountUpdate(is_active=False))
    _assert_problem(_sign_in(anon, provider, "sue@example.org"), 401)
    assert _audit(db, "auth.login.oidc") == []
    [failed] = _audit(db, "auth.login.failed")
    assert failed["why"] == "oidc: disabled"


def test_unreachable_provider_is_502(anon: TestClient, provider: FakeProvider) -> None:
    provider.down = True
    _assert_problem(anon.get(LOGIN, follow_redirects=False), 502)


def test_stale_flow_cookie_is_refused(db: Database, anon: TestClient, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    _staff(db)
    code, state = provider.authorize(_start(anon), "sue@example.org")
    monkeypatch.setattr(oidc, "FLOW_TTL", -1)  # any sign-in is now older than allowed
    body = _assert_problem(anon.get(CALLBACK, params={"code": code, "state": state}), 400)
    assert "too long" in body["detail"]
