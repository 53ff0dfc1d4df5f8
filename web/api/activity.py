"""Priced activity totals: visits, hours and spend by provider, zone, service, month, quarter or year.

A provider's token totals its own visits only (naming another provider is a
404); a commissioner's accountant totals any provider's. The ledger decides
(``ledger.queries.activity.totals`` over the access ``access_for`` gives).
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import request
from pydantic import BaseModel, Field

from ledger.jsonable import json_ready
from ledger.projections.activity import DIMENSIONS
from ledger.queries.activity import totals
from web import scope
from web.access import EVERY_ROLE, allow
from web.api import bp
from web.api.models import Code, Open, Strict
from web.api.spec import answers, spec
from web.services import book_of

#: A month, quarter or financial year.
AnyPeriod = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}(-Q[1-4])?$", examples=["2019-20-Q1", "2019-04"])]


class TotalsQuery(Strict):
    by: Annotated[str, Field(pattern=rf"^({'|'.join(DIMENSIONS)})(,({'|'.join(DIMENSIONS)}))*$", max_length=100)] = (
        Field("provider", description=f"Comma-separated, from {', '.join(DIMENSIONS)}")
    )
    provider: Code | None = None
    period: AnyPeriod | None = None


class TotalsRow(Open):
    visits: int
    hours: str
    payable_hours: str
    spend: str
    unpriced_visits: int


class ActivityTotals(BaseModel):
    agreement: str
    by: list[str]
    totals: list[TotalsRow]


@bp.get("/agreements/<agreement>/activity/totals")
@allow(*EVERY_ROLE)
@spec.validate(query=TotalsQuery, resp=answers(ActivityTotals), tags=["activity"])
def activity_totals(agreement: str) -> dict[str, Any]:
    """Priced activity: visits, hours, payable hours and spend, grouped ``?by=``, for ``?provider=`` and ``?period=``."""
    asked: TotalsQuery = request.context.query
    by = asked.by.split(",")
    rows = totals(book_of().read_engine, scope.access(agreement), by, provider=asked.provider, period=asked.period)
    return {"agreement": agreement, "by": by, "totals": json_ready(rows)}
