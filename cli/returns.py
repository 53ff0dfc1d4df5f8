"""``openbook returns ...`` and ``openbook market``: file, review and read cost returns from the command line.

Recording commands take the usual ``--effective``, ``--reason`` and ``--key``;
the actor is the main group's ``--as`` user (default: the system). Who may do
what is the ledger's decision (``ledger.authorisation``), so the CLI is held
to the same rules as the web. Reading commands ask ``access_for`` once for the
actor's access and call the queries (``ledger.queries.returns``) with it: an
accountant's view when the actor may read every provider's figures, otherwise
the actor's own organisation's: a provider running ``returns show`` or
``market`` sees its own figures and the anonymised market, never another
provider's.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from cli.context import (
    DATE,
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
from domain.errors import InvalidInput
from domain.money import format_count
from domain.returns.filing import CostLine, Volume, field_label
from domain.returns.unit_costs import shown
from domain.returns.wage_floors import Floor
from ledger.authorisation import access_for, provider_access
from ledger.files.cost_returns import template_csv, template_xlsx
from ledger.queries import returns as views

__all__ = ["market", "returns"]


def _key_options(func: Any) -> Any:
    """--agreement, --provider, --period: which return."""
    func = click.option("--period", required=True, help="Financial quarter (2019-20-Q2) or year (2019-20).")(func)
    func = click.option("--provider", required=True, help="Provider code (or the council's, for in-house costs).")(func)
    func = click.option("--agreement", required=True, help="Agreement code.")(func)
    return func


def _summary_lines(d: dict[str, Any]) -> list[str]:
    extra = f", query {d['query_id']}" if d.get("query_id") else ""
    kind = "in-house return" if d["in_house"] else "cost return"
    return [
        f"{kind} of {d['provider']} for {d['agreement']} {d['period']}: {d['status']}, revision {d['revision']}, "
        f"{d['open_queries']} open quer{'y' if d['open_queries'] == 1 else 'ies'}{extra}"
    ]


@click.group()
def returns() -> None:
    """Cost returns: templates, filing, queries, acceptance, and each return's cost per contact hour."""


@returns.command("template")
@click.option("--format", "kind", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file (needed for xlsx).")
@json_option
def returns_template(kind: str, out: Path | None, as_json: bool) -> None:
    """The blank cost return template to fill in and import."""
    content: bytes = template_csv().encode("utf-8") if kind == "csv" else template_xlsx()
    if out is None:
        if kind == "xlsx":
            raise InvalidInput("--out: an XLSX template is a file; give --out FILE")
        if as_json:
            emit({"format": kind, "content": content.decode("utf-8")}, True, lambda d: [])
        else:
            click.echo(content.decode("utf-8"), nl=False)
        return
    out.write_bytes(content)
    emit({"format": kind, "out": str(out), "bytes": len(content)}, as_json, lambda d: [f"wrote {d['out']} ({d['bytes']} bytes)"])


@returns.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_key_options
@click.option("--submit", is_flag=True, help="Submit the return in the same step.")
@command_options
@json_option
@pass_context
def returns_import(
    context: Context, file: Path, agreement: str, provider: str, period: str, submit: bool,
    effective: Any, reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    """File a provider's return from a filled-in CSV or XLSX template (the whole file, or nothing)."""
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.returns.import_cost_return(envelope, file, agreement, provider, period, submit=submit)
    emit(result, as_json, _summary_lines)


@returns.command("amend")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_key_options
@command_options
@json_option
@pass_context
def returns_amend(
    context: Context, file: Path, agreement: str, provider: str, period: str,
    effective: Any, reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    """File new figures as a new revision (earlier revisions stay readable); a submitted return needs --reason."""
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.returns.amend_cost_return_from_file(envelope, file, agreement, provider, period)
    emit(result, as_json, _summary_lines)


def _step(name: str, doc: str, call: Any, *options: Any) -> None:
    """A workflow command on one return: the key options, its own options, the envelope options."""

    def command(
        context: Context, agreement: str, provider: str, period: str, effective: Any, reason: str | None,
        idempotency_key: str | None, as_json: bool, **values: Any,
    ) -> None:  # fmt: skip
        envelope = recording(context, effective, reason, idempotency_key)
        result = call(context.book.returns, envelope, agreement, provider, period, **values)
        emit(result, as_json, _summary_lines)

    command.__doc__ = doc
    decorated: Any = pass_context(command)
    decorated = json_option(decorated)
    decorated = command_options(decorated)
    for option in reversed(options):
        decorated = option(decorated)
    decorated = _key_options(decorated)
    returns.command(name)(decorated)


_LINES = [line.value for line in CostLine] + [volume.value for volume in Volume]

_step("submit", "Submit a drafted return for review.", lambda l, e, a, p, per: l.submit_cost_return(e, a, p, per))
_step(
    "query",
    "Ask the provider about one line or volume (an accountant).",
    lambda l, e, a, p, per, line, question: l.query_cost_return(e, a, p, per, line, question),
    click.option("--line", required=True, type=click.Choice(_LINES), help="The cost line or volume queried."),
    click.option("--question", required=True),
)
_step(
    "answer",
    "Answer an accountant's query (the provider).",
    lambda l, e, a, p, per, query_id, answer: l.answer_cost_return_query(e, a, p, per, query_id, answer),
    click.option("--query", "query_id", required=True, help="The query's id, e.g. Q1."),
    click.option("--answer", required=True),
)
_step(
    "explain",
    "Explain pay below the wage floor or an implausible figure (an accountant); needed before acceptance.",
    lambda l, e, a, p, per, explanation: l.explain_wage_breach(e, a, p, per, explanation),
    click.option("--explanation", required=True),
)
_step("accept", "Accept the current revision (an accountant).", lambda l, e, a, p, per: l.accept_cost_return(e, a, p, per))
_step(
    "reject",
    "Reject the current revision with reasons (an accountant); --because is repeatable, default --reason.",
    lambda l, e, a, p, per, because: l.reject_cost_return(e, a, p, per, list(because) or [e.reason or ""]),
    click.option("--because", multiple=True, help="A reason for rejecting (repeatable)."),
)
_step(
    "reopen",
    "Put an accepted or rejected return back under review; --reason says why.",
    lambda l, e, a, p, per: l.reopen_cost_return(e, a, p, per),
)


# -- reading ---------------------------------------------------------------------------------------


def _gap(gap: Decimal | None) -> str:
    return money(None if gap is None else shown(gap))


def _sheet_lines(s: dict[str, Any]) -> list[str]:
    kind = "in-house costs" if s["in_house"] else "cost return"
    out = [
        f"{kind} of {s['provider_name']} ({s['provider']}) for {s['agreement']} {s['period']}: {s['status']}",
        f"revision {s['revision']} of {s['current_revision']}, recorded {s['recorded_on']} by {s['recorded_by']}"
        + (f" ({s['reason']})" if s["reason"] else "")
        + (f"; accepted revision {s['accepted_revision']}" if s["accepted_revision"] else ""),
        f"{'line':<24} {'amount':>14} {'per hour':>9}  note",
    ]
    for line in s["lines"]:
        out.append(f"{line['line']:<24} {money(line['amount']):>14} {money(shown(line['per_hour'])):>9}  {line['note'] or ''}")
    t = s["totals"]
    out.append(f"{'total':<24} {money(t['total_cost']):>14} {money(t['total_per_hour_shown']):>9}")
    out.append(
        f"contact hours {hours_text(t['contact_hours'])}; travel minutes per contact hour {t['travel_minutes_per_contact_hour']}; "
        f"on-costs {t['on_costs_percent_of_pay']}% of pay; surplus {t['surplus_percent_of_cost']}% of cost"
    )
    rate = s["rate"]
    if rate.rate is None:
        out.append(f"rate on the card: none known ({rate.basis})")
    else:
        out.append(f"rate on the card {money(rate.shown_rate)}: {rate.basis}")
        out.append(f"gap (rate on the card - cost per hour): {_gap(s['gap'])}")
    if rate.average_paid is not None:
        out.append(f"average paid per hour {money(shown(rate.average_paid))}: {rate.average_paid_basis}")
    for finding in s["findings"]:
        state = ""
        if finding.get("needs_explanation"):
            state = f" [explained: {finding['explanation']}]" if finding["explained"] else " [NOT YET EXPLAINED]"
        out.append(f"{finding['kind']}: {finding['message']}{state}")
    for q in s["queries"]:
        answer = f" -> {q['answer']} ({q['answered_by']})" if q["answer"] else " (open)"
        out.append(f"{q['query_id']} on {field_label(q['line'])} (revision {q['revision']}, {q['asked_by']}): {q['question']}{answer}")
    if s["rejection_reasons"]:
        out.append("rejected: " + "; ".join(s["rejection_reasons"]))
    return out


@returns.command("show")
@_key_options
@click.option("--revision", type=int, help="An earlier revision (default the current one).")
@as_at_option
@json_option
@pass_context
def returns_show(
    context: Context, agreement: str, provider: str, period: str, revision: int | None, as_at: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """One return: cost per contact hour per line and in total, the rate paid and the gap, findings, queries."""
    book = context.book
    access = access_for(book.records, context.actor(), agreement, provider)
    emit(views.return_sheet(context.read_engine(as_at), access, provider, period, revision), as_json, _sheet_lines)


@returns.command("list")
@click.option("--agreement", required=True)
@click.option("--period", help="Only this quarter or year.")
@as_at_option
@json_option
@pass_context
def returns_list(context: Context, agreement: str, period: str | None, as_at: str | None, as_json: bool) -> None:
    """The returns under an agreement and where each stands (a provider sees only its own)."""
    book = context.book
    engine = context.read_engine(as_at)
    rows = views.list_returns(engine, access_for(book.records, context.actor(), agreement), period)
    emit(
        rows,
        as_json,
        lambda rs: [
            f"{r['period']:<11} {r['provider']:<28} {r['status']:<10} rev {r['revision']}  "
            f"{money(shown(r['total_per_hour'])):>8}/h"
            + ("  in-house" if r["in_house"] else "")
            + ("  NLW breach" + (" (explained)" if r["nlw_explained"] else "") if r["nlw_breach"] else "")
            + ("  below RLW" if r["rlw_flag"] else "")
            for r in rs
        ]
        or ["none"],
    )


@returns.command("history")
@click.option("--agreement", required=True)
@click.option("--provider", required=True)
@as_at_option
@json_option
@pass_context
def returns_history(context: Context, agreement: str, provider: str, as_at: str | None, as_json: bool) -> None:
    """A provider's cost per contact hour over time, with the rate paid over the same periods."""
    book = context.book
    engine = context.read_engine(as_at)
    rows = views.history(engine, access_for(book.records, context.actor(), agreement, provider), provider)
    emit(
        rows,
        as_json,
        lambda rs: [
            f"{r['period']:<11} {r['status']:<10} {money(r['total_per_hour_shown']):>8}/h  "
            f"rate on the card {'-' if r['rate'].rate is None else money(r['rate'].shown_rate)}  gap {_gap(r['gap'])}"
            for r in rs
        ]
        or ["none"],
    )


@returns.command("add-wage-floor")
@click.option("--floor", required=True, type=click.Choice([f.value for f in Floor]))
@click.option("--from", "effective_from", required=True, type=DATE, help="The first day the rate applies.")
@click.option("--rate", "hourly_rate", required=True, help="Hourly rate in pounds, e.g. 12.71.")
@click.option("--band", help='The age band the rate applies to, e.g. "21 and over" (default: the band then in force).')
@command_options
@json_option
@pass_context
def returns_add_wage_floor(
    context: Context, floor: str, effective_from: Any, hourly_rate: str, band: str | None, effective: Any,
    reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Add (or correct) a wage floor's rate (an admin); every wage check then uses it."""
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.returns.add_wage_floor(envelope, floor, effective_from, hourly_rate, band)
    emit(
        result,
        as_json,
        lambda d: [
            f"recorded: {d['floor']} {d['hourly_rate']} from {d['effective_from']}"
            + (f" for workers aged {d['band']}" if d.get("band") else "")
        ],
    )


# -- the market --------------------------------------------------------------------------------------


def _quartile_text(q: dict[str, Any]) -> str:
    return f"{money(shown(q['lower']))} / {money(shown(q['median']))} / {money(shown(q['upper']))}"


def _market_lines(d: dict[str, Any]) -> list[str]:
    out = [f"market for {d['agreement']} {d['period']}"]
    market = d.get("market")
    if "provider" in d:
        own = d["own"]
        out.append(
            f"{d['provider']}: " + (f"{money(own['total_per_hour_shown'])} per contact hour" if own else "no accepted return")
        )
    if market is None:
        reason = d.get("not_enough_providers", {}).get("message") or "no accepted provider returns"
        out.append(reason)
    else:
        contributors = format_count(market["contributors"], "provider")
        out.append(f"{contributors}; lower quartile / median / upper quartile ({market['method']})")
        out.append(f"  {'total':<24} {_quartile_text(market['total'])}")
        for line, q in market["lines"].items():
            out.append(f"  {line:<24} {_quartile_text(q)}")
    for entry in d.get("providers", []):
        out.append(f"{entry['provider']:<28} {entry['name']:<30} {money(entry['total_per_hour_shown']):>8}/h  gap {_gap(entry['gap'])}")
    for entry in d.get("in_house", []):
        out.append(f"{entry['provider']:<28} in-house (not in the quartiles) {money(entry['total_per_hour_shown']):>8}/h")
    if "providers_would_see" in d:
        out.append(f"providers see: {d['providers_would_see']}")
    return out


@click.command("market")
@click.option("--agreement", required=True)
@click.option("--period", required=True, help="Financial quarter (2019-20-Q1) or year (2019-20).")
@click.option("--as-provider", "as_provider", help="Show what this provider sees: its own figures and the anonymised market.")
@as_at_option
@json_option
@pass_context
def market(
    context: Context, agreement: str, period: str, as_provider: str | None, as_at: str | None, as_json: bool
) -> None:
    """The market per agreement and period from accepted returns: median and quartiles, per line and in total."""
    book = context.book
    actor = context.actor()
    if as_provider is None:
        access = access_for(book.records, actor, agreement)
    else:  # what that provider sees, for itself or anyone who may read its figures
        access = provider_access(book.records, actor, agreement, as_provider)
    emit(views.market(context.read_engine(as_at), access, period), as_json, _market_lines)
