"""The pooled budget's running position (``openbook pool show``): budget, paid, due, forecast, variance, by month.

The figures are ``ledger.queries.settlements.pool_position``'s, the CLI's
own query, with the reader's access from the ledger (``web.scope``); the
chart is ``reports.charts.pool_chart`` of the same position.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from domain.organisations.user import Role
from ledger.queries.settlements import list_pools, pool_position
from reports.charts import pool_chart
from web import navigation, scope
from web.access import allow
from web.accountant import bp
from web.services import book_of
from web.tables import Column, table

bp.record_once(lambda state: navigation.add(state.app, "Pool & payments", "accountant.pools", Role.ACCOUNTANT))


def my_pools() -> list[dict[str, Any]]:
    """Every pooled budget (agreement and year) under the agreements whose every provider the user may read."""
    engine = book_of().read_engine
    return [
        {"agreement": row["code"], "name": row["name"], "financial_year": pool["financial_year"],
         "target": pool["target"], "mechanism": pool["mechanism"]}
        for row, _ in scope.my_agreements(every_provider=True)
        for pool in list_pools(engine, row["code"])
    ]  # fmt: skip


@bp.get("/pool")
@allow(Role.ACCOUNTANT)
def pools() -> str:
    return render_template("accountant/money/pools.html", pools=my_pools())


@bp.get("/pool/<agreement>/<financial_year>")
@allow(Role.ACCOUNTANT)
def pool(agreement: str, financial_year: str) -> str:
    through = request.args.get("through") or None
    position = pool_position(book_of().read_engine, scope.accountant(agreement), financial_year, through)
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
