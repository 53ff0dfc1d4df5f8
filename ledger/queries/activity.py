"""Read-side queries over the activity read models: totals, imports, recorded visits, arrears.

The views (``totals``, ``imports``, ``visit``, ``arrears``) take an access
value from ``ledger.authorisation``: an accountant's (``AccountantAccess``)
sees every provider; a provider's (``ProviderAccess``) sees only its own
visits, totals and arrears, and another provider's are ``NotFound``, as if
they did not exist. The agreement is the access's.

The functions after them serve the commands and the independent checks
(pricing an import, corrections, arrears, incentive assessments, a return's
rate paid): they take an agreement and no access, and their answers are
never shown to a reader as they are.

Money leaves these queries as Decimal pounds (the tables hold whole pence);
hours as Decimal (minutes ÷ 60, to 2 places, for people). Minutes stay exact.
``arrears`` answers exactly as the arrears command does (JSON-ready: exact
decimal text and ISO dates).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select

from domain.activity.arrears import ArrearsGroup, ArrearsLine, arrears_basis
from domain.activity.visits import FIELDS, VisitRow, hours
from domain.checks import check_financial_year
from domain.errors import InvalidInput, NotFound
from domain.money import ZERO
from domain.periods import PeriodFormatError, Quarter, parse_period
from ledger.authorisation import Access, accountants_only, only_provider
from ledger.jsonable import json_ready
from ledger.projections.activity import (
    activity_imports,
    activity_totals,
    arrears_calculations,
    arrears_lines,
    arrears_providers,
    arrears_reviews,
    visits,
)

__all__ = ["DIMENSIONS", "Totals", "arrears", "imports", "totals", "visit"]

#: What totals can be broken down by.
DIMENSIONS = ("provider", "zone", "service", "month", "quarter", "financial_year")


def pounds(pence: int | None) -> Decimal:
    return Decimal(int(pence or 0)).scaleb(-2)


@dataclass(frozen=True)
class Totals:
    """Visits, minutes and spend of a set of visits; ``hours`` are delivered (actual) hours."""

    visits: int
    planned_minutes: int
    actual_minutes: int
    payable_minutes: int
    spend: Decimal
    unpriced_visits: int

    @property
    def hours(self) -> Decimal:
        return hours(self.actual_minutes)

    @property
    def payable_hours(self) -> Decimal:
        return hours(self.payable_minutes)

    def as_json(self) -> dict[str, Any]:
        return {
            "visits": self.visits,
            "hours": self.hours,
            "payable_hours": self.payable_hours,
            "planned_minutes": self.planned_minutes,
            "actual_minutes": self.actual_minutes,
            "payable_minutes": self.payable_minutes,
            "spend": self.spend,
            "unpriced_visits": self.unpriced_visits,
        }


# -- views: what a reader may see ------------------------------------------------------------------


def totals(
    engine: Engine,
    access: Access,
    by: Sequence[str] = ("provider",),
    *,
    provider: str | None = None,
    period: str | None = None,
) -> list[dict[str, Any]]:
    """Visits, hours and spend by provider, zone, service, month, quarter or financial year.

    Optionally for one provider and one month, quarter or year. A provider's
    access totals its own visits only; naming another provider is ``NotFound``.
    """
    agreement = access.agreement
    own = only_provider(access)
    if own is not None and provider not in (None, own):
        raise NotFound(f"{provider}'s activity under {agreement} is not found")
    return [
        {**dict(zip(by, keys, strict=True)), **found.as_json()}
        for keys, found in _grouped(engine, agreement, by, own or provider, period)
    ]


def imports(engine: Engine, access: Access) -> list[dict[str, Any]]:
    """The files imported under the access's agreement, in the order recorded.

    A file holds every provider's visits (its counts and spend are theirs
    together), so only an accountant's access lists them.
    """
    agreement = accountants_only(access).agreement
    with engine.connect() as conn:
        rows = conn.execute(
            select(activity_imports)
            .where(activity_imports.c.agreement == agreement)
            .order_by(activity_imports.c.position)
        ).all()
    return [dict(r._mapping) for r in rows]


def visit(engine: Engine, access: Access, visit_id: str) -> dict[str, Any]:
    """A visit as last recorded, with its price; another provider's visit is ``NotFound``."""
    agreement = access.agreement
    with engine.connect() as conn:
        row = conn.execute(
            select(visits).where((visits.c.agreement == agreement) & (visits.c.visit_id == visit_id))
        ).first()
    if row is None or only_provider(access) not in (None, row.provider):
        raise NotFound(f"visit {visit_id!r} is not recorded under {agreement}")
    found = dict(row._mapping)
    found["price"] = None if found["price_pence"] is None else pounds(found["price_pence"])
    return found


def arrears(engine: Engine, access: Access, financial_year: str) -> dict[str, Any]:
    """The last calculation of a backdated review's arrears: its lines with their working, and the totals.

    Exactly what the arrears command answers. A provider's access shows
    only its own lines, and its own total as the total.
    """
    agreement = access.agreement
    year = check_financial_year(financial_year)
    r = arrears_reviews.c
    with engine.connect() as conn:
        review = conn.execute(
            select(arrears_reviews).where((r.agreement == agreement) & (r.financial_year == year))
        ).first()
        if review is None:
            raise NotFound(f"arrears of the {year} review of {agreement!r} is not registered")
        chosen = {"agreement": agreement, "financial_year": year, "calculation": review.calculations}
        calculation = conn.execute(select(arrears_calculations).filter_by(**chosen)).one()
        lines = conn.execute(select(arrears_lines).filter_by(**chosen).order_by(arrears_lines.c.line)).all()
        providers = conn.execute(
            select(arrears_providers.c.provider, arrears_providers.c.amount)
            .filter_by(**chosen)
            .order_by(arrears_providers.c.place)
        ).all()
    shown = {provider: amount for provider, amount in providers}
    total, basis = calculation.total, calculation.basis
    own = only_provider(access)
    if own is not None:  # its own lines, total and visits: nothing summed over the others
        lines = [line for line in lines if line.provider == own]
        shown = {own: shown[own]} if own in shown else {}
        total = shown.get(own, ZERO)
        basis = arrears_basis(sum(line.visits for line in lines), review.window_start, review.window_end, whose=own)
    return json_ready(
        {
            "agreement": agreement,
            "financial_year": year,
            "decided_on": review.decided_on,
            "window_start": review.window_start,
            "window_end": review.window_end,
            "calculations": review.calculations,
            "lines": [_arrears_line(line) for line in lines],
            "providers": shown,
            "total": total,
            "basis": basis,
            "recorded": True,
        }
    )


def _arrears_line(row: Any) -> dict[str, Any]:
    """A line of the read model as the domain's ``ArrearsLine`` gives it."""
    return ArrearsLine.from_row({name: getattr(row, name) for name in ArrearsLine.__dataclass_fields__}).as_row()


# -- for the commands and the checks: an agreement's every provider, no access, never shown as they are --


def _grouped(
    engine: Engine, agreement: str, by: Sequence[str], provider: str | None, period: str | None
) -> list[tuple[tuple[Any, ...], Totals]]:
    """(the ``by`` values, their totals) of every group with visits, in the order of ``by``."""
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise InvalidInput(f"by: {', '.join(unknown)} is not one of {', '.join(DIMENSIONS)}")
    t = activity_totals.c
    keys = [t[d] for d in by]
    query = select(
        *keys,
        func.sum(t.visits),
        func.sum(t.planned_minutes),
        func.sum(t.actual_minutes),
        func.sum(t.payable_minutes),
        func.sum(t.spend_pence),
        func.sum(t.unpriced_visits),
    ).where(t.agreement == agreement)
    if provider:
        query = query.where(t.provider == provider)
    if period:
        query = query.where(_period_filter(period))
    query = query.group_by(*keys).having(func.sum(t.visits) != 0).order_by(*keys)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        (tuple(row[: len(by)]), Totals(int(row[-6]), int(row[-5]), int(row[-4]), int(row[-3]), pounds(row[-2]),
                                       int(row[-1])))
        for row in rows
    ]  # fmt: skip


def totals_by_provider(engine: Engine, agreement: str, period: str) -> dict[str, Totals]:
    """Each provider's totals in a month, quarter or financial year (an incentive assessment's hours)."""
    return {keys[0]: found for keys, found in _grouped(engine, agreement, ("provider",), None, period)}


def _period_filter(period: str) -> Any:
    """A financial year ("2019-20"), quarter ("2019-20-Q1") or month ("2019-04") as a filter on the totals."""
    t = activity_totals.c
    try:
        found = parse_period(period)
    except PeriodFormatError:
        if re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", period or ""):
            return t.month == period
        raise InvalidInput(
            f"period: {period!r} is not a financial year (2019-20), quarter (2019-20-Q1) or month (2019-04)"
        ) from None
    return (t.quarter if isinstance(found, Quarter) else t.financial_year) == str(found)


def totals_by_key(engine: Engine, agreement: str | None = None) -> dict[tuple[str, str, str, str], Totals]:
    """Totals per (agreement, provider, zone, service), as the projection holds them."""
    t = activity_totals.c
    query = select(
        t.agreement, t.provider, t.zone, t.service,
        func.sum(t.visits), func.sum(t.planned_minutes), func.sum(t.actual_minutes), func.sum(t.payable_minutes),
        func.sum(t.spend_pence), func.sum(t.unpriced_visits),
    ).group_by(t.agreement, t.provider, t.zone, t.service)  # fmt: skip
    if agreement:
        query = query.where(t.agreement == agreement)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {
        (r[0], r[1], r[2], r[3]): Totals(int(r[4]), int(r[5]), int(r[6]), int(r[7]), pounds(r[8]), int(r[9]))
        for r in rows
        if r[4]
    }


def provider_activity(engine: Engine, agreement: str, provider: str, quarters: Sequence[str]) -> Totals:
    """A provider's priced activity in some financial quarters ("2019-20-Q1", ...), every zone and service.

    The hours-weighted average rate actually paid is ``spend ÷ payable_hours``
    (payable minutes ÷ 60, kept exact here): what a cost return's rate gap is
    taken against once activity is recorded.
    """
    t = activity_totals.c
    query = select(
        func.sum(t.visits), func.sum(t.planned_minutes), func.sum(t.actual_minutes), func.sum(t.payable_minutes),
        func.sum(t.spend_pence), func.sum(t.unpriced_visits),
    ).where((t.agreement == agreement) & (t.provider == provider) & t.quarter.in_(list(quarters)))  # fmt: skip
    with engine.connect() as conn:
        r = conn.execute(query).one()
    return Totals(int(r[0] or 0), int(r[1] or 0), int(r[2] or 0), int(r[3] or 0), pounds(r[4]), int(r[5] or 0))


def has_visits(engine: Engine, agreement: str) -> bool:
    with engine.connect() as conn:
        query = select(visits.c.visit_id).where(visits.c.agreement == agreement).limit(1)
        return conn.execute(query).first() is not None


def recorded_visits(engine: Engine, agreement: str, ids: Sequence[str]) -> dict[str, VisitRow]:
    """The visits among ``ids`` already recorded under the agreement, as recorded."""
    found: dict[str, VisitRow] = {}
    columns = [visits.c[f] for f in FIELDS]
    with engine.connect() as conn:
        for start in range(0, len(ids), 900):
            batch = list(ids[start : start + 900])
            query = select(*columns).where((visits.c.agreement == agreement) & visits.c.visit_id.in_(batch))
            for row in conn.execute(query):
                found[row[0]] = VisitRow.from_fields([str(v) for v in row])
    return found


def import_spend(engine: Engine, import_id: str) -> tuple[Decimal, int]:
    """(spend, unpriced visits) of an import's new visits, as priced when the import was applied."""
    i = activity_imports.c
    with engine.connect() as conn:
        row = conn.execute(select(i.spend_pence, i.unpriced_visits).where(i.import_id == import_id)).first()
    return (pounds(row[0]), int(row[1])) if row else (pounds(0), 0)


def arrears_groups(engine: Engine, agreement: str, first_day: date, last_day: date) -> list[ArrearsGroup]:
    """Visits from ``first_day`` to ``last_day`` (inclusive) per provider, service, zone, band and day."""
    v = visits.c
    query = (
        select(v.provider, v.service, v.zone, v.band, v.visit_date, func.count(), func.sum(v.payable_minutes))
        .where(v.agreement == agreement)
        .where((v.visit_date >= first_day.isoformat()) & (v.visit_date <= last_day.isoformat()))
        .group_by(v.provider, v.service, v.zone, v.band, v.visit_date)
        .order_by(v.provider, v.service, v.zone, v.band, v.visit_date)
    )
    with engine.connect() as conn:
        return [
            ArrearsGroup(r[0], r[1], r[2], r[3], date.fromisoformat(r[4]), int(r[5]), int(r[6]))
            for r in conn.execute(query)
        ]
