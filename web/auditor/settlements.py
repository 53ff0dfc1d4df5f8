"""The auditor's reading of the agreements their audit body is appointed to: every settlement, and one settlement
as the ledger knew it at any past position or moment (``?as_at=``).

Which agreements: the ledger's rule (``ledger.authorisation``: an audit body's auditors read the agreements it is
appointed to, until the appointment ends; any other agreement is 404, as if it did not exist). The figures are the
accountants' queries with the auditor's access, so an auditor sees exactly what the accountants saw — and, with
``?as_at=``, what they saw before a late correction and its re-settlement. These pages record nothing and offer no
action: an auditor reads.
"""

from __future__ import annotations

from typing import Any

from flask import render_template

from domain.organisations.user import Role
from ledger.queries.settlements import list_settlements, settlement
from web import as_at as as_at_view
from web import navigation, scope
from web.access import allow
from web.accountant.settlements import LIST_COLUMNS
from web.accountant.settlements import _tables as settlement_tables
from web.auditor import bp
from web.params import MAX_NUMBER
from web.services import book_of
from web.tables import Column, table

bp.record_once(lambda state: navigation.add(state.app, "Settlements audited", "auditor.settlements", Role.AUDITOR))


@bp.get("/settlements")
@allow(Role.AUDITOR)
def settlements() -> str:
    """Every settlement of every agreement the auditor's audit body is appointed to (as known at ``?as_at=``)."""
    engine = as_at_view.read_engine()
    appointed = scope.my_agreements(every_provider=True)
    rows: list[dict[str, Any]] = [
        {**r, "agreement": row["code"]} for row, access in appointed for r in list_settlements(engine, access)
    ]
    shown = table("settlements", "Every settlement of the agreements you audit",
                  [Column("agreement", "Agreement"), *LIST_COLUMNS], rows)  # fmt: skip
    return render_template(
        "auditor/settlements/list.html", settlements=shown, rows=rows, agreements=[row for row, _ in appointed]
    )  # fmt: skip


@bp.get(f"/settlements/<agreement>/<financial_year>/<int(max={MAX_NUMBER}):sequence>")
@allow(Role.AUDITOR)
def settlement_page(agreement: str, financial_year: str, sequence: int) -> str:
    """One settlement, every step with its working, live or as known at ``?as_at=``."""
    view = settlement(as_at_view.read_engine(), scope.accountant(agreement), agreement, financial_year, sequence)
    return render_template("auditor/settlements/settlement.html", v=view, t=settlement_tables(view),
                           head=book_of().projections.head())  # fmt: skip
