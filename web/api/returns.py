"""Cost returns: file, submit, amend and answer a query (providers); query, explain, accept, reject and
reopen (accountants); read with the per-hour figures (all parties).

The same use cases and queries as the pages (``web/provider/returns.py``):
who may file for which provider, and whose returns a reader sees, is the
ledger's rule. The filing's figures are decimal strings; the ledger's own
check (``CostReturnFiling.parse``) then names every problem's field, as for
a form or a file.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import request
from pydantic import BaseModel, Field, StrictBool, StrictInt

from domain.bounds import MAX_COUNT
from domain.organisations.user import Role
from domain.returns.filing import CostLine
from ledger.authorisation import shown_provider
from ledger.jsonable import json_ready
from ledger.queries import returns as views
from web import scope
from web.access import EVERY_ROLE, allow
from web.api import bp
from web.api.calls import envelope, recorded
from web.api.models import Code, Command, DecimalText, Open, Period, Strict, Text
from web.api.spec import answers, spec
from web.params import MAX_NUMBER
from web.services import book_of

FILERS = (Role.PROVIDER, Role.ACCOUNTANT, Role.ADMIN)  # a provider's staff; a council's for its in-house costs
Count = Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)]


class VolumesIn(Strict):
    contact_hours: DecimalText
    visits: Count
    average_visit_minutes: DecimalText
    average_travel_minutes: DecimalText
    careworker_headcount: Count
    careworker_fte: DecimalText
    hours_paid: DecimalText
    lowest_hourly_pay: DecimalText
    typical_hourly_pay: DecimalText


class FilingIn(Strict):
    """A cost return's figures: every line in pounds, notes, the volumes behind them (docs/cost-returns.md)."""

    lines: dict[CostLine, DecimalText]
    notes: dict[CostLine, Text] = {}
    volumes: VolumesIn
    stated_total: DecimalText | None = None
    prepared_on: str | None = Field(None, pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class FileReturn(Command):
    provider: Code
    period: Period
    filing: FilingIn
    submit: StrictBool = Field(False, description="Submit for review in the same step")


class AmendReturn(Command):
    filing: FilingIn


class Answer(Command):
    answer: Text = Field(min_length=1)


class NoFields(Command):
    pass


class Query(Command):
    line: Annotated[str, Field(min_length=1, max_length=40, examples=["travel_pay", "contact_hours"])] = Field(
        description="The cost line or volume asked about"
    )
    question: Text = Field(min_length=1)


class Explanation(Command):
    explanation: Text = Field(min_length=1)


class Rejection(Command):
    reasons: list[Text] = Field(min_length=1, max_length=50)


class ListQuery(Strict):
    period: Period | None = None


class SheetQuery(Strict):
    revision: Annotated[int, Field(ge=1, le=MAX_NUMBER)] | None = None


class ReturnSummary(Open):
    agreement: str
    provider: str
    period: str
    in_house: bool
    status: str
    revision: int
    open_queries: int


class ReturnListed(Open):
    provider: str
    period: str
    status: str
    revision: int
    total_per_hour: str | None


class Returns(BaseModel):
    returns: list[ReturnListed]


class Line(Open):
    line: str
    amount: str
    per_hour: str


class Totals(Open):
    total_cost: str
    contact_hours: str
    total_per_hour: str


class ReturnSheet(Open):
    """One revision of a return: each line and group per contact hour, totals, the rate paid and the gap."""

    agreement: str
    provider: str
    period: str
    status: str
    revision: int
    current_revision: int
    lines: list[Line]
    groups: list[dict[str, Any]]
    volumes: dict[str, Any]
    totals: Totals
    rate: dict[str, Any]
    gap: str | None
    findings: list[dict[str, Any]]
    queries: list[dict[str, Any]]


def _filing(filing: FilingIn) -> dict[str, Any]:
    return filing.model_dump(mode="json", exclude_none=True)


def _own(agreement: str, provider: str) -> Any:
    """The caller's access to ``provider``'s return under ``agreement``: another's is a 404, as on the pages."""
    access = scope.access(agreement)
    shown_provider(access, provider)
    return access


@bp.get("/agreements/<agreement>/returns")
@allow(*EVERY_ROLE)
@spec.validate(query=ListQuery, resp=answers(Returns), tags=["cost returns"])
def returns(agreement: str) -> dict[str, Any]:
    """The returns under the agreement you may see (a provider: its own), in ``?period=`` if given."""
    access = scope.access(agreement)
    rows = views.list_returns(book_of().read_engine, access, request.context.query.period)
    return {"returns": json_ready(rows)}


@bp.post("/agreements/<agreement>/returns")
@allow(*FILERS)
@recorded
@spec.validate(json=FileReturn, resp=answers(ReturnSummary, 201), tags=["cost returns"])
def file_return(agreement: str) -> tuple[dict[str, Any], int]:
    """File a provider's return for a period (its first revision), and submit it too with ``submit``."""
    body: FileReturn = request.context.json
    result = book_of().returns.draft_cost_return(
        envelope(effective=body.effective_date, reason=body.reason), agreement, body.provider, body.period,
        _filing(body.filing), submit=body.submit,
    )  # fmt: skip
    return result, 201


@bp.get("/agreements/<agreement>/returns/<provider>/<period>")
@allow(*EVERY_ROLE)
@spec.validate(query=SheetQuery, resp=answers(ReturnSheet), tags=["cost returns"])
def return_sheet(agreement: str, provider: str, period: str) -> dict[str, Any]:
    """A return's figures per contact hour (the latest revision, or ``?revision=``), the gap to the rate paid,
    findings and queries."""
    access = _own(agreement, provider)
    sheet = views.return_sheet(book_of().read_engine, access, provider, period, request.context.query.revision)
    return json_ready(sheet)


@bp.post("/agreements/<agreement>/returns/<provider>/<period>/submit")
@allow(*FILERS)
@recorded
@spec.validate(json=NoFields, resp=answers(ReturnSummary), tags=["cost returns"])
def submit_return(agreement: str, provider: str, period: str) -> dict[str, Any]:
    """Submit the drafted return for review."""
    _own(agreement, provider)
    body: NoFields = request.context.json
    return book_of().returns.submit_cost_return(
        envelope(effective=body.effective_date, reason=body.reason), agreement, provider, period
    )


@bp.post("/agreements/<agreement>/returns/<provider>/<period>/amend")
@allow(*FILERS)
@recorded
@spec.validate(json=AmendReturn, resp=answers(ReturnSummary), tags=["cost returns"])
def amend_return(agreement: str, provider: str, period: str) -> dict[str, Any]:
    """New figures as a new revision (earlier ones stay readable); once submitted, ``reason`` is required."""
    _own(agreement, provider)
    body: AmendReturn = request.context.json
    return book_of().returns.amend_cost_return(
        envelope(effective=body.effective_date, reason=body.reason), agreement, provider, period, _filing(body.filing)
    )


@bp.post("/agreements/<agreement>/returns/<provider>/<period>/queries/<query_id>/answer")
@allow(*FILERS)
@recorded
@spec.validate(json=Answer, resp=answers(ReturnSummary), tags=["cost returns"])
def answer_query(agreement: str, provider: str, period: str, query_id: str) -> dict[str, Any]:
    """Answer an accountant's query on the return (``Q1``, ``Q2``, … as the sheet lists them). (Not ``<query>``:
    spectree's own keyword.)"""
    _own(agreement, provider)
    body: Answer = request.context.json
    return book_of().returns.answer_cost_return_query(
        envelope(effective=body.effective_date, reason=body.reason), agreement, provider, period, query_id, body.answer
    )


# -- the accountants' review ---------------------------------------------------------------------------


@bp.post("/agreements/<agreement>/returns/<provider>/<period>/query")
@allow(Role.ACCOUNTANT)
@recorded
@spec.validate(json=Query, resp=answers(ReturnSummary), tags=["cost returns"])
def query_return(agreement: str, provider: str, period: str) -> dict[str, Any]:
    """Ask about one line or volume of the return; the answer names the new query (``query_id``)."""
    body: Query = request.context.json
    return book_of().returns.query_cost_return(
        envelope(effective=body.effective_date, reason=body.reason), agreement, provider, period, body.line,
        body.question,
    )  # fmt: skip


@bp.post("/agreements/<agreement>/returns/<provider>/<period>/explain")
@allow(Role.ACCOUNTANT)
@recorded
@spec.validate(json=Explanation, resp=answers(ReturnSummary), tags=["cost returns"])
def explain_return(agreement: str, provider: str, period: str) -> dict[str, Any]:
    """Record why the current revision's findings that need it stand (pay below the floor is lawful, say)."""
    body: Explanation = request.context.json
    return book_of().returns.explain_wage_breach(
        envelope(effective=body.effective_date, reason=body.reason), agreement, provider, period, body.explanation
    )


@bp.post("/agreements/<agreement>/returns/<provider>/<period>/accept")
@allow(Role.ACCOUNTANT)
@recorded
@spec.validate(json=NoFields, resp=answers(ReturnSummary), tags=["cost returns"])
def accept_return(agreement: str, provider: str, period: str) -> dict[str, Any]:
    """Accept the submitted return (its findings explained first, and no query left open)."""
    body: NoFields = request.context.json
    return book_of().returns.accept_cost_return(
        envelope(effective=body.effective_date, reason=body.reason), agreement, provider, period
    )


@bp.post("/agreements/<agreement>/returns/<provider>/<period>/reject")
@allow(Role.ACCOUNTANT)
@recorded
@spec.validate(json=Rejection, resp=answers(ReturnSummary), tags=["cost returns"])
def reject_return(agreement: str, provider: str, period: str) -> dict[str, Any]:
    """Reject the submitted return, saying why; the provider amends and submits again."""
    body: Rejection = request.context.json
    return book_of().returns.reject_cost_return(
        envelope(effective=body.effective_date, reason=body.reason), agreement, provider, period, body.reasons
    )


@bp.post("/agreements/<agreement>/returns/<provider>/<period>/reopen")
@allow(Role.ACCOUNTANT)
@recorded
@spec.validate(json=NoFields, resp=answers(ReturnSummary), tags=["cost returns"])
def reopen_return(agreement: str, provider: str, period: str) -> dict[str, Any]:
    """Put an accepted or rejected return back under review; ``reason`` says why (required)."""
    body: NoFields = request.context.json
    return book_of().returns.reopen_cost_return(
        envelope(effective=body.effective_date, reason=body.reason), agreement, provider, period
    )
