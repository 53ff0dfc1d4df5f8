"""Read-side queries for agreements: lists, the agreement as at a date, its history, postcode lookup.

Every answer comes from the read models (``ledger/projections/agreements.py``,
and ``rates.py`` for the rates in force); nothing here loads an aggregate.
Where a question has a date rule (what was in force on D, which revision wins
a tie, how far the term ran as at D) the query builds the domain's value
objects from rows and asks the domain's own functions
(``domain/agreements/terms.py``), the ones the ``Agreement`` aggregate uses:
``agreement_terms`` is the aggregate's ``terms()`` read back from rows.
``agreement_sheet`` composes "the agreement as at a date" for people: the
terms that applied, the pooled budget that year and the rates in force.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, or_, select

from domain.aggregate import Change
from domain.agreements.postcodes import postcode_district
from domain.agreements.terms import (
    AgreementKind,
    AgreementTerms,
    AgreementView,
    Award,
    AwardTier,
    Kpi,
    KpiDirection,
    KpiUnit,
    PostcodeLookup,
    ServiceType,
    Zone,
)
from domain.agreements.terms import locate_postcode as locate_in_zones
from domain.dated import in_force
from domain.errors import NotFound
from domain.periods import financial_year_of
from ledger.projections.agreements import (
    agreement_auditors,
    agreement_awards,
    agreement_changes,
    agreement_commissioners,
    agreement_contributions,
    agreement_districts,
    agreement_extensions,
    agreement_kpis,
    agreement_services,
    agreement_settings,
    agreement_zones,
    agreements,
    setting_value,
)
from ledger.queries.rates import rates_in_force
from ledger.queries.rows import fetch_rows, read_rows

# -- agreements ------------------------------------------------------------------------------


def list_agreements(engine: Engine) -> list[dict[str, Any]]:
    """Every agreement with its commissioners and how many zones and providers it has."""
    found = read_rows(engine, select(agreements).order_by(agreements.c.code))
    commissioners = read_rows(engine, select(agreement_commissioners).order_by(agreement_commissioners.c.position))
    zones = read_rows(engine, select(agreement_zones.c.agreement, agreement_zones.c.zone))
    awards = read_rows(engine, select(agreement_awards.c.agreement, agreement_awards.c.provider))
    for row in found:
        code = row["code"]
        row["commissioners"] = [c["commissioner"] for c in commissioners if c["agreement"] == code]
        row["zones"] = sum(1 for z in zones if z["agreement"] == code)
        row["providers"] = len({a["provider"] for a in awards if a["agreement"] == code})
    return found


def commissioners_of(engine: Engine, code: str) -> list[str]:
    """The agreement's commissioners' codes in the order they joined it (the first, the lead, first)."""
    c = agreement_commissioners.c
    query = select(c.commissioner).where(c.agreement == code).order_by(c.position)
    return [row["commissioner"] for row in read_rows(engine, query)]


def get_agreement(engine: Engine, code: str) -> dict[str, Any]:
    with engine.connect() as conn:
        return _agreement_row(conn, code)


def _agreement_row(conn: Connection, code: str) -> dict[str, Any]:
    """The agreement's row, or NotFound in the words the write side uses."""
    found = fetch_rows(conn, select(agreements).where(agreements.c.code == code))
    if not found:
        raise NotFound(f"agreement {code!r} is not registered")
    return found[0]


def contributions(engine: Engine, agreement: str, financial_year: str | None = None) -> list[dict[str, Any]]:
    c = agreement_contributions.c
    query = select(agreement_contributions).where(c.agreement == agreement).order_by(c.financial_year, c.position)
    if financial_year:
        query = query.where(c.financial_year == financial_year)
    return read_rows(engine, query)


def zones(engine: Engine, agreement: str, on: date | None = None) -> list[dict[str, Any]]:
    """Zones and lots (in force on ``on``, if given), districts and covered zones as lists."""
    c = agreement_zones.c
    query = select(agreement_zones).where(c.agreement == agreement).order_by(c.position)
    if on is not None:
        query = query.where(c.from_date <= on)
    return [
        {**row, "districts": row["districts"].split(), "covers": row["covers"].split()} for row in read_rows(engine, query)
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
    return read_rows(engine, query)


def auditors(engine: Engine, agreement: str) -> list[dict[str, Any]]:
    """Every appointment of an audit body to audit the agreement, in the order made (``to_date`` None while it lasts)."""
    c = agreement_auditors.c
    return read_rows(engine, select(agreement_auditors).where(c.agreement == agreement).order_by(c.position))


def _histories(rows: list[dict[str, Any]], key: str, value: Callable[[dict[str, Any]], Any]) -> dict[str, list]:
    """Rows (in recording order) as one dated history per ``key``: [(effective from, value), ...]."""
    histories: dict[str, list[tuple[date, Any]]] = {}
    for row in rows:
        histories.setdefault(row[key], []).append((row["effective_from"], value(row)))
    return histories


def kpis_on(engine: Engine, agreement: str, on: date) -> list[dict[str, Any]]:
    """Each KPI as defined on ``on``: its latest revision effective by then (``in_force``: the later wins a tie).

    In the order the agreement first defined them, as ``Agreement.kpis_on`` gives them.
    """
    c = agreement_kpis.c
    rows = read_rows(engine, select(agreement_kpis).where(c.agreement == agreement).order_by(c.position))
    found = [in_force(history, on) for history in _histories(rows, "kpi", lambda row: row).values()]
    return [row for ok, row in found if ok]


def settings_on(engine: Engine, agreement: str, on: date) -> dict[str, Any]:
    """The payment basis, living-wage commitment and profit cap in force on ``on`` (missing: never set).

    Values as the aggregate holds them (``setting_value``): a ``PaymentBasis``,
    the Real Living Wage adoptions (empty: the default dates; None: withdrawn),
    the maximum profit margin (None: no cap).
    """
    c = agreement_settings.c
    rows = read_rows(engine, select(agreement_settings).where(c.agreement == agreement).order_by(c.position))
    histories = _histories(rows, "setting", lambda row: setting_value(row["setting"], row["value"]))
    found = {setting: in_force(history, on) for setting, history in histories.items()}
    return {setting: value for setting, (ok, value) in found.items() if ok}


def agreements_with_district(engine: Engine, district: str, on: date | None = None) -> list[dict[str, Any]]:
    """Which agreements have a zone drawn over a postcode district (to find the agreement of a postcode)."""
    c = agreement_districts.c
    query = select(agreement_districts).where(c.district == district).order_by(c.agreement)
    if on is not None:
        query = query.where(c.from_date <= on)
    return read_rows(engine, query)


# -- the agreement's terms, as at a date, and its history ------------------------------------------


def _zone(row: dict[str, Any]) -> Zone:
    districts, covers = tuple(row["districts"].split()), tuple(row["covers"].split())
    return Zone(row["zone"], row["name"], districts, row["from_date"], covers)


def _award(row: dict[str, Any]) -> Award:
    return Award(row["provider"], row["zone"], AwardTier(row["tier"]), row["from_date"], row["to_date"])


def _kpi(row: dict[str, Any]) -> Kpi:
    return Kpi(
        row["kpi"], row["name"], row["measure"], row["target"], KpiDirection(row["direction"]), KpiUnit(row["unit"])
    )


def agreement_terms(engine: Engine, code: str) -> AgreementTerms:
    """Every fact the agreement recorded, with its dates, in the aggregate's order: its ``terms()`` from rows."""
    with engine.connect() as conn:
        row = _agreement_row(conn, code)

        def rows_of(table: Any, order: Any) -> list[dict[str, Any]]:
            return fetch_rows(conn, select(table).where(table.c.agreement == code).order_by(order))

        extensions = rows_of(agreement_extensions, agreement_extensions.c.position)
        commissioners = rows_of(agreement_commissioners, agreement_commissioners.c.position)
        contributions = rows_of(agreement_contributions, agreement_contributions.c.first_position)
        zones = rows_of(agreement_zones, agreement_zones.c.position)
        services = rows_of(agreement_services, agreement_services.c.position)
        awards = rows_of(agreement_awards, agreement_awards.c.awarded_position)
        kpis = rows_of(agreement_kpis, agreement_kpis.c.position)
        settings = rows_of(agreement_settings, agreement_settings.c.position)
    dated = _histories(settings, "setting", lambda r: setting_value(r["setting"], r["value"]))
    return AgreementTerms(
        code=row["code"],
        name=row["name"],
        kind=AgreementKind(row["kind"]),
        term_start=row["term_start"],
        original_term_end=row["original_term_end"],
        extensions=tuple((r["effective_from"], r["new_end"]) for r in extensions),
        commissioners=tuple((r["commissioner"], r["from_date"]) for r in commissioners),
        contributions=tuple((r["commissioner"], r["financial_year"], r["amount"]) for r in contributions),
        zones=tuple(_zone(r) for r in zones),
        services=tuple((ServiceType(r["service"]), r["from_date"]) for r in services),
        awards=tuple(_award(r) for r in awards),
        kpis=tuple((r["effective_from"], _kpi(r)) for r in kpis),
        payment_bases=tuple(dated.get("payment-basis", ())),
        living_wage=tuple(dated.get("living-wage", ())),
        profit_caps=tuple(dated.get("profit-cap", ())),
    )


def agreement_as_at(engine: Engine, code: str, on: date) -> AgreementView:
    """What the agreement said applied on ``on`` (as the ledger knows it now): the domain's ``as_at`` over rows."""
    return agreement_terms(engine, code).as_at(on)


def agreement_history(engine: Engine, code: str) -> list[Change]:
    """Every change with its effective date, reason and who recorded it, in recording order."""
    c = agreement_changes.c
    with engine.connect() as conn:
        _agreement_row(conn, code)
        rows = fetch_rows(conn, select(agreement_changes).where(c.agreement == code).order_by(c.position))
    return [Change(r["effective_date"], r["what"], r["reason"], r["recorded_by"]) for r in rows]


def locate_postcode(engine: Engine, agreement: str, postcode: str, on: date) -> PostcodeLookup:
    """A postcode's district, zone, primary provider and awards in force on ``on``, and the lots covering it.

    An unknown district is refused with a message naming the district (never
    the postcode). The rows read are the zones drawn over the district, the
    lots, and the awards in those zones; the domain's ``locate_postcode``
    applies the date rules to them.
    """
    d, z, a = agreement_districts.c, agreement_zones.c, agreement_awards.c
    with engine.connect() as conn:
        found = _agreement_row(conn, agreement)
        district = postcode_district(postcode)
        drawn_over = select(d.zone).where((d.agreement == agreement) & (d.district == district))
        places = list(conn.execute(drawn_over).scalars())
        zones = fetch_rows(
            conn,
            select(agreement_zones)
            .where((z.agreement == agreement) & (z.zone.in_(places) | (z.kind == "lot")))
            .order_by(z.position),
        )
        awards = fetch_rows(
            conn,
            select(agreement_awards)
            .where((a.agreement == agreement) & a.zone.in_(places))
            .order_by(a.awarded_position),
        )
    return locate_in_zones(found["code"], [_zone(r) for r in zones], [_award(r) for r in awards], postcode, on)


# -- the agreement as at a date, for people -----------------------------------------------------


@dataclass(frozen=True)
class AgreementSheet:
    """What applied under an agreement on one date: its terms, the pooled budget and the rates."""

    agreement: AgreementView
    financial_year: str
    contributions: dict[str, Decimal]
    pooled_budget: Decimal | None  # None: no commissioner contributes that year, so there is no pooled budget
    primary_providers: dict[str, str]
    rates: list[dict[str, Any]]


def agreement_sheet(engine: Engine, code: str, on: date) -> AgreementSheet:
    """The agreement as at ``on`` (the domain's ``as_at`` over rows), its budget that year, and the rates in force."""
    terms = agreement_terms(engine, code)
    view = terms.as_at(on)
    year = str(financial_year_of(on))
    primaries = {a.zone: a.provider for a in view.awards if a.tier == "primary"}
    contributions = terms.contributions_in(year)
    return AgreementSheet(
        agreement=view,
        financial_year=year,
        contributions=contributions,
        pooled_budget=terms.pooled_budget(year) if contributions else None,
        primary_providers=primaries,
        rates=rates_in_force(engine, code, on),
    )
