"""Queries over the rate read models: rates in force on a date, every rate published, rate reviews.

Pricing a visit is not a query: it is the one pricing path (``RateUseCases.rate_for``
and ``price_visit``). These are what people are shown.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, select

from domain.checks import check_financial_year
from domain.errors import NotFound
from domain.periods import FinancialYear
from ledger.projections.rates import (
    rate_entries,
    rate_review_comments,
    rate_review_proposals,
    rate_review_rates,
    rate_review_uplift_lines,
    rate_reviews,
)


def _rows(engine: Engine, query: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return _fetch(conn, query)


def _fetch(conn: Connection, query: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(query)]


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


def in_force_on(rate: dict[str, Any], day: date) -> bool:
    """Whether a ``rate_entries`` row is the rate of its key on ``day``.

    Effective by then, not corrected by a later row for the same date, not a
    withdrawal, and not superseded by a later date's row: what
    ``RateCard.rate_for`` finds for the key (the projection dates each row so).
    """
    superseded = rate["superseded_from"]
    return (
        rate["effective_from"] <= day
        and not rate["corrected"]
        and not rate["withdrawn"]
        and (superseded is None or superseded > day)
    )


def rates_in_force(engine: Engine, agreement: str, on: date) -> list[dict[str, Any]]:
    """The rates that apply on ``on`` (``in_force_on``)."""
    return [rate for rate in rate_history(engine, agreement) if in_force_on(rate, on)]


def list_rate_reviews(engine: Engine, agreement: str | None = None) -> list[dict[str, Any]]:
    c = rate_reviews.c
    query = select(rate_reviews).order_by(c.agreement, c.financial_year)
    if agreement:
        query = query.where(c.agreement == agreement)
    return _rows(engine, query)


def _rate(row: dict[str, Any]) -> dict[str, Any]:
    return {"service": row["service"], "zone": row["zone"], "band": row["band"], "hourly_rate": row["hourly_rate"]}


def rate_review(engine: Engine, agreement: str, financial_year: FinancialYear | str) -> dict[str, Any]:
    """One review as people read it: proposals with their rates and arithmetic, comments, the decision.

    Decimals and dates stay as they are (``json_ready`` turns them to text for
    ``--json``). A review never opened is NotFound, as on the write side.
    """
    year = check_financial_year(financial_year)

    with engine.connect() as conn:

        def of_review(table: Any) -> list[dict[str, Any]]:
            """The review's rows of ``table`` in recording order (and each event's lines in the order stated)."""
            order = [table.c.position] + ([table.c.line] if "line" in table.c else [])
            where = (table.c.agreement == agreement) & (table.c.financial_year == year)
            return _fetch(conn, select(table).where(where).order_by(*order))

        found = of_review(rate_reviews)
        if not found:
            raise NotFound(f"the {year} rate review of {agreement!r} has not been opened")
        proposals, rates = of_review(rate_review_proposals), of_review(rate_review_rates)
        lines, comments = of_review(rate_review_uplift_lines), of_review(rate_review_comments)
    review = found[0]
    decision = None
    if review["outcome"] is not None:
        decision = {
            "outcome": review["outcome"],
            "reasons": review["reasons"],
            "decided_by": review["decided_by"],
            "decided_on": review["decided_on"],
            "effective_from": review["effective_from"],
            "backdated": review["backdated"],
            "rates": [_rate(r) for r in rates if r["decided"]],
        }
    return {
        "agreement": review["agreement"],
        "financial_year": review["financial_year"],
        "reason": review["reason"],
        "status": review["status"],
        "proposals": [
            {
                "proposed_on": p["proposed_on"],
                "proposed_by": p["proposed_by"],
                "basis": p["basis"],
                "rates": [_rate(r) for r in rates if not r["decided"] and r["position"] == p["position"]],
                "lines": [
                    {"label": ln["label"], "formula": ln["formula"], "amount": ln["amount"]}
                    for ln in lines
                    if ln["position"] == p["position"]
                ],
            }
            for p in proposals
        ],
        "comments": [
            {
                "provider": c["provider"],
                "comment": c["comment"],
                "on": c["commented_on"],
                "recorded_by": c["recorded_by"],
            }
            for c in comments
        ],
        "decision": decision,
    }
