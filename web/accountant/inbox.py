"""The returns inbox: every return under the agreements the accountant's organisation commissions.

The rows are ``ledger.queries.returns.list_returns`` for each agreement the
user may read every provider's figures under (``scope.my_agreements``), so
the inbox lists exactly what ``openbook returns list`` lists for each of
them. The filters are GET parameters (a search, which records nothing, so
the address can be bookmarked and shared). The counts by state count the
returns the other filters leave, so each count says what choosing that state
would show.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import render_template, request
from wtforms import Form, SelectChoice, SelectField

from domain.organisations.user import Role
from domain.returns.cost_return import ReturnStatus
from domain.returns.unit_costs import shown
from ledger.queries.returns import list_returns
from web import as_at
from web.access import allow
from web.accountant import bp
from web.scope import my_agreements
from web.tables import Column, table

FILTERS = ("agreement", "period", "state", "provider")
ANY = SelectChoice("", "Any")

COLUMNS = [
    Column("agreement", "Agreement"),
    Column("period", "Period"),
    Column("provider_name", "Provider"),
    Column("status", "State"),
    Column("revision", "Revision", "number"),
    Column("open_queries", "Open queries", "number"),
    Column("per_hour", "Cost per contact hour", "money"),
    Column("travel_minutes_per_contact_hour", "Travel minutes per contact hour", "number"),
    Column("on_costs_percent_of_pay", "On-costs % of pay", "number"),
    Column("surplus_percent_of_cost", "Surplus % of cost", "number"),
    Column("lowest_hourly_pay", "Lowest hourly pay", "money"),
    Column("flags", "Wage findings"),  # the list holds the wage checks; every finding is on the return
]


class InboxFilter(Form):
    """Which returns to list; every choice is optional ("Any")."""

    agreement = SelectField("Agreement", default="")
    period = SelectField("Period", default="")
    state = SelectField("State", default="")
    provider = SelectField("Provider", default="")


def flags(row: dict[str, Any]) -> str:
    """The list's wage findings and kind in words, as ``openbook returns list`` prints them."""
    found = []
    if row["in_house"]:
        found.append("in-house")
    if row["nlw_breach"]:
        found.append("below the wage floor" + (" (explained)" if row["nlw_explained"] else " (not yet explained)"))
    if row["rlw_flag"]:
        found.append("below the Real Living Wage")
    return "; ".join(found)


def _matches(row: dict[str, Any], chosen: dict[str, str], *, ignore: str | None = None) -> bool:
    keys = {"agreement": "agreement", "period": "period", "state": "status", "provider": "provider"}
    return all(not value or row[keys[name]] == value for name, value in chosen.items() if name != ignore)


@bp.get("/")
@allow(Role.ACCOUNTANT)
def inbox() -> tuple[str, int]:
    engine = as_at.read_engine()
    agreements = my_agreements(every_provider=True)
    every = [row for agreement, access in agreements for row in list_returns(engine, access)]
    form = InboxFilter(request.args)
    form.agreement.choices = [ANY, *(SelectChoice(a["code"], f"{a['name']} ({a['code']})") for a, _ in agreements)]
    form.period.choices = [ANY, *(SelectChoice(p) for p in sorted({r["period"] for r in every}))]
    form.state.choices = [ANY, *(SelectChoice(s.value) for s in ReturnStatus)]
    providers = {r["provider"]: r["provider_name"] for r in every}
    form.provider.choices = [
        ANY, *(SelectChoice(code, name) for code, name in sorted(providers.items(), key=lambda i: i[1].lower()))
    ]
    valid = form.validate()
    chosen = {name: form[name].data or "" for name in FILTERS if not form[name].errors}
    counts = Counter(row["status"] for row in every if _matches(row, chosen, ignore="state"))
    rows = [
        {**row, "per_hour": shown(row["total_per_hour"]), "flags": flags(row)}
        for row in every
        if _matches(row, chosen)
    ]
    shown_table = table("returns", f"Returns ({len(rows)})", COLUMNS, rows)
    return render_template(
        "accountant/inbox.html",
        form=form,
        agreements=[a for a, _ in agreements],
        chosen=chosen,
        counts=[(status.value, counts.get(status.value, 0)) for status in ReturnStatus],
        returns=shown_table,
    ), (200 if valid else 400)
