"""The workflow commands (casetypes, decisions, answers, cases readiness), run in-process with
Typer's CliRunner on SQLite and, when CASEWORK_TEST_POSTGRES_URL is set, on PostgreSQL too."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from tests.cli_support import Run, one_error_line

DEFINITIONS = resources.files("casework.casetypes").joinpath("definitions")
COMPLAINT = json.dumps({"product": "credit_card", "channel": "email"})
DETAILS = {
    "what_happened": "The annual card fee was charged twice",
    "raised_before": False,
    "preferred_resolution": "refund",
    "wants_compensation": False,
    "regulator_contacted": False,
}


def _shipped(name: str) -> str:
    return DEFINITIONS.joinpath(name).read_text(encoding="utf-8")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _complaint_v2() -> str:
    text = _shipped("complaint.yaml")
    return text.replace("\nversion: 1\n", "\nversion: 2\n", 1).replace("screening: {P1: 4,", "screening: {P1: 2,", 1)


def _create(cli: Run, case_type: str, data: dict[str, Any] | str, title: str = "Disputed payment") -> str:
    payload = data if isinstance(data, str) else json.dumps(data)
    ref = cli("cases", "create", "--type", case_type, "--title", title, "--data", payload).stdout.strip()
    assert ref.startswith("CASE-")
    return ref


def _decisions(cli: Run, ref: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(cli("decisions", "list", ref, "--json").stdout)
    return found


# ---------------------------------------------------------------- case types


def test_validate_reports_each_problem_on_its_own_line(cli: Run, tmp_path: Path) -> None:
    good = _write(tmp_path, "complaint.yaml", _shipped("complaint.yaml"))
    result = cli("casetypes", "validate", str(good))
    assert result.stdout.strip() == f"{good}: ok (complaint version 1)"

    bad_text = _complaint_v2().replace("    phase: assessment\n", "    phase: nowhere\n", 1) + "colour: blue\n"
    bad = _write(tmp_path, "bad.yaml", bad_text)
    result = cli("casetypes", "validate", str(good), str(bad), expect=2)
    lines = result.stdout.strip().splitlines()
    assert lines[0] == f"{good}: ok (complaint version 1)"
    problems = lines[1:]
    assert len(problems) >= 2
    for line in problems:
        assert re.match(rf"^{re.escape(str(bad))}:\d+: [\w.\[\]]+: .+$", line), line
    phase_line = next(i for i, text in enumerate(bad_text.splitlines(), 1) if text.strip() == "phase: nowhere")
    assert any(line.startswith(f"{bad}:{phase_line}: questionnaires[0].phase: ") for line in problems), problems
    assert any(re.match(rf"^{re.escape(str(bad))}:\d+: colour: unknown key$", line) for line in problems), problems
    assert "1 of 2 files invalid" in result.stderr

    missing = cli("casetypes", "validate", str(tmp_path / "nowhere.yaml"), expect=2)
    assert "no such file" in one_error_line(missing)


def test_install_list_show_and_diff(cli: Run, tmp_path: Path) -> None:
    listed = json.loads(cli("casetypes", "list", "--json").stdout)
    assert {"complaint", "support_ticket", "onboarding", "disputed_transaction"} <= {t["key"] for t in listed}

    v2 = _write(tmp_path, "complaint-v2.yaml", _complaint_v2())
    preview = cli("casetypes", "diff", "complaint", "--from", "1", "--file", str(v2)).stdout
    assert "sla.phases.screening.P1: 4 -> 2" in preview

    out = cli("casetypes", "install", str(v2)).stdout
    assert out.startswith("installed complaint version 2 (Customer complaint)")
    table = cli("casetypes", "list").stdout
    row = next(line for line in table.splitlines() if line.startswith("complaint "))
    assert re.search(r"\b2\s+1, 2\b", row), row

    diff = cli("casetypes", "diff", "complaint", "--from", "1").stdout
    assert diff.splitlines()[0] == "complaint: version 1 → 2"
    assert "sla.phases.screening.P1: 4 -> 2" in diff
    assert "no changes" in cli("casetypes", "diff", "complaint", "--from", "2", "--to", "2").stdout

    assert cli("casetypes", "show", "complaint", "--version", "1", "--source").stdout == _shipped("complaint.yaml")
    shown = cli("casetypes", "show", "complaint").stdout
    assert "complaint version 2: Customer complaint" in shown and "complaint_details" in shown and "complaint.risk" in shown
    assert json.loads(cli("casetypes", "show", "complaint", "--json").stdout)["version"] == 2

    broken = _write(tmp_path, "broken.yaml", "key: complaint\nversion: 3\nteams: [x\n")
    line = one_error_line(cli("casetypes", "install", str(broken), expect=2))
    assert line.startswith("error: source: broken.yaml:") and "invalid YAML" in line
    both = cli("casetypes", "diff", "complaint", "--from", "1", "--to", "2", "--file", str(v2), expect=2)
    assert "either --to or --file" in one_error_line(both)
    assert "not found" in one_error_line(cli("casetypes", "show", "no_such_type", expect=2))


# ---------------------------------------------------------------- decision tables


def test_draft_simulate_and_publish_a_table(cli: Run, tmp_path: Path) -> None:
    # Two disputes closed by the automatic screening: a tiny card charge and a very late report.
    tiny = _create(
        cli, "disputed_transaction", {"transaction_kind": "card_charge", "amount": 20, "currency": "EUR", "account_type": "current"}
    )
    _create(cli, "disputed_transaction", {"transaction_kind": "direct_debit", "amount": 500, "currency": "EUR", "account_type": "current",
                                          "reported_within_days": 400})  # fmt: skip

    source = _shipped("tables/disputed_transaction.risk.yaml")
    old = """when: ['"atm_withdrawal"',"""
    assert old in source
    draft = _write(tmp_path, "risk.yaml", source.replace(old, """when: ['"atm_withdrawal","card_charge"',"""))
    assert cli("decisions", "draft", "disputed_transaction.risk", str(draft), "--comment", "score card charges").stdout.strip() == (
        "saved draft version 2 of disputed_transaction.risk"
    )

    out = cli("decisions", "simulate", "disputed_transaction.risk", "--draft", "2", "--last", "50").stdout
    lines = out.splitlines()
    assert lines[0] == "disputed_transaction.risk: draft version 2 against published version 1"
    assert "cases considered: 2" in lines and "changed: 1" in lines and "unchanged: 1" in lines
    example = next(line for line in lines if line.startswith(tiny))
    assert "score=0" in example and "score=15" in example and "atm-withdrawal" in example
    report = json.loads(cli("decisions", "simulate", "disputed_transaction.risk", "--draft", "2", "--json").stdout)
    assert (report["cases"], report["changed"]) == (2, 1)

    assert cli("decisions", "publish", "disputed_transaction.risk", "2").stdout.strip() == "published disputed_transaction.risk version 2"
    tables = {t["name"]: t for t in json.loads(cli("decisions", "tables", "--json").stdout)}
    assert tables["disputed_transaction.risk"]["published_version"] == 2
    assert "(retired)" in cli("decisions", "show", "disputed_transaction.risk", "--version", "1").stdout.splitlines()[0]
    assert "atm-withdrawal" in cli("decisions", "show", "disputed_transaction.risk").stdout
    again = cli("decisions", "simulate", "disputed_transaction.risk", "--draft", "2", expect=2)
    assert "not a draft" in one_error_line(again)

    broken = _write(tmp_path, "broken-risk.yaml", source.replace('"> 10000"', '">>> 10000"'))
    wrong = next(i for i, text in enumerate(source.splitlines(), 1) if '"> 10000"' in text)
    line = one_error_line(cli("decisions", "draft", "disputed_transaction.risk", str(broken), expect=2))
    assert line.startswith(f"error: file: broken-risk.yaml:{wrong}: rules[2].when[1]: "), line


# ---------------------------------------------------------------- decisions on cases


def test_run_list_accept_and_override_decisions(cli: Run) -> None:
    ref = _create(cli, "complaint", COMPLAINT, title="Card fee charged twice")
    listed = cli("decisions", "list", ref).stdout
    assert "screening: complaint.screening v1 (recommend, pending): action=open" in listed
    assert "    | Decision table 'complaint.screening'" in listed  # each decision with its explanation

    [screening] = [d for d in _decisions(cli, ref) if d["point"] == "screening"]
    out = cli("decisions", "accept", ref, screening["id"]).stdout
    assert out.startswith("accepted screening: complaint.screening v1 (recommend, accepted)")
    assert json.loads(cli("cases", "show", ref, "--json").stdout)["case"]["phase"] == "assessment"

    [pending] = [d for d in _decisions(cli, ref) if d["status"] == "pending"]
    assert "reason" in one_error_line(cli("decisions", "override", ref, pending["id"], "--set", "action=Call", "--reason", " ", expect=2))
    assert "outputs.colour" in one_error_line(
        cli("decisions", "override", ref, pending["id"], "--set", "colour=blue", "--reason", "why not", expect=2)
    )
    assert "key=value" in one_error_line(cli("decisions", "override", ref, pending["id"], "--set", "action", "--reason", "x", expect=2))
    out = cli("decisions", "override", ref, pending["id"], "--set", "action=Phone the customer", "--reason", "asked for a call").stdout
    assert out.startswith("overridden next_action: complaint.next_action v1 (recommend, overridden): action=Phone the customer")
    listed = cli("decisions", "list", ref).stdout
    assert "reason: asked for a call" in listed and "recommended: action=" in listed

    run = cli("decisions", "run", ref, "risk").stdout
    assert "risk: complaint.risk v1 (automatic, applied): score=" in run
    assert "not a decision id" in one_error_line(cli("decisions", "accept", ref, "not-an-id", expect=2))
    assert "pending" in one_error_line(cli("decisions", "accept", ref, screening["id"], expect=2))


# ---------------------------------------------------------------- answers and readiness


def test_answers_set_show_and_readiness(cli: Run) -> None:
    ref = _create(cli, "complaint", COMPLAINT, title="Card fee charged twice")
    cli("cases", "move", ref, "assessment")

    readiness = cli("cases", "readiness", ref).stdout
    assert f"{ref} (complaint version 1) is in assessment" in readiness
    assert re.search(r"→ risk: not ready: .*complaint_details", readiness), readiness

    out = cli("answers", "set", ref, "complaint_details", "--data", json.dumps({"what_happened": "Charged twice"}), "--version", "0")
    assert out.stdout.startswith(f"saved complaint_details version 1 on {ref} (missing: raised_before")

    stale = cli("answers", "set", ref, "complaint_details", "--data", "{}", "--version", "0", expect=2)
    assert one_error_line(stale).startswith("error: version: answers version 0 is stale")
    invalid = cli("answers", "set", ref, "complaint_details", "--data", json.dumps({"raised_before": "perhaps"}), expect=2)
    assert one_error_line(invalid) == "error: answers.raised_before: must be true or false"
    assert "not valid JSON" in one_error_line(cli("answers", "set", ref, "complaint_details", "--data", "{nope", expect=2))
    assert "no questionnaire" in one_error_line(cli("answers", "show", ref, "kyc", expect=2))

    done = cli("answers", "set", ref, "complaint_details", "--data", json.dumps(DETAILS), "--version", "1").stdout
    assert done.strip() == f"saved complaint_details version 2 on {ref} (complete)"
    shown = cli("answers", "show", ref, "complaint_details").stdout
    assert shown.splitlines()[0] == "Complaint details (complaint_details, assessment): version 2, complete"
    assert re.search(r"what_happened\s+.*The annual card fee was charged twice", shown)
    assert "compensation_amount" not in shown  # only asked when compensation is wanted
    listed = json.loads(cli("answers", "list", ref, "--json").stdout)
    assert [(a["questionnaire"], a["version"], a["complete"]) for a in listed] == [("complaint_details", 2, True)]

    assert "→ risk: ready" in cli("cases", "readiness", ref).stdout
    assert json.loads(cli("cases", "readiness", ref, "--json").stdout)["case_type_version"] == 1
