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

Visits of an import still being applied (a large one is applied in steps)
are not shown until it is applied to its end (``settled_visits``).

Money leaves these queries as Decimal pounds (the tables hold whole pence);
hours as Decimal (minutes ÷ 60, to 2 places, for people). Minutes stay exact.
``arrears`` answers exactly as the arrears command does (JSON-ready: exact
decimal text and ISO dates).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, select

from domain.activity.arrears import ArrearsLine, arrears_basis
from domain.checks import check_financial_year
from domain.errors import NotFound
from domain.money import ZERO, pounds_from_pence
from ledger.authorisation import Access, accountants_only, only_provider
from ledger.jsonable import json_ready
from ledger.projections.activity import (
    activity_imports,
    arrears_calculations,
    arrears_lines,
    arrears_providers,
    arrears_reviews,
    settled_visits,
    visits,
)
from ledger.queries.every_provider import grouped_totals

__all__ = ["arrears", "arrears_position", "imports", "totals", "visit"]

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
        for keys, found in grouped_totals(engine, agreement, by, own or provider, period)
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
            select(visits).where((visits.c.agreement == agreement) & (visits.c.visit_id == visit_id) & settled_visits())
        ).first()
    if row is None or only_provider(access) not in (None, row.provider):
        raise NotFound(f"visit {visit_id!r} is not recorded under {agreement}")
    found = dict(row._mapping)
    found["price"] = None if found["price_pence"] is None else pounds_from_pence(found["price_pence"])
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


def arrears_position(engine: Engine, access: Access, financial_year: str, calculation: int) -> int:
    """The event position that recorded a calculation of a review's arrears: what a statement citing it was built
    from. Any reader of the arrears may know it (a provider's lines came from the same event)."""
    year = check_financial_year(financial_year)
    c = arrears_calculations.c
    with engine.connect() as conn:
        position = conn.execute(
            select(c.position).where(
                (c.agreement == access.agreement) & (c.financial_year == year) & (c.calculation == calculation)
            )
        ).scalar()
    if position is None:
        raise NotFound(f"calculation {calculation} of the arrears of the {year} review of {access.agreement!r} "
                       "is not recorded")  # fmt: skip
    return int(position)


def _arrears_line(row: Any) -> dict[str, Any]:
    """A line of the read model as the domain's ``ArrearsLine`` gives it."""
    return ArrearsLine.from_row({name: getattr(row, name) for name in ArrearsLine.__dataclass_fields__}).as_row()
