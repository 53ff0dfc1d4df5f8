"""Setting an agreement up: register it, then one page per agreement with a small form for each part.

Each form calls the same use case as ``openbook agreements ...`` (the
ledger decides who may: an accountant or admin of a commissioner, until one
joins of the body that registered it). The page shows the agreement as it
stood on a date (``?on=YYYY-MM-DD``, default today) from
``ledger.queries.agreements.agreement_sheet``, the same sheet as
``openbook agreements show --on``.

The pooled budget is the commissioners' contributions; its target, risk-share
bands and caps are shown here but are an accountant's to set
(``set_pooled_budget``: the rule ``ACCOUNTANT``), on their pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound as PageNotFound
from werkzeug.wrappers import Response
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from domain.agreements.terms import AgreementKind, AwardTier, KpiDirection, KpiUnit, PaymentBasis, ServiceType
from domain.errors import NotFound
from domain.organisations.user import Role
from ledger.authorisation import check_may_set_up
from ledger.bootstrap import Openbook
from ledger.queries import agreements as views
from ledger.queries import organisations as organisation_views
from ledger.queries.settlements import pool_terms
from web import as_at, scope
from web.access import allow, current_actor
from web.admin import bp
from web.admin.recording import ChangeForm, choices, envelope, record, words
from web.forms import LedgerForm
from web.params import on_date
from web.services import book_of
from web.tables import Column, table

CODE = [DataRequired(), Length(max=63)]
NAME = [DataRequired(), Length(max=200)]


def _values(enum: Any) -> list:
    return choices(member.value for member in enum)


class RegisterAgreementForm(ChangeForm):
    code = StringField("Code", validators=CODE)
    name = StringField("Name", validators=NAME)
    kind = SelectField("Kind", choices=_values(AgreementKind))
    term_start = DateField("Term starts", validators=[DataRequired()])
    term_end = DateField("Term ends", validators=[DataRequired()])
    payment_basis = SelectField("Visits paid on", choices=_values(PaymentBasis))


class TermForm(ChangeForm):
    new_end = DateField("New last day of the term", validators=[DataRequired()])


class CommissionerForm(ChangeForm):
    commissioner = SelectField("Council or CCG/ICB")


class ContributionForm(ChangeForm):
    commissioner = SelectField("Commissioner")
    financial_year = StringField("Financial year (e.g. 2019-20)", validators=[DataRequired(), Length(max=7)])
    amount = StringField("Amount in pounds", validators=[DataRequired(), Length(max=20)])


class ZoneForm(ChangeForm):
    zone = StringField("Zone code", validators=CODE)
    name = StringField("Name", validators=NAME)
    districts = StringField("Postcode districts (e.g. CH41 CH42)", validators=[DataRequired(), Length(max=500)])


class LotForm(ChangeForm):
    lot = StringField("Lot code", validators=CODE)
    name = StringField("Name", validators=NAME)
    covers = StringField("Zones it spans (e.g. zone-1 zone-2)", validators=[DataRequired(), Length(max=500)])


class ServiceForm(ChangeForm):
    service = SelectField("Service type", choices=_values(ServiceType))


class AwardForm(ChangeForm):
    provider = SelectField("Provider")
    zone = StringField("Zone or lot code", validators=CODE)
    tier = SelectField("Tier", choices=_values(AwardTier))
    to_date = DateField("Last day, if fixed", validators=[Optional()])


class EndAwardForm(ChangeForm):
    provider = SelectField("Provider")
    zone = StringField("Zone or lot code", validators=CODE)


class KpiForm(ChangeForm):
    kpi = StringField("KPI code", validators=CODE)
    name = StringField("Name", validators=NAME)
    measure = StringField("Measure", validators=[DataRequired(), Length(max=500)])
    target = StringField("Target", validators=[DataRequired(), Length(max=20)])
    direction = SelectField("Direction", choices=_values(KpiDirection))
    unit = SelectField(
        "Unit", choices=choices([("", "from the measure's words"), *((u.value, u.value) for u in KpiUnit)])
    )


class BasisForm(ChangeForm):
    payment_basis = SelectField("Visits paid on", choices=_values(PaymentBasis))


class AuditorForm(ChangeForm):
    """An audit body appointed from the effective date, or its appointment ended from it."""

    audit_body = SelectField("Audit body")


class ProfitCapForm(ChangeForm):
    max_margin = StringField("Maximum profit margin (e.g. 0.05; empty: no cap)", validators=[Length(max=20)])


@dataclass(frozen=True)
class Part:
    """One part of the set-up: its section's title, its form, and the use case it calls."""

    title: str
    form: type[LedgerForm]
    command: Callable[[Openbook, Any, str, Any], Any]


PARTS: dict[str, Part] = {
    "term": Part("Term", TermForm, lambda b, e, a, f: b.agreements.extend_agreement_term(e, a, f.new_end.data)),
    "commissioner": Part(
        "Commissioners", CommissionerForm, lambda b, e, a, f: b.agreements.join_commissioner(e, a, f.commissioner.data)
    ),
    "contribution": Part(
        "Contributions to the pooled budget", ContributionForm,
        lambda b, e, a, f: b.agreements.set_contribution(
            e, a, f.commissioner.data, f.financial_year.data.strip(), f.amount.data.strip()
        ),
    ),
    "zone": Part(
        "Zones and districts", ZoneForm,
        lambda b, e, a, f: b.agreements.add_zone(e, a, f.zone.data.strip(), f.name.data, words(f.districts.data)),
    ),
    "lot": Part(
        "Lots", LotForm,
        lambda b, e, a, f: b.agreements.add_lot(e, a, f.lot.data.strip(), f.name.data, words(f.covers.data)),
    ),
    "service": Part(
        "Service types", ServiceForm, lambda b, e, a, f: b.agreements.add_service_type(e, a, f.service.data)
    ),
    "award": Part(
        "Awards", AwardForm,
        lambda b, e, a, f: b.agreements.award_provider(
            e, a, f.provider.data, f.zone.data.strip(), f.tier.data, f.to_date.data
        ),
    ),
    "end-award": Part(
        "End an award", EndAwardForm,
        lambda b, e, a, f: b.agreements.end_award(e, a, f.provider.data, f.zone.data.strip()),
    ),
    "kpi": Part(
        "KPIs", KpiForm,
        lambda b, e, a, f: b.agreements.define_kpi(
            e, a, f.kpi.data.strip(), f.name.data, f.measure.data, f.target.data.strip(), f.direction.data,
            f.unit.data or None,
        ),
    ),
    "basis": Part(
        "Payment basis", BasisForm, lambda b, e, a, f: b.agreements.set_payment_basis(e, a, f.payment_basis.data)
    ),
    "profit-cap": Part(
        "Profit cap", ProfitCapForm,
        lambda b, e, a, f: b.agreements.set_profit_cap(e, a, (f.max_margin.data or "").strip() or None),
    ),
    "auditor": Part(
        "Appoint an audit body", AuditorForm,
        lambda b, e, a, f: b.agreements.appoint_auditor(e, a, f.audit_body.data),
    ),
    "end-auditor": Part(
        "End an audit body's appointment", AuditorForm,
        lambda b, e, a, f: b.agreements.end_auditor_appointment(e, a, f.audit_body.data),
    ),
}  # fmt: skip


def _may_set_up(agreement: str) -> None:
    """The set-up page is for who may set the agreement up; another's is not found (the ledger decides)."""
    check_may_set_up(book_of().records, current_actor(), agreement)


def _organisations(*kinds: str) -> list:
    """A form's choices: the organisations as they are now (a form acts on the live ledger)."""
    rows = organisation_views.list_organisations(book_of().read_engine)
    return choices((r["code"], f"{r['name']} ({r['code']})") for r in rows if r["kind"] in kinds)


def _commissioners(agreement: str) -> list[str]:
    found = [r for r in views.list_agreements(as_at.read_engine()) if r["code"] == agreement]
    return list(found[0]["commissioners"]) if found else []


def _form(part: str, commissioners: list[str], formdata: Any = None) -> LedgerForm:
    """The form of ``part``, with the choices it offers (fresh unless ``formdata`` is the request's)."""
    form = PARTS[part].form(formdata=formdata, prefix=part)
    if isinstance(form, CommissionerForm):
        form.commissioner.choices = _organisations("council", "icb")
    if isinstance(form, ContributionForm):
        form.commissioner.choices = choices(commissioners)
    if isinstance(form, (AwardForm, EndAwardForm)):
        form.provider.choices = _organisations("provider")
    if isinstance(form, AuditorForm):
        form.audit_body.choices = _organisations("audit-body")
    return form


@bp.route("/agreements", methods=["GET", "POST"])
@allow(Role.ADMIN)
def agreements() -> Response | str | tuple[str, int]:
    """The agreements the admin's organisation has a part in, and registering a new one."""
    form = RegisterAgreementForm()
    status = 200
    if form.validate_on_submit():
        book = book_of()
        code, status = record(form, lambda: book.agreements.register_agreement(
            envelope(form), form.code.data.strip(), form.name.data, form.kind.data, form.term_start.data,
            form.term_end.data, form.payment_basis.data,
        ))  # fmt: skip
        if status is None:
            flash(f"Agreement {code} registered: join a commissioner first, then set up its zones and awards.")
            return redirect(url_for("admin.agreement", agreement=code))
    elif form.errors:
        status = 400
    rows = [
        {**row, "commissioners": ", ".join(row["commissioners"])} for row, _ in scope.my_agreements()
    ]
    columns = [Column("code", "Code"), Column("name", "Name"), Column("kind", "Kind"),
               Column("term_start", "Term starts", "date"), Column("term_end", "Term ends", "date"),
               Column("commissioners", "Commissioners")]  # fmt: skip
    listed = table("agreements", "Agreements your organisation has a part in", columns, rows)
    return render_template("admin/agreements/list.html", agreements=listed, form=form), status


def _page(agreement: str, failed: tuple[str, LedgerForm] | None = None, status: int = 200) -> tuple[str, int]:
    _may_set_up(agreement)
    engine = as_at.read_engine()
    on = on_date()
    sheet = views.agreement_sheet(engine, agreement, on)
    commissioners = _commissioners(agreement)
    forms = {part: _form(part, commissioners) for part in PARTS}
    if failed is not None:
        forms[failed[0]] = failed[1]
    a = sheet.agreement
    contributions = table(
        "contributions", f"Contributions, {sheet.financial_year}",
        [Column("commissioner", "Commissioner"), Column("amount", "Amount", "money")],
        [{"commissioner": c, "amount": amount} for c, amount in sheet.contributions.items()],
    )  # fmt: skip
    zones = table(
        "zones", f"Zones and lots on {on.isoformat()}",
        [Column("code", "Code"), Column("name", "Name"), Column("districts", "Districts"),
         Column("covers", "Lot spans"), Column("primary", "Primary provider"), Column("from_date", "From", "date")],
        [{"code": z.code, "name": z.name, "districts": " ".join(z.districts), "covers": " ".join(z.covers),
          "primary": sheet.primary_providers.get(z.code, ""), "from_date": z.from_date} for z in a.zones],
    )  # fmt: skip
    awards = table(
        "awards", f"Awards in force on {on.isoformat()}",
        [Column("zone", "Zone"), Column("tier", "Tier"), Column("provider", "Provider"),
         Column("from_date", "From", "date"), Column("to_date", "To", "date")],
        [{"zone": w.zone, "tier": str(w.tier), "provider": w.provider, "from_date": w.from_date, "to_date": w.to_date}
         for w in a.awards],
    )  # fmt: skip
    kpis = table(
        "kpis", f"KPIs on {on.isoformat()}",
        [Column("code", "Code"), Column("name", "Name"), Column("measure", "Measure"),
         Column("target", "Target", "number"), Column("direction", "Direction")],
        [{"code": k.code, "name": k.name, "measure": k.measure, "target": k.target, "direction": str(k.direction)}
         for k in a.kpis],
    )  # fmt: skip
    rates = table(
        "rates", f"Rates in force on {on.isoformat()}",
        [Column("service", "Service"), Column("zone", "Zone"), Column("band", "Band"),
         Column("hourly_rate", "Hourly rate", "money"), Column("effective_from", "From", "date")],
        sheet.rates,
    )  # fmt: skip
    try:
        pool = pool_terms(engine, agreement, sheet.financial_year)
    except NotFound:
        pool = None
    bands = table(
        "bands", f"Risk-share bands, {sheet.financial_year} (fractions of the target; the provider side's share)",
        [Column("lower", "From", "number"), Column("upper", "To", "number"),
         Column("provider_share", "Provider side's share", "number")],
        [{"lower": b.lower, "upper": b.upper, "provider_share": b.provider_share}
         for b in (pool.bands if pool else ())],
    )  # fmt: skip
    auditors = table(
        "auditors", "Audit bodies appointed (their auditors read everything recorded under the agreement)",
        [Column("audit_body", "Audit body"), Column("from_date", "From", "date"), Column("to_date", "Last day", "date")],
        views.auditors(engine, agreement),
    )  # fmt: skip
    page = render_template(
        "admin/agreements/agreement.html", sheet=sheet, a=a, on=on, parts=PARTS, forms=forms, pool=pool,
        contributions=contributions, zones=zones, awards=awards, kpis=kpis, rates=rates, bands=bands,
        auditors=auditors,
    )  # fmt: skip
    return page, status


@bp.get("/agreements/<agreement>")
@allow(Role.ADMIN)
def agreement(agreement: str) -> tuple[str, int]:
    return _page(agreement)


@bp.post("/agreements/<agreement>/<part>")
@allow(Role.ADMIN)
def set_up(agreement: str, part: str) -> Response | tuple[str, int]:
    """Record one part of the set-up (``part``: a key of ``PARTS``) and come back to the agreement's page."""
    if part not in PARTS:
        raise PageNotFound()
    _may_set_up(agreement)
    form = _form(part, _commissioners(agreement), formdata=request.form)
    if not form.validate():
        return _page(agreement, (part, form), 400)
    book = book_of()
    _, status = record(form, lambda: PARTS[part].command(book, envelope(form), agreement, form))
    if status is not None:
        return _page(agreement, (part, form), status)
    flash(f"{PARTS[part].title}: recorded for {agreement}.")
    return redirect(url_for("admin.agreement", agreement=agreement, on=request.args.get("on")) + f"#{part}")
