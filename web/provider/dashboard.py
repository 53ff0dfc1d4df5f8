"""The provider's dashboard: per agreement, its quarterly returns due (overdue flagged) and their state, the returns
with open queries, the rates in force (with the rate notice of each review decided), its latest payment statement
and its latest incentive result.

Every figure is a query's answer with the provider's own access
(``ledger.queries``): the page adds nothing up that the ledger has not.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template

from domain.errors import NotFound
from domain.organisations.user import Role
from ledger.authorisation import ProviderAccess
from ledger.queries.incentives import incentive_assessment
from ledger.queries.rates import list_rate_reviews, rates_in_force
from ledger.queries.returns import RETURN_DUE_DAYS, list_returns, returns_due
from ledger.queries.settlements import payment_runs, payment_statement
from web import as_at
from web.access import allow
from web.params import on_date
from web.periods import term_years
from web.provider import bp
from web.scope import my_agreements
from web.tables import Column, table

RETURN_COLUMNS = [
    Column("period", "Quarter"),
    Column("due_on", "Due", "date"),
    Column("state", "State"),
    Column("submitted_on", "Submitted", "date"),
    Column("days_overdue", "Days overdue", "number"),
]
QUERIED_COLUMNS = [
    Column("period", "Period"),
    Column("status", "State"),
    Column("open_queries", "Open queries", "number"),
]
RATE_COLUMNS = [
    Column("zone", "Zone"),
    Column("service", "Service"),
    Column("band", "Band"),
    Column("hourly_rate", "Hourly rate", "money"),
    Column("effective_from", "In force from", "date"),
]


def latest_payment(engine: Any, access: ProviderAccess, years: list[str], on: date) -> dict[str, Any] | None:
    """The provider's latest payment statement paid by ``on`` (``payment_statement``), or None if none yet."""
    for year in years:
        paid = [row for row in payment_runs(engine, access, year) if row["paid_on"] <= on]
        if paid:
            return payment_statement(engine, access, access.provider, paid[-1]["month"])
    return None


def latest_incentive(engine: Any, access: ProviderAccess, years: list[str], on: date) -> dict[str, Any] | None:
    """The latest run of the latest year's incentive assessment effective by ``on``, with the provider's line."""
    for year in years:
        try:
            assessment = incentive_assessment(engine, access, year)
        except NotFound:
            continue
        runs = [run for run in assessment["runs"] if run["effective_date"] <= on]
        if runs:
            if runs[-1]["run"] != assessment["run"]:
                assessment = incentive_assessment(engine, access, year, runs[-1]["run"])
            line = assessment["lines"][0] if assessment["lines"] else None
            return {"assessment": assessment, "line": line}
    return None


def rate_notices(engine: Any, agreement: str, on: date) -> list[dict[str, Any]]:
    """The rate reviews decided by ``on``, newest first: each has a rate notice for the provider (its own only)."""
    decided = [r for r in list_rate_reviews(engine, agreement) if r["decided_on"] is not None and r["decided_on"] <= on]
    return sorted(decided, key=lambda r: r["decided_on"], reverse=True)


def _state(row: dict[str, Any]) -> str:
    status = row["status"] or "not filed"
    return f"{status}, overdue" if row["overdue"] else status


def agreement_panel(row: dict[str, Any], access: ProviderAccess, on: date) -> dict[str, Any]:
    engine = as_at.read_engine()
    code = row["code"]
    due = returns_due(engine, access, access.provider, on)
    queried = [r for r in list_returns(engine, access) if r["open_queries"]]
    years = term_years(row["term_start"], row["term_end"], on)
    rates = sorted(rates_in_force(engine, code, on), key=lambda r: (r["zone"], r["service"], r["band"] or ""))
    return {
        "agreement": row,
        "returns": table(f"returns-{code}", f"Quarterly cost returns due by {on.isoformat()}", RETURN_COLUMNS,
                         [{**r, "state": _state(r)} for r in due]),  # fmt: skip
        "overdue": [r["period"] for r in due if r["overdue"]],
        "queried": table(f"queried-{code}", "Returns with open queries", QUERIED_COLUMNS, queried),
        "open_queries": sum(r["open_queries"] for r in queried),
        "rates": table(f"rates-{code}", f"Rates in force on {on.isoformat()}", RATE_COLUMNS, rates),
        "rate_notices": rate_notices(engine, code, on),
        "provider": access.provider,
        "payment": latest_payment(engine, access, years, on),
        "incentive": latest_incentive(engine, access, years, on),
    }


@bp.get("/")
@allow(Role.PROVIDER)
def dashboard() -> str:
    on = on_date()
    panels = [agreement_panel(row, granted, on) for row, granted in my_agreements()
              if isinstance(granted, ProviderAccess)]  # fmt: skip
    return render_template("provider/dashboard.html", panels=panels, on=on, due_days=RETURN_DUE_DAYS)
