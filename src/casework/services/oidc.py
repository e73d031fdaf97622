"""OpenID Connect sign-in for staff (authorization code flow with PKCE).

Optional: it is enabled by setting CASEWORK_OIDC_ISSUER, CASEWORK_OIDC_CLIENT_ID,
CASEWORK_OIDC_CLIENT_SECRET and CASEWORK_OIDC_REDIRECT_URL. The provider only vouches for an
e-mail address; the address must belong to an existing, active staff account. Accounts are
never created here, and customer or third-party accounts cannot sign in this way.

The per-sign-in secrets (state, nonce, PKCE verifier) travel in a short-lived cookie signed
with HMAC-SHA256 under CASEWORK_SECRET_KEY (a random per-process key when unset, which means
a sign-in started before a restart, or on another worker, must be started again).

Every call to the provider goes through ``http_client_factory`` so tests can replace it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote_plus, urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select

from casework.audit import log as audit
from casework.domain.access import STAFF, Principal, Role
from casework.domain.errors import DomainError, NotFound, Unauthenticated
from casework.services.auth import principal_for
from casework.store.models import User
from casework.store.unit_of_work import Database

FLOW_TTL = 600  # seconds a started sign-in stays valid
LEEWAY = 60  # seconds of clock skew tolerated on exp/iat
#: Asymmetric algorithms only: never "none", and no HS* (which would make the client secret a signing key).
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
NOT_CONFIGURED = "OpenID Connect sign-in is not configured"


def _default_client() -> httpx.Client:
    return httpx.Client(timeout=10.0, follow_redirects=False)


#: Builds the HTTP client used for discovery, JWKS and the token endpoint; tests replace it.
http_client_factory: Callable[[], httpx.Client] = _default_client

_PROCESS_KEY = secrets.token_bytes(32)


class BadFlow(DomainError):
    """The callback does not belong to a sign-in this browser started (missing, forged or stale state)."""

    status = 400
    title = "Bad request"


class ProviderUnavailable(DomainError):
    """The identity provider could not be reached or answered nonsense."""

    status = 502
    title = "Bad gateway"


class _Refused(Exception):
    """A reason to refuse the sign-in; audited, then answered 401."""


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    redirect_url: str

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> OidcConfig | None:
        """The configuration, or None when OpenID Connect sign-in is not set up."""
        source = os.environ if env is None else env
        values = [
            source.get(name, "").strip()
            for name in ("CASEWORK_OIDC_ISSUER", "CASEWORK_OIDC_CLIENT_ID", "CASEWORK_OIDC_CLIENT_SECRET", "CASEWORK_OIDC_REDIRECT_URL")
        ]
        if not all(values):
            return None
        issuer, client_id, client_secret, redirect_url = values
        return cls(issuer=issuer.rstrip("/"), client_id=client_id, client_secret=client_secret, redirect_url=redirect_url)


def require_config() -> OidcConfig:
    cfg = OidcConfig.from_env()
    if cfg is None:
        raise NotFound(NOT_CONFIGURED)
    return cfg


# ---------------------------------------------------------------- the signed flow cookie


@dataclass(frozen=True)
class Flow:
    state: str
    nonce: str
    verifier: str
    issued_at: int


def _secret_key() -> bytes:
    configured = os.environ.get("CASEWORK_SECRET_KEY", "")
    return configured.encode() if configured else _PROCESS_KEY


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: str) -> str:
    return _b64(hmac.new(_secret_key(), b"casework-oidc-flow:" + payload.encode(), hashlib.sha256).digest())


def seal(flow: Flow) -> str:
    payload = _b64(json.dumps({"s": flow.state, "n": flow.nonce, "v": flow.verifier, "t": flow.issued_at}).encode())
    return f"{payload}.{_mac(payload)}"


def unseal(value: str | None) -> Flow:
    """The flow a cookie describes; BadFlow when it is missing, tampered with or too old."""
    if not value or len(value) > 1000 or not value.isascii() or value.count(".") != 1:
        raise BadFlow("no sign-in is in progress in this browser; start again", field="state")
    payload, mac = value.split(".")
    if not hmac.compare_digest(mac.encode(), _mac(payload).encode()):
        raise BadFlow("the sign-in cookie is not valid; start again", field="state")
    try:
        data = json.loads(_unb64(payload))
        flow = Flow(state=str(data["s"]), nonce=str(data["n"]), verifier=str(data["v"]), issued_at=int(data["t"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise BadFlow("the sign-in cookie is not valid; start again", field="state") from exc
    if not 0 <= time.time() - flow.issued_at <= FLOW_TTL:
        raise BadFlow("the sign-in took too long; start again", field="state")
    return flow


# ---------------------------------------------------------------- talking to the provider


def _get_json(client: httpx.Client, url: str, what: str) -> dict[str, Any]:
    try:
        resp = client.get(url, headers={"Accept": "application/json"})
        resp.raise_for_status()
        data = resp.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderUnavailable(f"could not read the identity provider's {what}") from exc
    if not isinstance(data, dict):
        raise ProviderUnavailable(f"the identity provider's {what} is not a JSON object")
    return data


def discover(cfg: OidcConfig, client: httpx.Client) -> dict[str, Any]:
    meta = _get_json(client, cfg.issuer + "/.well-known/openid-configuration", "discovery document")
    if str(meta.get("issuer", "")).rstrip("/") != cfg.issuer:  # OpenID Connect Discovery §4.3
        raise ProviderUnavailable("the discovery document names a different issuer")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(meta.get(key), str) or not meta[key]:
            raise ProviderUnavailable(f"the discovery document lacks {key}")
    return meta


def start(cfg: OidcConfig) -> tuple[str, Flow]:
    """The provider URL to send the browser to, and the flow to remember in the signed cookie."""
    flow = Flow(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        verifier=secrets.token_urlsafe(48),  # 64 characters, within RFC 7636's 43..128
        issued_at=int(time.time()),
    )
    with http_client_factory() as client:
        meta = discover(cfg, client)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": cfg.client_id,
            "redirect_uri": cfg.redirect_url,
            "scope": "openid email profile",
            "state": flow.state,
            "nonce": flow.nonce,
            "code_challenge": create_s256_code_challenge(flow.verifier),
            "code_challenge_method": "S256",
        }
    )
    endpoint = meta["authorization_endpoint"]
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}", flow


def _exchange(cfg: OidcConfig, client: httpx.Client, meta: dict[str, Any], code: str, flow: Flow) -> str:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": cfg.redirect_url, "code_verifier": flow.verifier}
    methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    headers = {"Accept": "application/json"}
    if "client_secret_basic" in methods:
        # RFC 6749 §2.3.1: both parts are form-encoded before they are joined and base64-encoded.
        pair = f"{quote_plus(cfg.client_id)}:{quote_plus(cfg.client_secret)}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    else:
        form |= {"client_id": cfg.client_id, "client_secret": cfg.client_secret}
    try:
        resp = client.post(meta["token_endpoint"], data=form, headers=headers)
    except httpx.HTTPError as exc:
        raise ProviderUnavailable("could not reach the identity provider's token endpoint") from exc
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if resp.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
        error = body.get("error", f"HTTP {resp.status_code}") if isinstance(body, dict) else f"HTTP {resp.status_code}"
        raise _Refused(f"the identity provider refused the code ({str(error)[:100]})")
    return str(body["id_token"])


def verify_id_token(cfg: OidcConfig, meta: dict[str, Any], jwks: dict[str, Any], id_token: str, nonce: str) -> dict[str, Any]:
    """The verified claims: signature against the provider's keys, then iss, aud, exp, iat and nonce."""
    offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in offered if a in ALLOWED_ALGORITHMS] or ["RS256"]
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        token = jwt.decode(id_token, keys, algorithms=algorithms)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise _Refused(f"the ID token's signature is not valid ({type(exc).__name__})") from exc
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY,
        iss={"essential": True, "value": cfg.issuer},
        aud={"essential": True, "value": cfg.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise _Refused("the ID token has expired") from exc
    except JoseError as exc:
        raise _Refused(f"the ID token's claims are not valid ({exc.description or type(exc).__name__})") from exc
    aud = claims["aud"]
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != cfg.client_id:  # OpenID Connect Core §3.1.3.7
        raise _Refused("the ID token was issued to another party (azp)")
    return claims


def finish(db: Database, cfg: OidcConfig, flow: Flow, code: str, state: str, client_ip: str | None = None) -> Principal:
    """Complete a sign-in: check the state, exchange the code, verify the ID token, find the staff account."""
    if not hmac.compare_digest(state.encode(), flow.state.encode()):
        raise BadFlow("the state does not match the sign-in started in this browser; start again", field="state")
    email: str | None = None
    subject: str | None = None
    try:
        with http_client_factory() as client:
            meta = discover(cfg, client)
            id_token = _exchange(cfg, client, meta, code, flow)
            jwks = _get_json(client, meta["jwks_uri"], "signing keys")
        claims = verify_id_token(cfg, meta, jwks, id_token, flow.nonce)
        subject = str(claims["sub"])
        raw = claims.get("email")
        if not isinstance(raw, str) or not raw.strip():
            raise _Refused("the ID token carries no e-mail address")
        email = raw.strip().lower()[:320]
        if claims.get("email_verified") is False:
            raise _Refused("the identity provider has not verified the e-mail address")
    except _Refused as refused:
        _fail(db, str(refused), email=email, subject=subject, client=client_ip)
    assert email is not None
    return _sign_in(db, cfg, email, subject, client_ip)


def _sign_in(db: Database, cfg: OidcConfig, email: str, subject: str | None, client_ip: str | None) -> Principal:
    why: str
    with db.write() as s:
        user = s.scalars(select(User).where(User.email == email)).first()
        if user is None:
            why = "unknown account"
        elif not user.is_active:
            why = "disabled"
        elif Role(user.role) not in STAFF:
            why = "not a staff account"
        else:
            audit.append(
                s, actor_id=user.id, action="auth.login.oidc", data={"client": client_ip, "issuer": cfg.issuer, "subject": subject}
            )
            return principal_for(s, user)
        audit.append(
            s,
            actor_id=user.id if user is not None else None,
            action="auth.login.failed",
            data={"email": email, "client": client_ip, "why": f"oidc: {why}", "issuer": cfg.issuer, "subject": subject},
        )
    raise Unauthenticated("no staff account may sign in with this identity", field="email")


def _fail(db: Database, why: str, *, email: str | None, subject: str | None, client: str | None) -> NoReturn:
    with db.write() as s:
        audit.append(
            s, actor_id=None, action="auth.login.failed", data={"email": email, "client": client, "why": f"oidc: {why}", "subject": subject}
        )
    raise Unauthenticated(f"OpenID Connect sign-in failed: {why}", field="id_token")
