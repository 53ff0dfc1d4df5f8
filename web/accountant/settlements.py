"""Settlements (``openbook settle ...``): list, draft, every step of one, review, approve, issue, withdraw, close.

Every figure is the query's (``ledger.queries.settlements.settlement`` and
``list_settlements``); every command the use case's
(``book.settlements.draft_settlement``, ``review_settlement``,
``approve_settlement``, ``issue_settlement``, ``withdraw_settlement``,
``close_year``), so the web records exactly what the CLI would. Each
commissioner's accountant approves for their own organisation (the ledger's
``approving_commissioner`` decides); a refusal (issuing before every
commissioner approved, say) is shown on the form and records nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, url_for

from domain.organisations.user import Role
from ledger.queries.settlements import list_settlements, settlement, year_end
from reports.statements.frame import names
from web import as_at, navigation, scope
from web.access import allow
from web.accountant import bp
from web.accountant.money_forms import RecordForm, SettlementForm
from web.accountant.pool import my_pools
from web.forms import REFUSALS, envelope_of, show_refusal
from web.params import MAX_NUMBER
from web.services import book_of
from web.tables import Column, table

bp.record_once(lambda state: navigation.add(state.app, "Settlements", "accountant.settlements", Role.ACCOUNTANT))

LIST_COLUMNS = [
    Column("financial_year", "Year"), Column("sequence", "No.", "number"), Column("status", "Status"),
    Column("actual", "Actual spend", "money"), Column("provider_amount_uncapped", "Provider side before cap", "money"),
    Column("provider_amount", "Provider side", "money"), Column("clawback_total", "Clawbacks", "money"),
    Column("commissioner_cost", "Commissioners' cost", "money"), Column("previous", "Re-settles no.", "number"),
    Column("drafted_on", "Drafted", "date"), Column("issued_on", "Issued", "date"),
]  # fmt: skip


def _listed(agreement: str, financial_year: str | None) -> list[dict[str, Any]]:
    rows = list_settlements(as_at.read_engine(), scope.accountant(agreement), financial_year)
    return [{**r, "approved": ", ".join(a["commissioner"] for a in r["approved_by"]),
             "stale": "; ".join(s["note"] for s in r["out_of_date"])} for r in rows]  # fmt: skip


@bp.get("/settlements")
@allow(Role.ACCOUNTANT)
def settlements() -> str:
    rows = [
        {**r, "name": row["name"]}
        for row, _ in scope.my_agreements(every_provider=True)
        for r in _listed(row["code"], None)
    ]
    shown = table("settlements", "Every settlement of the agreements you commission",
                  [Column("agreement", "Agreement"), *LIST_COLUMNS], rows)  # fmt: skip
    return render_template("accountant/money/settlements.html", settlements=shown, pools=my_pools())


def _year_page(agreement: str, financial_year: str, form: RecordForm | None = None, status: int = 200):
    rows = _listed(agreement, financial_year)
    columns = [*LIST_COLUMNS, Column("approved", "Approved for"), Column("stale", "Out of date")]
    listed = table(f"settlements-{financial_year}", f"Settlements of {agreement} for {financial_year}", columns, rows)
    closed = year_end(as_at.read_engine(), agreement, rows[0]["financial_year"]) if rows else None
    page = render_template(
        "accountant/money/settlement_year.html", agreement=agreement, financial_year=financial_year, listed=listed,
        rows=rows, closed=closed, form=form or RecordForm(),
    )  # fmt: skip
    return page, status


@bp.get("/settlements/<agreement>/<financial_year>")
@allow(Role.ACCOUNTANT)
def settlements_of_year(agreement: str, financial_year: str) -> Any:
    return _year_page(agreement, financial_year)


@bp.post("/settlements/<agreement>/<financial_year>/draft")
@allow(Role.ACCOUNTANT)
def draft_settlement(agreement: str, financial_year: str) -> Any:
    """Draft the year's settlement, or a re-settlement after an issued one, as ``openbook settle``."""
    scope.accountant(agreement)  # another organisation's agreement is a 404 before the form is read
    form = RecordForm()
    if not form.validate_on_submit():
        return _year_page(agreement, financial_year, form, 400)
    try:
        result = book_of().settlements.draft_settlement(
            envelope_of(form, effective=form.effective.data, reason=form.reason.data), agreement, financial_year
        )
    except REFUSALS as error:
        return _year_page(agreement, financial_year, form, show_refusal(form, error))
    kind = "re-settlement" if result.get("previous") else "settlement"
    flash(result.get("message") or f"Drafted {kind} {result['sequence']} of {agreement} {result['financial_year']}.")
    return redirect(url_for("accountant.settlement_page", agreement=agreement,
                            financial_year=result["financial_year"], sequence=result["sequence"]))  # fmt: skip


@bp.post("/settlements/<agreement>/<financial_year>/close")
@allow(Role.ACCOUNTANT)
def close_year(agreement: str, financial_year: str) -> Any:
    """Close the year once its settlement is issued, as ``openbook settle close``."""
    scope.accountant(agreement)  # another organisation's agreement is a 404 before the form is read
    form = RecordForm()
    if not form.validate_on_submit():
        return _year_page(agreement, financial_year, form, 400)
    try:
        result = book_of().settlements.close_year(
            envelope_of(form, effective=form.effective.data, reason=form.reason.data), agreement, financial_year
        )
    except REFUSALS as error:
        return _year_page(agreement, financial_year, form, show_refusal(form, error))
    flash(result["message"][:1].upper() + result["message"][1:] + ".")
    return redirect(url_for("accountant.settlements_of_year", agreement=agreement, financial_year=financial_year))


# -- one settlement ------------------------------------------------------------------------------------


def _tables(v: dict[str, Any]) -> dict[str, Any]:
    """Every step, band, clawback, provider, commissioner and comparison row of the settlement, as tables."""
    s = v["statement"]
    steps = [{"number": n, **step} for n, step in enumerate(s["steps"], start=1)]
    found = {
        "steps": table("steps", "Every step of the settlement, in order",
                       [Column("number", "Step", "number"), Column("label", "Step"), Column("party", "Party"),
                        Column("formula", "Working"), Column("amount", "Amount", "money")], steps),
        "bands": table("bands", "Risk and gain share bands",
                       [Column("band", "Band"), Column("spend_from", "Spend from", "money"),
                        Column("spend_to", "Spend to", "money"),
                        Column("variance_in_band", "Variance in band", "money"),
                        Column("provider_share", "Provider share", "number"),
                        Column("provider_amount", "Provider side's amount", "money")], s["bands"]),
        "clawbacks": table("clawbacks", "Excess surplus clawback per provider",
                           [Column("provider", "Provider"), Column("total", "Total cost", "money"),
                            Column("surplus", "Surplus", "money"), Column("permitted", "Permitted", "money"),
                            Column("excess", "Excess", "money"), Column("share", "Clawback share", "number"),
                            Column("amount", "Clawed back", "money"), Column("formula", "Working")],
                           s.get("clawbacks", [])),
        "providers": table("settlement-providers", "Each provider's position",
                           [Column("provider", "Provider"), Column("activity", "Activity", "money"),
                            Column("incentives", "Incentives", "money"), Column("share", "Share", "money"),
                            Column("clawback", "Clawback", "money"), Column("paid", "Paid on account", "money"),
                            Column("balance", "Balance", "money")],
                           [{"provider": p, **x} for p, x in s["providers"].items()]),
        "commissioners": table("settlement-commissioners", "Each commissioner's position",
                               [Column("commissioner", "Commissioner"),
                                Column("contribution", "Contribution", "money"), Column("cost", "Cost", "money"),
                                Column("pool_balance", "Pool balance", "money")],
                               [{"commissioner": c, **x} for c, x in s["commissioners"].items()]),
    }  # fmt: skip
    comparison = v.get("comparison")
    if comparison:
        rows = [
            {"kind": kind[:-1], "party": party, "figure": figure, **row}
            for kind in ("providers", "commissioners")
            for party, figures in comparison.get(kind, {}).items()
            for figure, row in figures.items()
        ]
        found["comparison"] = table(
            "comparison", f"Compared with settlement {v['previous']}: previous, new and difference",
            [Column("kind", "Party is"), Column("party", "Party"), Column("figure", "Figure"),
             Column("previous", "Previous", "money"), Column("new", "New", "money"),
             Column("difference", "Difference", "money")], rows,
        )  # fmt: skip
    return found


def _settlement_page(agreement: str, financial_year: str, sequence: int, form: SettlementForm | None = None,
                     status: int = 200):  # fmt: skip
    """The settlement, live or as known at the request's ``as_at`` (then its forms give way: web/as_at.py)."""
    engine = as_at.read_engine()
    view = settlement(engine, scope.accountant(agreement), agreement, financial_year, sequence)
    called = names(book_of())
    page = render_template("accountant/money/settlement.html", v=view, t=_tables(view), form=form or SettlementForm(),
                           open=view["status"] in ("draft", "reviewed", "approved"),
                           awaiting=[called.get(c, c) for c in view["awaiting"]], called=called)  # fmt: skip
    return page, status


@bp.get(f"/settlements/<agreement>/<financial_year>/<int(max={MAX_NUMBER}):sequence>")
@allow(Role.ACCOUNTANT)
def settlement_page(agreement: str, financial_year: str, sequence: int) -> Any:
    return _settlement_page(agreement, financial_year, sequence)


def _change(agreement: str, financial_year: str, sequence: int,
            command: Callable[[Any, SettlementForm], dict[str, Any]], done: str) -> Any:  # fmt: skip
    """Validate ``form``, run ``command(envelope)``; a refusal re-renders the page with it, recording nothing."""
    scope.accountant(agreement)  # another organisation's agreement is a 404 before the form is read
    form = SettlementForm()
    if not form.validate_on_submit():
        return _settlement_page(agreement, financial_year, sequence, form, 400)
    try:
        result = command(envelope_of(form, effective=form.effective.data, reason=form.reason.data), form)
    except REFUSALS as error:
        return _settlement_page(agreement, financial_year, sequence, form, show_refusal(form, error))
    called = names(book_of())
    awaiting = (f"; awaiting approval by {', '.join(called.get(c, c) for c in result['awaiting'])}"
                if result["awaiting"] and result["status"] != "issued" else "")  # fmt: skip
    flash(f"{done}: settlement {result['sequence']} of {agreement} {result['financial_year']} is now "
          f"{result['status']}{awaiting}.")  # fmt: skip
    return redirect(url_for("accountant.settlement_page", agreement=agreement, financial_year=financial_year,
                            sequence=sequence))  # fmt: skip


@bp.post(f"/settlements/<agreement>/<financial_year>/<int(max={MAX_NUMBER}):sequence>/review")
@allow(Role.ACCOUNTANT)
def review_settlement(agreement: str, financial_year: str, sequence: int) -> Any:
    """Review a draft (someone other than who drafted it), as ``openbook settle review``."""
    return _change(agreement, financial_year, sequence, lambda envelope, form: book_of().settlements
                   .review_settlement(envelope, agreement, financial_year, sequence, form.note.data or None),
                   "Reviewed")  # fmt: skip


@bp.post(f"/settlements/<agreement>/<financial_year>/<int(max={MAX_NUMBER}):sequence>/approve")
@allow(Role.ACCOUNTANT)
def approve_settlement(agreement: str, financial_year: str, sequence: int) -> Any:
    """Approve for the acting accountant's own commissioner, as ``openbook settle approve``."""
    return _change(agreement, financial_year, sequence, lambda envelope, _: book_of().settlements
                   .approve_settlement(envelope, agreement, financial_year, sequence), "Approved")  # fmt: skip


@bp.post(f"/settlements/<agreement>/<financial_year>/<int(max={MAX_NUMBER}):sequence>/issue")
@allow(Role.ACCOUNTANT)
def issue_settlement(agreement: str, financial_year: str, sequence: int) -> Any:
    """Issue once every commissioner approved, as ``openbook settle issue``; it never changes after."""
    return _change(agreement, financial_year, sequence, lambda envelope, _: book_of().settlements
                   .issue_settlement(envelope, agreement, financial_year, sequence), "Issued")  # fmt: skip


@bp.post(f"/settlements/<agreement>/<financial_year>/<int(max={MAX_NUMBER}):sequence>/withdraw")
@allow(Role.ACCOUNTANT)
def withdraw_settlement(agreement: str, financial_year: str, sequence: int) -> Any:
    """Withdraw a draft that will not be issued (with a reason), as ``openbook settle withdraw``."""
    return _change(agreement, financial_year, sequence, lambda envelope, _: book_of().settlements
                   .withdraw_settlement(envelope, agreement, financial_year, sequence), "Withdrawn")  # fmt: skip
