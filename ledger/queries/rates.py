"""Queries over the rate read models: rates in force on a date, every rate published, rate reviews.

Pricing a visit is not a query: it is the one pricing path (``RateUseCases.rate_for``
and ``price_visit``). These are what people are shown.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine, select

from domain.checks import check_financial_year
from domain.dated import in_force
from domain.errors import NotFound
from domain.periods import FinancialYear
from domain.rates.pricing import blend_rows
from ledger.projections.rates import (
    rate_entries,
    rate_review_comments,
    rate_review_proposals,
    rate_review_rates,
    rate_review_uplift_lines,
    rate_reviews,
)
from ledger.queries.rows import fetch_rows, read_rows

# -- rate cards -------------------------------------------------------------------------------


def _with_band_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        if isinstance(row["blend"], str):  # the read model's "0.7@12.80 0.3@15.80": a list, or None for a plain rate
            row["blend"] = blend_rows(part.split("@") for part in row["blend"].split()) or None
    return sorted(rows, key=lambda r: (r["service"], r["zone"], r["band"] or "", r["effective_from"], r["position"]))


def _by_key(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str | None], list[dict[str, Any]]]:
    """Rows per (service, zone, band), each key's rows in the order recorded."""
    keyed: dict[tuple[str, str, str | None], list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: r["position"]):
        keyed.setdefault((row["service"], row["zone"], row["band"]), []).append(row)
    return keyed


def rate_on(history: list[dict[str, Any]], day: date) -> dict[str, Any] | None:
    """The row of one key's ``history`` (in recording order) in force on ``day``: none, or a withdrawal, is None.

    The card's own rule (``domain.dated.in_force``), as ``RateCard.rate_for`` applies it.
    """
    found, row = in_force([(r["effective_from"], r) for r in history], day)
    return row if found and not row["withdrawn"] else None


def rate_history(
    engine: Engine, agreement: str, service: str | None = None, zone: str | None = None
) -> list[dict[str, Any]]:
    """Every rate and withdrawal published for the agreement, corrections included, each with what became of it.

    ``corrected``: a later row for the same date replaced it, so it never
    applied; ``superseded_from``: the next date the key has a row, until which
    it applied (None: it still does, or it was corrected).
    """
    c = rate_entries.c
    query = select(rate_entries).where(c.agreement == agreement)
    if service:
        query = query.where(c.service == service)
    if zone:
        query = query.where(c.zone == zone)
    rows = read_rows(engine, query)
    for history in _by_key(rows).values():
        dated = [(r["effective_from"], r) for r in history]
        dates = sorted({r["effective_from"] for r in history})
        for row in history:
            row["corrected"] = in_force(dated, row["effective_from"])[1] is not row
            later = [d for d in dates if d > row["effective_from"]]
            row["superseded_from"] = None if row["corrected"] or not later else later[0]
    return _with_band_order(rows)


def rates_in_force(engine: Engine, agreement: str, on: date) -> list[dict[str, Any]]:
    """The rates that apply on ``on``: per key, the row ``rate_on`` gives."""
    found = (rate_on(history, on) for history in _by_key(rate_history(engine, agreement)).values())
    return _with_band_order([row for row in found if row is not None])


def list_rate_reviews(engine: Engine, agreement: str | None = None) -> list[dict[str, Any]]:
    c = rate_reviews.c
    query = select(rate_reviews).order_by(c.agreement, c.financial_year)
    if agreement:
        query = query.where(c.agreement == agreement)
    return read_rows(engine, query)


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
            return fetch_rows(conn, select(table).where(where).order_by(*order))

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
