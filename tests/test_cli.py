"""The command line, run in-process with Typer's CliRunner against the test databases.

Every test that touches a database runs on SQLite and, when CASEWORK_TEST_POSTGRES_URL is
set, on PostgreSQL too (``db`` is requested so PostgreSQL tables start empty).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from casework.cli import app, main
from casework.store.unit_of_work import Database

Run = Callable[..., Result]
ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


def _invoke(url: str, *args: str, expect: int | None = 0) -> Result:
    result = CliRunner().invoke(app, ["--database-url", url, *args], env=ENV)
    if expect is not None:
        assert result.exit_code == expect, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


@pytest.fixture
def cli(db_url: str, db: Database) -> Run:
    def run(*args: str, expect: int | None = 0) -> Result:
        return _invoke(db_url, *args, expect=expect)

    return run


def _json(result: Result) -> Any:
    return json.loads(result.stdout)


def _one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.output
    return lines[0]


def _create(cli: Run, *extra: str, title: str = "Card charged twice at QuickMart Online") -> str:
    ref = cli("cases", "create", "--type", "disputed_transaction", "--title", title, *extra).stdout.strip()
    assert ref.startswith("CASE-")
    return ref


# ---------------------------------------------------------------- db upgrade


def test_db_upgrade_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    missing = _invoke(url, "cases", "list", expect=1)
    assert "casework db upgrade" in _one_error_line(missing)

    result = _invoke(url, "db", "upgrade")
    assert "revision" in result.stdout and "(head)" in result.stdout
    assert _invoke(url, "db", "upgrade").exit_code == 0  # idempotent
    assert "no cases match" in _invoke(url, "cases", "list").stdout


def test_bad_database_url_is_one_line(tmp_path: Path) -> None:
    assert "database-url" in _one_error_line(_invoke("not a url", "cases", "list", expect=2))


# ---------------------------------------------------------------- create, list, show


def test_create_list_and_show(cli: Run) -> None:
    cli("users", "create", "--name", "Mei Chen", "--email", "mei@example.org")
    assert "mei@example.org" in cli("users", "list").stdout
    customer = cli("parties", "create", "--name", "Diego Khan", "--email", "diego@example.org").stdout.strip()

    ref = _create(
        cli, "--priority", "P1", "--risk", "90", "--customer", customer, "--assignee", "mei@example.org",
        "--team", "Fraud & Disputes", "--due", "2030-01-31", "--data", '{"amount": 120.5, "currency": "GBP"}',
    )  # fmt: skip
    other = cli("cases", "create", "--type", "complaint", "--title", "Poor service at branch", "--json")
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
    assert case["custom_data"] == {"amount": 120.5, "currency": "GBP"}
    assert [(p["role"], p["party"]["name"]) for p in shown["parties"]] == [("customer", "Diego Khan")]
    assert [p["to_phase"] for p in shown["phases"]] == ["screening"]

    text = cli("cases", "show", ref).stdout
    for expected in (ref, "Card charged twice", "Diego Khan", "Phase history", "opened in screening", "Mei Chen"):
        assert expected in text
    assert cli("cases", "show", case["id"], "--json").stdout == cli("cases", "show", ref, "--json").stdout


def test_update_with_version(cli: Run) -> None:
    ref = _create(cli, "--risk", "40", "--due", "2030-01-01")
    assert "updated (version 2)" in cli("cases", "update", ref, "--version", "1", "--title", "Card charged three times",
                                        "--priority", "P2").stdout  # fmt: skip
    stale = cli("cases", "update", ref, "--version", "1", "--title", "Lost update", expect=2)
    assert _one_error_line(stale).startswith("error: version: version 1 is stale")
    cli("cases", "update", ref, "--version", "2", "--risk", "none", "--due", "none")
    case = _json(cli("cases", "show", ref, "--json"))["case"]
    assert (case["title"], case["priority"], case["risk_score"], case["due_date"], case["version"]) == (
        "Card charged three times", "P2", None, None, 3,
    )  # fmt: skip
    assert "nothing to change" in _one_error_line(cli("cases", "update", ref, "--version", "3", expect=2))


# ---------------------------------------------------------------- lifecycle


def test_full_lifecycle_by_cli(cli: Run) -> None:
    ref = _create(cli)
    steps: list[tuple[str, ...]] = [
        ("assessment",), ("risk",), ("planning",), ("implementation",), ("follow_up",),
        ("planning", "--reason", "Merchant rejected the chargeback"), ("implementation",), ("follow_up",),
        ("evaluation",), ("closed", "--outcome", "refunded in full"),
    ]  # fmt: skip
    for phase, *options in steps:
        out = cli("cases", "move", ref, phase, *options).stdout
        assert f"→ {phase}" in out

    shown = _json(cli("cases", "show", ref, "--json"))
    case = shown["case"]
    assert (case["status"], case["phase"], case["outcome"]) == ("closed", "closed", "refunded in full")
    assert case["closed_at"] is not None
    kinds = [p["kind"] for p in shown["phases"]]
    assert kinds == ["open"] + ["forward"] * 5 + ["return"] + ["forward"] * 3 + ["close"]
    assert shown["phases"][6]["reason"] == "Merchant rejected the chargeback"

    entries = _json(cli("cases", "history", ref, "--json"))
    assert [e["action"] for e in entries].count("case.transition") == len(steps)
    assert "case.transition" in cli("cases", "history", ref).stdout

    reopened = cli("cases", "move", ref, "assessment", "--reason", "Customer sent new evidence").stdout
    assert "(reopen)" in reopened
    assert _json(cli("cases", "show", ref, "--json"))["case"]["status"] == "open"


def test_bad_transition_is_one_line_naming_the_allowed_moves(cli: Run) -> None:
    ref = _create(cli)
    line = _one_error_line(cli("cases", "move", ref, "planning", expect=2))
    assert line.startswith("error: phase: cannot move from screening to planning")
    assert line.endswith("allowed transitions: assessment, closed")

    close = _one_error_line(cli("cases", "move", ref, "closed", expect=2))
    assert close == "error: outcome: closing a case requires an outcome"
    unknown = _one_error_line(cli("cases", "move", ref, "nowhere", expect=2))
    assert "nowhere" in unknown and "screening" in unknown


def test_return_without_reason_is_refused(cli: Run) -> None:
    ref = _create(cli)
    cli("cases", "move", ref, "assessment")
    line = _one_error_line(cli("cases", "move", ref, "screening", expect=2))
    assert line == "error: reason: returning from assessment to screening requires a reason"
    assert _json(cli("cases", "show", ref, "--json"))["case"]["phase"] == "assessment"


# ---------------------------------------------------------------- user errors


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--type", "complaint", "--title", ""], "error: title: String should have at least 1 character"),
        (["--type", "complaint", "--title", "x", "--priority", "P9"], "'--priority'"),
        (["--type", "parking_ticket", "--title", "x"], "'--type'"),
        (["--type", "complaint", "--title", "x", "--data", "{nope"], "error: data: not valid JSON"),
        (["--type", "complaint", "--title", "x", "--data", "[1, 2]"], "error: data: must be a JSON object"),
        (["--type", "complaint", "--title", "x", "--due", "2030-02-30"], "error: due: "),
        (["--type", "complaint", "--title", "x", "--risk", "101"], "error: risk: Input should be less than or equal to 100"),
        (["--type", "complaint", "--title", "x", "--customer", "not-a-uuid"], "error: customer: "),
        (["--type", "complaint", "--title", "x", "--assignee", "ghost@example.org"], "error: assignee: no user"),
        (["--title", "x"], "Missing option '--type'"),
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(cli: Run, args: list[str], expected: str) -> None:
    line = _one_error_line(cli("cases", "create", *args, expect=2))
    assert expected in line
    assert _json(cli("cases", "list", "--json"))["items"] == []


def test_other_user_errors(cli: Run) -> None:
    assert _one_error_line(cli("cases", "show", "CASE-2026-999999", expect=2)) == "error: case: case CASE-2026-999999 not found"
    ghost = cli("--as", "ghost@example.org", "cases", "create", "--type", "complaint", "--title", "x", expect=2)
    assert "error: as: no user" in _one_error_line(ghost)
    assert "cursor" in _one_error_line(cli("cases", "list", "--cursor", "garbage", expect=2))
    assert "No such command" in _one_error_line(cli("cases", "frobnicate", expect=2))
    cli("users", "create", "--name", "Ann", "--email", "ann@example.org")
    assert "already exists" in _one_error_line(cli("users", "create", "--name", "Ann", "--email", "ann@example.org", expect=2))
    assert "error: email: " in _one_error_line(cli("users", "create", "--name", "Bob", "--email", "bob", expect=2))


# ---------------------------------------------------------------- notes, acting user, audit


def test_notes_acting_user_and_history(cli: Run) -> None:
    user = _json(cli("users", "create", "--name", "Sofia Marquez", "--email", "sofia@example.org", "--json"))
    ref = _create(cli)
    assert "shared note added" in cli("--as", "sofia@example.org", "cases", "note", ref, "We are on it [really]", "--shared").stdout
    cli("cases", "note", ref, "Internal only")

    notes = _json(cli("cases", "show", ref, "--json"))["notes"]
    assert [(n["body"], n["visibility"], n["author_id"] == user["id"]) for n in notes] == [
        ("We are on it [really]", "shared", True), ("Internal only", "internal", False),
    ]  # fmt: skip
    assert "We are on it [really]" in cli("cases", "show", ref).stdout  # user text is not Rich markup

    entries = _json(cli("cases", "history", ref, "--json"))
    assert [e["action"] for e in entries] == ["case.create", "note.add", "note.add"]
    assert entries[1]["actor_id"] == user["id"]


def test_audit_verify(cli: Run) -> None:
    ref = _create(cli)
    cli("cases", "move", ref, "assessment")
    result = cli("audit", "verify")
    assert result.stdout.strip().startswith("audit chain intact: ")
    assert result.stdout.strip().endswith(" entries verified")
    report = _json(cli("audit", "verify", "--json"))
    assert report["ok"] is True and report["checked"] >= 3


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


def test_demo_is_deterministic_for_a_seed(db_url: str, db: Database, tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    _invoke(other, "db", "upgrade")
    for url in (db_url, other):
        _invoke(url, "demo", "load", "--cases", "8", "--seed", "3")

    def summary(url: str) -> list[tuple[str, ...]]:
        items = _json(_invoke(url, "cases", "list", "--sort", "reference", "--json"))["items"]
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
    assert "'--port'" in _one_error_line(cli("serve", "--port", "0", expect=2))


def test_main_entry_point_runs_the_app() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
