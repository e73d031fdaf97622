"""Accounts and authentication through the services: password policy, lockout, tokens, sessions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from casework.domain.access import Role, Scope
from casework.domain.errors import DomainError, Forbidden, InvalidInput
from casework.domain.passwords import problems
from casework.services import accounts, auth
from casework.store.models import ApiToken, AuditEntry, User, WebSession
from casework.store.unit_of_work import Database

GOOD = "correct horse battery 42"


def make(db: Database, email: str = "ann@example.org", role: Role = Role.CASE_WORKER, **extra: object) -> accounts.AccountView:
    cmd = accounts.AccountCreate.model_validate({"name": "Ann", "email": email, "role": role, "password": GOOD, **extra})
    return accounts.create_account(db, None, cmd)


def test_password_policy_names_every_problem() -> None:
    assert problems("short") == ["must be at least 12 characters long"]
    assert "appears in a list of breached passwords" in problems("Password1234")
    assert "must not be the account's email address" in problems("ann.smith@bank.example", email="ann.smith@bank.example")
    assert "must use more than three distinct characters" in problems("aaaaaaaaaaaabbb")
    assert problems(GOOD) == []


def test_weak_password_refused_and_nothing_stored(db: Database) -> None:
    with pytest.raises(InvalidInput) as err:
        accounts.create_account(db, None, accounts.AccountCreate(name="Bob", email="bob@example.org", password="qwertyuiop123"))
    assert err.value.field == "password"
    with db.read() as s:
        assert s.scalars(select(User).where(User.email == "bob@example.org")).first() is None


def test_password_is_stored_as_argon2_hash(db: Database) -> None:
    make(db)
    with db.read() as s:
        stored = s.scalars(select(User.password_hash).where(User.email == "ann@example.org")).one()
    assert stored is not None and stored.startswith("$argon2") and GOOD not in stored


def test_login_success_and_teams_in_principal(db: Database) -> None:
    make(db, teams=["fraud", "kyc"])
    who = auth.login(db, "ANN@example.org ", GOOD, "127.0.0.1")
    assert who.role is Role.CASE_WORKER
    assert who.teams == frozenset({"fraud", "kyc"})


def test_failed_logins_are_audited_and_lock_the_account(db: Database) -> None:
    make(db)
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(auth.AuthenticationFailed):
            auth.login(db, "ann@example.org", "wrong password here", "10.0.0.9")
    # Locked now: even the right password is refused, with a message saying so.
    with pytest.raises(auth.AuthenticationFailed) as err:
        auth.login(db, "ann@example.org", GOOD, "10.0.0.9")
    assert "locked" in err.value.message
    with db.read() as s:
        failed = s.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login.failed")).all()
    assert len(failed) == auth.MAX_FAILURES + 1
    assert failed[0].data["client"] == "10.0.0.9"
    # Once the lock has expired the right password works again.
    with db.write() as s:
        s.execute(update(User).values(locked_until=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
    assert auth.login(db, "ann@example.org", GOOD).role is Role.CASE_WORKER


def test_unknown_account_login_is_audited(db: Database) -> None:
    with pytest.raises(auth.AuthenticationFailed):
        auth.login(db, "nobody@example.org", GOOD)
    with db.read() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login.failed")).one()
    assert entry.data["email"] == "nobody@example.org"


def test_disabled_account_cannot_sign_in_or_use_tokens(db: Database) -> None:
    admin = accounts.create_account(db, None, accounts.AccountCreate(name="Root", email="root@example.org", role=Role.ADMINISTRATOR))
    ann = make(db)
    who = auth.login(db, "ann@example.org", GOOD)
    token = auth.create_token(db, who, "ci", Scope.READ)
    admin_p = auth.load_principal(db, admin.id)
    accounts.update_account(db, admin_p, ann.id, accounts.AccountUpdate(is_active=False))
    with pytest.raises(auth.AuthenticationFailed):
        auth.login(db, "ann@example.org", GOOD)
    with pytest.raises(auth.AuthenticationFailed):
        auth.principal_from_token(db, token.token)
    # History survives: the account row is still there, only disabled.
    assert accounts.get_account(db, admin_p, str(ann.id)).disabled_at is not None


def test_token_is_shown_once_stored_hashed_scoped_and_revocable(db: Database) -> None:
    make(db)
    who = auth.login(db, "ann@example.org", GOOD)
    new = auth.create_token(db, who, "reporting", Scope.READ, expires_in_days=30)
    assert new.token.startswith("cwt_")
    with db.read() as s:
        row = s.scalars(select(ApiToken)).one()
    assert row.token_hash == auth.digest(new.token) and new.token not in row.token_hash
    assert "token" not in auth.list_tokens(db, who)[0].model_dump()
    p = auth.principal_from_token(db, new.token)
    assert p.scope is Scope.READ and p.user_id == who.user_id
    auth.revoke_token(db, who, new.id)
    with pytest.raises(auth.AuthenticationFailed) as err:
        auth.principal_from_token(db, new.token)
    assert "revoked" in err.value.message


def test_expired_token_is_refused(db: Database) -> None:
    make(db)
    who = auth.login(db, "ann@example.org", GOOD)
    new = auth.create_token(db, who, "old", Scope.WRITE)
    with db.write() as s:
        s.execute(update(ApiToken).values(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    with pytest.raises(auth.AuthenticationFailed) as err:
        auth.principal_from_token(db, new.token)
    assert "expired" in err.value.message


def test_sessions_open_resolve_and_close(db: Database) -> None:
    make(db)
    who = auth.login(db, "ann@example.org", GOOD)
    sess = auth.open_session(db, who, "127.0.0.1")
    p, csrf = auth.principal_from_session(db, sess.cookie)
    assert p.user_id == who.user_id and csrf == sess.csrf_token
    with db.read() as s:
        assert s.get(WebSession, sess.cookie) is None  # only the digest is stored
    auth.close_session(db, sess.cookie)
    with pytest.raises(auth.AuthenticationFailed):
        auth.principal_from_session(db, sess.cookie)


def test_customer_account_needs_a_party(db: Database) -> None:
    with pytest.raises(DomainError) as err:
        accounts.create_account(db, None, accounts.AccountCreate(name="Cy", email="cy@example.org", role=Role.CUSTOMER))
    assert err.value.field == "party_id"


def test_only_administrators_manage_accounts(db: Database) -> None:
    make(db)
    worker = auth.login(db, "ann@example.org", GOOD)
    with pytest.raises(Forbidden):
        accounts.create_account(db, worker, accounts.AccountCreate(name="Eve", email="eve@example.org", role=Role.ADMINISTRATOR))


def test_password_spaces_are_kept_so_the_same_text_signs_in(db: Database) -> None:
    accounts.create_account(db, None, accounts.AccountCreate(name="Sam", email="sam@example.org", password="  padded passphrase 7  "))
    assert auth.login(db, "sam@example.org", "  padded passphrase 7  ").role is Role.CASE_WORKER
    with pytest.raises(auth.AuthenticationFailed):
        auth.login(db, "sam@example.org", "padded passphrase 7")
