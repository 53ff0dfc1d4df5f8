"""Queries over the rate read models: rates in force on a date, every rate published, rate reviews.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine, and_, or_, select

from ledger.projections.rates import rate_entries, rate_reviews


def _rows(engine: Engine, query: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


# -- agreements ------------------------------------------------------------------------------
# -- rate cards -------------------------------------------------------------------------------


def _with_band_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["service"], r["zone"], r["band"] or "", r["effective_from"], r["position"]))


def rate_history(
    engine: Engine, agreement: str, service: str | None = None, zone: str | None = None
) -> list[dict[str, Any]]:
    """Every rate and withdrawal published for the agreement, corrections included."""
    c = rate_entries.c
    query = select(rate_entries).where(c.agreement == agreement)
    if service:
        query = query.where(c.service == service)
    if zone:
        query = query.where(c.zone == zone)
    return _with_band_order(_rows(engine, query))


def rates_in_force(engine: Engine, agreement: str, on: date) -> list[dict[str, Any]]:
    """The rates that apply on ``on``: effective by then, not corrected, withdrawn or superseded."""
    c = rate_entries.c
    query = select(rate_entries).where(
        and_(
            c.agreement == agreement,
            c.effective_from <= on,
            c.corrected.is_(False),
            c.withdrawn.is_(False),
            or_(c.superseded_from.is_(None), c.superseded_from > on),
        )
    )
    return _with_band_order(_rows(engine, query))


def list_rate_reviews(engine: Engine, agreement: str | None = None) -> list[dict[str, Any]]:
    c = rate_reviews.c
    query = select(rate_reviews).order_by(c.agreement, c.financial_year)
    if agreement:
        query = query.where(c.agreement == agreement)
    return _rows(engine, query)
