"""Payment runs (``openbook payments list|run|statement``): each month's run, its lines, and its CSV for finance.

A run's page shows each provider's payment statement (``payment_statement``,
the CLI's query) line by line; the finance system's CSV is the same lines
with a total per provider and the run's total, exported through
``web.tables``. Recording a run is ``book.settlements.run_payments``, as
``openbook payments run``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response, flash, redirect, render_template, url_for

from domain.errors import Conflict, InvalidInput, NotFound, RuleBroken
from domain.money import format_gbp, total
from domain.organisations.user import Role
from domain.settlement.payment_ledger import check_month, months_of, year_of_month
from ledger.queries.settlements import payment_runs, payment_statement
from web import as_at, scope
from web.access import allow
from web.accountant import bp
from web.accountant.money_forms import RunForm
from web.forms import envelope_of, show_refusal
from web.services import book_of
from web.tables import Column, export_response, table

RUN_COLUMNS = [Column("month", "Month"), Column("providers", "Providers", "number"), Column("total", "Total", "money"),
               Column("paid_on", "Paid on", "date")]  # fmt: skip
LINE_COLUMNS = [
    Column("provider", "Provider"), Column("line", "Line", "number"), Column("label", "Line"),
    Column("kind", "Kind"), Column("activity_month", "Activity month"), Column("visits", "Visits", "number"),
    Column("payable_minutes", "Payable minutes", "number"), Column("arrears", "Of which arrears", "money"),
    Column("amount", "Amount", "money"),
]  # fmt: skip
FINANCE_COLUMNS = [
    Column("month", "Month paid for"), Column("paid_on", "Paid on", "date"), Column("provider", "Provider"),
    Column("line", "Line", "number"), Column("label", "Description"), Column("activity_month", "Activity month"),
    Column("visits", "Visits", "number"), Column("payable_minutes", "Payable minutes", "number"),
    Column("amount", "Amount", "money"),
]  # fmt: skip


def _runs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per month's run: how many providers it paid, its total, when."""
    months = sorted({r["month"] for r in rows})
    return [
        {"month": m, "providers": len([r for r in rows if r["month"] == m]),
         "total": total(r["amount"] for r in rows if r["month"] == m),
         "paid_on": max(r["paid_on"] for r in rows if r["month"] == m)}
        for m in months
    ]  # fmt: skip


def _payments_page(agreement: str, financial_year: str, form: RunForm | None = None, status: int = 200) -> Any:
    engine = as_at.read_engine()
    rows = payment_runs(engine, scope.accountant(agreement), financial_year)
    year = rows[0]["financial_year"] if rows else financial_year
    runs = table("payment-runs", f"Payment runs of {year}", RUN_COLUMNS, _runs(rows))
    every = table(
        "payments", f"Every provider's payment in each run of {year}",
        [Column("month", "Month"), Column("provider", "Provider"), Column("amount", "Amount", "money"),
         Column("paid_on", "Paid on", "date"), Column("recorded_by", "Recorded by")],
        rows,
    )  # fmt: skip
    form = form or RunForm()
    form.month.choices = [(m, m) for m in months_of(financial_year)]
    page = render_template("accountant/money/payments.html", agreement=agreement, financial_year=year, runs=runs,
                           every=every, form=form)  # fmt: skip
    return page, status


@bp.get("/payments/<agreement>/<financial_year>")
@allow(Role.ACCOUNTANT)
def payments(agreement: str, financial_year: str) -> Any:
    return _payments_page(agreement, financial_year)


@bp.post("/payments/<agreement>/<financial_year>/run")
@allow(Role.ACCOUNTANT)
def run_payments(agreement: str, financial_year: str) -> Any:
    """Record one month's payments, as ``openbook payments run --agreement A --month M``."""
    scope.accountant(agreement)  # another organisation's agreement is a 404 before the form is read
    form = RunForm()
    form.month.choices = [(m, m) for m in months_of(financial_year)]
    if not form.validate_on_submit():
        return _payments_page(agreement, financial_year, form, 400)
    try:
        envelope = envelope_of(form, effective=form.effective.data, reason=form.reason.data)
        result = book_of().settlements.run_payments(envelope, agreement, form.month.data)
    except (InvalidInput, RuleBroken, Conflict) as error:
        return _payments_page(agreement, financial_year, form, show_refusal(form, error))
    flash(f"Recorded: payments of {agreement} for {result['month']} ({result['mechanism']}), "
          f"total {format_gbp(Decimal(str(result['total'])))}.")  # fmt: skip
    return redirect(url_for("accountant.payment_run", agreement=agreement, month=result["month"]))


def run_lines(agreement: str, month: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The month's run: each provider's payment statement, and every line of them (numbered per provider)."""
    chosen = check_month(month)
    engine, access = as_at.read_engine(), scope.accountant(agreement)
    paid = [r for r in payment_runs(engine, access, year_of_month(chosen)) if r["month"] == chosen]
    if not paid:
        raise NotFound(f"no payment run of {agreement} for {chosen} is recorded")
    statements = [payment_statement(engine, access, r["provider"], chosen) for r in paid]
    lines = [
        {**line, "provider": s["provider"], "line": number, "month": chosen, "paid_on": s["paid_on"]}
        for s in statements
        for number, line in enumerate(s["lines"], start=1)
    ]
    return statements, lines


@bp.get("/payments/<agreement>/runs/<month>")
@allow(Role.ACCOUNTANT)
def payment_run(agreement: str, month: str) -> str:
    statements, lines = run_lines(agreement, month)
    providers = table(
        "run-providers", "Each provider's payment in this run",
        [Column("provider", "Provider"), Column("amount", "Paid", "money"),
         Column("cumulative_paid", "Cumulative paid in the year", "money"),
         Column("priced_activity_to_date", "Priced activity to date", "money"),
         Column("priced_less_paid", "Priced − paid", "money")],
        statements,
    )  # fmt: skip
    shown = table("run-lines", "Every line of the run", LINE_COLUMNS, lines)
    first = statements[0]
    return render_template(
        "accountant/money/payment_run.html", agreement=agreement, month=first["month"],
        financial_year=first["financial_year"], statements=statements, providers=providers, lines=shown,
        total=total(s["amount"] for s in statements),
    )  # fmt: skip


@bp.get("/payments/<agreement>/runs/<month>/finance.csv")
@allow(Role.ACCOUNTANT)
def payment_run_csv(agreement: str, month: str) -> Response:
    """The run for the council's finance system: every line, each provider's total, the run's total, to the penny."""
    statements, lines = run_lines(agreement, month)
    rows: list[dict[str, Any]] = []
    blank = dict.fromkeys(c.key for c in FINANCE_COLUMNS)  # a total row has no line, month of activity or volume
    for s in statements:
        rows.extend(line for line in lines if line["provider"] == s["provider"])
        rows.append({**blank, "month": s["month"], "paid_on": s["paid_on"], "provider": s["provider"],
                     "label": f"total paid to {s['provider']}", "amount": s["amount"]})  # fmt: skip
    rows.append({**blank, "month": statements[0]["month"], "paid_on": statements[0]["paid_on"], "provider": "",
                 "label": "run total", "amount": total(s["amount"] for s in statements)})  # fmt: skip
    return export_response(f"payment-run-{agreement}-{statements[0]['month']}", FINANCE_COLUMNS, rows, "csv")
