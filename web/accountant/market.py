"""The market per agreement and period, for accountants: the quartiles and every provider's cost, by name.

What ``openbook market`` prints for an accountant (``ledger.queries.returns.
market`` with an ``AccountantAccess``): the lower quartile, median and upper
quartile of accepted provider returns, per line and in total; each
provider's cost per contact hour beside them with its rate on the card and
the gap; the council's in-house costs beside the market, never in it; and
what providers would see. The chart is ``reports.charts.market_chart`` with
names, which only an accountant's page draws.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response
from wtforms import Form, SelectChoice, SelectField

from domain.organisations.user import Role
from domain.returns.filing import CostGroup, CostLine
from domain.returns.unit_costs import shown
from ledger.queries import returns as views
from reports.charts import market_chart
from web import as_at, navigation, scope
from web.access import allow
from web.accountant import bp
from web.scope import my_agreements
from web.tables import Column, table

bp.record_once(lambda state: navigation.add(state.app, "Market", "accountant.markets", Role.ACCOUNTANT))

QUARTILE_COLUMNS = [
    Column("label", "Line"),
    Column("lower", "Lower quartile", "money"),
    Column("median", "Median", "money"),
    Column("upper", "Upper quartile", "money"),
]


def _entry_columns() -> list[Column]:
    return [
        Column("name", "Provider"),
        Column("per_hour", "Cost per contact hour", "money"),
        *(Column(group.value, group.label, "money") for group in CostGroup),
        Column("on_costs_percent_of_pay", "On-costs % of pay", "number"),
        Column("surplus_percent_of_cost", "Surplus % of cost", "number"),
        Column("travel_minutes_per_contact_hour", "Travel minutes per contact hour", "number"),
        Column("rate", "Rate on the card", "money"),
        Column("gap", "Gap (rate - cost)", "money"),
    ]


class MarketChoice(Form):
    agreement = SelectField("Agreement")
    period = SelectField("Period")


def _periods(agreements: list[tuple[dict[str, Any], Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each agreement's periods with returns: how many are filed and how many accepted (the market's)."""
    engine = as_at.read_engine()
    found: dict[str, list[dict[str, Any]]] = {}
    for agreement, access in agreements:
        counts: dict[str, dict[str, Any]] = {}
        for row in views.list_returns(engine, access):
            entry = counts.setdefault(row["period"], {"period": row["period"], "filed": 0, "accepted": 0})
            entry["filed"] += 1
            entry["accepted"] += row["status"] == "accepted" and not row["in_house"]
        found[agreement["code"]] = list(counts.values())
    return found


@bp.get("/market")
@allow(Role.ACCOUNTANT)
def markets() -> Response | tuple[str, int]:
    """Choose an agreement and period (or follow a link to one with returns)."""
    agreements = my_agreements(every_provider=True)
    periods = _periods(agreements)
    form = MarketChoice(request.args)
    form.agreement.choices = [SelectChoice(a["code"], f"{a['name']} ({a['code']})") for a, _ in agreements]
    form.period.choices = [SelectChoice(p) for p in sorted({p["period"] for found in periods.values() for p in found})]
    chosen = bool(request.args.keys() & {"agreement", "period"})  # not ?as_at= alone
    if chosen and form.validate():
        return redirect(url_for(".market", agreement=form.agreement.data, period=form.period.data))
    return render_template(
        "accountant/returns/markets.html", form=form, agreements=[a for a, _ in agreements], periods=periods
    ), (400 if chosen else 200)


def _entry_row(entry: dict[str, Any], agreement: str, period: str) -> dict[str, Any]:
    return {
        **{k: entry[k] for k in ("provider", "name", "on_costs_percent_of_pay", "surplus_percent_of_cost",
                                 "travel_minutes_per_contact_hour")},
        **{group: shown(value) for group, value in entry["groups"].items()},
        "agreement": agreement, "period": period,
        "per_hour": entry["total_per_hour_shown"],
        "rate": entry["rate"].shown_rate,
        "gap": None if entry["gap"] is None else shown(entry["gap"]),
    }  # fmt: skip


def _quartile_rows(market: dict[str, Any] | None) -> list[dict[str, Any]]:
    if market is None:
        return []
    rows = [{"label": "Total cost per contact hour", **{k: shown(v) for k, v in market["total"].items()}}]
    for line, q in market["lines"].items():
        rows.append({"label": CostLine(line).label, **{k: shown(v) for k, v in q.items()}})
    return rows


@bp.get("/market/<agreement>/<period>")
@allow(Role.ACCOUNTANT)
def market(agreement: str, period: str) -> str:
    access = scope.accountant(agreement)
    view = views.market(as_at.read_engine(), access, period)
    columns = _entry_columns()
    tables = {
        "quartiles": table("quartiles", f"Quartiles, {view['period']}", QUARTILE_COLUMNS, _quartile_rows(view["market"])),
        "providers": table("providers", "Each provider's accepted return", columns,
                           [_entry_row(e, view["agreement"], view["period"]) for e in view["providers"]]),
        "in-house": table("in-house", "In-house costs (beside the market, not in its quartiles)", columns,
                          [_entry_row(e, view["agreement"], view["period"]) for e in view["in_house"]]),
    }  # fmt: skip
    others = _periods([({"code": access.agreement}, access)])
    return render_template(
        "accountant/returns/market.html",
        view=view,
        tables=tables,
        chart=market_chart(view, names=True),
        periods=others.get(access.agreement, []),
    )
