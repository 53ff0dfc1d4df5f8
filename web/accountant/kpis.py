"""KPI results for accountants: the dashboard, a provider's history, entering a result and importing a file.

The dashboard is ``openbook kpis dashboard`` (``ledger.queries.incentives.
kpi_dashboard``): provider x KPI x period, each value against its target, and
the KPIs in force with no result (which an incentive gate counts as missed).
A provider's history for a period is ``openbook kpis history``. Entering a
result is ``book.incentives.record_kpi_result`` (``openbook kpis record``; a new
value for a result already recorded is a correction and needs a reason), and
importing a CSV file is ``book.incentives.import_kpi_results`` (``openbook kpis
import``): every row checked first, any problem and nothing is recorded.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from domain.errors import Conflict, InvalidInput, NotFound, RuleBroken
from domain.organisations.user import Role
from ledger.queries import incentives as views
from ledger.queries.agreements import agreement_terms
from web import as_at, scope
from web.access import allow
from web.accountant import bp
from web.errors import status_of
from web.forms import REFUSALS_WITH_NOT_FOUND, LedgerForm, envelope_of, show_refusal
from web.services import book_of
from web.tables import Column, table
from web.uploads import upload_name

#: A form's refusal the ledger answers NotFound (a KPI the agreement has not): the form was wrong, not the page.

KPI_COLUMNS = [
    Column("kpi", "KPI"),
    Column("name", "Name"),
    Column("measure", "Measure"),
    Column("target_words", "Target"),
]
SUMMARY_COLUMNS = [
    Column("provider", "Provider"),
    Column("period", "Period"),
    Column("state", "All met?"),
    Column("missed", "Missed"),
    Column("no_result", "No result (counts as missed)"),
]
RESULT_COLUMNS = [
    Column("provider", "Provider"),
    Column("period", "Period"),
    Column("kpi", "KPI"),
    Column("value", "Value"),
    Column("target_words", "Target"),
    Column("verdict", "Met?"),
    Column("previous_value", "Corrected from"),
    Column("evidence", "Evidence"),
    Column("recorded_on", "Recorded on", "date"),
    Column("recorded_by", "Recorded by"),
]
HISTORY_COLUMNS = [
    Column("effective_date", "Effective", "date"),
    Column("what", "What"),
    Column("kpi", "KPI"),
    Column("value", "Value"),
    Column("verdict", "Met?"),
    Column("previous_value", "Was"),
    Column("recorded_by", "Recorded by"),
    Column("reason", "Reason"),
]


class ResultForm(LedgerForm):
    """``openbook kpis record``: one provider's result for one KPI and period (made with the prefix "record", and
    the import's with "upload", so that the two forms' field ids stay apart on one page)."""

    provider = SelectField("Provider", choices=[])
    period = StringField("Period", validators=[DataRequired("give the period"), Length(max=20)])
    kpi = SelectField("KPI", choices=[])
    value = StringField("Value", validators=[DataRequired("give the result"), Length(max=40)])
    evidence = StringField("Evidence", validators=[DataRequired("say where the figure comes from"), Length(max=500)])
    effective = DateField("Effective date", validators=[Optional()])
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


class ImportForm(LedgerForm):
    """``openbook kpis import FILE``: a CSV of provider,period,kpi,value,evidence."""

    file = FileField("KPI results file (CSV)", validators=[FileRequired("choose a file")])
    effective = DateField("Effective date", validators=[Optional()])
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


def _verdict(met: Any) -> str:
    return "met" if met else "missed"


def _choices(agreement: str, record: ResultForm) -> ResultForm:
    """The providers ever awarded under ``agreement`` and its KPIs, for the form's lists."""
    terms = agreement_terms(book_of().read_engine, agreement)  # a form's choices: as the ledger is now
    record.provider.choices = sorted({award.provider for award in terms.awards})
    latest = {kpi.code: kpi for _, kpi in terms.kpis}  # each code once, as last defined
    record.kpi.choices = [SelectChoice(kpi.code, f"{kpi.name} ({kpi.code})") for kpi in latest.values()]
    return record


def _page(agreement: str, period: str | None, *, record: ResultForm | None = None, upload: ImportForm | None = None,
          status: int = 200, problems: list[str] | None = None,
          filter_error: tuple[str | None, str] | None = None) -> tuple[str, int]:  # fmt: skip
    data = views.kpi_dashboard(as_at.read_engine(), scope.accountant(agreement), period)
    summary = [{**s, "state": "all met" if s["all_met"] else "NOT all met"} for s in data["summary"]]
    rows = [{**r, "verdict": _verdict(r["met"])} for r in data["rows"]]
    record = _choices(agreement, record or ResultForm(prefix="record", formdata=None, period=data["period"]))
    page = render_template(
        "accountant/incentives/kpis.html", agreement=agreement, data=data, record=record,
        upload=upload or ImportForm(prefix="upload", formdata=None), problems=problems, filter_error=filter_error,
        kpis=table("kpis", "The KPIs in force, with their targets", KPI_COLUMNS, data["kpis"]),
        summary=table("kpi-summary", "Each provider and period: all met, or which missed", SUMMARY_COLUMNS, summary),
        results=table("kpi-results", "Every result against its target", RESULT_COLUMNS, rows),
    )  # fmt: skip
    return page, status


@bp.get("/kpis/<agreement>")
@allow(Role.ACCOUNTANT)
def kpis(agreement: str) -> tuple[str, int]:
    """The dashboard, for a period if ``?period=`` (one that is not a year or quarter is shown beside the filter)."""
    period = request.args.get("period", "").strip() or None
    try:
        return _page(agreement, period)
    except InvalidInput as error:
        page, _ = _page(agreement, None, filter_error=(period, str(error).removeprefix("period: ")))
        return page, 400


@bp.post("/kpis/<agreement>/results")
@allow(Role.ACCOUNTANT)
def record_kpi_result(agreement: str) -> Any:
    """Record one result, as ``openbook kpis record``; a refusal is shown beside its field, nothing recorded."""
    scope.accountant(agreement)  # another organisation's agreement is a 404 before the form is read
    form = _choices(agreement, ResultForm(prefix="record"))
    if not form.validate_on_submit():
        return _page(agreement, None, record=form, status=400)
    try:
        envelope = envelope_of(form, effective=form.effective.data, reason=form.reason.data)
        result = book_of().incentives.record_kpi_result(
            envelope, agreement, form.provider.data, form.period.data.strip(), form.kpi.data, form.value.data.strip(),
            form.evidence.data,
        )  # fmt: skip
    except REFUSALS_WITH_NOT_FOUND as error:
        status = show_refusal(form, error)
        return _page(agreement, None, record=form, status=400 if isinstance(error, NotFound) else status)
    said = {"recorded": "Recorded", "corrected": "Corrected", "unchanged": "Already recorded as it is, unchanged"}
    flash(f"{said[result['outcome']]}: {result['provider']} {result['period']} {result['kpi']} = {result['value']} "
          f"({result['verdict']})." + (f" Was {result['previous_value']}." if result["outcome"] == "corrected" else ""))
    return redirect(url_for("accountant.kpis", agreement=agreement, period=result["period"]))


@bp.post("/kpis/<agreement>/import")
@allow(Role.ACCOUNTANT)
def import_kpi_results(agreement: str) -> Any:
    """Record every result in a CSV file, as ``openbook kpis import``: one problem and none is recorded."""
    scope.accountant(agreement)
    form = ImportForm(prefix="upload")
    if not form.validate_on_submit():
        return _page(agreement, None, upload=form, status=400)
    content = form.file.data.read()
    try:
        envelope = envelope_of(form, effective=form.effective.data, reason=form.reason.data)
        result = book_of().incentives.import_kpi_results(envelope, agreement, content,
                                                         upload_name(form.file.data, "kpi-results.csv"))
    except (InvalidInput, RuleBroken, Conflict) as error:
        form.form_errors.append(error.problems[0])
        return _page(agreement, None, upload=form, status=status_of(error), problems=error.problems[1:])
    flash(result["message"])
    return redirect(url_for("accountant.kpis", agreement=agreement))


@bp.get("/kpis/<agreement>/history/<provider>/<period>")
@allow(Role.ACCOUNTANT)
def kpi_history(agreement: str, provider: str, period: str) -> str:
    """Every recording and correction of a provider's results for a period, as ``openbook kpis history``."""
    rows = views.kpi_history(as_at.read_engine(), scope.accountant(agreement), provider, period)
    shown = table("kpi-history", f"Results of {provider} for {period}: each recording and correction",
                  HISTORY_COLUMNS, [{**r, "verdict": _verdict(r["met"])} for r in rows])  # fmt: skip
    return render_template("accountant/incentives/kpi_history.html", agreement=agreement, provider=provider,
                           period=period, history=shown)  # fmt: skip
