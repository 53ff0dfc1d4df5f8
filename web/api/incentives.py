"""KPI results (read, and recorded by a commissioner's accountant) and incentive assessments, as the reader may
see them (a provider: its own lines and results)."""

from __future__ import annotations

from typing import Annotated, Any

from flask import request
from pydantic import Field

from domain.organisations.user import Role
from ledger.jsonable import json_ready
from ledger.queries.incentives import incentive_assessment, kpi_dashboard
from web import scope
from web.access import EVERY_ROLE, allow
from web.api import bp
from web.api.calls import envelope, recorded
from web.api.models import Code, Command, DecimalText, Open, Period, Strict, Text
from web.api.spec import answers, spec
from web.params import MAX_NUMBER
from web.services import book_of


class KpiQuery(Strict):
    period: Period | None = Field(None, description="A financial year (with its quarters) or a quarter")


class KpiResults(Open):
    agreement: str
    kpis: list[dict[str, Any]]
    rows: list[dict[str, Any]]


class KpiResult(Command):
    provider: Code
    period: Period
    kpi: Annotated[str, Field(min_length=1, max_length=100, examples=["missed-visits"])]
    value: DecimalText
    evidence: Text = Field(min_length=1, description="Where the figure comes from (a report, a system)")


class KpiRecorded(Open):
    agreement: str
    provider: str
    period: str
    outcome: str


class RunQuery(Strict):
    run: Annotated[int, Field(ge=1, le=MAX_NUMBER)] | None = Field(None, description="A run; the latest by default")


class Assessment(Open):
    agreement: str
    financial_year: str
    run: int
    lines: list[dict[str, Any]]


@bp.get("/agreements/<agreement>/kpis")
@allow(*EVERY_ROLE)
@spec.validate(query=KpiQuery, resp=answers(KpiResults), tags=["incentives"])
def kpi_results(agreement: str) -> dict[str, Any]:
    """KPI results by provider, KPI and period: value, target, met, and what is missing."""
    return json_ready(kpi_dashboard(book_of().read_engine, scope.access(agreement), request.context.query.period))


@bp.post("/agreements/<agreement>/kpis")
@allow(Role.ACCOUNTANT)
@recorded
@spec.validate(json=KpiResult, resp=answers(KpiRecorded), tags=["incentives"])
def record_kpi_result(agreement: str) -> dict[str, Any]:
    """Record a provider's result for one KPI and period (again with a new value: a correction, saying why)."""
    body: KpiResult = request.context.json
    return book_of().incentives.record_kpi_result(
        envelope(effective=body.effective_date, reason=body.reason), agreement, body.provider, body.period, body.kpi,
        body.value, body.evidence,
    )  # fmt: skip


@bp.get("/agreements/<agreement>/incentives/<financial_year>")
@allow(*EVERY_ROLE)
@spec.validate(query=RunQuery, resp=answers(Assessment), tags=["incentives"])
def incentive_assessments(agreement: str, financial_year: str) -> dict[str, Any]:
    """A year's incentive assessment (the latest run, or ``?run=``): per provider, baseline and actual hours,
    the reduction, the KPI gate and the payment, each with its working."""
    access = scope.access(agreement)
    return json_ready(incentive_assessment(book_of().read_engine, access, financial_year, request.context.query.run))
