"""The command line, run in-process with Typer's CliRunner against the test databases.

Every test that touches a database runs on SQLite and, when CASEWORK_TEST_POSTGRES_URL is
set, on PostgreSQL too (``db`` is requested so PostgreSQL tables start empty).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from casework.cli import main
from casework.demo import CUSTOMERS, DEMO_PASSWORD, STAFF, TEAMS, THIRD_PARTY
from casework.domain.access import Role, Scope
from casework.domain.errors import Unauthenticated
from casework.services import auth, cases, users
from casework.store.unit_of_work import Database
from tests.cli_support import Run, invoke, one_error_line
from tests.factories import CASE_DATA, satisfy_exit


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its production cost takes a good fraction of a second per hash; the demo hashes a dozen."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def _json(result: Result) -> Any:
    return json.loads(result.stdout)


def _data(case_type: str, **fields: Any) -> tuple[str, str]:
    """The --data option with the custom fields ``case_type`` requires (``fields`` on top)."""
    return "--data", json.dumps({**CASE_DATA[case_type], **fields})


def _create(cli: Run, *extra: str, title: str = "Card charged twice at QuickMart Online", case_type: str = "disputed_transaction") -> str:
    """A case with valid custom data. A disputed transaction is screened automatically: it opens in assessment.
    A complaint's screening only recommends, so a complaint stays in screening."""
    data = () if "--data" in extra else _data(case_type)
    ref = cli("cases", "create", "--type", case_type, "--title", title, *data, *extra).stdout.strip()
    assert ref.startswith("CASE-")
    return ref


# ---------------------------------------------------------------- db upgrade


def test_db_upgrade_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    missing = invoke(url, "cases", "list", expect=1)
    assert "casework db upgrade" in one_error_line(missing)

    result = invoke(url, "db", "upgrade")
    assert "revision" in result.stdout and "(head)" in result.stdout
    assert invoke(url, "db", "upgrade").exit_code == 0  # idempotent
    assert "no cases match" in invoke(url, "cases", "list").stdout


def test_bad_database_url_is_one_line(tmp_path: Path) -> None:
    assert "database-url" in one_error_line(invoke("not a url", "cases", "list", expect=2))


# ---------------------------------------------------------------- create, list, show


def test_create_list_and_show(cli: Run) -> None:
    cli("users", "create", "--name", "Mei Chen", "--email", "mei@example.org")
    assert "mei@example.org" in cli("users", "list").stdout
    customer = cli("parties", "create", "--name", "Diego Khan", "--email", "diego@example.org").stdout.strip()

    ref = _create(
        cli, "--priority", "P1", "--risk", "90", "--customer", customer, "--assignee", "mei@example.org",
        "--team", "Fraud & Disputes", "--due", "2030-01-31", *_data("disputed_transaction", amount=120.5, currency="GBP"),
    )  # fmt: skip
    other = cli("cases", "create", "--type", "complaint", "--title", "Poor service at branch", *_data("complaint"), "--json")
    assert _json(other)["priority"] == "P3"

    page = _json(cli("cases", "list", "--json"))
    assert [c["reference"] for c in page["items"]] == [_json(other)["reference"], ref]
    assert page["next_cursor"] is None

    table = cli("cases", "list").stdout
    assert ref in table and "Card charged twice at QuickMart Online" in table and "Mei Chen" in table

    only = _json(cli("cases", "list", "--type", "disputed_transaction", "--assignee", "mei@example.org", "--json"))
    assert [c["reference"] for c in only["items"]] == [ref]
    assert _json(cli("cases", "list", "--q", "quickmart", "--json"))["items"][0]["reference"] == ref
    assert _json(cli("cases", "list", "--priority", "P4", "--json"))["items"] == []

    first = cli("cases", "list", "--limit", "1")
    cursor = first.stdout.strip().splitlines()[-1].removeprefix("next cursor: ")
    rest = _json(cli("cases", "list", "--limit", "1", "--cursor", cursor, "--json"))
    assert [c["reference"] for c in rest["items"]] == [ref]

    shown = _json(cli("cases", "show", ref, "--json"))
    case = shown["case"]
    assert (case["priority"], case["risk_score"], case["team"], case["due_date"]) == ("P1", 90, "Fraud & Disputes", "2030-01-31")
    assert case["custom_data"] == {"transaction_kind": "card_charge", "amount": 120.5, "currency": "GBP", "account_type": "current"}
    assert [(p["role"], p["party"]["name"]) for p in shown["parties"]] == [("customer", "Diego Khan")]
    # The automatic screening of a disputed transaction opened it for investigation at once.
    assert [p["to_phase"] for p in shown["phases"]] == ["screening", "assessment"]

    text = cli("cases", "show", ref).stdout
    for expected in (ref, "Card charged twice", "Diego Khan", "Phase history", "opened in screening", "Mei Chen"):
        assert expected in text
    assert cli("cases", "show", case["id"], "--json").stdout == cli("cases", "show", ref, "--json").stdout


def test_update_with_version(cli: Run) -> None:
    ref = _create(cli, "--risk", "40", "--due", "2030-01-01")
    assert "updated (version 2)" in cli("cases", "update", ref, "--version", "1", "--title", "Card charged three times",
                                        "--priority", "P2").stdout  # fmt: skip
    stale = cli("cases", "update", ref, "--version", "1", "--title", "Lost update", expect=2)
    assert one_error_line(stale).startswith("error: version: version 1 is stale")
    cli("cases", "update", ref, "--version", "2", "--risk", "none", "--due", "none")
    case = _json(cli("cases", "show", ref, "--json"))["case"]
    assert (case["title"], case["priority"], case["risk_score"], case["due_date"], case["version"]) == (
        "Card charged three times", "P2", None, None, 3,
    )  # fmt: skip
    assert "nothing to change" in one_error_line(cli("cases", "update", ref, "--version", "3", expect=2))


# ---------------------------------------------------------------- lifecycle


def test_full_lifecycle_by_cli(cli: Run, db: Database) -> None:
    ref = _create(cli)
    system = users.system_principal(db)
    # The first step, screening → assessment, is the automatic screening's (a disputed card charge over 50 is opened).
    steps: list[tuple[str, ...]] = [
        ("risk",), ("planning",), ("implementation",), ("follow_up",),
        ("planning", "--reason", "Merchant rejected the chargeback"), ("implementation",), ("follow_up",),
        ("evaluation",), ("closed", "--outcome", "refunded"),
    ]  # fmt: skip
    for phase, *options in steps:
        current = cases.get_case(db, system, ref)
        if current.phase.value == "assessment":  # the questionnaire the type asks for before leaving assessment
            answered = {
                "recognises": "not_at_all",
                "card_in_possession": True,
                "shared_credentials": False,
                "contacted_by_fraudster": False,
            }
            assert "(complete)" in cli("answers", "set", ref, "dispute_details", "--data", json.dumps(answered)).stdout
        if current.phase.value == "implementation":  # every task of the plan done (the CLI has no task commands)
            satisfy_exit(db, system, current)
        out = cli("cases", "move", ref, phase, *options).stdout
        assert f"→ {phase}" in out

    shown = _json(cli("cases", "show", ref, "--json"))
    case = shown["case"]
    assert (case["status"], case["phase"], case["outcome"]) == ("closed", "closed", "refunded")
    assert case["closed_at"] is not None
    kinds = [p["kind"] for p in shown["phases"]]
    assert kinds == ["open"] + ["forward"] * 5 + ["return"] + ["forward"] * 3 + ["close"]
    assert shown["phases"][6]["reason"] == "Merchant rejected the chargeback"

    entries = _json(cli("cases", "history", ref, "--json"))
    assert [e["action"] for e in entries].count("case.transition") == len(steps) + 1  # + the screening's move
    assert "case.transition" in cli("cases", "history", ref).stdout

    reopened = cli("cases", "move", ref, "assessment", "--reason", "Customer sent new evidence").stdout
    assert "(reopen)" in reopened
    assert _json(cli("cases", "show", ref, "--json"))["case"]["status"] == "open"


def test_bad_transition_is_one_line_naming_the_allowed_moves(cli: Run) -> None:
    ref = _create(cli, case_type="complaint")
    line = one_error_line(cli("cases", "move", ref, "planning", expect=2))
    assert line.startswith("error: phase: cannot move from screening to planning")
    assert line.endswith("allowed transitions: assessment, closed")

    close = one_error_line(cli("cases", "move", ref, "closed", expect=2))
    assert close == "error: outcome: closing a case requires an outcome"
    unknown = one_error_line(cli("cases", "move", ref, "nowhere", expect=2))
    assert "nowhere" in unknown and "screening" in unknown


def test_return_without_reason_is_refused(cli: Run) -> None:
    ref = _create(cli, case_type="complaint")
    cli("cases", "move", ref, "assessment")
    line = one_error_line(cli("cases", "move", ref, "screening", expect=2))
    assert line == "error: reason: returning from assessment to screening requires a reason"
    assert _json(cli("cases", "show", ref, "--json"))["case"]["phase"] == "assessment"


# ---------------------------------------------------------------- user errors


COMPLAINT = ["--type", "complaint", *_data("complaint")]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([*COMPLAINT, "--title", ""], "error: title: String should have at least 1 character"),
        ([*COMPLAINT, "--title", "x", "--priority", "P9"], "'--priority'"),
        (
            ["--type", "parking_ticket", "--title", "x"],
            "error: type: unknown case type 'parking_ticket'; known case types: "
            "complaint, disputed_transaction, onboarding, support_ticket",
        ),
        (["--type", "complaint", "--title", "x", "--data", "{nope"], "error: data: not valid JSON"),
        (["--type", "complaint", "--title", "x", "--data", "[1, 2]"], "error: data: must be a JSON object"),
        ([*COMPLAINT, "--title", "x", "--due", "2030-02-30"], "error: due: "),
        ([*COMPLAINT, "--title", "x", "--risk", "101"], "error: risk: Input should be less than or equal to 100"),
        ([*COMPLAINT, "--title", "x", "--customer", "not-a-uuid"], "error: customer: "),
        ([*COMPLAINT, "--title", "x", "--assignee", "ghost@example.org"], "error: assignee: no user"),
        (["--title", "x"], "Missing option '--type'"),
        # The case type's custom fields: required ones, unknown keys, allowed values.
        (["--type", "complaint", "--title", "x"], "channel: is required"),
        (["--type", "complaint", "--title", "x", "--data", '{"channel": "email"}'], "product: is required"),
        (["--type", "complaint", "--title", "x", *_data("complaint", colour="red")], "colour: is not a field of this case type"),
        (["--type", "complaint", "--title", "x", *_data("complaint", channel="pigeon")], "channel: must be one of: "),
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(cli: Run, args: list[str], expected: str) -> None:
    line = one_error_line(cli("cases", "create", *args, expect=2))
    assert expected in line
    assert _json(cli("cases", "list", "--json"))["items"] == []


def test_other_user_errors(cli: Run) -> None:
    assert one_error_line(cli("cases", "show", "CASE-2026-999999", expect=2)) == "error: case: case CASE-2026-999999 not found"
    ghost = cli("--as", "ghost@example.org", "cases", "create", *COMPLAINT, "--title", "x", expect=2)
    assert "error: as: no account with email ghost@example.org" in one_error_line(ghost)
    assert "cursor" in one_error_line(cli("cases", "list", "--cursor", "garbage", expect=2))
    assert "No such command" in one_error_line(cli("cases", "frobnicate", expect=2))
    cli("users", "create", "--name", "Ann", "--email", "ann@example.org")
    assert "already exists" in one_error_line(cli("users", "create", "--name", "Ann", "--email", "ann@example.org", expect=2))
    assert "error: email: " in one_error_line(cli("users", "create", "--name", "Bob", "--email", "bob", expect=2))


# ---------------------------------------------------------------- notes, acting user, audit


def test_notes_acting_user_and_history(cli: Run) -> None:
    user = _json(cli("users", "create", "--name", "Sofia Marquez", "--email", "sofia@example.org", "--team", "fraud", "--json"))
    assert (user["role"], user["teams"]) == ("case_worker", ["fraud"])
    ref = _create(cli, "--team", "fraud")
    intake = len(_json(cli("cases", "history", ref, "--json")))  # case.create, the screening decision and its move
    assert "shared note added" in cli("--as", "sofia@example.org", "cases", "note", ref, "We are on it [really]", "--shared").stdout
    cli("cases", "note", ref, "Internal only")

    notes = _json(cli("cases", "show", ref, "--json"))["notes"]
    assert [(n["body"], n["visibility"], n["author_id"] == user["id"]) for n in notes] == [
        ("We are on it [really]", "shared", True), ("Internal only", "internal", False),
    ]  # fmt: skip
    assert "We are on it [really]" in cli("cases", "show", ref).stdout  # user text is not Rich markup

    entries = _json(cli("cases", "history", ref, "--json"))
    assert entries[0]["action"] == "case.create"
    assert [e["action"] for e in entries[intake:]] == ["note.add", "note.add"]
    assert entries[intake]["actor_id"] == user["id"]
    # Reading a case is audited too, naming the CLI as the client.
    reads = [e for e in _json(cli("cases", "history", ref, "--access", "--json")) if e["action"].startswith("access.")]
    assert reads and all(e["data"]["client"] == "cli" for e in reads)


def test_audit_verify(cli: Run) -> None:
    ref = _create(cli, case_type="complaint")
    cli("cases", "move", ref, "assessment")
    result = cli("audit", "verify")
    assert result.stdout.strip().startswith("audit chain intact: ")
    assert result.stdout.strip().endswith(" entries verified")
    report = _json(cli("audit", "verify", "--json"))
    assert report["ok"] is True and report["checked"] >= 3


# ---------------------------------------------------------------- accounts and tokens

PASSWORD = "plum-orchard-lantern-7"


def _account(cli: Run, email: str) -> dict[str, Any]:
    found = [u for u in _json(cli("users", "list", "--json")) if u["email"] == email]
    assert len(found) == 1, found
    return found[0]


def test_first_administrator_with_password_from_stdin(cli: Run, db: Database) -> None:
    created = cli("users", "create", "--name", "Ada Admin", "--email", "Ada@Example.org", "--role", "administrator",
                  "--password-stdin", input=PASSWORD + "\n")  # fmt: skip
    assert created.stdout.startswith("created account ada@example.org (administrator)")
    who = auth.login(db, "ada@example.org", PASSWORD)
    assert who.role is Role.ADMINISTRATOR
    # The new administrator can now manage accounts in their own name.
    cli("--as", "ada@example.org", "users", "create", "--name", "Ben Worker", "--email", "ben@example.org",
        "--team", "fraud", "--team", "support")  # fmt: skip
    ben = _account(cli, "ben@example.org")
    assert (ben["role"], ben["teams"], ben["is_active"]) == ("case_worker", ["fraud", "support"], True)
    table = cli("users", "list").stdout
    for expected in ("Ada Admin", "ada@example.org", "administrator", "Ben Worker", "fraud, support", "yes"):
        assert expected in table


def test_password_prompt_is_hidden_and_confirmed(cli: Run, db: Database) -> None:
    result = cli("users", "create", "--name", "Cy", "--email", "cy@example.org", "--password", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert PASSWORD not in result.output
    assert auth.login(db, "cy@example.org", PASSWORD).user_id
    both = cli("users", "create", "--name", "Di", "--email", "di@example.org", "--password", "--password-stdin", expect=2)
    assert "error: password: " in one_error_line(both)


@pytest.mark.parametrize("weak", ["short", "correcthorsebatterystaple", "aaaaaaaaaaaaaaaa", "weak@example.org"])
def test_weak_password_is_refused_in_one_line(cli: Run, weak: str) -> None:
    result = cli("users", "create", "--name", "Weak", "--email", "weak@example.org", "--password-stdin", input=weak + "\n", expect=2)
    assert one_error_line(result).startswith("error: password: password ")
    assert "weak@example.org" not in cli("users", "list").stdout  # nothing created

    cli("users", "create", "--name", "Weak", "--email", "weak@example.org")
    refused = cli("users", "set-password", "weak@example.org", "--password-stdin", input=weak, expect=2)
    assert one_error_line(refused).startswith("error: password: password ")
    empty = cli("users", "set-password", "weak@example.org", "--password-stdin", input="", expect=2)
    assert one_error_line(empty) == "error: password: no password on standard input"


def test_disable_and_enable(cli: Run, db: Database) -> None:
    cli("users", "create", "--name", "Eve", "--email", "eve@example.org", "--password-stdin", input=PASSWORD)
    token = cli("tokens", "create", "--as", "eve@example.org", "--name", "laptop").stdout.strip()
    assert auth.login(db, "eve@example.org", PASSWORD).user_id == auth.principal_from_token(db, token).user_id

    assert "disabled eve@example.org (case_worker, disabled)" in cli("users", "disable", "eve@example.org").stdout
    assert _account(cli, "eve@example.org")["is_active"] is False
    with pytest.raises(Unauthenticated):
        auth.login(db, "eve@example.org", PASSWORD)
    with pytest.raises(Unauthenticated):
        auth.principal_from_token(db, token)
    acting = cli("--as", "eve@example.org", "cases", "list", expect=2)
    assert one_error_line(acting).startswith("error: as: ")

    cli("users", "enable", "eve@example.org")
    assert auth.login(db, "eve@example.org", PASSWORD).user_id
    assert auth.principal_from_token(db, token).user_id

    cli("users", "set-password", "eve@example.org", "--password-stdin", input="another-long-passphrase\n")
    with pytest.raises(Unauthenticated):
        auth.login(db, "eve@example.org", PASSWORD)
    assert auth.login(db, "eve@example.org", "another-long-passphrase").user_id

    ghost = one_error_line(cli("users", "disable", "ghost@example.org", expect=2))
    assert ghost == "error: email: no user with email or id 'ghost@example.org'"
    assert "Password" not in cli("users", "set-password", "ghost@example.org", expect=2).output  # no prompt for nobody
    itself = one_error_line(cli("users", "disable", "system@casework.local", expect=2))
    assert itself == "error: active: you cannot disable your own account"


def test_set_role_and_teams(cli: Run, db: Database) -> None:
    cli("users", "create", "--name", "Fay", "--email", "fay@example.org", "--password-stdin", input=PASSWORD)
    assert "updated fay@example.org (supervisor)" in cli("users", "set-role", "fay@example.org", "SUPERVISOR").stdout
    assert auth.login(db, "fay@example.org", PASSWORD).role is Role.SUPERVISOR
    bad_role = one_error_line(cli("users", "set-role", "fay@example.org", "overlord", expect=2))
    assert "'role'" in bad_role and "'overlord' is not one of" in bad_role
    customer = one_error_line(cli("users", "set-role", "fay@example.org", "customer", expect=2))
    assert customer == "error: party: a customer account must be linked to its party"
    assert _account(cli, "fay@example.org")["role"] == "supervisor"

    cli("users", "set-teams", "fay@example.org", "--team", "support", "--team", "complaints")
    assert _account(cli, "fay@example.org")["teams"] == ["complaints", "support"]
    assert auth.login(db, "fay@example.org", PASSWORD).teams == {"complaints", "support"}
    cli("users", "set-teams", "fay@example.org", "--none")
    assert _account(cli, "fay@example.org")["teams"] == []
    assert "error: team: " in one_error_line(cli("users", "set-teams", "fay@example.org", expect=2))

    # A case worker may not manage accounts.
    cli("users", "create", "--name", "Gus", "--email", "gus@example.org")
    refused = one_error_line(cli("--as", "gus@example.org", "users", "set-role", "fay@example.org", "administrator", expect=2))
    assert refused == "error: your role (case_worker, write access) may not user.manage"


def test_tokens_create_list_and_revoke(cli: Run, db: Database) -> None:
    user = _json(cli("users", "create", "--name", "Hal", "--email", "hal@example.org", "--team", "fraud", "--json"))
    result = cli("tokens", "create", "--as", "hal@example.org", "--name", "nightly export", "--scope", "write", "--days", "30")
    token = result.stdout.strip()
    assert token.startswith("cwt_") and len(result.stdout.splitlines()) == 1
    assert "not shown again" in result.stderr
    who = auth.principal_from_token(db, token)
    assert (who.user_id, who.role, who.scope, who.teams) == (uuid.UUID(user["id"]), Role.CASE_WORKER, Scope.WRITE, {"fraud"})

    read = _json(cli("--as", "hal@example.org", "tokens", "create", "--name", "dashboard", "--json"))
    assert read["scope"] == "read" and auth.principal_from_token(db, read["token"]).scope is Scope.READ

    listed = _json(cli("tokens", "list", "--as", "hal@example.org", "--json"))
    assert [(t["name"], t["scope"], t["revoked_at"]) for t in listed] == [("nightly export", "write", None), ("dashboard", "read", None)]
    assert listed[0]["prefix"] == token[:12] and "token" not in listed[0]
    table = cli("tokens", "list", "--as", "hal@example.org").stdout
    assert "nightly export" in table and "active" in table and token not in table

    assert "revoked" in cli("tokens", "revoke", "--as", "hal@example.org", listed[0]["id"]).stdout
    with pytest.raises(Unauthenticated):
        auth.principal_from_token(db, token)
    assert "revoked" in cli("tokens", "list", "--as", "hal@example.org").stdout

    assert "error: as: " in one_error_line(cli("tokens", "list", expect=2))
    assert "error: token: not a token id" in one_error_line(cli("tokens", "revoke", "--as", "hal@example.org", "nope", expect=2))
    other = one_error_line(cli("tokens", "revoke", "--as", "hal@example.org", str(uuid.uuid4()), expect=2))
    assert other.startswith("error: token: token ") and other.endswith(" not found")
    assert "'--days'" in one_error_line(cli("tokens", "create", "--as", "hal@example.org", "--name", "x", "--days", "0", expect=2))


def test_acting_as_a_customer(cli: Run) -> None:
    party = cli("parties", "create", "--name", "Ivy Jones", "--email", "ivy@mail.example").stdout.strip()
    cli("users", "create", "--name", "Ivy Jones", "--email", "ivy@mail.example", "--role", "customer", "--party", party)
    mine = _create(cli, "--customer", party, "--risk", "70")
    cli("cases", "note", mine, "Internal assessment: likely fraud")
    cli("cases", "note", mine, "We are looking into it", "--shared")
    other = _create(cli, title="Someone else's case")

    refused = cli("--as", "ivy@mail.example", "cases", "create", *COMPLAINT, "--title", "x", expect=2)
    assert one_error_line(refused) == "error: your role (customer, write access) may not case.create"

    listed = _json(cli("--as", "ivy@mail.example", "cases", "list", "--json"))["items"]
    assert [c["reference"] for c in listed] == [mine]
    assert listed[0]["risk_score"] is None  # the institution's assessment stays internal
    shown = _json(cli("--as", "ivy@mail.example", "cases", "show", mine, "--json"))
    assert [n["body"] for n in shown["notes"]] == ["We are looking into it"]
    assert shown["parties"] == []  # customers may not read party records
    text = cli("--as", "ivy@mail.example", "cases", "show", mine).stdout
    assert "We are looking into it" in text and "likely fraud" not in text

    hidden = one_error_line(cli("--as", "ivy@mail.example", "cases", "show", other, expect=2))
    assert hidden == f"error: case: case {other} not found"
    assert "may not user.read" in one_error_line(cli("--as", "ivy@mail.example", "users", "list", expect=2))
    no_party = cli("users", "create", "--name", "Jo", "--email", "jo@example.org", "--role", "customer", expect=2)
    assert one_error_line(no_party) == "error: party: a customer account must be linked to its party"


# ---------------------------------------------------------------- demo


def test_demo_load_then_if_empty(cli: Run) -> None:
    result = cli("demo", "load", "--cases", "20", "--seed", "7")
    assert "loaded 20 demo cases" in result.stdout

    items = _json(cli("cases", "list", "--limit", "100", "--json"))["items"]
    assert len(items) == 20
    assert len({c["phase"] for c in items}) >= 4
    assert {c["case_type"] for c in items} <= {"complaint", "support_ticket", "onboarding", "disputed_transaction"}
    assert len({c["case_type"] for c in items}) >= 3
    references = [c["reference"] for c in sorted(items, key=lambda c: c["created_at"])]
    assert references == sorted(references)  # references follow the opening dates
    assert len(_json(cli("users", "list", "--json"))) >= 9

    again = cli("demo", "load", "--if-empty")
    assert "not loaded" in again.stdout
    assert len(_json(cli("cases", "list", "--limit", "100", "--json"))["items"]) == 20
    assert "audit chain intact" in cli("audit", "verify").stdout


def test_demo_accounts_can_sign_in(cli: Run, db: Database) -> None:
    result = cli("demo", "load", "--cases", "20", "--seed", "5")
    assert DEMO_PASSWORD in result.stdout
    listed = _json(cli("users", "list", "--json"))
    assert len(listed) == len(STAFF) + len(CUSTOMERS) + 2  # + the third party and the system account
    assert {u["role"] for u in listed} == {r.value for r in Role}
    for user in listed:
        if user["email"] != "system@casework.local":
            assert user["email"] in result.stdout
            assert auth.login(db, user["email"], DEMO_PASSWORD).user_id == uuid.UUID(user["id"])

    # A case worker sees the cases of their team only; a customer sees their own cases.
    worker = next(name for name, role, teams in STAFF if role is Role.CASE_WORKER and teams == ("fraud",))
    email = worker.lower().replace(" ", ".") + "@northbank.example"
    theirs = _json(cli("--as", email, "cases", "list", "--limit", "100", "--json"))["items"]
    assert {c["team"] for c in theirs} == {TEAMS["disputed_transaction"]}
    everything = _json(cli("cases", "list", "--limit", "100", "--json"))["items"]
    assert len(theirs) == sum(c["case_type"] == "disputed_transaction" for c in everything) < len(everything)
    for _, email in CUSTOMERS:
        own = _json(cli("--as", email, "cases", "list", "--json"))["items"]
        assert own and len({c["customer_party_id"] for c in own}) == 1
    assert _json(cli("--as", THIRD_PARTY[1], "cases", "list", "--json"))["items"]  # fraud cases shared with them

    # Loading again reuses the demo accounts.
    assert "loaded 2 demo cases, 0 accounts" in cli("demo", "load", "--cases", "2", "--seed", "6").stdout


def test_demo_is_deterministic_for_a_seed(db_url: str, db: Database, tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    invoke(other, "db", "upgrade")
    for url in (db_url, other):
        invoke(url, "demo", "load", "--cases", "8", "--seed", "3")

    def summary(url: str) -> list[tuple[str, ...]]:
        items = _json(invoke(url, "cases", "list", "--sort", "reference", "--json"))["items"]
        return [(c["reference"], c["case_type"], c["title"], c["phase"], c["priority"]) for c in items]

    assert summary(db_url) == summary(other)


# ---------------------------------------------------------------- serve and entry point


def test_serve_runs_uvicorn_on_the_app_factory(cli: Run, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.delenv("CASEWORK_DATABASE_URL", raising=False)  # restored after the test
    monkeypatch.delenv("CASEWORK_LOG_LEVEL", raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: calls.append((target, kw)))
    cli("serve", "--host", "0.0.0.0", "--port", "8123")
    assert calls == [("casework.api.app:create_app", {"factory": True, "host": "0.0.0.0", "port": 8123, "reload": False,
                                                      "log_level": "info"})]  # fmt: skip
    assert os.environ["CASEWORK_DATABASE_URL"] == db_url
    assert "'--port'" in one_error_line(cli("serve", "--port", "0", expect=2))


def test_main_entry_point_runs_the_app() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
