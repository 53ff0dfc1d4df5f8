"""A provider's payments on account (each month's statement) and the settlements of its years, its own lines only.

``payment_runs`` and ``payment_statement`` answer with the provider's own
access (another provider's statement is ``NotFound``); a settlement is the
partnership's, and ``settlement`` shows a provider its own lines and the
totals the partnership shares, never another provider's figures.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from werkzeug.wrappers import Response

from domain.errors import NotFound
from domain.organisations.user import Role
from ledger.queries.settlements import latest_sequence, payment_runs, payment_statement, settlement
from reports.statements.frame import names
from web import as_at, navigation
from web.access import allow
from web.params import MAX_NUMBER
from web.periods import term_years
from web.provider import bp
from web.provider.portal import agreement_or_choice, under
from web.services import book_of
from web.tables import Column, table

PAYMENT_COLUMNS = [
    Column("financial_year", "Year"),
    Column("month", "Month"),
    Column("paid_on", "Paid on", "date"),
    Column("mechanism", "Mechanism"),
    Column("amount", "Amount", "money"),
]
SETTLEMENT_COLUMNS = [
    Column("financial_year", "Year"),
    Column("sequence", "Settlement", "number"),
    Column("status", "Status"),
    Column("drafted_on", "Drafted", "date"),
    Column("issued_on", "Issued", "date"),
    Column("share", "Your share", "money"),
    Column("clawback", "Clawback", "money"),
    Column("balance", "Balance", "money"),
]
LINE_COLUMNS = [
    Column("label", "Line"),
    Column("kind", "Kind"),
    Column("zone", "Zone"),
    Column("service", "Service"),
    Column("activity_month", "Activity month"),
    Column("visits", "Visits", "number"),
    Column("payable_minutes", "Payable minutes", "number"),
    Column("amount", "Amount", "money"),
]
MONTH_COLUMNS = [Column("month", "Month"), Column("amount", "Paid", "money")]
STEP_COLUMNS = [Column("label", "Step"), Column("formula", "Working"), Column("amount", "Amount", "money")]

bp.record_once(lambda state: navigation.add(state.app, "Payments", "provider.payments_index", Role.PROVIDER))


def settlements_of(engine: Any, access: Any, years: list[str]) -> list[dict[str, Any]]:
    """Every settlement of the agreement's years as the provider sees it (``settlement``, sequence by sequence)."""
    found = []
    for year in years:
        try:
            latest = latest_sequence(engine, access.agreement, year)
        except NotFound:
            continue
        for sequence in range(1, latest + 1):
            found.append(settlement(engine, access, access.agreement, year, sequence))
    return found


def _settlement_row(view: dict[str, Any], provider: str) -> dict[str, Any]:
    own = view["statement"]["providers"].get(provider, {})
    return {
        "financial_year": view["financial_year"],
        "sequence": view["sequence"],
        "status": view["status"] + (", out of date" if view["out_of_date"] else ""),
        "drafted_on": view["drafted"]["on"],
        "issued_on": view["issued"]["on"] if view["issued"] else None,
        "share": own.get("share"),
        "clawback": own.get("clawback"),
        "balance": own.get("balance"),
    }


@bp.get("/payments")
@allow(Role.PROVIDER)
def payments_index() -> Response | str:
    return agreement_or_choice("provider.payments", "Payments")


@bp.get("/payments/<agreement>")
@allow(Role.PROVIDER)
def payments(agreement: str) -> str:
    row, access = under(agreement)
    engine = as_at.read_engine()
    years = term_years(row["term_start"], row["term_end"])
    paid = [payment for year in years for payment in payment_runs(engine, access, year)]
    settled = [_settlement_row(view, access.provider) for view in settlements_of(engine, access, years)]
    return render_template(
        "provider/payments/index.html",
        agreement=row,
        provider=access.provider,
        payments=table("payments", "Your payments on account, by month", PAYMENT_COLUMNS, paid),
        settlements=table("settlements", "Settlements of the pooled budget: your lines", SETTLEMENT_COLUMNS, settled),
    )


@bp.get("/payments/<agreement>/<provider>/<month>")
@allow(Role.PROVIDER)
def statement_page(agreement: str, provider: str, month: str) -> str:
    row, access = under(agreement)
    statement = payment_statement(as_at.read_engine(), access, provider, month)
    return render_template(
        "provider/payments/statement.html",
        agreement=row,
        statement=statement,
        lines=table("lines", f"Lines of the {statement['month']} payment", LINE_COLUMNS, statement["lines"]),
        months=table("months", f"Paid in {statement['financial_year']} to {statement['month']}", MONTH_COLUMNS,
                     statement["months_paid"]),  # fmt: skip
    )


@bp.get(f"/settlements/<agreement>/<financial_year>/<int(max={MAX_NUMBER}):sequence>")
@allow(Role.PROVIDER)
def settlement_page(agreement: str, financial_year: str, sequence: int) -> str:
    row, access = under(agreement)
    view = settlement(as_at.read_engine(), access, agreement, financial_year, sequence)
    own = view["statement"]["providers"].get(access.provider)
    called = names(book_of())
    return render_template(
        "provider/payments/settlement.html",
        agreement=row,
        view=view,
        awaiting=[called.get(c, c) for c in view["awaiting"]],  # the commissioners by name, as the statement has them
        own=own,
        clawbacks=view["statement"]["clawbacks"],
        steps=table("steps", "The settlement's working, as you may see it", STEP_COLUMNS, view["statement"]["steps"]),
    )
