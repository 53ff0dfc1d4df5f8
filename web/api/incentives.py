"""KPI results and incentive assessments, as the reader may see them (a provider: its own lines and results)."""

from __future__ import annotations

from typing import Annotated, Any

from flask import request
from pydantic import Field

from ledger.jsonable import json_ready
from ledger.queries.incentives import incentive_assessment, kpi_dashboard
from web import scope
from web.access import EVERY_ROLE, allow
from web.api import bp
from web.api.models import Open, Period, Strict
from web.api.spec import answers, spec
from web.params import MAX_NUMBER
from web.services import book_of


class KpiQuery(Strict):
    period: Period | None = Field(None, description="A financial year (with its quarters) or a quarter")


class KpiResults(Open):
    agreement: str
    kpis: list[dict[str, Any]]
    rows: list[dict[str, Any]]


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


@bp.get("/agreements/<agreement>/incentives/<financial_year>")
@allow(*EVERY_ROLE)
@spec.validate(query=RunQuery, resp=answers(Assessment), tags=["incentives"])
def incentive_assessments(agreement: str, financial_year: str) -> dict[str, Any]:
    """A year's incentive assessment (the latest run, or ``?run=``): per provider, baseline and actual hours,
    the reduction, the KPI gate and the payment, each with its working."""
    access = scope.access(agreement)
    return json_ready(incentive_assessment(book_of().read_engine, access, financial_year, request.context.query.run))
