"""The agreements an accountant's organisation commissions, and one agreement as it stood on a date.

The page is ``openbook agreements show CODE --on DATE`` in the browser: the
same query (``ledger.queries.agreements.agreement_sheet``, the domain's
``as_at`` over the read models) gives the term, commissioners, the pooled
budget's contributions that year, zones and lots, service types, awards,
KPIs and the rates in force; ``agreement_history`` (``agreements history``)
every change with its effective date and reason. Which agreements are
listed, and whether this accountant may open one, is the ledger's answer
(``web.scope``): another commissioner's agreement is a 404, as if it did not
exist.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import render_template

from domain.organisations.user import Role
from ledger.queries.agreements import agreement_history, agreement_sheet
from web import as_at, navigation, scope
from web.access import allow
from web.accountant import bp
from web.params import on_date
from web.tables import Column, table

bp.record_once(lambda state: navigation.add(state.app, "Agreements", "accountant.agreements", Role.ACCOUNTANT))



_AGREEMENT_COLUMNS = [
    Column("name", "Agreement"),
    Column("code", "Code"),
    Column("kind", "Kind"),
    Column("term_start", "Term from", "date"),
    Column("term_end", "Term to", "date"),
    Column("commissioners", "Commissioners"),
    Column("zones", "Zones and lots", "number"),
    Column("providers", "Providers", "number"),
]


@bp.get("/agreements")
@allow(Role.ACCOUNTANT)
def agreements() -> str:
    """The agreements the user's organisation commissions (where it reads every provider's figures)."""
    rows = [row for row, _ in scope.my_agreements(every_provider=True)]
    listed = table("agreements", "Agreements your organisation commissions", _AGREEMENT_COLUMNS, rows)
    return render_template("accountant/agreements/index.html", agreements=listed)


_ZONE_COLUMNS = [
    Column("code", "Zone or lot"),
    Column("name", "Name"),
    Column("where", "Postcode districts, or zones the lot covers"),
    Column("from_date", "From", "date"),
    Column("primary", "Primary provider"),
]
_AWARD_COLUMNS = [
    Column("zone", "Zone or lot"),
    Column("tier", "Tier"),
    Column("provider", "Provider"),
    Column("from_date", "From", "date"),
    Column("to_date", "To (blank: open-ended)", "date"),
]
_KPI_COLUMNS = [
    Column("code", "KPI"),
    Column("name", "Name"),
    Column("measure", "Measure"),
    Column("target", "Target", "number"),
    Column("direction", "Direction"),
    Column("unit", "Unit"),
]
_CHANGE_COLUMNS = [
    Column("effective_date", "Effective", "date"),
    Column("what", "Change"),
    Column("reason", "Reason"),
    Column("recorded_by", "Recorded by"),
]
_CONTRIBUTION_COLUMNS = [Column("commissioner", "Commissioner"), Column("amount", "Contribution", "money")]
RATE_COLUMNS = [
    Column("service", "Service"),
    Column("zone", "Zone or lot"),
    Column("band", "Band"),
    Column("hourly_rate", "Hourly rate", "money"),
    Column("effective_from", "In force from", "date"),
    Column("blend_text", "Blend"),
]


def rate_rows(rates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rates as table rows, a blend written out as its parts (weight × rate)."""
    return [
        {**r, "blend_text": " + ".join(f"{p['weight']} × £{p['rate']}" for p in r.get("blend") or ())}
        for r in rates
    ]


@bp.get("/agreements/<agreement>")
@allow(Role.ACCOUNTANT)
def agreement(agreement: str) -> str:
    """The agreement as it stood on ``?on=`` (default today), as the ledger knows it now."""
    scope.accountant(agreement)
    on = on_date()
    sheet = agreement_sheet(as_at.read_engine(), agreement, on)
    view = sheet.agreement
    zones = [
        {
            "code": z.code,
            "name": z.name,
            "where": ("lot covering " + ", ".join(z.covers)) if z.is_lot else " ".join(z.districts),
            "from_date": z.from_date,
            "primary": sheet.primary_providers.get(z.code, "none"),
        }
        for z in view.zones
    ]
    awards = [
        {"zone": a.zone, "tier": str(a.tier), "provider": a.provider, "from_date": a.from_date, "to_date": a.to_date}
        for a in view.awards
    ]
    kpis = [
        {"code": k.code, "name": k.name, "measure": k.measure, "target": k.target, "direction": str(k.direction),
         "unit": str(k.unit)}
        for k in view.kpis
    ]  # fmt: skip
    contributions = [{"commissioner": c, "amount": amount} for c, amount in sheet.contributions.items()]
    changes = [asdict(change) for change in agreement_history(as_at.read_engine(), agreement)]
    when = on.isoformat()
    return render_template(
        "accountant/agreements/sheet.html",
        sheet=sheet,
        view=view,
        on=on,
        zones=table("zones", f"Zones and lots on {when}", _ZONE_COLUMNS, zones),
        awards=table("awards", f"Awards in force on {when}", _AWARD_COLUMNS, awards),
        kpis=table("kpis", f"KPIs as defined on {when}", _KPI_COLUMNS, kpis),
        contributions=table(
            "contributions", f"Contributions to the pooled budget, {sheet.financial_year}", _CONTRIBUTION_COLUMNS,
            contributions,
        ),
        rates=table("rates", f"Rates in force on {when}", RATE_COLUMNS, rate_rows(sheet.rates)),
        changes=table("changes", "Every change to the agreement, in the order recorded", _CHANGE_COLUMNS, changes),
    )
