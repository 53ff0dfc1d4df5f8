"""Incentive schemes and assessments for accountants: the scheme's versions and terms, each year's assessment with
its working, and assessing a year.

The scheme is ``openbook incentives scheme show`` (``ledger.queries.incentives.
scheme_sheet``): every version with who set it, when and why, and the terms
applying in a year, in words. An assessment is ``openbook incentives show``
(``incentive_assessment``): per provider the baseline and actual hours with
their sources, the threshold (baseline x minimum reduction), the reduction and
the eligible hours, each KPI of the gate and what was missed, the payment and
the cap, the reason, and the difference from the run before. Assessing a year
is ``book.incentives.assess_incentives``, as ``openbook incentives assess``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash, redirect, render_template, url_for
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from domain.checks import check_financial_year
from domain.errors import Conflict, InvalidInput, NotFound, RuleBroken
from domain.incentives.incentive_scheme import BaselineRule, KpiGate, Measure, PaymentRule
from domain.money import format_gbp, format_quantity
from domain.organisations.user import Role
from ledger.queries import incentives as views
from ledger.queries.agreements import agreement_terms
from web import as_at, navigation, scope
from web.access import allow
from web.accountant import bp
from web.forms import LedgerForm, envelope_of, show_refusal
from web.params import MAX_NUMBER, int_arg
from web.periods import term_years
from web.services import book_of
from web.tables import Column, table

bp.record_once(lambda state: navigation.add(state.app, "Incentives", "accountant.incentives_index", Role.ACCOUNTANT))

HOURS = ("baseline_hours", "actual_hours", "threshold_hours", "reduction_hours", "eligible_hours")

LINE_COLUMNS = [
    Column("provider", "Provider"),
    Column("baseline_hours", "Baseline hours", "number"),
    Column("actual_hours", "Actual hours", "number"),
    Column("threshold_hours", "Threshold hours", "number"),
    Column("reduction_hours", "Reduction hours", "number"),
    Column("eligible_hours", "Eligible hours", "number"),
    Column("gate", "KPI gate"),
    Column("payment", "Payment", "money"),
    Column("capped_text", "Capped?"),
]
RUN_COLUMNS = [
    Column("run", "Run", "number"),
    Column("effective_date", "Effective", "date"),
    Column("recorded_by", "Assessed by"),
    Column("reason", "Reason"),
    Column("paid_providers", "Providers paid", "number"),
    Column("total", "Total", "money"),
]


class SchemeForm(LedgerForm):
    """``openbook incentives scheme set``: the scheme's terms, from a financial year (an amendment needs a reason)."""

    from_year = StringField("From financial year", validators=[Optional(), Length(max=10)])
    measure = SelectField("Measure", choices=[SelectChoice(m.value, m.value) for m in Measure])
    baseline = SelectField("Baseline", choices=[SelectChoice(b.value, b.value) for b in BaselineRule])
    fixed_baselines = TextAreaField("Fixed baselines", validators=[Optional(), Length(max=4000)])
    minimum_reduction = StringField("Minimum reduction", validators=[DataRequired("give the minimum reduction"),
                                                                     Length(max=20)])  # fmt: skip
    payment = SelectField("Payment", choices=[SelectChoice(r.value, r.value) for r in PaymentRule])
    payment_per_hour = StringField("£ per hour beyond the minimum", validators=[Optional(), Length(max=20)])
    saving_rate = StringField("Hourly rate for a share of the saving (£)", validators=[Optional(), Length(max=20)])
    saving_share = StringField("Share of the saving", validators=[Optional(), Length(max=20)])
    kpi_gate = SelectField("KPI gate", choices=[SelectChoice(g.value, g.value) for g in KpiGate])
    kpis = StringField("KPIs of a named gate", validators=[Optional(), Length(max=500)])
    cap = StringField("Cap per provider per year (£)", validators=[Optional(), Length(max=20)])
    effective = DateField("Effective date", validators=[Optional()])
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


def _given(field: Any) -> str | None:
    """A text field's value, or None when left empty (as an option not given on the command line)."""
    return (field.data or "").strip() or None


def fixed_baselines(text: str | None) -> dict[str, str] | None:
    """PROVIDER=HOURS, one a line (as the CLI's repeated ``--fixed-baseline``); None for none given."""
    found: dict[str, str] = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        provider, sep, hours = line.partition("=")
        if not sep:
            raise InvalidInput(f"fixed_baselines: {line.strip()!r} is not PROVIDER=HOURS, e.g. hfd-provider-a=87452")
        found[provider.strip()] = hours.strip()
    return found or None


class AssessForm(LedgerForm):
    """``openbook incentives assess --agreement A --year Y``: the envelope's date and reason only."""

    effective = DateField("Effective date", validators=[Optional()])
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


def shown_hours(value: Decimal | None) -> Decimal | None:
    """Hours to two places where that is exact (83.7500 -> 83.75), else as they are: display only, never rounds."""
    if value is None:
        return None
    two = value.quantize(Decimal("0.01"))
    return two if two == value else value


def years_of(agreement: str) -> list[str]:
    """The financial years of the agreement's term (with extensions) that have started, newest first."""
    terms = agreement_terms(as_at.read_engine(), agreement)
    return term_years(terms.term_start, max([terms.original_term_end, *(end for _, end in terms.extensions)]))


@bp.get("/incentives")
@allow(Role.ACCOUNTANT)
def incentives_index() -> str:
    agreements = [row for row, _ in scope.my_agreements(every_provider=True)]
    return render_template("accountant/incentives/index.html", agreements=agreements)


def _scheme_form(sheet: dict[str, Any] | None) -> SchemeForm:
    """The form, filled in with the terms of the last version (or the defaults for a first scheme)."""
    if not sheet:
        return SchemeForm(formdata=None)
    last = sheet["versions"][-1]
    filled = {name: last[name] for name in ("measure", "baseline", "minimum_reduction", "payment", "payment_per_hour",
                                            "saving_rate", "saving_share", "kpi_gate", "cap")}  # fmt: skip
    filled["fixed_baselines"] = "\n".join(f"{p}={h}" for p, h in last["fixed_baselines"].items())
    filled["kpis"] = " ".join(last["kpis"])
    return SchemeForm(formdata=None, **filled)


def _scheme_page(agreement: str, form: SchemeForm | None = None, status: int = 200) -> tuple[str, int]:
    access, engine = scope.accountant(agreement), as_at.read_engine()
    try:
        sheet = views.scheme_sheet(engine, access)
    except NotFound:  # no scheme registered under the agreement (its access was granted above)
        sheet = None
    years = []
    for year in years_of(agreement):
        try:
            found = views.incentive_assessment(engine, access, year)
        except NotFound:
            found = None
        years.append({"financial_year": year, "assessment": found})
    page = render_template("accountant/incentives/scheme.html", agreement=agreement, sheet=sheet, years=years,
                           form=form or _scheme_form(sheet))  # fmt: skip
    return page, status


@bp.get("/incentives/<agreement>")
@allow(Role.ACCOUNTANT)
def incentives_of(agreement: str) -> tuple[str, int]:
    """The scheme's versions and each year's assessment (its last run), as ``scheme show`` and ``show`` print."""
    return _scheme_page(agreement)


@bp.post("/incentives/<agreement>/scheme")
@allow(Role.ACCOUNTANT)
def set_incentive_scheme(agreement: str) -> Any:
    """Define the scheme, or amend it from a year, as ``openbook incentives scheme set``."""
    scope.accountant(agreement)  # another organisation's agreement is a 404 before the form is read
    form = SchemeForm()
    if not form.validate_on_submit():
        return _scheme_page(agreement, form, 400)
    try:
        envelope = envelope_of(form, effective=form.effective.data, reason=form.reason.data)
        result = book_of().incentives.set_incentive_scheme(
            envelope, agreement, from_year=_given(form.from_year), measure=form.measure.data,
            baseline=form.baseline.data, fixed_baselines=fixed_baselines(form.fixed_baselines.data),
            minimum_reduction=_given(form.minimum_reduction), payment=form.payment.data,
            payment_per_hour=_given(form.payment_per_hour), saving_rate=_given(form.saving_rate),
            saving_share=_given(form.saving_share), kpi_gate=form.kpi_gate.data,
            kpis=(form.kpis.data or "").replace(",", " ").split(), cap=_given(form.cap),
        )  # fmt: skip
    except (InvalidInput, RuleBroken, Conflict, NotFound) as error:  # NotFound: a provider not registered
        status = show_refusal(form, error)
        return _scheme_page(agreement, form, 422 if isinstance(error, NotFound) else status)
    flash(f"Recorded: the incentive scheme of {agreement} from {result['from_year']}." if result["recorded"]
          else f"The incentive scheme of {agreement}: {result['message']}.")  # fmt: skip
    return redirect(url_for("accountant.incentives_of", agreement=agreement))


def _line(line: dict[str, Any]) -> dict[str, Any]:
    """A provider's line for the page: hours as people read them, the gate in words."""
    gate = "met" if not line["missed_kpis"] else "missed: " + ", ".join(line["missed_kpis"])
    return {
        **line,
        **{name: shown_hours(line[name]) for name in HOURS},
        "gate": gate if line["kpis_in_gate"] else "no KPI in the gate",
        "capped_text": "capped" if line["capped"] else "no",
        "words": {name: "none" if line[name] is None else f"{format_quantity(line[name], places=2)} h"
                  for name in HOURS},
        "minimum_percent": format_quantity(line["minimum_reduction"] * 100),
    }  # fmt: skip


def _year_page(agreement: str, financial_year: str, form: AssessForm | None = None, status: int = 200) -> Any:
    access, engine = scope.accountant(agreement), as_at.read_engine()
    year = check_financial_year(financial_year)
    try:
        terms = views.scheme_sheet(engine, access, year)["terms"]
    except NotFound:
        terms = None
    run = int_arg("run", 1, MAX_NUMBER)
    try:
        found = views.incentive_assessment(engine, access, year, run)
    except NotFound as error:
        if run is not None:
            raise
        found, missing = None, str(error)
    else:
        missing = None
    lines = runs = None
    if found is not None:
        shown = [_line(line) for line in found["lines"]]
        found = {**found, "lines": shown}
        lines = table("assessment-lines", f"Each provider's incentive for {year}, run {found['run']}", LINE_COLUMNS,
                      shown)  # fmt: skip
        runs = table("assessment-runs", f"Every run of the {year} assessment", RUN_COLUMNS, found["runs"])
    page = render_template(
        "accountant/incentives/year.html", agreement=agreement, financial_year=year, terms=terms, a=found,
        missing=missing, lines=lines, runs=runs, form=form or AssessForm(formdata=None),
    )  # fmt: skip
    return page, status


@bp.get("/incentives/<agreement>/<financial_year>")
@allow(Role.ACCOUNTANT)
def incentive_year(agreement: str, financial_year: str) -> Any:
    return _year_page(agreement, financial_year)


@bp.post("/incentives/<agreement>/<financial_year>/assess")
@allow(Role.ACCOUNTANT)
def assess_incentives(agreement: str, financial_year: str) -> Any:
    """Assess and record each awarded provider's incentive for the year, as ``openbook incentives assess``."""
    scope.accountant(agreement)  # another organisation's agreement is a 404 before the form is read
    form = AssessForm()
    if not form.validate_on_submit():
        return _year_page(agreement, financial_year, form, 400)
    try:
        envelope = envelope_of(form, effective=form.effective.data,
                               reason=form.reason.data or f"incentive assessment of {financial_year}")  # fmt: skip
        result = book_of().incentives.assess_incentives(envelope, agreement, financial_year)
    except (InvalidInput, RuleBroken, Conflict, NotFound) as error:  # NotFound: no scheme to assess by
        status = show_refusal(form, error)
        return _year_page(agreement, financial_year, form, 422 if isinstance(error, NotFound) else status)
    if result["recorded"]:
        flash(f"Recorded: run {result['run']} of the {result['financial_year']} incentive assessment of {agreement}, "
              f"total {format_gbp(Decimal(str(result['total'])))}.")  # fmt: skip
    else:
        flash(f"The {result['financial_year']} assessment is {result['message']}.")
    return redirect(url_for("accountant.incentive_year", agreement=agreement, financial_year=result["financial_year"]))
