"""``openbook pool``, ``openbook payments`` and ``openbook settle``: the pooled budget, payments, settlements.

Figures are passed to the ledger as the text typed (never through a float).
Bands are ``LOWER:UPPER:SHARE`` in fractions of target, ``-`` (or nothing)
for an open end; a lower limit of 0 means "from nothing", the same as ``-``:

    openbook pool set --agreement wirral-homecare --year 2019-20 --target 12000000.00 \\
        --band -:0.9:0.25 --band 0.9:1:0.5 --band 1:1.1:0.5 --band 1.1:-:1 --gain-cap 250000.00

``openbook settle --agreement A --year 2019-20`` drafts the year's settlement
and prints every step (``--preview`` computes it without recording;
``--json`` for machines); ``settle review|approve|issue|withdraw|show|list``
take it through its life. Approvals are the acting user's (the main group's
``--as``): an accountant approves for their own commissioner.
"""

from __future__ import annotations

from typing import Any

import click

from cli.context import Context, as_at_option, command_options, emit, json_option, money, pass_context, recording
from domain.money import format_count
from domain.settlement.pooled_budget import MarginBasis, PaymentMechanism
from ledger.authorisation import access_for, provider_access
from ledger.queries import settlements as views
from ledger.usecases.settlements import parse_band, parse_capitation, parse_split

year_option = click.option("--year", "financial_year", required=True, help="The financial year, e.g. 2019-20.")
agreement_option = click.option("--agreement", required=True, help="The agreement's code.")
number_option = click.option("--number", "sequence", type=int, help="The settlement's number (default the latest).")


# -- pool ------------------------------------------------------------------------------------------


@click.group()
def pool() -> None:
    """The pooled budget: target, bands, caps, payment mechanism; its running position."""


@pool.command("set")
@agreement_option
@year_option
@click.option("--target", required=True, help="Target spend for care, e.g. 12000000.00.")
@click.option("--band", "bands", multiple=True, required=True, help="LOWER:UPPER:SHARE (repeatable), e.g. 0.9:1:0.5.")
@click.option("--gain-cap", help="The most the provider side can gain, in pounds.")
@click.option("--loss-cap", help="The most the provider side can lose, in pounds.")
@click.option("--mechanism", default="rate", show_default=True, type=click.Choice([m.value for m in PaymentMechanism]))
@click.option("--capitation", "capitation", multiple=True, help="PROVIDER:ZONE=MONTHLY sum on account (repeatable).")
@click.option("--clawback-share", default="1", show_default=True, help="Share of excess surplus clawed back (0..1).")
@click.option("--margin-basis", default="total", show_default=True, type=click.Choice([m.value for m in MarginBasis]))
@click.option("--split", "split", multiple=True, help="PROVIDER=WEIGHT: an agreed split of the provider side.")
@command_options
@json_option
@pass_context
def pool_set(
    context: Context, agreement: str, financial_year: str, target: str, bands: tuple[str, ...], gain_cap: str | None,
    loss_cap: str | None, mechanism: str, capitation: tuple[str, ...], clawback_share: str, margin_basis: str,
    split: tuple[str, ...], effective: Any, reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Set up (or revise) an agreement's pooled budget for a year."""
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.settlements.set_pooled_budget(
        envelope, agreement, financial_year, target=target, bands=[parse_band(b) for b in bands],
        gain_cap=gain_cap, loss_cap=loss_cap, mechanism=mechanism,
        capitation=[parse_capitation(c) for c in capitation], clawback_share=clawback_share,
        margin_basis=margin_basis, provider_split=parse_split(split),
    )  # fmt: skip
    done = "recorded" if result["recorded"] else "unchanged"
    emit(result, as_json, lambda r: [f"{done}: pooled budget of {agreement} {financial_year}", *r["described"]])


def _position_lines(p: dict[str, Any]) -> list[str]:
    lines = [
        f"pooled budget of {p['agreement']} {p['financial_year']} ({p['mechanism']}), "
        f"through {p['through_month'] or 'no month yet'} ({p['months_elapsed']} of 12 months)",
        *(f"  {t}" for t in p["terms"]),
        f"budget (contributions): {money(p['budget'])}  "
        + "; ".join(f"{c} {money(a)}" for c, a in p["contributions"].items()),
        f"target:                 {money(p['target'])}",
        f"priced to date:         {money(p['priced_to_date'])}",
        f"paid to date:           {money(p['paid_to_date'])}",
        f"due (priced − paid):    {money(p['due'])}",
        f"forecast to year end:   {money(p['forecast'])}  ({p['forecast_method']})",
        f"variance (target − forecast): {money(p['variance'])}",
        f"headroom (budget − forecast): {money(p['headroom'])}",
    ]
    projected = p["projected_provider_amount"]
    if projected:
        lines.append(
            f"at the forecast the provider side would share {money(projected['uncapped'])}, "
            f"{money(projected['capped'])} after cap"
        )
    if p["unpriced_visits"]:
        unpriced, are = format_count(p["unpriced_visits"], "visit"), "is" if p["unpriced_visits"] == 1 else "are"
        lines.append(f"warning: {unpriced} with no rate in force {are} not in priced spend")
    lines.append("providers:               priced to date         paid to date             due")
    for r in p["providers"]:
        priced, paid = money(r["priced_to_date"]), money(r["paid_to_date"])
        lines.append(f"  {r['provider']:<26} {priced:>16} {paid:>20} {money(r['due']):>16}")
    lines.append("months:                          priced                 paid")
    for m in p["months"]:
        lines.append(f"  {m['month']:<22} {money(m['priced']):>18} {money(m['paid']):>20}")
    return lines


@pool.command("show")
@agreement_option
@year_option
@click.option("--through", "through_month", help="Show the position as at the end of this month, e.g. 2019-09.")
@as_at_option
@json_option
@pass_context
def pool_show(
    context: Context, agreement: str, financial_year: str, through_month: str | None, as_at: str | None, as_json: bool,
) -> None:  # fmt: skip
    """The pool's running position: budget, target, paid, due, forecast to year end, variance."""
    book = context.book
    engine = context.read_engine(as_at)
    access = access_for(book.records, context.actor(), agreement)
    emit(views.pool_position(engine, access, financial_year, through_month), as_json, _position_lines)


# -- payments --------------------------------------------------------------------------------------


@click.group()
def payments() -> None:
    """Payments on account to providers, month by month, and payment statements."""


@payments.command("run")
@agreement_option
@click.option("--month", required=True, help="The month paid for, e.g. 2019-05.")
@command_options
@json_option
@pass_context
def payments_run(
    context: Context, agreement: str, month: str, effective: Any, reason: str | None, idempotency_key: str | None,
    as_json: bool,
) -> None:
    """Record one month's payments by the pool's mechanism (priced activity, or capitated sums)."""
    envelope = recording(context, effective, reason, idempotency_key)
    result = context.book.settlements.run_payments(envelope, agreement, month)
    emit(
        result,
        as_json,
        lambda r: [
            f"recorded: payments of {agreement} for {r['month']} ({r['mechanism']}), total {money(r['total'])}",
            *(f"  {p:<28} {money(a):>16}" for p, a in r["providers"].items()),
            f"basis: {r['basis']}",
        ],
    )


def _statement_lines(s: dict[str, Any]) -> list[str]:
    months = ", ".join(f"{m['month']} {money(m['amount'])}" for m in s["months_paid"])
    lines = [
        f"payment statement: {s['provider']} under {s['agreement']}, {s['month']} ({s['mechanism']})",
        f"paid on {s['paid_on']} (recorded by {s['recorded_by']}, event {s['event_position']})",
    ]
    for line in s["lines"]:
        volume = ""
        if line["visits"]:
            volume = f"  [{format_count(line['visits'], 'visit')}, {line['payable_minutes']:,} payable min]"
        lines.append(f"  {money(line['amount']):>14}  {line['label']}{volume}")
    lines += [
        f"  {money(s['amount']):>14}  paid for {s['month']}",
        f"cumulative paid in {s['financial_year']}: {money(s['cumulative_paid'])} ({months})",
        f"priced activity to date: {money(s['priced_activity_to_date'])}; priced − paid: {money(s['priced_less_paid'])}",
        f"basis: {s['basis']}",
    ]
    return lines


@payments.command("statement")
@click.option("--provider", required=True)
@agreement_option
@click.option("--month", required=True, help="e.g. 2019-05")
@as_at_option
@json_option
@pass_context
def payments_statement(
    context: Context, provider: str, agreement: str, month: str, as_at: str | None, as_json: bool,
) -> None:  # fmt: skip
    """A provider's payment for a month, line by line, with cumulative payments for the year."""
    book = context.book
    engine = context.read_engine(as_at)
    access = access_for(book.records, context.actor(), agreement, provider)
    emit(views.payment_statement(engine, access, provider, month), as_json, _statement_lines)


@payments.command("list")
@agreement_option
@year_option
@as_at_option
@json_option
@pass_context
def payments_list(context: Context, agreement: str, financial_year: str, as_at: str | None, as_json: bool) -> None:
    """Every provider's payment in each month's run of the year (a provider's own payments, for a provider)."""
    book = context.book
    engine = context.read_engine(as_at)
    rows = views.payment_runs(engine, access_for(book.records, context.actor(), agreement), financial_year)
    emit(
        rows,
        as_json,
        lambda rs: [f"{r['month']}  {r['provider']:<28} {money(r['amount']):>16}  paid {r['paid_on']}" for r in rs]
        or ["no payments recorded"],
    )


# -- settle ----------------------------------------------------------------------------------------


def settlement_lines(v: dict[str, Any]) -> list[str]:
    """A settlement for people: its status, every step, each party's position, and any comparison."""
    kind = "re-settlement" if v.get("previous") else "settlement"
    number = f" {v['sequence']}" if v.get("sequence") else ""
    head = f"{kind}{number} of {v['agreement']} {v['financial_year']}: {v['status']}"
    if v.get("previous"):
        head += f" (re-settles settlement {v['previous']})"
    lines = [head]
    if v.get("message"):
        lines.append(v["message"])
    for stale in v.get("out_of_date") or ():
        lines.append(f"OUT OF DATE: {stale['note']}")
    s = v["statement"]
    lines.append("steps:")
    for step in s["steps"]:
        party = f" [{step['party']}]" if step["party"] else ""
        lines.append(f"  {money(step['amount']):>17}  {step['label']}{party}: {step['formula']}")
    columns = ("activity", "incentives", "share", "clawback", "paid on account", "balance")
    lines.append(f"{'providers:':<28} " + " ".join(f"{c:>{16 if c == 'paid on account' else 15}}" for c in columns))
    for p, x in s["providers"].items():
        lines.append(
            f"  {p:<26} {money(x['activity']):>15} {money(x['incentives']):>15} {money(x['share']):>15} "
            f"{money(x['clawback']):>15} "
            f"{money(x['paid']):>16} {money(x['balance']):>15}"
        )
    lines.append(f"{'commissioners:':<28} {'contribution':>15} {'cost':>15} {'pool balance':>15}")
    for c, x in s["commissioners"].items():
        cost, balance = money(x.get("cost")), money(x.get("pool_balance"))  # a provider sees contributions only
        lines.append(f"  {c:<26} {money(x['contribution']):>15} {cost:>15} {balance:>15}")
    comparison = v.get("comparison")
    if comparison:
        title = f"compared with settlement {v['previous']}:"
        lines.append(f"{title:<39} {'previous':>15} {'new':>15} {'difference':>15}")
        for kind_ in ("providers", "commissioners"):
            for party, figures in comparison[kind_].items():
                for figure, row in figures.items():
                    if figure in ("balance", "cost", "share", "clawback", "activity", "incentives"):
                        lines.append(
                            f"  {party:<26} {figure:<10} {money(row['previous']):>15} {money(row['new']):>15} "
                            f"{money(row['difference']):>15}"
                        )
    if v.get("drafted"):
        lines.append(f"drafted by {v['drafted']['user']} on {v['drafted']['on']}")
    if v.get("reviewed"):
        lines.append(f"reviewed by {v['reviewed']['user']} on {v['reviewed']['on']}")
    for c, sig in (v.get("approvals") or {}).items():
        lines.append(f"approved for {c} by {sig['user']} on {sig['on']}")
    if v.get("awaiting"):
        lines.append(f"awaiting approval by: {', '.join(v['awaiting'])}")
    if v.get("issued"):
        lines.append(f"issued by {v['issued']['user']} on {v['issued']['on']}")
    return lines


@click.group(invoke_without_command=True)
@click.option("--agreement", help="The agreement's code.")
@click.option("--year", "financial_year", help="The financial year, e.g. 2019-20.")
@click.option("--preview", is_flag=True, help="Compute and show the settlement without recording it.")
@command_options
@json_option
@pass_context
@click.pass_context
def settle(
    ctx: click.Context, context: Context, agreement: str | None, financial_year: str | None, preview: bool,
    effective: Any, reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Draft the year's risk and gain share settlement, every step shown; or take one through its life."""
    if ctx.invoked_subcommand is not None:
        return
    if not agreement or not financial_year:
        raise click.UsageError("give --agreement and --year (e.g. --year 2019-20), or a subcommand")
    book = context.book
    if preview:
        result = book.settlements.preview_settlement(context.actor(), agreement, financial_year)
    else:
        envelope = recording(context, effective, reason, idempotency_key)
        result = book.settlements.draft_settlement(envelope, agreement, financial_year)
    emit(result, as_json, settlement_lines)


def _signed(what: str) -> Any:
    return lambda r: [
        f"{what}: settlement {r['sequence']} of {r['agreement']} {r['financial_year']} is now {r['status']}"
        + (f"; awaiting approval by {', '.join(r['awaiting'])}" if r["awaiting"] and r["status"] != "issued" else "")
    ]


@settle.command("review")
@agreement_option
@year_option
@number_option
@click.option("--note", help="The reviewer's note.")
@command_options
@json_option
@pass_context
def settle_review(
    context: Context, agreement: str, financial_year: str, sequence: int | None, note: str | None, effective: Any,
    reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Record the review of a draft (by someone other than who drafted it)."""
    book = context.book
    number = sequence or views.latest_sequence(book.read_engine, agreement, financial_year)
    envelope = recording(context, effective, reason, idempotency_key)
    emit(book.settlements.review_settlement(envelope, agreement, financial_year, number, note), as_json, _signed("reviewed"))


@settle.command("approve")
@agreement_option
@year_option
@number_option
@click.option("--commissioner", help="Only for the system user: the commissioner approving.")
@command_options
@json_option
@pass_context
def settle_approve(
    context: Context, agreement: str, financial_year: str, sequence: int | None, commissioner: str | None,
    effective: Any, reason: str | None, idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Approve a reviewed settlement for the acting accountant's commissioner."""
    book = context.book
    number = sequence or views.latest_sequence(book.read_engine, agreement, financial_year)
    envelope = recording(context, effective, reason, idempotency_key)
    result = book.settlements.approve_settlement(envelope, agreement, financial_year, number, commissioner)
    emit(result, as_json, _signed("approved"))


@settle.command("issue")
@agreement_option
@year_option
@number_option
@command_options
@json_option
@pass_context
def settle_issue(
    context: Context, agreement: str, financial_year: str, sequence: int | None, effective: Any, reason: str | None,
    idempotency_key: str | None, as_json: bool,
) -> None:
    """Issue a settlement every commissioner has approved; it never changes after this."""
    book = context.book
    number = sequence or views.latest_sequence(book.read_engine, agreement, financial_year)
    envelope = recording(context, effective, reason, idempotency_key)
    emit(book.settlements.issue_settlement(envelope, agreement, financial_year, number), as_json, _signed("issued"))


@settle.command("withdraw")
@agreement_option
@year_option
@number_option
@command_options
@json_option
@pass_context
def settle_withdraw(
    context: Context, agreement: str, financial_year: str, sequence: int | None, effective: Any, reason: str | None,
    idempotency_key: str | None, as_json: bool,
) -> None:
    """Withdraw a draft that will not be issued (a reason is required)."""
    book = context.book
    number = sequence or views.latest_sequence(book.read_engine, agreement, financial_year)
    envelope = recording(context, effective, reason, idempotency_key)
    emit(book.settlements.withdraw_settlement(envelope, agreement, financial_year, number), as_json, _signed("withdrawn"))


@settle.command("show")
@agreement_option
@year_option
@number_option
@click.option("--provider", help="Show it as this provider sees it (its own lines only).")
@as_at_option
@json_option
@pass_context
def settle_show(
    context: Context, agreement: str, financial_year: str, sequence: int | None, provider: str | None,
    as_at: str | None, as_json: bool,
) -> None:  # fmt: skip
    """A settlement with every step, each party's position, approvals and any comparison with the previous one.

    A provider sees its own lines; ``--provider`` shows anyone who may read that provider's figures what it sees.
    """
    book = context.book
    actor = context.actor()
    if provider:
        access = provider_access(book.records, actor, agreement, provider)
    else:
        access = access_for(book.records, actor, agreement)
    engine = context.read_engine(as_at)
    emit(views.settlement(engine, access, agreement, financial_year, sequence), as_json, settlement_lines)


@settle.command("list")
@agreement_option
@click.option("--year", "financial_year", help="Only this financial year.")
@as_at_option
@json_option
@pass_context
def settle_list(context: Context, agreement: str, financial_year: str | None, as_at: str | None, as_json: bool) -> None:
    """Every settlement of the agreement: number, status, actual spend, provider side's amount."""
    book = context.book
    engine = context.read_engine(as_at)
    access = access_for(book.records, context.actor(), agreement)
    rows = views.list_settlements(engine, access, financial_year)

    def render(rs: list[dict[str, Any]]) -> list[str]:
        lines = []
        for r in rs:
            lines.append(
                f"{r['financial_year']} no. {r['sequence']:<3} {r['status']:<10} actual {money(r['actual'])}, "
                f"provider side {money(r['provider_amount'])} (before cap {money(r['provider_amount_uncapped'])})"
                + (f", re-settles no. {r['previous']}" if r["previous"] else "")
            )
            lines.extend(f"  OUT OF DATE: {stale['note']}" for stale in r["out_of_date"])  # as ``settle show`` says
        return lines or ["no settlements"]

    emit(rows, as_json, render)


@settle.command("close")
@agreement_option
@year_option
@command_options
@json_option
@pass_context
def settle_close(
    context: Context, agreement: str, financial_year: str, effective: Any, reason: str | None,
    idempotency_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Close the year once its settlement is issued; later changes are paid as closed-year adjustments."""
    book = context.book
    envelope = recording(context, effective, reason, idempotency_key)
    result = book.settlements.close_year(envelope, agreement, financial_year)
    emit(result, as_json, lambda r: [r["message"]])
