"""``openbook kpis ...`` and ``openbook incentives ...``: KPI results, the incentive scheme, assessments.

``kpis record`` and ``kpis import`` record results (a new value for a result
already recorded is a correction and needs ``--reason``); ``kpis dashboard``
shows provider × KPI × period against each target. ``incentives scheme set``
defines or amends an agreement's scheme; ``incentives assess`` assesses a
finished year and prints each provider's arithmetic (baseline, threshold =
baseline × minimum, reduction, eligible hours, payment, reason);
``incentives show`` shows a recorded run. ``--json`` everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from cli.context import (
    Context,
    as_at_option,
    command_options,
    emit,
    hours_text,
    json_option,
    money,
    pass_context,
    recording,
)
from domain.incentives.incentive_scheme import BaselineRule, KpiGate, Measure, PaymentRule
from domain.money import format_gbp
from ledger.authorisation import access_for
from ledger.queries import incentives as views

__all__ = ["incentives", "kpis"]


def _choice(enum: Any) -> click.Choice:
    return click.Choice([member.value for member in enum])


def _signed(value: Any) -> str:
    amount = Decimal(str(value))
    return ("+" if amount > 0 else "") + format_gbp(amount)


# -- kpis ------------------------------------------------------------------------------------------


@click.group()
def kpis() -> None:
    """KPI results per provider and period, judged against the agreement's targets."""


def _result_lines(d: dict[str, Any]) -> list[str]:
    head = {"recorded": "recorded", "corrected": "corrected", "unchanged": "unchanged (already recorded)"}
    line = (
        f"{head[d['outcome']]}: {d['provider']} {d['period']} {d['kpi']} = {d['value']} "
        f"({d['verdict']}); evidence: {d['evidence']}"
    )
    if d["outcome"] == "corrected":
        line += f"; was {d['previous_value']}"
    return [line]


@kpis.command("record")
@click.option("--agreement", required=True)
@click.option("--provider", required=True)
@click.option("--period", required=True, help="Financial year (2019-20) or quarter (2019-20-Q1).")
@click.option("--kpi", required=True, help="The KPI's code (or its name).")
@click.option("--value", required=True, help="The result, an exact number, e.g. 0.4 or 95.")
@click.option("--evidence", required=True, help="Where the figure comes from (report, system, date).")
@command_options
@json_option
@pass_context
def kpis_record(
    context: Context, agreement: str, provider: str, period: str, kpi: str, value: str, evidence: str,
    effective: Any, reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Record one KPI result; recording a different value again corrects it (give --reason)."""
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.incentives.record_kpi_result(envelope, agreement, provider, period, kpi, value, evidence)
    emit(result, as_json, _result_lines)


@kpis.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--agreement", required=True)
@command_options
@json_option
@pass_context
def kpis_import(
    context: Context, file: Path, agreement: str, effective: Any, reason: str | None, idempotency_key: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Record every result in a CSV file (provider,period,kpi,value,evidence), or none if any row is wrong."""
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.incentives.import_kpi_results(envelope, agreement, file)
    emit(result, as_json, lambda d: [d["message"]])


def _dashboard_lines(d: dict[str, Any]) -> list[str]:
    out = [f"KPIs of {d['agreement']}" + (f" for {d['period']}" if d["period"] else "")]
    out.extend(f"  {k['kpi']:<24} {k['name']}: {k['measure']}, target {k['target_words']}" for k in d["kpis"])
    rows = {(r["provider"], r["period"]): [] for r in d["rows"]}
    for r in d["rows"]:
        rows[(r["provider"], r["period"])].append(r)
    for s in d["summary"]:
        state = "all met" if s["all_met"] else "NOT all met"
        out.append(f"{s['provider']} {s['period']}: {state}")
        for r in rows.get((s["provider"], s["period"]), []):
            fixed = f" (corrected from {r['previous_value']})" if r["corrections"] else ""
            verdict = "met" if r["met"] else "MISSED"
            out.append(
                f"  {r['kpi']:<24} {r['value']!s:>8}  target {r['target_words']:<14} {verdict:<7}{fixed}  "
                f"[{r['evidence']}]"
            )
        out.extend(f"  {code:<24} {'-':>8}  no result (counts as missed)" for code in s["no_result"])
    if not d["summary"]:
        out.append("no results")
    return out


@kpis.command("dashboard")
@click.option("--agreement", required=True)
@click.option("--period", help="A financial year (with its quarters) or one quarter.")
@as_at_option
@json_option
@pass_context
def kpis_dashboard(context: Context, agreement: str, period: str | None, as_at: str | None, as_json: bool) -> None:
    """Provider × KPI × period: value, target, direction, met; a provider sees only its own."""
    book = context.book
    engine = context.read_engine(as_at)
    data = views.kpi_dashboard(engine, access_for(book.records, context.actor(), agreement), period)
    emit(data, as_json, _dashboard_lines)


@kpis.command("history")
@click.option("--agreement", required=True)
@click.option("--provider", required=True)
@click.option("--period", required=True)
@as_at_option
@json_option
@pass_context
def kpis_history(
    context: Context, agreement: str, provider: str, period: str, as_at: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Every recording and correction of a provider's results for a period: who, when, why."""
    book = context.book
    engine = context.read_engine(as_at)
    access = access_for(book.records, context.actor(), agreement)
    rows = views.kpi_history(engine, access, provider, period)
    emit(
        rows,
        as_json,
        lambda rs: [
            f"{r['effective_date']} {r['what']:<9} {r['kpi']:<24} {r['value']!s:>8} "
            f"{'met' if r['met'] else 'missed':<6} by {r['recorded_by']}"
            + (f" (was {r['previous_value']})" if r["previous_value"] is not None else "")
            + (f": {r['reason']}" if r["reason"] else "")
            for r in rs
        ]
        or ["no results"],
    )


# -- incentives ------------------------------------------------------------------------------------


@click.group()
def incentives() -> None:
    """Incentive schemes and their yearly assessment, gated on KPIs, with the arithmetic shown."""


@incentives.group("scheme")
def scheme() -> None:
    """An agreement's incentive scheme: measure, baseline, minimum reduction, payment, KPI gate, cap."""


def _fixed(values: tuple[str, ...]) -> dict[str, str] | None:
    if not values:
        return None
    found: dict[str, str] = {}
    for value in values:
        provider, sep, hours = value.partition("=")
        if not sep:
            raise click.BadParameter(f"{value!r} is not PROVIDER=HOURS, e.g. hfd-provider-a=87452", param_hint="--fixed-baseline")
        found[provider.strip()] = hours.strip()
    return found


def _scheme_lines(d: dict[str, Any]) -> list[str]:
    out = []
    if "recorded" in d:
        out.append(d.get("message") or f"recorded: the incentive scheme of {d['agreement']}")
    out.extend(f"  {line}" for line in d["described"])
    return out


@scheme.command("set")
@click.option("--agreement", required=True)
@click.option("--from-year", help="The first financial year these terms apply to (default: the --effective date's).")
@click.option("--measure", type=_choice(Measure), default=Measure.PAYABLE_HOURS.value, show_default=True)
@click.option("--baseline", type=_choice(BaselineRule), default=BaselineRule.PREVIOUS_YEAR.value, show_default=True)
@click.option("--fixed-baseline", "fixed", multiple=True, help="PROVIDER=HOURS for a fixed baseline (repeatable).")
@click.option("--minimum-reduction", required=True, help="A fraction: 0.05 for 5%.")
@click.option("--payment", type=_choice(PaymentRule), default=PaymentRule.PER_HOUR.value, show_default=True)
@click.option("--per-hour", "payment_per_hour", help="£ per hour of reduction beyond the minimum, e.g. 2.00.")
@click.option("--saving-rate", help="For a share of the saving: the hourly rate in £, e.g. 15.80.")
@click.option("--saving-share", help="For a share of the saving: a fraction, e.g. 0.5.")
@click.option("--kpi-gate", type=_choice(KpiGate), default=KpiGate.ALL.value, show_default=True)
@click.option("--kpi", "named", multiple=True, help="A KPI code of a 'named' gate (repeatable).")
@click.option("--cap", help="The most one provider can be paid for one year, in £.")
@command_options
@json_option
@pass_context
def scheme_set(
    context: Context, agreement: str, from_year: str | None, measure: str, baseline: str, fixed: tuple[str, ...],
    minimum_reduction: str, payment: str, payment_per_hour: str | None, saving_rate: str | None,
    saving_share: str | None, kpi_gate: str, named: tuple[str, ...], cap: str | None, effective: Any,
    reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Define the agreement's incentive scheme, or amend it from a financial year (needs --reason)."""
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.incentives.set_incentive_scheme(
        envelope, agreement, from_year=from_year, measure=measure, baseline=baseline, fixed_baselines=_fixed(fixed),
        minimum_reduction=minimum_reduction, payment=payment, payment_per_hour=payment_per_hour,
        saving_rate=saving_rate, saving_share=saving_share, kpi_gate=kpi_gate, kpis=named, cap=cap,
    )  # fmt: skip
    emit(result, as_json, _scheme_lines)


@scheme.command("show")
@click.option("--agreement", required=True)
@click.option("--year", help="Only the terms applying in this financial year.")
@as_at_option
@json_option
@pass_context
def scheme_show(context: Context, agreement: str, year: str | None, as_at: str | None, as_json: bool) -> None:
    """The scheme's terms: for one year, or every version with who set it, when and why."""
    book = context.book
    engine = context.read_engine(as_at)
    data = views.scheme_sheet(engine, access_for(book.records, context.actor(), agreement), year)

    def render(d: dict[str, Any]) -> list[str]:
        if "terms" in d:
            return [f"incentive scheme of {d['agreement']} in {d['financial_year']}:", *(
                f"  {line}" for line in d["terms"]["described"])]  # fmt: skip
        out = [f"incentive scheme of {d['agreement']}:"]
        for v in d["versions"]:
            out.append(f"set on {v['effective_date']} by {v['recorded_by']}: {v['reason'] or 'no reason'}")
            out.extend(f"  {line}" for line in v["described"])
        return out

    emit(data, as_json, render)


def _assessment_lines(d: dict[str, Any]) -> list[str]:
    who = d.get("assessed_by") or d.get("recorded_by")
    when = d.get("assessed_on") or d.get("effective_date")
    out = [f"incentives of {d['agreement']} for {d['financial_year']}: run {d['run']}, by {who} on {when}"]
    if d.get("message"):
        out.append(d["message"])
    if "terms" in d:
        out.extend(f"  {line}" for line in d["terms"]["described"][1:])
    for line in d["lines"]:
        state = "eligible" if line["eligible"] else "not eligible"
        out.append(f"{line['provider']}: payment {money(line['payment'])} ({state}{', capped' if line['capped'] else ''})")
        baseline = "none" if line["baseline_hours"] is None else f"{hours_text(line['baseline_hours'])} h"
        out.append(f"  baseline:  {baseline} ({line['baseline_source']})")
        out.append(f"  actual:    {hours_text(line['actual_hours'])} h ({line['actual_source']})")
        out.append(f"  working:   {line['working']}")
        for note in line["kpi_notes"]:
            out.append(f"  KPI:       {note}")
        out.append(f"  reason:    {line['reason']}")
        if line.get("difference") is not None:
            changes = line["changes"]
            if changes and isinstance(changes[0], dict):
                changes = [f"{c['field']}: {c['before']} -> {c['after']}" for c in changes]
            what = f" ({'; '.join(changes)})" if changes else " (unchanged)"
            out.append(
                f"  vs run {d['run'] - 1}: {money(line['previous_payment'])} -> {money(line['payment'])}, "
                f"difference {_signed(line['difference'])}{what}"
            )
    if d.get("total") is not None:
        total = f"total {money(d['total'])}"
        if d.get("previous_total") is not None:
            total += f" (run {d['run'] - 1}: {money(d['previous_total'])})"
        out.append(total)
    out.append(f"basis: {d['basis']}")
    return out


@incentives.command("assess")
@click.option("--agreement", required=True)
@click.option("--year", "financial_year", required=True, help="The finished financial year to assess, e.g. 2018-19.")
@command_options
@json_option
@pass_context
def assess(
    context: Context, agreement: str, financial_year: str, effective: Any, reason: str | None,
    idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Assess and record each awarded provider's incentive for a year, printing the arithmetic."""
    why = reason or f"incentive assessment of {financial_year}"
    envelope = recording(context, effective, why, idempotency_key)
    emit(context.book.incentives.assess_incentives(envelope, agreement, financial_year), as_json, _assessment_lines)


@incentives.command("show")
@click.option("--agreement", required=True)
@click.option("--year", "financial_year", required=True)
@click.option("--run", type=int, help="An earlier run (default the last).")
@as_at_option
@json_option
@pass_context
def show(
    context: Context, agreement: str, financial_year: str, run: int | None, as_at: str | None, as_json: bool,
) -> None:  # fmt: skip
    """A recorded assessment run: per-provider lines and the difference from the run before."""
    book = context.book
    engine = context.read_engine(as_at)
    access = access_for(book.records, context.actor(), agreement)
    data = views.incentive_assessment(engine, access, financial_year, run)
    render: Callable[[dict[str, Any]], list[str]] = _assessment_lines
    emit(data, as_json, render)
