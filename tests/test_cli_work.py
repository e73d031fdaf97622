"""The daily-work commands: `sla scan|breaches|show`, `queue`, `notifications`, `events` and `worker`.

Run in-process with Typer's CliRunner against the test databases (SQLite, and PostgreSQL when
CASEWORK_TEST_POSTGRES_URL is set); the worker itself is started as a process in tests/jobs.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from typer.testing import CliRunner

from casework.cli import app
from casework.domain.access import Principal, Role
from casework.services import notifications, sla
from casework.store.unit_of_work import Database
from tests.cli_support import ENV, Run, one_error_line
from tests.factories import new_case, opened_under, principal

POLICY = sla.SlaPolicy(phase_hours={"screening": {"P1": 4, "P3": 24}}, resolution_hours={"P1": 24, "P3": 1})


@pytest.fixture(autouse=True)
def no_policy_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Escalations leave the other clocks alone here, whatever policy source the case types register."""
    monkeypatch.setattr(sla, "_policy_resolver", None)


def test_sla_scan_breaches_and_show(cli: Run, db: Database, actor: Principal) -> None:
    principal(db, actor, "sue@example.org", Role.SUPERVISOR, teams=["fraud"])
    case = opened_under(db, actor, POLICY, hours_ago=2, priority="P3", team="fraud")  # resolution (1 h) missed
    assert cli("sla", "breaches").stdout.strip() == "no SLA breaches"

    assert cli("sla", "scan").stdout.strip() == "SLA scan: 0 warned, 1 breached, 1 escalated"
    assert json.loads(cli("sla", "scan", "--json").stdout) == {"warned": 0, "breached": 0, "escalated": 0, "failed": 0}

    report = json.loads(cli("sla", "breaches", "--json").stdout)
    assert report["total"] == 1 and report["items"][0]["reference"] == case.reference
    assert report["items"][0]["kind"] == "resolution" and report["items"][0]["escalated_to"] == "P2"
    table = cli("sla", "breaches").stdout
    assert case.reference in table and "1 breaches" in table and "resolution" in table
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert json.loads(cli("sla", "breaches", "--since", later, "--json").stdout)["total"] == 0
    assert json.loads(cli("sla", "breaches", "--type", "onboarding", "--json").stdout)["total"] == 0

    shown = cli("sla", "show", case.reference).stdout
    assert "resolution" in shown and "breached" in shown and "screening" in shown and "running" in shown
    clocks = json.loads(cli("sla", "show", case.reference, "--json").stdout)
    assert {(c["kind"], c["state"]) for c in clocks} == {("resolution", "breached"), ("phase", "running")}


def test_sla_breaches_is_refused_to_workers(cli: Run, db: Database, actor: Principal) -> None:
    principal(db, actor, "will@example.org", teams=["fraud"])
    assert "sla.report" in one_error_line(cli("--as", "will@example.org", "sla", "breaches", expect=2))


def test_queue_is_mine_by_default_and_by_team_on_request(cli: Run, db: Database, actor: Principal) -> None:
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    principal(db, actor, "olga@example.org", teams=["kyc"])
    low = opened_under(db, actor, POLICY, hours_ago=1, priority="P3", team="fraud", assignee_id=will.user_id, title="Low priority")
    urgent = opened_under(db, actor, POLICY, hours_ago=1, priority="P1", team="fraud", assignee_id=will.user_id, title="Urgent one")
    team_only = opened_under(db, actor, POLICY, hours_ago=1, priority="P1", team="fraud", title="Team case")

    mine = json.loads(cli("--as", "will@example.org", "queue", "--json").stdout)
    assert [i["reference"] for i in mine] == [urgent.reference, low.reference]
    assert [i["reference"] for i in json.loads(cli("queue", "--as", "will@example.org", "--json").stdout)] == [
        urgent.reference, low.reference]  # fmt: skip
    team = json.loads(cli("--as", "will@example.org", "queue", "--team", "fraud", "--json").stdout)
    assert [i["reference"] for i in team] == [urgent.reference, team_only.reference, low.reference]  # same priority: earlier deadline first
    assert cli("--as", "olga@example.org", "queue", "--team", "fraud").stdout.strip() == "the queue is empty"
    table = cli("--as", "will@example.org", "queue").stdout
    assert table.index(urgent.reference) < table.index(low.reference)
    assert "Urgent one" in table and "phase screening" in table
    assert [i["reference"] for i in json.loads(cli("queue", "--assignee", "will@example.org", "--json").stdout)] == [
        urgent.reference, low.reference]  # fmt: skip


def test_notifications_of_the_acting_account(cli: Run, db: Database, actor: Principal) -> None:
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    olga = principal(db, actor, "olga@example.org", teams=["kyc"])
    case = new_case(db, actor, team="fraud")
    with db.write() as s:
        notifications.notify(s, will.user_id, case.id, "sla.warning", f"SLA warning: {case.reference} is due soon")
        notifications.notify(s, olga.user_id, None, "info", "for olga only")
    listed = json.loads(cli("--as", "will@example.org", "notifications", "--json").stdout)
    assert [(n["kind"], n["case_reference"]) for n in listed] == [("sla.warning", case.reference)]
    table = cli("notifications", "--as", "will@example.org", "--unread").stdout
    assert "is due soon" in table and "for olga" not in table
    cli("--as", "will@example.org", "notifications", "--mark-read")
    assert cli("--as", "will@example.org", "notifications", "--unread").stdout.strip() == "no notifications"
    assert json.loads(cli("--as", "olga@example.org", "notifications", "--unread", "--json").stdout)[0]["message"] == "for olga only"
    assert "no account" in one_error_line(cli("--as", "nobody@example.org", "notifications", expect=2))


def test_events_for_administrators_only(cli: Run, db: Database, actor: Principal) -> None:
    principal(db, actor, "sue@example.org", Role.SUPERVISOR, teams=["fraud"])
    case = opened_under(db, actor, POLICY, hours_ago=2, priority="P3", team="fraud")

    def sla_events(*args: str) -> list[dict[str, Any]]:
        return [e for e in json.loads(cli("events", "--json", "--limit", "1000", *args).stdout) if e["topic"].startswith("case.sla")]

    assert sla_events() == []
    cli("sla", "scan")
    events = sla_events()
    assert [e["topic"] for e in events] == ["case.sla_breached"]
    assert "case.sla_breached" in cli("events", "--limit", "1000").stdout and case.reference in cli("events", "--limit", "1000").stdout
    assert sla_events("--after", str(events[-1]["id"])) == []
    assert "events.read" in one_error_line(cli("--as", "sue@example.org", "events", expect=2))


def test_worker_command_is_registered() -> None:
    result = CliRunner().invoke(app, ["worker", "--help"], env=ENV)
    assert result.exit_code == 0 and "--workers" in result.stdout and "Huey" in result.stdout
    assert CliRunner().invoke(app, ["worker", "--workers", "0"], env=ENV).exit_code == 2


def test_unknown_case_for_sla_show(cli: Run) -> None:
    assert "not found" in one_error_line(cli("sla", "show", str(uuid.uuid4()), expect=2))
