"""Payments on account and risk and gain share settlements, as the reader may see them.

A provider sees its own payment statements and its own lines of a
settlement beside the pool's shared totals (``docs/access.md``); the list of
a year's settlements, with every provider's figures, is for those who read
every provider's figures (a provider's token: 403). The queries decide.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import request
from pydantic import BaseModel, Field

from domain.organisations.user import Role
from ledger.jsonable import json_ready
from ledger.queries.settlements import list_settlements, payment_runs, payment_statement, settlement
from web import scope
from web.access import EVERY_ROLE, allow
from web.api import bp
from web.api.models import FinancialYear, Open, Strict
from web.api.spec import answers, spec
from web.params import MAX_NUMBER
from web.services import book_of

#: The roles that may read every provider's figures under an agreement they have a part in (``access_for``).
EVERY_PROVIDER = (Role.ACCOUNTANT, Role.ADMIN, Role.AUDITOR)


class YearQuery(Strict):
    financial_year: FinancialYear


class OptionalYearQuery(Strict):
    financial_year: FinancialYear | None = None


class SequenceQuery(Strict):
    sequence: Annotated[int, Field(ge=1, le=MAX_NUMBER)] | None = Field(None, description="The latest by default")


class Payment(Open):
    month: str
    provider: str
    amount: str


class Payments(BaseModel):
    payments: list[Payment]


class PaymentStatement(Open):
    agreement: str
    provider: str
    month: str
    lines: list[dict[str, Any]]


class SettlementListed(Open):
    financial_year: str
    sequence: int
    status: str


class Settlements(BaseModel):
    settlements: list[SettlementListed]


class Settlement(Open):
    agreement: str
    financial_year: str
    sequence: int
    status: str
    statement: dict[str, Any]


@bp.get("/agreements/<agreement>/payments")
@allow(*EVERY_ROLE)
@spec.validate(query=YearQuery, resp=answers(Payments), tags=["payments"])
def payments(agreement: str) -> dict[str, Any]:
    """The year's payments on account by month (a provider: its own)."""
    rows = payment_runs(book_of().read_engine, scope.access(agreement), request.context.query.financial_year)
    return {"payments": json_ready(rows)}


@bp.get("/agreements/<agreement>/payments/<provider>/<month>")
@allow(*EVERY_ROLE)
@spec.validate(resp=answers(PaymentStatement), tags=["payments"])
def payment(agreement: str, provider: str, month: str) -> dict[str, Any]:
    """One provider's payment statement for a month: its lines, the amount, the year's cumulative payments."""
    return json_ready(payment_statement(book_of().read_engine, scope.access(agreement), provider, month))


@bp.get("/agreements/<agreement>/settlements")
@allow(*EVERY_PROVIDER)
@spec.validate(query=OptionalYearQuery, resp=answers(Settlements), tags=["settlements"])
def settlements(agreement: str) -> dict[str, Any]:
    """Every settlement of the agreement (of ``?financial_year=``) with its headline figures: accountants'."""
    rows = list_settlements(book_of().read_engine, scope.access(agreement), request.context.query.financial_year)
    return {"settlements": json_ready(rows)}


@bp.get("/agreements/<agreement>/settlements/<financial_year>")
@allow(*EVERY_ROLE)
@spec.validate(query=SequenceQuery, resp=answers(Settlement), tags=["settlements"])
def settlement_of_year(agreement: str, financial_year: str) -> dict[str, Any]:
    """A year's settlement (the latest, or ``?sequence=``) as you may see it: a provider its own lines."""
    view = settlement(book_of().read_engine, scope.access(agreement), agreement, financial_year,
                      request.context.query.sequence)  # fmt: skip
    return json_ready(view)
