"""``openbook agreements ...`` and ``openbook postcode``: set up an agreement, show it as at a date.

Set-up commands take the agreement's code first and record one change each;
``--effective`` is the first day the change applies and ``--reason`` is
required for every change after registration (the agreement refuses it
otherwise). Reading commands read the read models through
``ledger.queries.agreements`` only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from cli.context import DATE, Context, as_at_option, command_options, emit, json_option, pass_context, recording
from cli.rates import rate_text
from domain.agreements.postcodes import postcode_district
from domain.agreements.terms import AgreementKind, AwardTier, KpiDirection, KpiUnit, PaymentBasis, ServiceType
from domain.checks import check_amount
from domain.errors import NotFound
from domain.money import format_count, format_gbp
from ledger.queries import agreements as queries


def _choice(enum: Any) -> click.Choice:
    return click.Choice([member.value for member in enum])


@click.group()
def agreements() -> None:
    """Agreements: commissioners, term, zones and lots, awards, KPIs, payment basis."""


@agreements.command("list")
@as_at_option
@json_option
@pass_context
def agreements_list(context: Context, as_at: str | None, as_json: bool) -> None:
    rows = queries.list_agreements(context.read_engine(as_at))
    emit(
        rows,
        as_json,
        lambda rs: [
            f"{r['code']:<22} {r['kind']:<10} {r['term_start']} to {r['term_end']}  {r['name']} "
            f"({', '.join(r['commissioners'])}; {format_count(r['zones'], 'zone/lot', 'zones/lots')}, "
            f"{format_count(r['providers'], 'provider')})"
            for r in rs
        ]
        or ["none"],
    )


def _sheet_lines(sheet: queries.AgreementSheet) -> list[str]:
    a = sheet.agreement
    term = "in term" if a.in_term else "OUTSIDE the term"
    lines = [
        f"{a.code}: {a.name} ({a.kind}) as at {a.on.isoformat()}",
        f"term: {a.term_start.isoformat()} to {a.term_end.isoformat()} ({term})",
        f"visits paid on: {a.payment_basis} minutes",
        f"commissioners: {', '.join(a.commissioners) or 'none'}",
    ]
    paid = "; ".join(f"{c} {format_gbp(amount)}" for c, amount in sheet.contributions.items())
    shown = "none" if sheet.pooled_budget is None else format_gbp(sheet.pooled_budget)
    budget = f"pooled budget {sheet.financial_year}: {shown}"
    lines.append(f"{budget} ({paid})" if paid else budget)
    if a.living_wage_commitment is not None:
        dates = ", ".join(f"{format_gbp(x.hourly_rate)} from {x.adopted_from}" for x in a.living_wage_commitment)
        lines.append(f"Real Living Wage commitment: {dates or 'each rate from 1 April after it is announced'}")
    if a.max_profit_margin is not None:
        lines.append(f"maximum profit margin: {a.max_profit_margin}")
    lines.append(f"service types: {', '.join(a.service_types) or 'none'}")
    lines.append("zones and lots:")
    for zone in a.zones:
        where = " ".join(zone.districts) if not zone.is_lot else "lot covering " + ", ".join(zone.covers)
        primary = sheet.primary_providers.get(zone.code, "none")
        lines.append(f"  {zone.code:<14} {zone.name:<34} {where}  (primary: {primary})")
    lines.append("awards in force:")
    for award in a.awards:
        until = award.to_date.isoformat() if award.to_date else "open-ended"
        lines.append(f"  {award.zone:<14} {award.tier:<10} {award.provider:<28} {award.from_date} to {until}")
    lines.append("KPIs:")
    for kpi in a.kpis:
        lines.append(f"  {kpi.code:<22} {kpi.name}: {kpi.measure}, target {kpi.target} ({kpi.direction})")
    lines.append("rates in force:")
    lines.extend(f"  {rate_text(r)}" for r in sheet.rates)
    return lines


@agreements.command("show")
@click.argument("code")
@click.option("--on", "on", type=DATE, help="Show the agreement as it stood on this date (default today).")
@as_at_option
@json_option
@pass_context
def agreements_show(context: Context, code: str, on: date | None, as_at: str | None, as_json: bool) -> None:
    """The agreement in force on a date (``--on``), as the ledger knew it (``--as-at``, default now): zones, awards,
    KPIs, contributions, payment basis, rates."""
    sheet = queries.agreement_sheet(context.read_engine(as_at), code, on or date.today())
    emit(sheet, as_json, _sheet_lines)


@agreements.command("history")
@click.argument("code")
@as_at_option
@json_option
@pass_context
def agreements_history(context: Context, code: str, as_at: str | None, as_json: bool) -> None:
    """Every change to the agreement with its effective date, reason and who recorded it."""
    changes = queries.agreement_history(context.read_engine(as_at), code)
    emit(
        changes,
        as_json,
        lambda cs: [f"{c.effective_date}  {c.what}  [{c.reason or 'no reason'}; {c.recorded_by}]" for c in cs],
    )


def _recorded(what: str) -> Any:
    return lambda d: [f"recorded: {what}"]


@agreements.command("register")
@click.argument("code")
@click.argument("name")
@click.option("--kind", required=True, type=_choice(AgreementKind))
@click.option("--term-start", required=True, type=DATE)
@click.option("--term-end", required=True, type=DATE)
@click.option("--payment-basis", default=PaymentBasis.ACTUAL.value, show_default=True, type=_choice(PaymentBasis))
@command_options
@json_option
@pass_context
def agreements_register(
    context: Context, code: str, name: str, kind: str, term_start: date, term_end: date, payment_basis: str,
    effective: Any, reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.agreements.register_agreement(envelope, code, name, kind, term_start, term_end, payment_basis)
    emit({"registered": result}, as_json, _recorded(f"agreement {code} registered"))


@agreements.command("extend-term")
@click.argument("code")
@click.argument("new_end", type=DATE)
@command_options
@json_option
@pass_context
def agreements_extend_term(
    context: Context, code: str, new_end: date, effective: Any, reason: str | None, idempotency_key: str | None,
    as_json: bool,
) -> None:
    envelope = recording(context, effective, reason, idempotency_key)
    context.book.agreements.extend_agreement_term(envelope, code, new_end)
    emit({"agreement": code, "term_end": new_end}, as_json, _recorded(f"{code} term extended to {new_end}"))


@agreements.command("add-commissioner")
@click.argument("code")
@click.argument("commissioner")
@command_options
@json_option
@pass_context
def agreements_add_commissioner(
    context: Context, code: str, commissioner: str, effective: Any, reason: str | None, idempotency_key: str | None,
    as_json: bool,
) -> None:
    """A registered council or CCG/ICB joins the agreement as a commissioner."""
    envelope = recording(context, effective, reason, idempotency_key)
    context.book.agreements.join_commissioner(envelope, code, commissioner)
    emit({"agreement": code, "commissioner": commissioner}, as_json, _recorded(f"{commissioner} commissions {code}"))


@agreements.command("set-contribution")
@click.argument("code")
@click.argument("commissioner")
@click.argument("financial_year")
@click.argument("amount")
@command_options
@json_option
@pass_context
def agreements_set_contribution(
    context: Context, code: str, commissioner: str, financial_year: str, amount: str, effective: Any,
    reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:
    """A commissioner's contribution to the pooled budget for a financial year (e.g. 2019-20 7200000.00)."""
    envelope = recording(context, effective, reason, idempotency_key)
    context.book.agreements.set_contribution(envelope, code, commissioner, financial_year, amount)
    recorded = check_amount(amount, "amount")  # as the agreement holds it: "7200000" is 7200000.00
    data = {"agreement": code, "commissioner": commissioner, "financial_year": financial_year, "amount": recorded}
    emit(data, as_json, _recorded(f"{commissioner} contributes {format_gbp(recorded)} to {code} in {financial_year}"))


@agreements.command("add-zone")
@click.argument("code")
@click.argument("zone")
@click.argument("name")
@click.option("--district", "districts", multiple=True, required=True, help="A postcode district (repeatable).")
@command_options
@json_option
@pass_context
def agreements_add_zone(
    context: Context, code: str, zone: str, name: str, districts: tuple[str, ...], effective: Any,
    reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:
    envelope = recording(context, effective, reason, idempotency_key)
    context.book.agreements.add_zone(envelope, code, zone, name, list(districts))
    emit({"agreement": code, "zone": zone}, as_json, _recorded(f"zone {zone} added to {code}"))


@agreements.command("add-lot")
@click.argument("code")
@click.argument("lot")
@click.argument("name")
@click.option("--covers", "covers", multiple=True, required=True, help="A zone the lot spans (repeatable).")
@command_options
@json_option
@pass_context
def agreements_add_lot(
    context: Context, code: str, lot: str, name: str, covers: tuple[str, ...], effective: Any,
    reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:
    """A lot that packages join by need rather than address (e.g. complex care), spanning zones."""
    envelope = recording(context, effective, reason, idempotency_key)
    context.book.agreements.add_lot(envelope, code, lot, name, list(covers))
    emit({"agreement": code, "lot": lot}, as_json, _recorded(f"lot {lot} added to {code}"))


@agreements.command("add-service")
@click.argument("code")
@click.argument("service", type=_choice(ServiceType))
@command_options
@json_option
@pass_context
def agreements_add_service(
    context: Context, code: str, service: str, effective: Any, reason: str | None, idempotency_key: str | None,
    as_json: bool,
) -> None:
    envelope = recording(context, effective, reason, idempotency_key)
    context.book.agreements.add_service_type(envelope, code, service)
    emit({"agreement": code, "service": service}, as_json, _recorded(f"service type {service} added to {code}"))


@agreements.command("award")
@click.argument("code")
@click.argument("provider")
@click.argument("zone")
@click.option("--tier", required=True, type=_choice(AwardTier))
@click.option("--to", "to_date", type=DATE, help="The award's last day, if it is fixed.")
@command_options
@json_option
@pass_context
def agreements_award(
    context: Context, code: str, provider: str, zone: str, tier: str, to_date: date | None, effective: Any,
    reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:
    """Award a zone or lot to a registered provider from --effective."""
    envelope = recording(context, effective, reason, idempotency_key)
    context.book.agreements.award_provider(envelope, code, provider, zone, tier, to_date)
    data = {"agreement": code, "provider": provider, "zone": zone, "tier": tier, "from": envelope.effective_date}
    emit(data, as_json, _recorded(f"{provider} awarded {zone} of {code} as {tier} from {envelope.effective_date}"))


@agreements.command("end-award")
@click.argument("code")
@click.argument("provider")
@click.argument("zone")
@command_options
@json_option
@pass_context
def agreements_end_award(
    context: Context, code: str, provider: str, zone: str, effective: Any, reason: str | None,
    idempotency_key: str | None, as_json: bool,
) -> None:
    """End an award with effect from --effective (its last day is the day before)."""
    envelope = recording(context, effective, reason, idempotency_key)
    context.book.agreements.end_award(envelope, code, provider, zone)
    data = {"agreement": code, "provider": provider, "zone": zone, "ended_from": envelope.effective_date}
    emit(data, as_json, _recorded(f"{provider}'s award of {zone} ends from {envelope.effective_date}"))


@agreements.command("appoint-auditor")
@click.argument("code")
@click.argument("audit_body")
@command_options
@json_option
@pass_context
def agreements_appoint_auditor(
    context: Context, code: str, audit_body: str, effective: Any, reason: str | None, idempotency_key: str | None,
    as_json: bool,
) -> None:
    """Appoint a registered audit body to audit the agreement from --effective: its auditors then read everything
    recorded under it (and nothing of agreements it is not appointed to)."""
    envelope = recording(context, effective, reason, idempotency_key)
    context.book.agreements.appoint_auditor(envelope, code, audit_body)
    data = {"agreement": code, "audit_body": audit_body, "from": envelope.effective_date}
    emit(data, as_json, _recorded(f"{audit_body} audits {code} from {envelope.effective_date}"))


@agreements.command("end-auditor-appointment")
@click.argument("code")
@click.argument("audit_body")
@command_options
@json_option
@pass_context
def agreements_end_auditor_appointment(
    context: Context, code: str, audit_body: str, effective: Any, reason: str | None, idempotency_key: str | None,
    as_json: bool,
) -> None:
    """End an audit body's appointment with effect from --effective (its last day is the day before)."""
    envelope = recording(context, effective, reason, idempotency_key)
    context.book.agreements.end_auditor_appointment(envelope, code, audit_body)
    data = {"agreement": code, "audit_body": audit_body, "ended_from": envelope.effective_date}
    emit(data, as_json, _recorded(f"{audit_body}'s appointment to audit {code} ends from {envelope.effective_date}"))


@agreements.command("auditors")
@click.argument("code")
@as_at_option
@json_option
@pass_context
def agreements_auditors(context: Context, code: str, as_at: str | None, as_json: bool) -> None:
    """Every appointment of an audit body to audit the agreement, with its first and last day."""
    engine = context.read_engine(as_at)
    queries.get_agreement(engine, code)  # an unknown agreement says so
    rows = queries.auditors(engine, code)
    emit(rows, as_json, lambda found: [
        f"{r['audit_body']}  from {r['from_date']}  to {r['to_date'] or 'now'}" for r in found
    ] or ["no audit body appointed"])  # fmt: skip


@agreements.command("define-kpi")
@click.argument("code")
@click.argument("kpi")
@click.option("--name", required=True)
@click.option("--measure", required=True)
@click.option("--target", required=True)
@click.option("--direction", required=True, type=_choice(KpiDirection))
@click.option(
    "--unit", type=_choice(KpiUnit), help="percent (0-100), count (whole, from 0), rate (from 0) or number; "
    "without it, the measure's words decide (\"% of ...\" is a percent, \"number of ...\" a count, else a rate)."
)
@command_options
@json_option
@pass_context
def agreements_define_kpi(
    context: Context, code: str, kpi: str, name: str, measure: str, target: str, direction: str, unit: str | None,
    effective: Any, reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:
    """Define a KPI from --effective; defining it again revises it from that date."""
    envelope = recording(context, effective, reason, idempotency_key)
    context.book.agreements.define_kpi(envelope, code, kpi, name, measure, target, direction, unit)
    emit({"agreement": code, "kpi": kpi}, as_json, _recorded(f"KPI {kpi} of {code}"))


@agreements.command("set-payment-basis")
@click.argument("code")
@click.argument("basis", type=_choice(PaymentBasis))
@command_options
@json_option
@pass_context
def agreements_set_payment_basis(
    context: Context, code: str, basis: str, effective: Any, reason: str | None, idempotency_key: str | None,
    as_json: bool,
) -> None:
    """Which minutes of a visit are paid from --effective: actual, planned, or actual capped at planned."""
    envelope = recording(context, effective, reason, idempotency_key)
    context.book.agreements.set_payment_basis(envelope, code, basis)
    data = {"agreement": code, "payment_basis": basis, "from": envelope.effective_date}
    emit(data, as_json, _recorded(f"{code} pays visits on {basis} minutes from {envelope.effective_date}"))


# -- postcode lookup ----------------------------------------------------------------------------


@click.command()
@click.argument("postcode", nargs=-1, required=True)
@click.option("--agreement", help="The agreement's code (default: the one agreement with a zone over the district).")
@click.option("--on", "on", type=DATE, help="The date (default today).")
@as_at_option
@json_option
@pass_context
def postcode(
    context: Context, postcode: tuple[str, ...], agreement: str | None, on: date | None, as_at: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """A postcode's district, zone and primary provider on a date, e.g. ``openbook postcode CH45 3AB``."""
    day = on or date.today()
    text = " ".join(postcode)
    engine = context.read_engine(as_at)
    if agreement is None:
        district = postcode_district(text)
        found = sorted({r["agreement"] for r in queries.agreements_with_district(engine, district, day)})
        if not found:
            raise NotFound(f"postcode district {district} is not in any zone of any agreement on {day.isoformat()}")
        if len(found) > 1:
            raise NotFound(f"postcode district {district} is in zones of {', '.join(found)}; give --agreement")
        agreement = found[0]
    answer = queries.locate_postcode(engine, agreement, text, day)

    def render(a: Any) -> list[str]:
        lines = [
            f"{a.district} on {a.on.isoformat()}: {a.agreement} zone {a.zone} ({a.zone_name})",
            f"primary provider: {a.primary_provider or 'none in force'}",
        ]
        lines.extend(f"  {w.tier:<10} {w.provider}" for w in a.awards)
        if a.lots:
            lines.append(f"lots covering it: {', '.join(a.lots)}")
        return lines

    emit(answer, as_json, render)
