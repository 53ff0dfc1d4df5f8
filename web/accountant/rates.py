"""Rate cards in the browser: the rates in force on a date, every rate published, pricing a visit, publishing.

Each page is an ``openbook rates ...`` command with the same query or use
case and the same arguments: ``rates show --on`` is ``rates_in_force``,
``rates history`` is ``rate_history``, ``rates price`` is the one pricing
path (``book.rates.price_visit``), ``rates publish`` is
``book.rates.publish_rate`` (a rate, or a blend of up to three parts, from
the date stated, with the reason the card keeps) and ``rates withdraw`` is
``book.rates.withdraw_rate``. The rate card checks the
figures; its refusal is shown beside the field it names and nothing is
recorded.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.fields import DateField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from domain.agreements.terms import ServiceType
from domain.bounds import TEXT_LENGTH
from domain.organisations.user import Role
from ledger.queries import agreements as agreement_queries
from ledger.queries import rates as queries
from web import as_at, navigation, scope
from web.access import allow
from web.accountant import bp
from web.accountant.agreements import RATE_COLUMNS, rate_rows
from web.forms import REFUSALS_WITH_NOT_FOUND, LedgerForm, envelope_of, show_refusal
from web.params import on_date
from web.services import book_of
from web.tables import Column, table

bp.record_once(lambda state: navigation.add(state.app, "Rates", "accountant.rates", Role.ACCOUNTANT))

SERVICE_CHOICES = [s.value for s in ServiceType]
BLEND_PARTS = 3


def blend_weight(part: int) -> str:
    return f"blend_weight_{part}"


def blend_rate(part: int) -> str:
    return f"blend_rate_{part}"


class PublishForm(LedgerForm):
    """``openbook rates publish``: a service, a zone (and band), a rate or a blend, from a date, and why."""

    service = SelectField("Service", choices=SERVICE_CHOICES, validators=[DataRequired()])
    zone = StringField("Zone or lot", validators=[DataRequired("give the zone or lot"), Length(max=60)])
    band = StringField("Rate band (optional)", validators=[Optional(), Length(max=60)])
    hourly_rate = StringField("Hourly rate (£)", validators=[Optional(), Length(max=40)])
    effective = DateField("In force from", validators=[InputRequired("give the first day the rate applies")])
    reason = StringField("Why it is published", validators=[DataRequired("say why"), Length(max=TEXT_LENGTH)])
    submit = SubmitField("Publish the rate")


for _part in range(1, BLEND_PARTS + 1):
    setattr(PublishForm, blend_weight(_part), StringField(f"Blend part {_part}: weight", validators=[
        Optional(), Length(max=40)]))  # fmt: skip
    setattr(PublishForm, blend_rate(_part), StringField(f"Blend part {_part}: hourly rate (£)", validators=[
        Optional(), Length(max=40)]))  # fmt: skip


class WithdrawForm(LedgerForm):
    """``openbook rates withdraw``: end a rate from a date (a banded package then takes the rate without a band).

    It shares its page with the publishing form: its fields are named ``withdraw-...``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix="withdraw", **kwargs)

    service = SelectField("Service", choices=SERVICE_CHOICES, validators=[DataRequired()])
    zone = StringField("Zone or lot", validators=[DataRequired("give the zone or lot"), Length(max=60)])
    band = StringField("Rate band (optional)", validators=[Optional(), Length(max=60)])
    effective = DateField("Withdrawn from", validators=[InputRequired("give the first day without the rate")])
    reason = StringField("Why it is withdrawn", validators=[DataRequired("say why"), Length(max=TEXT_LENGTH)])
    submit = SubmitField("Withdraw the rate")


class PriceForm(FlaskForm):
    """``openbook rates price``: a GET form, so the answer has an address and nothing is recorded."""

    class Meta:
        csrf = False

    service = SelectField("Service", choices=SERVICE_CHOICES)
    zone = StringField("Zone or lot", validators=[DataRequired("give the zone or lot"), Length(max=60)])
    band = StringField("Rate band (optional)", validators=[Optional(), Length(max=60)])
    visit_on = DateField("Date of the visit", validators=[InputRequired("give the date of the visit")])
    planned = IntegerField("Planned minutes", validators=[InputRequired("give the planned minutes")])
    actual = IntegerField("Actual minutes", validators=[InputRequired("give the actual minutes")])


#: The ledger's names for what the pages call otherwise.
PRICE_ALIASES = {"planned_minutes": "planned", "actual_minutes": "actual", "on_date": "visit_on"}
PUBLISH_ALIASES = {"blend": blend_weight(1), "effective_from": "effective", "rate": "hourly_rate"}


def _blend(form: PublishForm) -> list[tuple[str, str]] | None:
    """The blend's parts as typed (weight, rate) text pairs; None when no part is given."""
    parts = []
    for part in range(1, BLEND_PARTS + 1):
        weight = (form[blend_weight(part)].data or "").strip()
        rate = (form[blend_rate(part)].data or "").strip()
        if weight or rate:
            parts.append((weight, rate))
    return parts or None


def commissioned_agreement(agreement: str) -> dict[str, Any]:
    """The agreement, once the ledger says the user reads every provider's figures under it (else 404/403)."""
    scope.accountant(agreement)
    return agreement_queries.get_agreement(as_at.read_engine(), agreement)


# -- the rates index --------------------------------------------------------------------------------


@bp.get("/rates")
@allow(Role.ACCOUNTANT)
def rates() -> str:
    """Each agreement the organisation commissions, with its rates in force today and its reviews."""
    engine = as_at.read_engine()
    on = on_date()
    sections = []
    for index, (row, _access) in enumerate(scope.my_agreements(every_provider=True)):
        in_force = rate_rows(queries.rates_in_force(engine, row["code"], on))
        sections.append(
            {
                "agreement": row,
                "rates": table(f"rates-{index}", f"Rates of {row['name']} in force on {on}", RATE_COLUMNS, in_force),
                "reviews": queries.list_rate_reviews(engine, row["code"]),
            }
        )
    return render_template("accountant/rates/index.html", sections=sections, on=on)


# -- one rate card ----------------------------------------------------------------------------------

_HISTORY_COLUMNS = [
    Column("service", "Service"),
    Column("zone", "Zone or lot"),
    Column("band", "Band"),
    Column("shown_rate", "Hourly rate", "money"),
    Column("effective_from", "From", "date"),
    Column("standing", "What became of it"),
    Column("reason", "Reason"),
]


def _standing(row: dict[str, Any]) -> str:
    if row["corrected"]:
        return "corrected (never applied)"
    if row["superseded_from"]:
        return f"until {row['superseded_from'].isoformat()}"
    return "withdrawn" if row["withdrawn"] else "in force"


@bp.get("/rates/<agreement>")
@allow(Role.ACCOUNTANT)
def rate_card(agreement: str) -> Any:
    """``rates show --on`` and ``rates history``, and the pricing form (``rates price``) answered on the page."""
    found = commissioned_agreement(agreement)
    engine = as_at.read_engine()
    on = on_date()
    in_force = rate_rows(queries.rates_in_force(engine, agreement, on))
    history = [
        {**r, "shown_rate": None if r["withdrawn"] else r["hourly_rate"], "standing": _standing(r)}
        for r in queries.rate_history(engine, agreement)
    ]
    form, price, status = PriceForm(request.args, meta={"csrf": False}), None, 200
    if "visit_on" in request.args:
        if as_at.current() is not None:  # as `rates price`: the one pricing path reads the rate card as recorded now
            form.form_errors.append("A visit is priced from the rate card as it is now: show the live page to price one.")
        elif form.validate():
            try:
                price = book_of().rates.price_visit(
                    agreement, form.service.data, form.zone.data.strip(), form.visit_on.data, form.planned.data,
                    form.actual.data, (form.band.data or "").strip() or None,
                )  # fmt: skip
            except REFUSALS_WITH_NOT_FOUND as error:
                status = show_refusal(form, error, PRICE_ALIASES)
        else:
            status = 400
    page = render_template(
        "accountant/rates/card.html",
        agreement=found,
        on=on,
        rates=table("rates", f"Rates in force on {on.isoformat()}", RATE_COLUMNS, in_force),
        history=table("history", "Every rate published, with its reason", _HISTORY_COLUMNS, history),
        form=form,
        price=price,
    )
    return page, status


# -- publishing -------------------------------------------------------------------------------------


def _publish_page(agreement: str, form: PublishForm, withdraw: WithdrawForm, status: int = 200) -> tuple[str, int]:
    page = render_template(
        "accountant/rates/publish.html", agreement=commissioned_agreement(agreement), form=form, withdraw=withdraw,
        zones=agreement_queries.zones(as_at.read_engine(), agreement), parts=range(1, BLEND_PARTS + 1),
    )  # fmt: skip
    return page, status


@bp.route("/rates/<agreement>/publish", methods=["GET", "POST"])
@allow(Role.ACCOUNTANT)
def publish_rate(agreement: str) -> Any:
    """Publish one rate (or a blend) from a date; the card checks it against the agreement."""
    commissioned_agreement(agreement)
    form = PublishForm()
    withdraw = WithdrawForm(formdata=None)
    if not form.validate_on_submit():
        return _publish_page(agreement, form, withdraw, 400 if request.method == "POST" else 200)
    envelope = envelope_of(form, effective=form.effective.data, reason=form.reason.data)
    try:
        result = book_of().rates.publish_rate(
            envelope, agreement, form.service.data, form.zone.data.strip(),
            hourly_rate=(form.hourly_rate.data or "").strip() or None, blend=_blend(form),
            band=(form.band.data or "").strip() or None,
        )  # fmt: skip
    except REFUSALS_WITH_NOT_FOUND as error:
        return _publish_page(agreement, form, withdraw, show_refusal(form, error, PUBLISH_ALIASES))
    flash(f"Published: {result['derivation']}.")
    return redirect(url_for("accountant.rate_card", agreement=agreement, on=form.effective.data.isoformat()))


@bp.post("/rates/<agreement>/withdraw")
@allow(Role.ACCOUNTANT)
def withdraw_rate(agreement: str) -> Any:
    """End a rate from a date; the card refuses a rate that is not in force then."""
    commissioned_agreement(agreement)
    withdraw = WithdrawForm()
    form = PublishForm(formdata=None)
    if not withdraw.validate_on_submit():
        return _publish_page(agreement, form, withdraw, 400)
    envelope = envelope_of(withdraw, effective=withdraw.effective.data, reason=withdraw.reason.data)
    band = (withdraw.band.data or "").strip() or None
    try:
        book_of().rates.withdraw_rate(envelope, agreement, withdraw.service.data, withdraw.zone.data.strip(), band=band)
    except REFUSALS_WITH_NOT_FOUND as error:
        return _publish_page(agreement, form, withdraw, show_refusal(withdraw, error, PUBLISH_ALIASES))
    day = withdraw.effective.data.isoformat()
    flash(f"Withdrawn from {day}: {withdraw.service.data} {withdraw.zone.data.strip()} {band or ''}".rstrip() + ".")
    return redirect(url_for("accountant.rate_card", agreement=agreement, on=day))
