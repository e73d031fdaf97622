"""The reports page (``/kpi``): key figures as accessible SVG charts, data tables and CSV downloads.

The figures come from :mod:`casework.services.kpi` (supervisors, auditors and administrators see
every case; case workers the cases they may see). ``GET /kpi/<chart>.csv`` answers the numbers
of one chart as CSV with the same ``from``, ``to`` and ``case_type`` parameters.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from casework.domain.errors import InvalidInput
from casework.domain.lifecycle import Phase, Priority
from casework.services import kpi
from casework.web.charts import Chart, Column, Number, describe
from casework.web.i18n import Translator
from casework.web.pages import StaffUser, db_of, field_errors, render

router = APIRouter(include_in_schema=False)

#: Each chart and the part of the report it is drawn from.
PARTS = {
    "open-by-phase": "open",
    "open-by-priority": "open",
    "flow": "flow",
    "phase-time": "phase_times",
    "sla": "sla",
    "outcomes": "outcomes",
}
CHARTS = tuple(PARTS)
FIELDS = ("from", "to", "case_type")


def phase_labels(t: Translator) -> dict[str, str]:
    return {
        Phase.SCREENING.value: t.gettext("Screening"),
        Phase.ASSESSMENT.value: t.gettext("Assessment"),
        Phase.RISK.value: t.gettext("Risk"),
        Phase.PLANNING.value: t.gettext("Planning"),
        Phase.IMPLEMENTATION.value: t.gettext("Implementation"),
        Phase.FOLLOW_UP.value: t.gettext("Follow-up"),
        Phase.EVALUATION.value: t.gettext("Evaluation"),
        Phase.CLOSED.value: t.gettext("Closed"),
    }


def priority_labels(t: Translator) -> dict[str, str]:
    return {
        Priority.P1.value: t.gettext("P1 (urgent)"),
        Priority.P2.value: t.gettext("P2 (high)"),
        Priority.P3.value: t.gettext("P3 (normal)"),
        Priority.P4.value: t.gettext("P4 (low)"),
    }


def _message(t: Translator, message: str) -> str:
    """The service's (English) validation messages in the user's language."""
    known = {
        "enter a date as YYYY-MM-DD": t.gettext("Enter a date as YYYY-MM-DD."),
        "unknown case type": t.gettext("Choose a case type from the list."),
        "the end date is before the start date": t.gettext("The end date is before the start date."),
        "the period may cover at most five years": t.gettext("The period may cover at most five years."),
    }
    return known.get(message, message)


def formatter(t: Translator) -> Callable[[Column, Number], str]:
    """Numbers in the user's locale; remembered, since charts repeat the same values (Babel is slow)."""
    seen: dict[tuple[str, Number], str] = {}

    def fmt(column: Column, value: Number) -> str:
        if value is None:
            return "—"
        key = (column.kind, value)
        found = seen.get(key)
        if found is None:
            if column.kind == "share":
                found = t.percent(value)
            elif column.kind == "hours":
                found = t.number(value, 1)
            else:
                found = t.number(value, 0)
            seen[key] = found
        return found

    return fmt


def _outcome_label(outcome: str | None, t: Translator) -> str:
    if not outcome:
        return t.gettext("No outcome")
    text = outcome.replace("_", " ")
    return text[:1].upper() + text[1:]


def build_charts(report: kpi.KpiReport, t: Translator, type_names: dict[str, str]) -> dict[str, Chart]:
    """The page's charts from the service's figures (every text in the user's language)."""
    fmt = formatter(t)
    phases, priorities = phase_labels(t), priority_labels(t)
    charts: dict[str, Chart] = {}

    cats = [(p, phases.get(p, p)) for p in report.open.by_phase]
    cols = [Column("open_cases", t.gettext("Open cases"), list(report.open.by_phase.values()))]
    charts["open-by-phase"] = Chart(
        "open-by-phase", t.gettext("Open cases by phase"),
        describe(t.gettext("Bar chart of the cases open now, by phase."), cats, cols, fmt),
        "phase", t.gettext("Phase"), cats, cols, t.gettext("Cases"),
    )  # fmt: skip

    cats = [(p, priorities.get(p, p)) for p in report.open.by_priority]
    cols = [Column("open_cases", t.gettext("Open cases"), list(report.open.by_priority.values()))]
    charts["open-by-priority"] = Chart(
        "open-by-priority", t.gettext("Open cases by priority"),
        describe(t.gettext("Bar chart of the cases open now, by priority."), cats, cols, fmt),
        "priority", t.gettext("Priority"), cats, cols, t.gettext("Cases"),
    )  # fmt: skip

    cats = [(w.week.key, t.gettext("W%(week)s %(year)s", week=f"{w.week.number:02d}", year=w.week.year)) for w in report.flow]
    cols = [
        Column("opened", t.gettext("Opened"), [w.intake for w in report.flow]),
        Column("closed", t.gettext("Closed"), [w.closed for w in report.flow]),
    ]
    charts["flow"] = Chart(
        "flow", t.gettext("Intake and closures per week"),
        describe(t.gettext("Grouped bar chart of the cases opened and closed in each ISO week of the period."), cats, cols, fmt),
        "iso_week", t.gettext("ISO week"), cats, cols, t.gettext("Cases"),
    )  # fmt: skip

    cats = [(p.phase, phases.get(p.phase, p.phase)) for p in report.phase_times]
    cols = [
        Column("average_hours", t.gettext("Average (hours)"), [p.average_hours for p in report.phase_times], kind="hours"),
        Column("median_hours", t.gettext("Median (hours)"), [p.median_hours for p in report.phase_times], kind="hours"),
        Column("stays", t.gettext("Stays counted"), [p.stays for p in report.phase_times], plot=False),
    ]
    charts["phase-time"] = Chart(
        "phase-time", t.gettext("Time spent per phase"),
        describe(
            t.gettext("Grouped bar chart of the average and median hours a case spent in each phase, "
                      "over the stays that ended in the period."),
            cats, cols, fmt,
        ),
        "phase", t.gettext("Phase"), cats, cols, t.gettext("Hours"),
        notes=[t.gettext("The median is rounded down to the hour, or to the day for stays longer than a week.")],
    )  # fmt: skip

    weeks = report.sla.weeks
    cats = [(w.week.key, t.gettext("W%(week)s %(year)s", week=f"{w.week.number:02d}", year=w.week.year)) for w in weeks]
    cols = [
        Column("met", t.gettext("Met"), [w.met for w in weeks]),
        Column("missed", t.gettext("Missed"), [w.missed for w in weeks]),
        Column("share_met", t.gettext("Share met"), [w.share_met for w in weeks], kind="share", plot=False),
    ]
    overall = report.sla.overall
    charts["sla"] = Chart(
        "sla", t.gettext("SLA targets met and missed per week"),
        describe(
            t.gettext("Stacked bar chart of the SLA targets met and missed in each ISO week; %(share)s met over the period.",
                      share=t.percent(overall.share_met) if overall.total else "—"),
            cats, cols, fmt,
        ),
        "iso_week", t.gettext("ISO week"), cats, cols, t.gettext("SLA targets"), stacked=True,
        notes=[t.gettext("A target is met when its clock stopped by the deadline without a breach; it counts in the week it "
                         "stopped, or in the week of its deadline when missed.")],
    )  # fmt: skip

    by_type = report.outcomes.by_case_type
    outcomes = report.outcomes.outcomes
    cats = [(k, type_names.get(k, k)) for k in by_type]
    cols = [Column(o or "none", _outcome_label(o, t), [by_type[k].get(o, 0) for k in by_type]) for o in outcomes]
    charts["outcomes"] = Chart(
        "outcomes", t.gettext("Outcomes of the cases closed, by case type"),
        describe(t.gettext("Stacked bar chart of the cases closed in the period, by case type and outcome."), cats, cols, fmt),
        "case_type", t.gettext("Case type"), cats, cols, t.gettext("Closed cases"), stacked=True,
    )  # fmt: skip
    return charts


def _query(request: Request) -> dict[str, str]:
    return {name: str(request.query_params.get(name, ""))[:100] for name in FIELDS}


def _csv_query(period: kpi.Period) -> str:
    from urllib.parse import urlencode

    params = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    if period.case_type:
        params["case_type"] = period.case_type
    return urlencode(params)


@router.get("/kpi")
def kpi_page(request: Request, user: StaffUser) -> Response:
    db, t = db_of(request), user.t
    values = _query(request)
    types = kpi.case_types(db, user.who)
    context: dict[str, object] = {"nav": "kpi", "values": values, "case_types": types, "errors": {}, "charts": [], "period": None}
    try:
        period = kpi.parse_period(db, user.who, values["from"], values["to"], values["case_type"], known_types=dict(types))
    except InvalidInput as exc:
        context["errors"] = {name: _message(t, message) for name, message in field_errors(exc).items()}
        return render(request, "kpi.html", context, status=422)
    report = kpi.report(db, user.who, period)
    charts = build_charts(report, t, dict(types))
    fmt = formatter(t)
    context.update(
        values={"from": period.start.isoformat(), "to": period.end.isoformat(), "case_type": period.case_type or ""},
        period=period,
        charts=[
            {"chart": chart, "svg": chart.svg(fmt), "rows": chart.table_rows(fmt), "csv": f"/kpi/{key}.csv?{_csv_query(period)}"}
            for key, chart in charts.items()
        ],
        computed_at=report.computed_at,
        open_total=report.open.total,
        sla_overall=report.sla.overall,
        closed_total=sum(sum(v.values()) for v in report.outcomes.by_case_type.values()),
        opened_total=sum(w.intake for w in report.flow),
    )
    return render(request, "kpi.html", context)


@router.get("/kpi/{chart}.csv")
def kpi_csv(request: Request, chart: str, user: StaffUser) -> Response:
    db, t = db_of(request), user.t
    if chart not in CHARTS:
        return PlainTextResponse(t.gettext("There is no such chart.") + "\n", status_code=404)
    values = _query(request)
    types = dict(kpi.case_types(db, user.who))
    try:
        period = kpi.parse_period(db, user.who, values["from"], values["to"], values["case_type"], known_types=types)
    except InvalidInput as exc:
        lines = [f"{name}: {_message(t, message)}" for name, message in field_errors(exc).items()]
        return PlainTextResponse("\n".join(lines) + "\n", status_code=422)
    report = kpi.report(db, user.who, period, parts={PARTS[chart]})
    built = build_charts(report, t, types)[chart]
    name = f"casework-{chart}-{period.start.isoformat()}-{period.end.isoformat()}"
    if period.case_type:
        name += f"-{period.case_type}"
    return Response(
        built.csv().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Cache-Control": "no-store"},
    )
