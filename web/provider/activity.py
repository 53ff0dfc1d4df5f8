"""A provider's priced activity by month, zone and service, and its spend by month as a chart.

The same query ``openbook activity totals --by month --by zone --by service``
answers (``ledger.queries.activity.totals``) with the provider's own access,
so only its own visits are counted. The list of imported files is not here:
a file holds every provider's visits, so the ledger lists imports to
accountants only (``activity.imports``).
"""

from __future__ import annotations

from flask import render_template, request
from werkzeug.wrappers import Response

from domain.organisations.user import Role
from ledger.queries.activity import totals
from reports.charts import activity_chart
from web import as_at, navigation
from web.access import allow
from web.provider import bp
from web.provider.portal import agreement_or_choice, under
from web.tables import Column, table

BY = ("month", "zone", "service")
COLUMNS = [
    Column("month", "Month"),
    Column("zone", "Zone"),
    Column("service", "Service"),
    Column("visits", "Visits", "number"),
    Column("payable_hours", "Payable hours", "number", places=2),
    Column("hours", "Delivered hours", "number", places=2),
    Column("spend", "Priced spend", "money"),
    Column("unpriced_visits", "Unpriced visits", "number"),
]

bp.record_once(lambda state: navigation.add(state.app, "Activity", "provider.activity_index", Role.PROVIDER))


@bp.get("/activity")
@allow(Role.PROVIDER)
def activity_index() -> Response | str:
    return agreement_or_choice("provider.activity", "Activity")


@bp.get("/activity/<agreement>")
@allow(Role.PROVIDER)
def activity(agreement: str) -> str:
    row, access = under(agreement)
    period = request.args.get("period") or None
    engine = as_at.read_engine()
    rows = totals(engine, access, BY, period=period)
    by_month = totals(engine, access, ("month",), period=period)
    whose = f"{row['name']}{f', {period}' if period else ''}"
    chart = activity_chart(by_month, title=f"Priced spend by month: {whose}") if by_month else None
    shown = table("activity", f"Priced activity by month, zone and service: {whose}", COLUMNS, rows)
    return render_template("provider/activity/index.html", agreement=row, period=period, table=shown, chart=chart)
