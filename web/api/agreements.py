"""Agreements as at a date (``?on=``) and their rate cards: for every party to the agreement.

Which agreements a user sees, and whether another organisation's is a 404,
is the ledger's rule (``web.scope`` -> ``access_for``), as on the pages.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from flask import request
from pydantic import BaseModel

from ledger.authorisation import AccountantAccess
from ledger.jsonable import json_ready
from ledger.queries.agreements import agreement_sheet
from ledger.queries.rates import rates_in_force
from web import scope
from web.access import EVERY_ROLE, allow
from web.api import bp
from web.api.models import OnQuery, Open
from web.api.spec import answers, spec
from web.services import book_of


class AgreementListed(Open):
    code: str
    name: str
    commissioners: list[str]
    sees: Literal["every-provider", "own-figures"]


class Agreements(BaseModel):
    agreements: list[AgreementListed]


class AgreementTerms(Open):
    code: str
    name: str
    on: str
    term_start: str
    term_end: str
    in_term: bool
    commissioners: list[str]
    zones: list[dict[str, Any]]
    service_types: list[str]
    awards: list[dict[str, Any]]
    kpis: list[dict[str, Any]]


class AgreementSheet(BaseModel):
    agreement: AgreementTerms
    financial_year: str
    contributions: dict[str, str]
    pooled_budget: str | None
    primary_providers: dict[str, str]
    rates: list[dict[str, Any]]


class Rate(Open):
    service: str
    zone: str
    band: str | None
    hourly_rate: str
    effective_from: str


class RateCard(BaseModel):
    agreement: str
    on: str
    rates: list[Rate]


def _on() -> date:
    return request.context.query.on or date.today()


@bp.get("/agreements")
@allow(*EVERY_ROLE)
@spec.validate(resp=answers(Agreements), tags=["agreements"])
def agreements() -> dict[str, Any]:
    """The agreements your organisation is a party to, and whether you see every provider's figures or your own."""
    found = [
        {**json_ready(row), "sees": "every-provider" if isinstance(access, AccountantAccess) else "own-figures"}
        for row, access in scope.my_agreements()
    ]
    return {"agreements": found}


@bp.get("/agreements/<agreement>")
@allow(*EVERY_ROLE)
@spec.validate(query=OnQuery, resp=answers(AgreementSheet), tags=["agreements"])
def agreement(agreement: str) -> dict[str, Any]:
    """The agreement as at ``?on=`` (today by default): its terms then, that year's pooled budget, the rates."""
    scope.access(agreement)
    return json_ready(agreement_sheet(book_of().read_engine, agreement, _on()))


@bp.get("/agreements/<agreement>/rates")
@allow(*EVERY_ROLE)
@spec.validate(query=OnQuery, resp=answers(RateCard), tags=["rates"])
def rate_card(agreement: str) -> dict[str, Any]:
    """The rate card in force on ``?on=``: per service, zone and band, the hourly rate and since when."""
    scope.access(agreement)
    on = _on()
    return {"agreement": agreement, "on": on.isoformat(), "rates": json_ready(rates_in_force(book_of().read_engine, agreement, on))}
