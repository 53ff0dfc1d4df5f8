"""The pooled budget's running position (``openbook pool show``): budget, paid, due, forecast, variance, by month.

The figures are ``ledger.queries.settlements.pool_position``'s, the CLI's
own query, with the reader's access from the ledger (``web.scope``); the
chart is ``reports.charts.pool_chart`` of the same position.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from domain.errors import Conflict, InvalidInput, RuleBroken
from domain.organisations.user import Role
from ledger.queries.settlements import list_pools, pool_position
from ledger.usecases.settlements import parse_band, parse_capitation, parse_split
from reports.charts import pool_chart
from web import as_at, navigation, scope
from web.access import allow
from web.accountant import bp
from web.accountant.money_forms import PoolForm
from web.forms import envelope_of, show_refusal
from web.services import book_of
from web.tables import Column, table

bp.record_once(lambda state: navigation.add(state.app, "Pool & payments", "accountant.pools", Role.ACCOUNTANT))


def my_pools() -> list[dict[str, Any]]:
    """Every pooled budget (agreement and year) under the agreements whose every provider the user may read."""
    engine = as_at.read_engine()
    return [
        {"agreement": row["code"], "name": row["name"], "financial_year": pool["financial_year"],
         "target": pool["target"], "mechanism": pool["mechanism"]}
        for row, _ in scope.my_agreements(every_provider=True)
        for pool in list_pools(engine, row["code"])
    ]  # fmt: skip


@bp.get("/pool")
@allow(Role.ACCOUNTANT)
def pools() -> str:
    agreements = [row for row, _ in scope.my_agreements(every_provider=True)]
    return render_template("accountant/money/pools.html", pools=my_pools(), agreements=agreements)


@bp.get("/pool/<agreement>/<financial_year>")
@allow(Role.ACCOUNTANT)
def pool(agreement: str, financial_year: str) -> str:
    through = request.args.get("through") or None
    position = pool_position(as_at.read_engine(), scope.accountant(agreement), financial_year, through)
    providers = table(
        "pool-providers", "Each provider: priced, paid and due to date",
        [Column("provider", "Provider"), Column("priced_to_date", "Priced to date", "money"),
         Column("paid_to_date", "Paid to date", "money"), Column("due", "Due (priced − paid)", "money")],
        position["providers"],
    )  # fmt: skip
    months = table(
        "pool-months", "Each month: priced activity and paid",
        [Column("month", "Month"), Column("priced", "Priced", "money"), Column("paid", "Paid", "money")],
        position["months"],
    )  # fmt: skip
    contributions = table(
        "pool-contributions", "Each commissioner's contribution",
        [Column("commissioner", "Commissioner"), Column("amount", "Contribution", "money")],
        [{"commissioner": c, "amount": a} for c, a in position["contributions"].items()],
    )  # fmt: skip
    return render_template(
        "accountant/money/pool.html", p=position, chart=pool_chart(position), providers=providers,
        months=months, contributions=contributions, through=through,
    )  # fmt: skip


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@bp.route("/pool/<agreement>/set", methods=["GET", "POST"])
@allow(Role.ACCOUNTANT)
def set_pool(agreement: str) -> Any:
    """Set up (or revise) a year's pooled budget, as ``openbook pool set``; a revision that changes nothing records
    nothing."""
    scope.accountant(agreement)  # another organisation's agreement is a 404 before the form is read
    form = PoolForm()
    if request.method == "GET":
        form.financial_year.data = request.args.get("year") or form.financial_year.data
    if not form.validate_on_submit():
        return render_template("accountant/money/pool_set.html", agreement=agreement, form=form), (
            400 if form.errors else 200
        )
    try:
        envelope = envelope_of(form, effective=form.effective.data, reason=form.reason.data)
        result = book_of().settlements.set_pooled_budget(
            envelope, agreement, form.financial_year.data.strip(), target=form.target.data.strip(),
            bands=[parse_band(b, "bands") for b in _lines(form.bands.data)],
            gain_cap=(form.gain_cap.data or "").strip() or None, loss_cap=(form.loss_cap.data or "").strip() or None,
            mechanism=form.mechanism.data,
            capitation=[parse_capitation(c, "capitation") for c in _lines(form.capitation.data)],
            clawback_share=form.clawback_share.data.strip(), margin_basis=form.margin_basis.data,
            provider_split=parse_split(_lines(form.split.data), "split"),
        )  # fmt: skip
    except (InvalidInput, RuleBroken, Conflict) as error:
        status = show_refusal(form, error)
        return render_template("accountant/money/pool_set.html", agreement=agreement, form=form), status
    year = form.financial_year.data.strip()
    flash(f"{'Recorded' if result['recorded'] else 'Unchanged'}: the pooled budget of {agreement} for {year}.")
    return redirect(url_for("accountant.pool", agreement=agreement, financial_year=year))
