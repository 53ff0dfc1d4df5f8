"""Rate reviews in the browser: list, open, propose (stated rates or the uplift calculator), decide, arrears.

Each form is an ``openbook rates review ...`` command calling the same use
case with the same arguments (``book.reviews``: ``open_rate_review``,
``propose_rates``, ``propose_uplift``, ``decide_rate_review``) and the page
shows ``ledger.queries.rates.rate_review``: every proposal with the uplift
arithmetic line by line as the calculator kept it (``domain.rates.uplift``),
the providers' comments (providers write them on their own pages; here they
are only read), and the decision. A backdated decision owes arrears: the
page shows the last calculation (``ledger.queries.activity.arrears``) and
records a new one with ``book.activity.calculate_arrears``, as
``openbook activity arrears`` does.

Stated and amended rates are typed one per line as the CLI takes them,
``SERVICE:ZONE[:BAND]=RATE``; a line that is not is refused naming the line.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields import DateField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from domain.bounds import TEXT_LENGTH
from domain.checks import check_financial_year
from domain.errors import NotFound
from domain.organisations.user import Role
from domain.periods import parse_financial_year
from domain.rates.uplift import Outcome
from ledger.queries import activity as activity_views
from ledger.queries import rates as queries
from ledger.usecases.rates import parse_rate_specs
from reports.statements.frame import names
from reports.statements.rate_notice import notice_providers
from web import as_at, scope
from web.access import allow
from web.accountant import bp
from web.accountant.rates import SERVICE_CHOICES, commissioned_agreement
from web.forms import REFUSALS_WITH_NOT_FOUND, LedgerForm, envelope_of, show_refusal
from web.services import book_of
from web.tables import Column, table

RATES_HINT = "One rate a line, SERVICE:ZONE[:BAND]=RATE, e.g. standard:zone-1=16.34 or standard:zone-a:rural=17.10."
REASON = "Why this is recorded (kept in the history)"


class OpenReviewForm(LedgerForm):
    """``rates review open``."""

    financial_year = StringField("Financial year", validators=[DataRequired("give the year, e.g. 2021-22"),
                                                               Length(max=10)])  # fmt: skip
    effective = DateField("Opened on (optional: today)", validators=[Optional()])
    reason = StringField("Why the review is opened", validators=[DataRequired("say why"), Length(max=TEXT_LENGTH)])
    submit = SubmitField("Open the review")


class PrefixedForm(LedgerForm):
    """A form sharing its page with others: its fields' names and ids start with ``PREFIX``, so none collide."""

    PREFIX = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix=self.PREFIX, **kwargs)


class UpliftForm(PrefixedForm):
    """``rates review propose --median-cost ...``: the uplift calculator, which keeps its arithmetic."""

    PREFIX = "uplift"

    median_cost = StringField("Median cost per contact hour (£)", validators=[InputRequired("give the median cost"),
                                                                             Length(max=40)])  # fmt: skip
    median_source = StringField("Where the median came from", default="stated figure",
                                validators=[DataRequired(), Length(max=TEXT_LENGTH)])  # fmt: skip
    pay_share = StringField("Pay-related share of the cost", validators=[InputRequired("give the pay share"),
                                                                         Length(max=40)])  # fmt: skip
    inflation = StringField("Rise on the other costs", validators=[InputRequired("give the rise"), Length(max=40)])
    old_floor = StringField("Old wage floor (optional, £)", validators=[Optional(), Length(max=40)])
    new_floor = StringField("New wage floor (optional, £)", validators=[Optional(), Length(max=40)])
    service = SelectField("Service", choices=SERVICE_CHOICES, default="standard")
    zones = StringField("Zones (optional)", validators=[Optional(), Length(max=TEXT_LENGTH)])
    band = StringField("Rate band (optional)", validators=[Optional(), Length(max=60)])
    effective = DateField("Proposed on (optional: today)", validators=[Optional()])
    reason = StringField(REASON + " (optional)", validators=[Optional(), Length(max=TEXT_LENGTH)])
    submit = SubmitField("Propose the uplift")


class StatedRatesForm(PrefixedForm):
    """``rates review propose --rate ... --basis ...``."""

    PREFIX = "stated"

    rates = TextAreaField("Proposed rates", validators=[DataRequired("give at least one rate"),
                                                        Length(max=TEXT_LENGTH)])  # fmt: skip
    basis = StringField("Basis of the rates", validators=[DataRequired("say what the rates are based on"),
                                                          Length(max=TEXT_LENGTH)])  # fmt: skip
    effective = DateField("Proposed on (optional: today)", validators=[Optional()])
    reason = StringField(REASON + " (optional)", validators=[Optional(), Length(max=TEXT_LENGTH)])
    submit = SubmitField("Propose these rates")


class DecideForm(PrefixedForm):
    """``rates review decide``: accepted or amended rates reach the card in the same save as the decision."""

    PREFIX = "decide"

    outcome = SelectField("Outcome", choices=[o.value for o in Outcome])
    reasons = TextAreaField("Reasons (required unless accepted)", validators=[Optional(), Length(max=TEXT_LENGTH)])
    decided_by = StringField("Decided by (optional: you)", validators=[Optional(), Length(max=200)])
    effective = DateField("Decided on", validators=[InputRequired("give the date of the decision")])
    effective_from = DateField("Rates apply from (optional)", validators=[Optional()])
    rates = TextAreaField("Amended rates (only if amended)", validators=[Optional(), Length(max=TEXT_LENGTH)])
    reason = StringField(REASON + " (optional)", validators=[Optional(), Length(max=TEXT_LENGTH)])
    submit = SubmitField("Record the decision")


class ArrearsForm(PrefixedForm):
    """``activity arrears``: calculate (again) and record what the backdated decision owes each provider."""

    PREFIX = "arrears"

    submit = SubmitField("Calculate the arrears")


def parse_rates(text: str, field: str = "rates") -> list[dict[str, Any]]:
    """The rates box, one ``SERVICE:ZONE[:BAND]=RATE`` a line (``ledger.usecases.rates.parse_rate_specs``)."""
    return parse_rate_specs(text.splitlines(), field)


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


# -- the list, and opening a review -----------------------------------------------------------------

_REVIEW_COLUMNS = [
    Column("financial_year", "Financial year"),
    Column("status", "Status"),
    Column("effective_from", "Rates from", "date"),
    Column("backdated_text", "Backdated"),
]


@bp.route("/rates/<agreement>/reviews", methods=["GET", "POST"])
@allow(Role.ACCOUNTANT)
def reviews(agreement: str) -> Any:
    """``rates review list``, and the form to open a year's review."""
    found = commissioned_agreement(agreement)
    form = OpenReviewForm()
    status = 200
    if form.validate_on_submit():
        envelope = envelope_of(form, effective=form.effective.data, reason=form.reason.data)
        try:
            result = book_of().reviews.open_rate_review(envelope, agreement, form.financial_year.data.strip())
        except REFUSALS_WITH_NOT_FOUND as error:
            status = show_refusal(form, error)
        else:
            flash(f"Opened the {result['financial_year']} rate review of {agreement}.")
            return redirect(url_for("accountant.review", agreement=agreement, financial_year=result["financial_year"]))
    elif request.method == "POST":
        status = 400
    rows = [
        {**r, "backdated_text": "yes: arrears are owed" if r["backdated"] else ""}
        for r in queries.list_rate_reviews(as_at.read_engine(), agreement)
    ]
    listed = table("reviews", f"Rate reviews of {found['name']}", _REVIEW_COLUMNS, rows)
    page = render_template("accountant/rates/reviews.html", agreement=found, reviews=listed, form=form)
    return page, status


# -- one review -------------------------------------------------------------------------------------

_LINE_COLUMNS = [Column("label", "Step"), Column("formula", "Working"), Column("amount", "Amount", "number")]
_RATE_COLUMNS = [
    Column("service", "Service"),
    Column("zone", "Zone or lot"),
    Column("band", "Band"),
    Column("hourly_rate", "Hourly rate", "money"),
]
_COMMENT_COLUMNS = [Column("on", "On", "date"), Column("provider", "Provider"), Column("comment", "Comment")]
_ARREARS_LINE_COLUMNS = [
    Column("provider", "Provider"),
    Column("service", "Service"),
    Column("zone", "Zone or lot"),
    Column("band", "Band"),
    Column("visits", "Visits", "number"),
    Column("old_rate", "Old rate", "money"),
    Column("new_rate", "New rate", "money"),
    Column("amount", "Arrears", "money"),
    Column("working", "Working"),
]
_ARREARS_PROVIDER_COLUMNS = [Column("provider", "Provider"), Column("amount", "Arrears owed", "money")]


def _money(value: Any) -> Decimal | None:
    """A figure of a JSON-ready answer (exact decimal text) as the Decimal it was."""
    return None if value is None else Decimal(str(value))


def _arrears(agreement: str, year: str) -> dict[str, Any] | None:
    """The last arrears calculation of the review, or None when none is recorded yet."""
    try:
        found = activity_views.arrears(as_at.read_engine(), scope.accountant(agreement), year)
    except NotFound:
        return None
    lines = [{**line, **{k: _money(line[k]) for k in ("old_rate", "new_rate", "amount")}} for line in found["lines"]]
    providers = [{"provider": p, "amount": _money(amount)} for p, amount in found["providers"].items()]
    return {
        **found,
        "total": _money(found["total"]),
        "lines": table("arrears-lines", "Arrears line by line: hours × (new rate − old rate)",
                       _ARREARS_LINE_COLUMNS, lines),  # fmt: skip
        "providers": table("arrears", "Arrears owed to each provider", _ARREARS_PROVIDER_COLUMNS, providers),
    }


def _notices(agreement: str, year: str, decision: dict[str, Any] | None) -> list[tuple[str, str]]:
    """Each provider a decided review's rate notice goes to (code, name), as ``openbook statements`` batches them."""
    if decision is None:
        return []
    called = names(book_of())
    providers = notice_providers(book_of(), scope.accountant(agreement), year, as_at=as_at.current())
    return [(code, called.get(code, code)) for code in providers]


def rate_spec(row: dict[str, Any]) -> str:
    """A rate row as one line of the rates field (``parse_rates`` reads it back)."""
    key = ":".join(part for part in (row["service"], row["zone"], row["band"]) if part)
    return f"{key}={row['hourly_rate']}"


def _current_rates(agreement: str, year: str) -> str:
    """The rates in force on the first day of the review's year, one a line: a start for stated rates."""
    start = parse_financial_year(year).start
    return "\n".join(rate_spec(r) for r in queries.rates_in_force(book_of().read_engine, agreement, start))


def _review_page(agreement: str, financial_year: str, status: int = 200, **forms: Any) -> tuple[str, int]:
    found = commissioned_agreement(agreement)
    year = check_financial_year(financial_year)
    review = queries.rate_review(as_at.read_engine(), agreement, year)
    proposals = [
        {
            **p,
            "number": number,
            "lines": table(f"uplift-{number}", f"Proposal {number}: the uplift arithmetic", _LINE_COLUMNS, p["lines"])
            if p["lines"] else None,
            "rates": table(f"proposed-{number}", f"Proposal {number}: the rates proposed", _RATE_COLUMNS, p["rates"]),
        }
        for number, p in enumerate(review["proposals"], start=1)
    ]  # fmt: skip
    decision = review["decision"]
    decided = None
    if decision is not None:
        decided = table("decided", "The rates decided", _RATE_COLUMNS, decision["rates"])
    arrears = _arrears(agreement, year) if decision is not None and decision["backdated"] else None
    forms.setdefault("uplift", UpliftForm(formdata=None))
    forms.setdefault("stated", StatedRatesForm(formdata=None, rates=_current_rates(agreement, year)))
    forms.setdefault("decide", DecideForm(formdata=None))
    forms.setdefault("arrears_form", ArrearsForm(formdata=None))
    page = render_template(
        "accountant/rates/review.html",
        agreement=found,
        review=review,
        proposals=proposals,
        comments=table("comments", "Comments from providers", _COMMENT_COLUMNS, review["comments"]),
        decision=decision,
        decided=decided,
        arrears=arrears,
        notices=_notices(agreement, year, decision),
        rates_hint=RATES_HINT,
        **forms,
    )
    return page, status


@bp.get("/rates/<agreement>/reviews/<financial_year>")
@allow(Role.ACCOUNTANT)
def review(agreement: str, financial_year: str) -> tuple[str, int]:
    """``rates review show``: proposals with their arithmetic, comments, the decision and its arrears."""
    return _review_page(agreement, financial_year)


def _recorded(agreement: str, financial_year: str, message: str) -> Any:
    flash(message)
    return redirect(url_for("accountant.review", agreement=agreement, financial_year=financial_year))


@bp.post("/rates/<agreement>/reviews/<financial_year>/uplift")
@allow(Role.ACCOUNTANT)
def propose_uplift(agreement: str, financial_year: str) -> Any:
    """Propose the uplift calculator's rate; its steps are kept and shown line by line."""
    commissioned_agreement(agreement)
    form = UpliftForm()
    if not form.validate_on_submit():
        return _review_page(agreement, financial_year, 400, uplift=form)
    zones = [z for z in (form.zones.data or "").replace(",", " ").split() if z]
    envelope = envelope_of(form, effective=form.effective.data, reason=_text(form.reason.data))
    try:
        result = book_of().reviews.propose_uplift(
            envelope, agreement, financial_year, median_cost=form.median_cost.data.strip(),
            pay_share=form.pay_share.data.strip(), inflation=form.inflation.data.strip(),
            old_floor=_text(form.old_floor.data), new_floor=_text(form.new_floor.data), service=form.service.data,
            zones=zones or None, band=_text(form.band.data), median_source=form.median_source.data.strip(),
        )  # fmt: skip
    except REFUSALS_WITH_NOT_FOUND as error:
        aliases = {"current_median_cost_per_hour": "median_cost", "inflation_index": "inflation",
                   "old_wage_floor": "old_floor", "new_wage_floor": "new_floor"}  # fmt: skip
        return _review_page(agreement, financial_year, show_refusal(form, error, aliases), uplift=form)
    proposed = ", ".join(f"{r['zone']} £{r['hourly_rate']}" for r in result["rates"])
    return _recorded(agreement, financial_year, f"Proposed by the uplift calculator ({result['floor']}): {proposed}.")


@bp.post("/rates/<agreement>/reviews/<financial_year>/propose")
@allow(Role.ACCOUNTANT)
def propose_rates(agreement: str, financial_year: str) -> Any:
    """Propose stated rates with their basis."""
    commissioned_agreement(agreement)
    form = StatedRatesForm()
    if not form.validate_on_submit():
        return _review_page(agreement, financial_year, 400, stated=form)
    envelope = envelope_of(form, effective=form.effective.data, reason=_text(form.reason.data))
    try:
        rows = parse_rates(form.rates.data)
        result = book_of().reviews.propose_rates(envelope, agreement, financial_year, rows, form.basis.data.strip())
    except REFUSALS_WITH_NOT_FOUND as error:
        return _review_page(agreement, financial_year, show_refusal(form, error), stated=form)
    proposed = ", ".join(f"{r['service']} {r['zone']} £{r['hourly_rate']}" for r in result["rates"])
    return _recorded(agreement, financial_year, f"Proposed: {proposed}.")


@bp.post("/rates/<agreement>/reviews/<financial_year>/decide")
@allow(Role.ACCOUNTANT)
def decide(agreement: str, financial_year: str) -> Any:
    """Decide the review; accepted or amended rates are on the card from their date at once."""
    commissioned_agreement(agreement)
    form = DecideForm()
    if not form.validate_on_submit():
        return _review_page(agreement, financial_year, 400, decide=form)
    envelope = envelope_of(form, effective=form.effective.data, reason=_text(form.reason.data))
    try:
        rows = parse_rates(form.rates.data) if _text(form.rates.data) else None
        result = book_of().reviews.decide_rate_review(
            envelope, agreement, financial_year, form.outcome.data, (form.reasons.data or "").strip(),
            _text(form.decided_by.data), form.effective_from.data, rows,
        )  # fmt: skip
    except REFUSALS_WITH_NOT_FOUND as error:
        return _review_page(agreement, financial_year, show_refusal(form, error), decide=form)
    message = f"The {result['financial_year']} rate review is {result['outcome']} on {result['decided_on']}"
    if result["effective_from"]:
        message += f"; its rates apply from {result['effective_from']}"
        if result["backdated"]:
            message += " (backdated: arrears are owed on visits already paid)"
    return _recorded(agreement, financial_year, message + ".")


@bp.post("/rates/<agreement>/reviews/<financial_year>/arrears")
@allow(Role.ACCOUNTANT)
def calculate_arrears(agreement: str, financial_year: str) -> Any:
    """Calculate and record what the backdated decision owes each provider (each visit's new price less its old)."""
    commissioned_agreement(agreement)
    form = ArrearsForm()
    if not form.validate_on_submit():
        return _review_page(agreement, financial_year, 400, arrears_form=form)
    envelope = envelope_of(form, reason=f"arrears of the {financial_year} rate review")
    try:
        result = book_of().activity.calculate_arrears(envelope, agreement, financial_year)
    except REFUSALS_WITH_NOT_FOUND as error:
        return _review_page(agreement, financial_year, show_refusal(form, error), arrears_form=form)
    done = f"Arrears calculated (calculation {result['calculations']}): £{result['total']} in all."
    return _recorded(agreement, financial_year, done)
