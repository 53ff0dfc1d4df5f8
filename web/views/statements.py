"""Statements as PDF (or their HTML, ``?format=html``, or their tables as CSV data, ``?format=csv``) wherever their
figures appear: built by ``reports.statements`` from the same queries as the pages, with the access the ledger gives
the logged-in user.

A provider gets its own statement (its lines and the pool's totals only), an
accountant of a commissioner the partnership's; another organisation's is a
404, as the pages answer. Building one records nothing. With ``?as_at=`` (kept by every link from a page
viewed as at) the statement is rebuilt as the ledger knew it then, cited at the head of that moment.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from domain.organisations.user import Role
from ledger.authorisation import access_for
from reports.statements import Statement, render_html, render_pdf, statement_csv
from reports.statements.cost import cost_statement
from reports.statements.incentive import incentive_statement
from reports.statements.payment import payment_statement
from reports.statements.rate_notice import rate_notice as rate_notice_statement
from reports.statements.settlement import settlement_statement
from web import as_at
from web.access import allow, current_actor
from web.services import book_of
from web.tables import download

bp = Blueprint("statements", __name__, url_prefix="/statements")

READERS = (Role.PROVIDER, Role.ACCOUNTANT, Role.AUDITOR)


def _access(agreement: str, provider: str | None = None):
    return access_for(book_of().records, current_actor(), agreement, provider)


def _sent(statement: Statement, name: str) -> Response:
    if request.args.get("format") == "html":
        return download(render_html(statement).encode("utf-8"), f"{name}.html", "text/html")
    if request.args.get("format") == "csv":
        return download(statement_csv(statement), f"{name}.csv", "text/csv")
    return download(render_pdf(statement), f"{name}.pdf", "application/pdf")


@bp.get("/settlement/<agreement>/<financial_year>/<int(min=1, max=100000):sequence>")
@allow(*READERS)
def settlement(agreement: str, financial_year: str, sequence: int) -> Response:
    statement = settlement_statement(book_of(), _access(agreement), financial_year, sequence=sequence,
                                     as_at=as_at.current())
    return _sent(statement, f"settlement-{agreement}-{financial_year}-{sequence}")


@bp.get("/cost/<agreement>/<provider>/<period>")
@allow(*READERS)
def cost(agreement: str, provider: str, period: str) -> Response:
    statement = cost_statement(book_of(), _access(agreement, provider), provider, period, as_at=as_at.current())
    return _sent(statement, f"cost-{provider}-{period}")


@bp.get("/payment/<agreement>/<provider>/<month>")
@allow(*READERS)
def payment(agreement: str, provider: str, month: str) -> Response:
    statement = payment_statement(book_of(), _access(agreement, provider), provider, month, as_at=as_at.current())
    return _sent(statement, f"payment-{provider}-{month}")


@bp.get("/incentive/<agreement>/<financial_year>")
@allow(*READERS)
def incentive(agreement: str, financial_year: str) -> Response:
    statement = incentive_statement(book_of(), _access(agreement), financial_year, as_at=as_at.current())
    return _sent(statement, f"incentive-{agreement}-{financial_year}")


@bp.get("/rate-notice/<agreement>/<financial_year>/<provider>")
@allow(*READERS)
def rate_notice(agreement: str, financial_year: str, provider: str) -> Response:
    statement = rate_notice_statement(book_of(), _access(agreement, provider), financial_year, provider,
                                      as_at=as_at.current())
    return _sent(statement, f"rate-notice-{provider}-{financial_year}")
