"""Read-side queries for agreements, rate cards and rate reviews (pages, the API and the CLI).

Lists and searches read the read models (``ledger/projections/agreements.py``
and ``rates.py``). ``agreement_sheet`` is the one place that composes "the
agreement as at a date" for people: the agreement's own ``as_at`` (the
domain's date rules), its pooled budget for that year and the rates in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, or_, select

from domain.agreements.terms import AgreementView
from domain.errors import NotFound
from domain.periods import financial_year_of
from ledger.projections.agreements import (
    agreement_awards,
    agreement_commissioners,
    agreement_contributions,
    agreement_districts,
    agreement_kpis,
    agreement_settings,
    agreement_zones,
    agreements,
)
from ledger.queries.rates import rates_in_force

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook


def _rows(engine: Engine, query: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


# -- agreements ------------------------------------------------------------------------------


def list_agreements(engine: Engine) -> list[dict[str, Any]]:
    """Every agreement with its commissioners and how many zones and providers it has."""
    found = _rows(engine, select(agreements).order_by(agreements.c.code))
    commissioners = _rows(engine, select(agreement_commissioners).order_by(agreement_commissioners.c.position))
    zones = _rows(engine, select(agreement_zones.c.agreement, agreement_zones.c.zone))
    awards = _rows(engine, select(agreement_awards.c.agreement, agreement_awards.c.provider))
    for row in found:
        code = row["code"]
        row["commissioners"] = [c["commissioner"] for c in commissioners if c["agreement"] == code]
        row["zones"] = sum(1 for z in zones if z["agreement"] == code)
        row["providers"] = len({a["provider"] for a in awards if a["agreement"] == code})
    return found


def get_agreement(engine: Engine, code: str) -> dict[str, Any]:
    found = _rows(engine, select(agreements).where(agreements.c.code == code))
    if not found:
        raise NotFound(f"agreement {code!r} is not registered")
    return found[0]


def contributions(engine: Engine, agreement: str, financial_year: str | None = None) -> list[dict[str, Any]]:
    c = agreement_contributions.c
    query = select(agreement_contributions).where(c.agreement == agreement).order_by(c.financial_year, c.position)
    if financial_year:
        query = query.where(c.financial_year == financial_year)
    return _rows(engine, query)


def zones(engine: Engine, agreement: str, on: date | None = None) -> list[dict[str, Any]]:
    """Zones and lots (in force on ``on``, if given), districts and covered zones as lists."""
    c = agreement_zones.c
    query = select(agreement_zones).where(c.agreement == agreement).order_by(c.position)
    if on is not None:
        query = query.where(c.from_date <= on)
    return [
        {**row, "districts": row["districts"].split(), "covers": row["covers"].split()} for row in _rows(engine, query)
    ]


def awards(
    engine: Engine, agreement: str, on: date | None = None, zone: str | None = None, provider: str | None = None
) -> list[dict[str, Any]]:
    """Awards (in force on ``on``, if given: from its first day to its last, inclusive)."""
    c = agreement_awards.c
    query = select(agreement_awards).where(c.agreement == agreement).order_by(c.zone, c.tier, c.from_date, c.provider)
    if on is not None:
        query = query.where((c.from_date <= on) & (or_(c.to_date.is_(None), c.to_date >= on)))
    if zone:
        query = query.where(c.zone == zone)
    if provider:
        query = query.where(c.provider == provider)
    return _rows(engine, query)


def kpis_on(engine: Engine, agreement: str, on: date) -> list[dict[str, Any]]:
    """Each KPI as defined on ``on``: its latest revision effective by then (a later-recorded one wins a tie)."""
    c = agreement_kpis.c
    rows = _rows(
        engine,
        select(agreement_kpis).where((c.agreement == agreement) & (c.effective_from <= on)).order_by(c.position),
    )
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["kpi"] not in latest or row["effective_from"] >= latest[row["kpi"]]["effective_from"]:
            latest[row["kpi"]] = row
    return sorted(latest.values(), key=lambda r: r["position"])


def settings_on(engine: Engine, agreement: str, on: date) -> dict[str, str]:
    """The payment basis, living-wage commitment and profit cap in force on ``on`` (missing: never set)."""
    c = agreement_settings.c
    rows = _rows(
        engine,
        select(agreement_settings)
        .where((c.agreement == agreement) & (c.effective_from <= on))
        .order_by(c.effective_from, c.position),
    )
    return {row["setting"]: row["value"] for row in rows}


def agreements_with_district(engine: Engine, district: str, on: date | None = None) -> list[dict[str, Any]]:
    """Which agreements have a zone drawn over a postcode district (to find the agreement of a postcode)."""
    c = agreement_districts.c
    query = select(agreement_districts).where(c.district == district).order_by(c.agreement)
    if on is not None:
        query = query.where(c.from_date <= on)
    return _rows(engine, query)
# -- the agreement as at a date, for people -----------------------------------------------------


@dataclass(frozen=True)
class AgreementSheet:
    """What applied under an agreement on one date: its terms, the pooled budget and the rates."""

    agreement: AgreementView
    financial_year: str
    contributions: dict[str, Decimal]
    pooled_budget: Decimal
    primary_providers: dict[str, str]
    rates: list[dict[str, Any]]


def agreement_sheet(ledger: Openbook, code: str, on: date) -> AgreementSheet:
    """The agreement as at ``on`` (the aggregate's ``as_at``), its budget that year, and the rates in force."""
    agreement = ledger.records.agreement(code)
    view = agreement.as_at(on)
    year = str(financial_year_of(on))
    primaries = {a.zone: a.provider for a in view.awards if a.tier == "primary"}
    return AgreementSheet(
        agreement=view,
        financial_year=year,
        contributions=agreement.contributions(year),
        pooled_budget=agreement.pooled_budget(year),
        primary_providers=primaries,
        rates=rates_in_force(ledger.read_engine, code, on),
    )
