"""The reports page: charts and tables with the numbers, CSV downloads, bad parameters, access."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any

import pytest

from casework.domain.access import Principal, Role
from casework.domain.lifecycle import Phase
from casework.store.unit_of_work import Database
from tests.factories import move, new_case
from tests.web.conftest import Browser

TODAY = dt.datetime.now(dt.UTC).date()


@pytest.fixture
def cases(db: Database, admin: Principal) -> None:
    """Three complaints open now (one P1), one support ticket closed with a title full of markup."""
    new_case(db, admin, priority="P1", team="complaints")
    new_case(db, admin, team="complaints")
    new_case(db, admin, team="complaints")
    ticket = new_case(db, admin, case_type="support_ticket", team="support", title="<script>alert(1)</script>")
    move(db, admin, ticket, Phase.CLOSED)


def _section(html: str, chart: str) -> str:
    found = re.search(rf'<section class="card kpi-card"[^>]*id="chart-{chart}">(.*?)</section>', html, re.S)
    assert found, f"no chart {chart}"
    return found.group(1)


def _rows(section: str) -> dict[str, list[str]]:
    rows = re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', section, re.S)
    return {head: re.findall(r'<td class="num">([^<]*)</td>', cells) for head, cells in rows}


def test_supervisor_sees_every_chart_with_its_numbers(signed_in: Callable[..., Browser], cases: None) -> None:
    browser = signed_in(Role.SUPERVISOR, teams=["complaints"])
    page = browser.get("/kpi")
    assert page.status_code == 200, page.text[:2000]
    html = page.text
    assert 'aria-current="page"' in html and 'href="/kpi"' in html
    for chart in ("open-by-phase", "open-by-priority", "flow", "phase-time", "sla", "outcomes"):
        section = _section(html, chart)
        svg = re.search(r"<svg[^>]*>", section)
        assert svg and 'role="img"' in svg.group(0) and f'aria-labelledby="{chart}-title {chart}-desc"' in svg.group(0)
        assert f'<title id="{chart}-title">' in section and f'<desc id="{chart}-desc">' in section
        assert f'href="/kpi/{chart}.csv?from=' in section
        assert "<table>" in section
    phases = _rows(_section(html, "open-by-phase"))
    assert phases["Screening"] == ["3"] and phases["Assessment"] == ["0"]
    priorities = _rows(_section(html, "open-by-priority"))
    assert priorities["P1 (urgent)"] == ["1"]
    flow = _rows(_section(html, "flow"))
    year, week, _ = TODAY.isocalendar()
    assert flow[f"W{week:02d} {year}"] == ["4", "1"]
    assert len(flow) == 12  # the last twelve ISO weeks by default
    outcomes = _rows(_section(html, "outcomes"))
    assert outcomes == {"Support ticket": ["1"]} or list(outcomes.values()) == [["1"]]
    # the SVG shows the numbers too, and the markup of a title never comes through unescaped
    assert re.search(r"<text[^>]*>3</text>", _section(html, "open-by-phase"))
    assert "<script>alert(1)</script>" not in html


def test_numbers_follow_the_users_language(signed_in: Callable[..., Browser], db: Database, admin: Principal) -> None:
    case = new_case(db, admin, team="complaints")
    move(db, admin, case, Phase.CLOSED)
    browser = signed_in(Role.SUPERVISOR, teams=["complaints"], locale="fr")
    html = browser.get("/kpi").text
    assert 'lang="fr"' in html
    screening = _rows(_section(html, "phase-time"))
    assert any(cells[0] == "0,0" for cells in screening.values())  # a decimal comma, the stay lasted a moment
    english = signed_in(Role.SUPERVISOR, teams=["complaints"]).get("/kpi").text
    assert any(cells[0] == "0.0" for cells in _rows(_section(english, "phase-time")).values())


def test_chart_text_is_escaped_and_described() -> None:
    from casework.web.charts import Chart, Column

    chart = Chart(
        "demo", "Title <i>", "Described & <b>", "thing", "Thing", [("a", "<script>alert(1)</script>")],
        [Column("n", "Count <u>", [3])], "Cases",
    )  # fmt: skip
    svg = str(chart.svg(lambda column, value: str(value)))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert '<title id="demo-title">Title &lt;i&gt;</title>' in svg and "Described &amp; &lt;b&gt;" in svg
    assert chart.csv() == "thing,n\r\na,3\r\n"
    formula = Chart("f", "F", "F", "thing", "Thing", [("=1+1", "x")], [Column("@n", "N", [1])], "Cases")
    assert formula.csv() == "thing,'@n\r\n'=1+1,1\r\n"  # never a formula in a spreadsheet


def test_case_worker_sees_only_the_cases_they_may_see(signed_in: Callable[..., Browser], db: Database, admin: Principal) -> None:
    new_case(db, admin, team="complaints")
    new_case(db, admin, team="fraud", case_type="disputed_transaction")
    worker = signed_in(Role.CASE_WORKER, teams=["complaints"])
    html = worker.get("/kpi").text
    phases = _rows(_section(html, "open-by-phase"))
    assert phases["Screening"] == ["1"] and phases["Assessment"] == ["0"]
    assert "Figures cover the cases you may see" in html
    supervisor = signed_in(Role.SUPERVISOR, teams=["complaints"])
    html = supervisor.get("/kpi").text
    phases = _rows(_section(html, "open-by-phase"))
    assert phases["Screening"] == ["1"] and phases["Assessment"] == ["1"]  # the dispute was fast-tracked by screening


def test_case_type_filter(signed_in: Callable[..., Browser], cases: None) -> None:
    browser = signed_in(Role.SUPERVISOR)
    html = browser.get("/kpi", params={"case_type": "support_ticket"}).text
    assert _rows(_section(html, "open-by-phase"))["Screening"] == ["0"]
    assert 'value="support_ticket" selected' in html
    assert "case_type=support_ticket" in _section(html, "flow")


def test_csv_downloads(signed_in: Callable[..., Browser], cases: None) -> None:
    browser = signed_in(Role.SUPERVISOR)
    start = (TODAY - dt.timedelta(days=6)).isoformat()
    response = browser.get("/kpi/open-by-phase.csv", params={"from": start, "to": TODAY.isoformat()})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f"casework-open-by-phase-{start}-{TODAY.isoformat()}.csv" in disposition
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert rows[0] == ["phase", "open_cases"]
    assert rows[1] == ["screening", "3"] and len(rows) == 8

    rows = list(csv.reader(io.StringIO(browser.get("/kpi/flow.csv", params={"from": start, "to": TODAY.isoformat()}).text)))
    assert rows[0] == ["iso_week", "opened", "closed"]
    year, week, _ = TODAY.isocalendar()
    assert [f"{year}-W{week:02d}", "4", "1"] in rows

    rows = list(csv.reader(io.StringIO(browser.get("/kpi/outcomes.csv").text)))
    assert rows[0][0] == "case_type" and rows[1][0] == "support_ticket" and rows[1][1:] == ["1"]

    rows = list(csv.reader(io.StringIO(browser.get("/kpi/sla.csv").text)))
    assert rows[0] == ["iso_week", "met", "missed", "share_met"] and len(rows) == 13

    rows = list(csv.reader(io.StringIO(browser.get("/kpi/phase-time.csv").text)))
    assert rows[0] == ["phase", "average_hours", "median_hours", "stays"]
    screening = next(r for r in rows if r[0] == "screening")
    assert screening[3] == "1" and float(screening[1]) < 1  # the ticket closed at once

    assert browser.get("/kpi/nothing.csv").status_code == 404


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-05-01", "to": "2026-04-01"}, "to", "The end date is before the start date."),
        ({"from": "yesterday"}, "from", "Enter a date as YYYY-MM-DD."),
        ({"to": "2026-02-30"}, "to", "Enter a date as YYYY-MM-DD."),
        ({"from": "2019-01-01", "to": "2026-01-01"}, "from", "The period may cover at most five years."),
        ({"case_type": "<b>nope</b>"}, "case_type", "Choose a case type from the list."),
        ({"from": "9" * 500}, "from", "Enter a date as YYYY-MM-DD."),
    ],
)
def test_bad_parameters_are_a_422_at_the_field(signed_in: Callable[..., Browser], params: dict[str, Any], field: str, message: str) -> None:
    browser = signed_in(Role.SUPERVISOR)
    page = browser.get("/kpi", params=params)
    assert page.status_code == 422
    assert f'id="kpi-{field}-error">{message}</span>' in page.text
    assert f'aria-describedby="kpi-{field}-error"' in page.text
    assert 'role="alert"' in page.text
    assert "<b>nope</b>" not in page.text  # what was typed comes back escaped
    csv_response = browser.get("/kpi/flow.csv", params=params)
    assert csv_response.status_code == 422
    assert csv_response.headers["content-type"].startswith("text/plain")
    assert f"{field}: {message}" in csv_response.text


def test_customers_and_visitors_are_refused(signed_in: Callable[..., Browser], db: Database, admin: Principal, web_app: Any) -> None:
    from fastapi.testclient import TestClient

    from casework.services import parties
    from casework.services.schemas import PartyCreate

    party = parties.create_party(db, admin, PartyCreate(name="Claire Martin"))
    customer = signed_in(Role.CUSTOMER, party_id=party.id)
    assert customer.get("/kpi").status_code == 403
    assert customer.get("/kpi/flow.csv").status_code == 403
    partner = signed_in(Role.THIRD_PARTY)
    assert partner.get("/kpi").status_code == 403
    with TestClient(web_app) as anonymous:
        response = anonymous.get("/kpi/flow.csv", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_auditor_sees_the_reports(signed_in: Callable[..., Browser], cases: None) -> None:
    html = signed_in(Role.AUDITOR).get("/kpi").text
    assert _rows(_section(html, "open-by-phase"))["Screening"] == ["3"]
