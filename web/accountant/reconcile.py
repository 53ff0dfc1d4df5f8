"""The year's reconciliation (``openbook reconcile``): each identity, whether it holds, with its figures.

The identities are ``ledger.queries.reconcile.reconcile``'s, the CLI's own
query: both sides, what they are made of, the difference and every
difference named; one that cannot apply says why.
"""

from __future__ import annotations

from flask import render_template

from domain.organisations.user import Role
from ledger.queries.reconcile import reconcile
from web import as_at, navigation, scope
from web.access import allow
from web.accountant import bp
from web.accountant.pool import my_pools
from web.tables import Column, table

bp.record_once(lambda state: navigation.add(state.app, "Reconcile", "accountant.reconcile_index", Role.ACCOUNTANT))

FIGURES = [Column("label", "Figure"), Column("amount", "Amount", "money")]


@bp.get("/reconcile")
@allow(Role.ACCOUNTANT)
def reconcile_index() -> str:
    return render_template("accountant/money/reconcile_index.html", pools=my_pools())


@bp.get("/reconcile/<agreement>/<financial_year>")
@allow(Role.ACCOUNTANT)
def reconciliation(agreement: str, financial_year: str) -> str:
    found = reconcile(as_at.read_engine(), scope.accountant(agreement), financial_year)
    figures = {
        i["number"]: table(
            f"identity-{i['number']}", f"{i['number']}. {i['identity']}", FIGURES,
            [i["left"], i["right"], *i["parts"],
             {"label": "difference", "amount": i["difference"]}],
        )  # fmt: skip
        for i in found["identities"]
        if i["status"] != "not applicable"
    }
    months = table(
        "reconcile-months", "Each month: priced activity and its run as paid",
        [Column("month", "Month"), Column("priced", "Priced", "money"), Column("paid", "Paid", "money"),
         Column("paid_for_the_month", "For the month", "money"), Column("adjustments", "Adjustments", "money"),
         Column("arrears_in_adjustments", "Arrears in adjustments", "money"),
         Column("on_account", "On account", "money")],
        found["months"],
    )  # fmt: skip
    return render_template("accountant/money/reconcile.html", r=found, figures=figures, months=months)
