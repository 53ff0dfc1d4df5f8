"""A provider's KPI results (with each result's history) and its incentive assessments with their working.

The queries (``ledger.queries.incentives``) answer with the provider's own
access: its own results and assessment lines only, never another provider's
nor the run's total (which, less its own, would give the others').
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from werkzeug.wrappers import Response

from domain.errors import NotFound
from domain.money import format_quantity
from domain.organisations.user import Role
from ledger.queries.incentives import incentive_assessment as assessment_of
from ledger.queries.incentives import kpi_dashboard, kpi_history
from web import as_at, navigation
from web.access import allow
from web.params import MAX_NUMBER, int_arg
from web.periods import term_years
from web.provider import bp
from web.provider.portal import agreement_or_choice, under
from web.tables import Column, table

RESULT_COLUMNS = [
    Column("period", "Period"),
    Column("name", "KPI"),
    Column("value", "Result", "number"),
    Column("target_words", "Target"),
    Column("outcome", "Outcome"),
    Column("recorded_on", "Recorded", "date"),
    Column("corrections", "Corrections", "number"),
]
SUMMARY_COLUMNS = [
    Column("period", "Period"),
    Column("met", "Met"),
    Column("missed", "Missed"),
    Column("no_result", "No result"),
    Column("gate", "All met"),
]
ASSESSMENT_COLUMNS = [
    Column("financial_year", "Year"),
    Column("run", "Run", "number"),
    Column("effective_date", "Effective", "date"),
    Column("outcome", "Outcome"),
    Column("payment", "Payment", "money"),
]
RUN_COLUMNS = [
    Column("run", "Run", "number"),
    Column("effective_date", "Effective", "date"),
    Column("recorded_by", "Recorded by"),
    Column("reason", "Reason"),
]
HISTORY_COLUMNS = [
    Column("kpi", "KPI"),
    Column("what", "What"),
    Column("previous_value", "Before", "number"),
    Column("value", "After", "number"),
    Column("outcome", "Outcome"),
    Column("effective_date", "Effective", "date"),
    Column("evidence", "Evidence"),
    Column("reason", "Reason"),
    Column("recorded_by", "Recorded by"),
]

#: The line's hours, shown as people read hours (``format_quantity``: 137.5000 -> 137.50).
HOURS = ("baseline_hours", "actual_hours", "reduction_hours", "threshold_hours", "eligible_hours")

bp.record_once(lambda state: navigation.add(state.app, "Incentives", "provider.incentives_index", Role.PROVIDER))


def _outcome(met: bool) -> str:
    return "met" if met else "missed"


def _line_outcome(line: dict[str, Any] | None) -> str:
    if line is None:
        return "not assessed"
    return "eligible" if line["eligible"] else "not eligible"


@bp.get("/incentives")
@allow(Role.PROVIDER)
def incentives_index() -> Response | str:
    return agreement_or_choice("provider.incentives", "KPIs and incentives")


@bp.get("/incentives/<agreement>")
@allow(Role.PROVIDER)
def incentives(agreement: str) -> str:
    row, access = under(agreement)
    engine = as_at.read_engine()
    board = kpi_dashboard(engine, access)
    results = [{**r, "outcome": _outcome(r["met"])} for r in board["rows"]]
    summary = [{**s, "gate": "yes" if s["all_met"] else "no"} for s in board["summary"]]
    assessed = []
    for year in term_years(row["term_start"], row["term_end"]):
        try:
            found = assessment_of(engine, access, year)
        except NotFound:
            continue
        line = found["lines"][0] if found["lines"] else None
        assessed.append({"financial_year": year, "run": found["run"], "effective_date": found["effective_date"],
                         "outcome": _line_outcome(line), "payment": line["payment"] if line else None})  # fmt: skip
    return render_template(
        "provider/incentives/index.html",
        agreement=row,
        provider=access.provider,
        kpis=board["kpis"],
        results=table("kpi-results", "Your KPI results", RESULT_COLUMNS, results),
        summary=table("kpi-summary", "Your KPIs by period: the incentive gate needs every one met", SUMMARY_COLUMNS,
                      summary),  # fmt: skip
        assessments=table("assessments", "Your incentive assessments (latest run of each year)", ASSESSMENT_COLUMNS,
                          assessed),  # fmt: skip
    )


@bp.get("/incentives/<agreement>/<financial_year>")
@allow(Role.PROVIDER)
def incentive_assessment(agreement: str, financial_year: str) -> str:
    row, access = under(agreement)
    run = int_arg("run", 1, MAX_NUMBER)
    engine = as_at.read_engine()
    found = assessment_of(engine, access, financial_year, run)
    line = found["lines"][0] if found["lines"] else None
    hours = {name: format_quantity(line[name], places=2) for name in HOURS} if line else {}
    board = kpi_dashboard(engine, access, financial_year)
    results = [{**r, "outcome": _outcome(r["met"])} for r in board["rows"]]
    return render_template(
        "provider/incentives/assessment.html",
        agreement=row,
        provider=access.provider,
        assessment=found,
        line=line,
        hours=hours,
        outcome=_line_outcome(line),
        runs=table("runs", f"Runs of the {financial_year} assessment", RUN_COLUMNS, found["runs"]),
        results=table("kpi-results", f"Your KPI results in {financial_year}", RESULT_COLUMNS, results),
    )


@bp.get("/kpis/<agreement>/<provider>/<period>")
@allow(Role.PROVIDER)
def kpi_result_history(agreement: str, provider: str, period: str) -> str:
    row, access = under(agreement)
    log = kpi_history(as_at.read_engine(), access, provider, period)
    rows = [{**r, "outcome": _outcome(r["met"])} for r in log]
    return render_template(
        "provider/incentives/kpi_history.html",
        agreement=row,
        period=period,
        history=table("kpi-history", f"Every recording and correction of your {period} results", HISTORY_COLUMNS,
                      rows),  # fmt: skip
    )
