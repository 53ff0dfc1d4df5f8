"""``openbook rates ...``: publish rates, show the card on a date, price a visit, run a rate review.

Figures are passed to the ledger as the text typed (never through a float);
the rate card checks them. Blends are given as parts, ``--blend 0.7@12.80
--blend 0.3@15.80``, and the card computes the rate. Review rates are given as
``--rate SERVICE:ZONE[:BAND]=RATE``, e.g. ``--rate standard:zone-1=16.34``.
What is shown is read through ``ledger.queries`` only; ``rates price`` asks the
one pricing path (``book.rates.price_visit``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from cli.context import (
    DATE,
    Context,
    as_at_option,
    command_options,
    emit,
    json_option,
    money,
    pass_context,
    rate,
    recording,
)
from domain.agreements.terms import ServiceType
from domain.errors import InvalidInput
from domain.rates.pricing import blend_rows
from domain.rates.uplift import Outcome
from ledger.queries import agreements as agreement_queries
from ledger.queries import rates as queries
from ledger.usecases.rates import parse_rate_specs

SERVICES = click.Choice([s.value for s in ServiceType])


def parse_blend(parts: tuple[str, ...]) -> list[tuple[str, str]] | None:
    """``("0.7@12.80", "0.3@15.80")`` as (weight, rate) text pairs; None when no parts are given."""
    if not parts:
        return None
    pairs = []
    for part in parts:
        weight, sep, rate = part.partition("@")
        if not sep or not weight or not rate:
            raise InvalidInput(f"--blend: {part!r} is not WEIGHT@RATE, e.g. 0.7@12.80")
        pairs.append((weight.strip(), rate.strip()))
    return pairs


def parse_rates(specs: tuple[str, ...]) -> list[dict[str, Any]]:
    """``--rate`` options as rate rows (``ledger.usecases.rates.parse_rate_specs``: the one parser)."""
    return parse_rate_specs(specs, "--rate")


def rate_text(r: dict[str, Any]) -> str:
    """One rate-card row for people: service, zone, band, rate, from when, and its blend if any."""
    band = r["band"] or "-"
    parts = " + ".join(f"{p['weight']} × {rate(p['rate'])}" for p in r.get("blend") or ())
    blend = f"  (blend {parts})" if parts else ""
    return f"{r['service']:<12} {r['zone']:<14} {band:<6} {rate(r['hourly_rate']):>9} from {r['effective_from']}{blend}"


@click.group()
def rates() -> None:
    """Rate cards: effective-dated rates per service, zone and band; pricing; rate reviews."""


@rates.command("show")
@click.option("--agreement", required=True)
@click.option("--on", "on", type=DATE, help="The date (default today).")
@as_at_option
@json_option
@pass_context
def rates_show(context: Context, agreement: str, on: date | None, as_at: str | None, as_json: bool) -> None:
    """The rates in force on a date."""
    day = on or date.today()
    engine = context.read_engine(as_at)
    agreement_queries.get_agreement(engine, agreement)
    rows = queries.rates_in_force(engine, agreement, day)
    emit(
        rows,
        as_json,
        lambda rs: [f"rates of {agreement} in force on {day.isoformat()}:"] + [f"  {rate_text(r)}" for r in rs]
        if rs
        else [f"no rates of {agreement} in force on {day.isoformat()}"],
    )


@rates.command("history")
@click.option("--agreement", required=True)
@click.option("--service", type=SERVICES)
@click.option("--zone")
@as_at_option
@json_option
@pass_context
def rates_history(
    context: Context, agreement: str, service: str | None, zone: str | None, as_at: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Every rate and withdrawal published, with its reason, until when it applied, and corrections."""
    rows = queries.rate_history(context.read_engine(as_at), agreement, service, zone)

    def render(rs: list[dict[str, Any]]) -> list[str]:
        lines = []
        for r in rs:
            if r["withdrawn"]:
                what = f"{r['service']:<12} {r['zone']:<14} {r['band'] or '-':<6} withdrawn from {r['effective_from']}"
            else:
                what = rate_text(r)
            if r["corrected"]:
                what += "  [corrected]"
            elif r["superseded_from"]:
                what += f"  [until {r['superseded_from']}]"
            lines.append(f"{what}  ({r['reason']})")
        return lines or ["none"]

    emit(rows, as_json, render)


@rates.command("publish")
@click.option("--agreement", required=True)
@click.option("--service", required=True, type=SERVICES)
@click.option("--zone", required=True)
@click.option("--band", help="The package's rate band, e.g. rural (default: the rate without a band).")
@click.option("--rate", "hourly_rate", help="The hourly rate, e.g. 15.80.")
@click.option("--blend", "blend", multiple=True, help="A part of a blended rate, WEIGHT@RATE (repeatable).")
@command_options
@json_option
@pass_context
def rates_publish(
    context: Context, agreement: str, service: str, zone: str, band: str | None, hourly_rate: str | None,
    blend: tuple[str, ...], effective: Any, reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:
    """Publish a rate (or a blend of rates) from --effective; --reason is required."""
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.rates.publish_rate(
        envelope, agreement, service, zone, hourly_rate=hourly_rate, blend=parse_blend(blend), band=band
    )
    emit(result, as_json, lambda d: [f"published: {d['derivation']}"])


@rates.command("withdraw")
@click.option("--agreement", required=True)
@click.option("--service", required=True, type=SERVICES)
@click.option("--zone", required=True)
@click.option("--band")
@command_options
@json_option
@pass_context
def rates_withdraw(
    context: Context, agreement: str, service: str, zone: str, band: str | None, effective: Any,
    reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:
    """End a rate from --effective (a banded package then takes the rate without a band)."""
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.rates.withdraw_rate(envelope, agreement, service, zone, band=band)
    emit(result, as_json, lambda d: [f"withdrawn from {d['withdrawn_from']}: {service} {zone} {band or ''}".rstrip()])


@rates.command("price")
@click.option("--agreement", required=True)
@click.option("--service", required=True, type=SERVICES)
@click.option("--zone", required=True)
@click.option("--band")
@click.option("--on", "on", required=True, type=DATE, help="The date of the visit.")
@click.option("--planned", required=True, type=int, help="Planned minutes (1 to 1,440, as in a visit file).")
@click.option("--actual", required=True, type=int, help="Actual minutes (1 to 1,440, as in a visit file).")
@json_option
@pass_context
def rates_price(
    context: Context, agreement: str, service: str, zone: str, band: str | None, on: date, planned: int,
    actual: int, as_json: bool,
) -> None:
    """Price one visit with the one pricing function, showing the rate and the arithmetic."""
    price = context.book.rates.price_visit(agreement, service, zone, on, planned, actual, band)
    quote = price.quote
    data = {
        "agreement": agreement,
        "service": service,
        "zone": zone,
        "band": band,
        "on": on,
        "basis": price.basis,
        "planned_minutes": planned,
        "actual_minutes": actual,
        "payable_minutes": price.payable_minutes,
        "hourly_rate": price.hourly_rate,
        "blend": blend_rows(quote.parts) if quote and quote.parts else None,
        "amount": price.amount,
        "rate_effective_from": quote.effective_from if quote else None,
        "derivation": quote.derivation if quote else None,
        "working": price.working,
    }
    emit(
        data,
        as_json,
        lambda d: [
            f"rate: {d['derivation']}",
            f"payable minutes: {d['payable_minutes']} ({d['basis']} basis)",
            f"price: {d['working']}",
        ],
    )


# -- rate reviews ------------------------------------------------------------------------------


@rates.group("review")
def review() -> None:
    """A year's rate review: open, propose (stated rates or the uplift calculator), comment, decide."""


def _review_options(func: Any) -> Any:
    func = click.option("--year", "financial_year", required=True, help="The financial year, e.g. 2020-21.")(func)
    func = click.option("--agreement", required=True)(func)
    return func


@review.command("open")
@_review_options
@command_options
@json_option
@pass_context
def review_open(
    context: Context, agreement: str, financial_year: str, effective: Any, reason: str | None,
    idempotency_key: str | None, as_json: bool,
) -> None:
    """Open the year's review; --reason says why."""
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.reviews.open_rate_review(envelope, agreement, financial_year)
    emit(result, as_json, lambda d: [f"opened the {d['financial_year']} rate review of {d['agreement']}"])


def _uplift_lines(d: dict[str, Any]) -> list[str]:
    width = max(len(line["label"]) for line in d["lines"])
    lines = [f"uplift for the {d['financial_year']} rate review of {d['agreement']} ({d['floor']}):"]
    for line in d["lines"]:
        lines.append(f"  {line['label']:<{width}}  {line['formula']:<48} {line['amount']:>10}")
    lines.append("proposed: " + ", ".join(f"{r['service']} {r['zone']} {money(r['hourly_rate'])}" for r in d["rates"]))
    return lines


@review.command("propose")
@_review_options
@click.option("--rate", "rate_specs", multiple=True, help="A stated rate, SERVICE:ZONE[:BAND]=RATE (repeatable).")
@click.option("--basis", help="The basis of stated rates (the uplift calculator writes its own).")
@click.option("--median-cost", help="Uplift: the median cost per contact hour (a stated figure until cost returns).")
@click.option("--pay-share", help="Uplift: the pay-related fraction of that cost, e.g. 0.65.")
@click.option("--old-floor", help="Uplift: the old wage floor (default: on 1 April of the year before).")
@click.option("--new-floor", help="Uplift: the new wage floor (default: on 1 April of the review year).")
@click.option("--inflation", help="Uplift: the rise on the other costs, as a fraction, e.g. 0.02.")
@click.option("--service", default=ServiceType.STANDARD.value, show_default=True, type=SERVICES)
@click.option("--zone", "zones", multiple=True, help="Uplift: a zone to propose for (default: every zone with a rate).")
@click.option("--band", help="Uplift: the rate band to propose for.")
@click.option("--median-source", default="stated figure", show_default=True, help="Uplift: where the median came from.")
@command_options
@json_option
@pass_context
def review_propose(
    context: Context, agreement: str, financial_year: str, rate_specs: tuple[str, ...], basis: str | None,
    median_cost: str | None, pay_share: str | None, old_floor: str | None, new_floor: str | None,
    inflation: str | None, service: str, zones: tuple[str, ...], band: str | None, median_source: str,
    effective: Any, reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:
    """Propose stated rates (--rate, --basis) or the uplift calculator's rate, printing its arithmetic."""
    envelope = recording(context, effective, reason, idempotency_key)
    book = context.book
    if median_cost is not None:
        if rate_specs:
            raise InvalidInput("--rate: give stated rates or the uplift figures (--median-cost ...), not both")
        missing = [name for name, value in (("--pay-share", pay_share), ("--inflation", inflation)) if value is None]
        if missing:
            raise InvalidInput(f"{', '.join(missing)}: the uplift calculator needs it")
        result = book.reviews.propose_uplift(
            envelope,
            agreement,
            financial_year,
            median_cost=median_cost,
            pay_share=pay_share,
            inflation=inflation,
            old_floor=old_floor,
            new_floor=new_floor,
            service=service,
            zones=list(zones) or None,
            band=band,
            median_source=median_source,
        )
        emit(result, as_json, _uplift_lines)
        return
    if not rate_specs or not basis:
        raise InvalidInput("--rate: give stated rates with --basis, or the uplift figures starting with --median-cost")
    result = book.reviews.propose_rates(envelope, agreement, financial_year, parse_rates(rate_specs), basis)
    emit(
        result,
        as_json,
        lambda d: ["proposed: " + ", ".join(f"{r['service']} {r['zone']} {money(r['hourly_rate'])}" for r in d["rates"])],
    )


@review.command("comment")
@_review_options
@click.option("--provider", required=True)
@click.option("--comment", "text", required=True)
@command_options
@json_option
@pass_context
def review_comment(
    context: Context, agreement: str, financial_year: str, provider: str, text: str, effective: Any,
    reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:
    """A provider's comment on the review, before it is decided."""
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.reviews.comment_on_rate_review(envelope, agreement, financial_year, provider, text)
    emit(result, as_json, lambda d: [f"recorded {provider}'s comment ({d['comments']} so far)"])


@review.command("decide")
@_review_options
@click.option("--outcome", required=True, type=click.Choice([o.value for o in Outcome]))
@click.option("--reasons", default="", help="Why (required unless accepted).")
@click.option("--decided-by", help="Who decided (default: the recording user).")
@click.option(
    "--from", "effective_from", type=DATE, help="The date the rates apply from (before --effective: backdated)."
)
@click.option("--rate", "rate_specs", multiple=True, help="Amended: the decided rates, SERVICE:ZONE[:BAND]=RATE.")
@command_options
@json_option
@pass_context
def review_decide(
    context: Context, agreement: str, financial_year: str, outcome: str, reasons: str, decided_by: str | None,
    effective_from: date | None, rate_specs: tuple[str, ...], effective: Any, reason: str | None,
    idempotency_key: str | None, as_json: bool,
) -> None:
    """Decide the review on --effective; accepted or amended rates are published on the card at once."""
    envelope = recording(context, effective, reason, idempotency_key)
    rows = parse_rates(rate_specs) if rate_specs else None
    result = context.book.reviews.decide_rate_review(
        envelope, agreement, financial_year, outcome, reasons, decided_by, effective_from, rows
    )

    def render(d: dict[str, Any]) -> list[str]:
        review = f"{d['agreement']} {d['financial_year']} rate review"
        lines = [f"{review} {d['outcome']} on {d['decided_on']} by {d['decided_by']}"]
        if d["effective_from"]:
            backdated = " (backdated: arrears are owed)" if d["backdated"] else ""
            lines.append(f"rates apply from {d['effective_from']}{backdated}:")
            lines.extend(f"  {r['service']} {r['zone']} {r['band'] or ''} {money(r['hourly_rate'])}" for r in d["rates"])
        return lines

    emit(result, as_json, render)


def _review_text(d: dict[str, Any]) -> list[str]:
    lines = [f"{d['agreement']} rate review {d['financial_year']}: {d['status']} (opened: {d['reason']})"]
    for number, p in enumerate(d["proposals"], start=1):
        lines.append(f"proposal {number}, {p['proposed_on']} by {p['proposed_by']}: {p['basis']}")
        for line in p["lines"]:
            lines.append(f"    {line['label']}: {line['formula']} = {line['amount']}")
        lines.extend(f"  {r['service']} {r['zone']} {r['band'] or ''} {money(r['hourly_rate'])}" for r in p["rates"])
    for c in d["comments"]:
        lines.append(f"comment {c['on']} from {c['provider']}: {c['comment']}")
    decision = d["decision"]
    if decision:
        backdated = ", backdated" if decision["backdated"] else ""
        since = f" from {decision['effective_from']}{backdated}" if decision["effective_from"] else ""
        lines.append(
            f"decision {decision['decided_on']}: {decision['outcome']}{since} by {decision['decided_by']}"
            + (f" ({decision['reasons']})" if decision["reasons"] else "")
        )
    return lines


@review.command("show")
@_review_options
@as_at_option
@json_option
@pass_context
def review_show(context: Context, agreement: str, financial_year: str, as_at: str | None, as_json: bool) -> None:
    """The review: proposals with their arithmetic, comments and the decision."""
    emit(queries.rate_review(context.read_engine(as_at), agreement, financial_year), as_json, _review_text)


@review.command("list")
@click.option("--agreement")
@as_at_option
@json_option
@pass_context
def review_list(context: Context, agreement: str | None, as_at: str | None, as_json: bool) -> None:
    rows = queries.list_rate_reviews(context.read_engine(as_at), agreement)
    emit(
        rows,
        as_json,
        lambda rs: [
            f"{r['agreement']:<22} {r['financial_year']}  {r['status']:<9} "
            f"{'from ' + str(r['effective_from']) if r['effective_from'] else ''}"
            f"{' (backdated)' if r['backdated'] else ''}"
            for r in rs
        ]
        or ["none"],
    )
