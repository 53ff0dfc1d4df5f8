"""The terms an agreement is made of: service types, zones and lots, awards, KPIs, and the agreement as at a date.

Frozen value objects and the names the events store (service types, tiers,
payment bases, KPI directions): read-only views that the ``Agreement``
aggregate (``domain/agreements/agreement.py``) hands out, and that queries
build from the read models.

The rules "what applied on date D" live here once, as functions over dated
facts: ``AgreementTerms`` holds every fact an agreement recorded with the first
day it applies, and its ``as_at`` is the agreement as it stood on D. The
aggregate answers through these functions with the facts its events gave it;
the queries (``ledger/queries/agreements.py``) with the same facts read back
from the read-model rows. So the two can only differ if the rows do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from domain.agreements.postcodes import postcode_district
from domain.bounds import MAX_COUNT
from domain.checks import check_choice, check_date, check_decimal, check_financial_year
from domain.dated import in_force
from domain.errors import InvalidInput, NotFound
from domain.money import total

__all__ = [
    "AgreementKind",
    "AgreementTerms",
    "AgreementView",
    "Award",
    "awards_during",
    "awards_on",
    "commissioners_on",
    "contributions_in",
    "kpis_on",
    "locate_postcode",
    "lots_covering",
    "pooled_budget",
    "PostcodeLookup",
    "primary_provider_on",
    "service_types_on",
    "term_end_as_at",
    "zone_for_postcode",
    "zones_on",
    "AwardTier",
    "CommissionerKind",
    "Kpi",
    "KpiDirection",
    "KpiUnit",
    "LivingWageAdoption",
    "PaymentBasis",
    "PostcodeLocation",
    "ServiceType",
    "Zone",
    "check_service",
]


class AgreementKind(StrEnum):
    FRAMEWORK = "framework"
    ALLIANCE = "alliance"


class ServiceType(StrEnum):
    STANDARD = "standard"
    COMPLEX = "complex"
    REABLEMENT = "reablement"
    SLEEP_IN = "sleep-in"
    LIVE_IN_24H = "live-in-24h"


class PaymentBasis(StrEnum):
    """Which minutes of a visit are paid: a setting of the agreement (default actual)."""

    ACTUAL = "actual"
    PLANNED = "planned"
    ACTUAL_CAPPED = "actual-capped"  # actual minutes, but never more than planned


class AwardTier(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    PERIPHERAL = "peripheral"


class KpiDirection(StrEnum):
    HIGHER_IS_BETTER = "higher-is-better"  # met when the result is at least the target
    LOWER_IS_BETTER = "lower-is-better"  # met when the result is at most the target


class KpiUnit(StrEnum):
    """What a KPI's figures are, and so which figures it can take (its targets and results alike)."""

    PERCENT = "percent"  # 0 to 100
    COUNT = "count"  # a whole number from 0 to MAX_COUNT
    RATE = "rate"  # a figure per some base (missed visits per 1,000 planned): 0 to MAX_COUNT
    NUMBER = "number"  # any figure from -MAX_COUNT to MAX_COUNT

    @classmethod
    def of_measure(cls, measure: str) -> KpiUnit:
        """The unit a measure's own words give: "% of ..." is a percent, "number of ..." a count,
        anything else a rate. KPIs defined before units were recorded take the unit this gives."""
        words = measure.strip().lower()
        if "%" in words or "percent" in words:
            return cls.PERCENT
        if words.startswith(("number of", "count of")):
            return cls.COUNT
        return cls.RATE

    def check(self, value: object, field: str) -> Decimal:
        """A figure in this unit; outside the unit's range it is refused, naming ``field`` and the range."""
        number = check_decimal(value, field)
        low, high = (0, 100) if self is KpiUnit.PERCENT else (-MAX_COUNT if self is KpiUnit.NUMBER else 0, MAX_COUNT)
        if not low <= number <= high:
            raise InvalidInput(f"{field}: {number} is outside {low} to {high}, the range of a {self.value} KPI")
        if self is KpiUnit.COUNT and number != number.to_integral_value():
            raise InvalidInput(f"{field}: {number} is not a whole number, as a count KPI's figures are")
        return number


class CommissionerKind(StrEnum):
    COUNCIL = "council"
    ICB = "icb"  # a CCG before July 2022


def check_service(service: object, field: str = "service") -> ServiceType:
    """A service type from its name, refusing unknown ones with the list of known ones."""
    return check_choice(ServiceType, service, field)


# -- read-only views -------------------------------------------------------------------


@dataclass(frozen=True)
class Zone:
    """A zone or lot, in force from a date.

    A zone is drawn by postcode districts. A lot that packages join by need
    rather than address (Herefordshire's complex-care 'D' lots, each covering
    some of the 'O' zones) has no districts of its own: ``covers`` names the
    zones it spans, so a postcode still finds exactly one zone.
    """

    code: str
    name: str
    districts: tuple[str, ...]
    from_date: date
    covers: tuple[str, ...] = ()

    @property
    def is_lot(self) -> bool:
        return bool(self.covers)


@dataclass(frozen=True)
class PostcodeLocation:
    """Where a postcode falls on a date: its district and zone (never the full postcode)."""

    district: str
    zone: str
    zone_name: str
    on: date


@dataclass(frozen=True)
class Award:
    """A provider's award in a zone, from ``from_date`` to ``to_date`` inclusive (None: open-ended)."""

    provider: str
    zone: str
    tier: AwardTier
    from_date: date
    to_date: date | None

    def in_force_on(self, on: date) -> bool:
        return self.from_date <= on and (self.to_date is None or on <= self.to_date)

    def overlaps(self, from_date: date, to_date: date | None) -> bool:
        return (self.to_date is None or from_date <= self.to_date) and (to_date is None or self.from_date <= to_date)


def awards_during(awards: Iterable[Award], first_day: date, last_day: date) -> tuple[Award, ...]:
    """The awards in force on at least one day from ``first_day`` to ``last_day`` (inclusive), in the order given.

    The one rule for "who held an award in this period" (a quarter's cost
    return, a year's KPI results, incentives and pool): the aggregate applies
    it to its awards, queries to the award rows of the read model.
    """
    return tuple(award for award in awards if award.overlaps(first_day, last_day))


@dataclass(frozen=True)
class Kpi:
    code: str
    name: str
    measure: str
    target: Decimal
    direction: KpiDirection
    unit: KpiUnit

    def is_met(self, result: Decimal) -> bool:
        if self.direction is KpiDirection.HIGHER_IS_BETTER:
            return result >= self.target
        return result <= self.target


@dataclass(frozen=True)
class LivingWageAdoption:
    """From ``adopted_from`` the agreement's providers pay at least ``hourly_rate``."""

    adopted_from: date
    hourly_rate: Decimal



@dataclass(frozen=True)
class AgreementView:
    """What the agreement said applied on one date."""

    code: str
    name: str
    kind: AgreementKind
    on: date
    term_start: date
    term_end: date
    in_term: bool
    commissioners: tuple[str, ...]
    zones: tuple[Zone, ...]
    service_types: tuple[ServiceType, ...]
    awards: tuple[Award, ...]
    kpis: tuple[Kpi, ...]
    payment_basis: PaymentBasis
    living_wage_commitment: tuple[LivingWageAdoption, ...] | None
    max_profit_margin: Decimal | None


@dataclass(frozen=True)
class PostcodeLookup:
    """Where a postcode falls under an agreement on a date, and who provides care there.

    Only the district is kept: the full postcode may be someone's home.
    ``primary_provider`` is None when no primary award is in force that day
    (e.g. after one ended and before the next began).
    """

    agreement: str
    district: str
    zone: str
    zone_name: str
    on: date
    primary_provider: str | None
    awards: tuple[Award, ...]
    lots: tuple[str, ...]


# -- the rules "as at date D", over dated facts --------------------------------------------



def term_end_as_at(original_end: date, extensions: Iterable[tuple[date, date]], on: date) -> date:
    """The end of the term as the agreement stood on ``on``: extensions count from their effective date."""
    return max([original_end, *(end for effective, end in extensions if effective <= on)])


def commissioners_on(commissioners: Iterable[tuple[str, date]], on: date) -> tuple[str, ...]:
    """The commissioners (code, joined from) that had joined by ``on``, in joining order."""
    return tuple(code for code, start in commissioners if start <= on)


def zones_on(zones: Iterable[Zone], on: date) -> tuple[Zone, ...]:
    """Zones and lots in force on ``on``, in the order given (the order they were added)."""
    return tuple(z for z in zones if z.from_date <= on)


def lots_covering(zones: Iterable[Zone], zone: str, on: date) -> tuple[Zone, ...]:
    """The lots in force on ``on`` that span ``zone``."""
    return tuple(z for z in zones_on(zones, on) if zone in z.covers)


def service_types_on(services: Iterable[tuple[ServiceType, date]], on: date) -> tuple[ServiceType, ...]:
    """The service types (service, from) the agreement had on ``on``, in the order added."""
    return tuple(service for service, start in services if start <= on)


def awards_on(awards: Iterable[Award], on: date) -> tuple[Award, ...]:
    """The awards in force on ``on`` (from their first day to their last, inclusive), in the order awarded."""
    return tuple(a for a in awards if a.in_force_on(on))


def primary_provider_on(awards: Iterable[Award], zone: str, on: date) -> str | None:
    """The provider holding the primary award of ``zone`` on ``on``, or None between primary awards."""
    for award in awards_on(awards, on):
        if award.zone == zone and award.tier is AwardTier.PRIMARY:
            return award.provider
    return None


def kpis_on(definitions: Iterable[tuple[date, Kpi]], on: date) -> tuple[Kpi, ...]:
    """Each KPI as defined on ``on``: its latest definition effective by then, in the order KPIs were first defined.

    ``definitions`` are (effective from, KPI) in recording order; defining a
    KPI again revises it from the new date (``in_force`` per KPI).
    """
    by_code: dict[str, list[tuple[date, Kpi]]] = {}
    for start, kpi in definitions:
        by_code.setdefault(kpi.code, []).append((start, kpi))
    found = [in_force(history, on) for history in by_code.values()]
    return tuple(kpi for ok, kpi in found if ok)


def contributions_in(contributions: Iterable[tuple[str, str, Decimal]], financial_year: str) -> dict[str, Decimal]:
    """Each commissioner's contribution (commissioner, year, amount) to the pool in a financial year."""
    return {commissioner: amount for commissioner, year, amount in contributions if year == financial_year}


def pooled_budget(contributions: dict[str, Decimal]) -> Decimal:
    """The pooled budget: the sum of a year's contributions (£0.00 when none is set)."""
    return total(contributions.values())


def zone_for_postcode(agreement: str, zones: Iterable[Zone], postcode: str, on: date) -> PostcodeLocation:
    """The district and zone of a postcode on a date; an unknown district is refused by name, never the postcode."""
    district = postcode_district(postcode)
    check_date(on, "on")
    for zone in zones_on(zones, on):
        if district in zone.districts:
            return PostcodeLocation(district, zone.code, zone.name, on)
    raise NotFound(f"postcode district {district} is not in any zone of {agreement} on {on.isoformat()}")


def locate_postcode(
    agreement: str, zones: Iterable[Zone], awards: Iterable[Award], postcode: str, on: date
) -> PostcodeLookup:
    """A postcode's district, zone, primary provider (None between awards), awards there and lots covering it.

    ``zones`` and ``awards`` may be all the agreement's or only those that can
    matter (the zones holding the district, the lots, the awards in the zone):
    the answer is the same.
    """
    zones, awards = tuple(zones), tuple(awards)
    location = zone_for_postcode(agreement, zones, postcode, on)
    return PostcodeLookup(
        agreement=agreement,
        district=location.district,
        zone=location.zone,
        zone_name=location.zone_name,
        on=on,
        primary_provider=primary_provider_on(awards, location.zone, on),
        awards=tuple(a for a in awards_on(awards, on) if a.zone == location.zone),
        lots=tuple(lot.code for lot in lots_covering(zones, location.zone, on)),
    )


@dataclass(frozen=True)
class AgreementTerms:
    """Every fact an agreement recorded, each with the first day it applies: what "as at D" is read from.

    Sequences are in recording order (the aggregate's order), so ties and
    revisions read the same wherever the facts come from.
    """

    code: str
    name: str
    kind: AgreementKind
    term_start: date
    original_term_end: date
    extensions: tuple[tuple[date, date], ...]  # (effective from, new end)
    commissioners: tuple[tuple[str, date], ...]  # (commissioner, joined from), in joining order
    contributions: tuple[tuple[str, str, Decimal], ...]  # (commissioner, year, amount), in the order first set
    zones: tuple[Zone, ...]  # zones and lots, in the order added
    services: tuple[tuple[ServiceType, date], ...]  # (service type, from), in the order added
    awards: tuple[Award, ...]  # in the order awarded; an ended award with its last day
    kpis: tuple[tuple[date, Kpi], ...]  # every definition: (effective from, KPI)
    payment_bases: tuple[tuple[date, PaymentBasis], ...]  # the registration's first, from the term start
    living_wage: tuple[tuple[date, tuple[LivingWageAdoption, ...] | None], ...]  # None: not committed
    profit_caps: tuple[tuple[date, Decimal | None], ...]  # None: no cap

    def contributions_in(self, financial_year: str) -> dict[str, Decimal]:
        return contributions_in(self.contributions, check_financial_year(financial_year))

    def pooled_budget(self, financial_year: str) -> Decimal:
        return pooled_budget(self.contributions_in(financial_year))

    def as_at(self, on: date) -> AgreementView:
        """The agreement as it stood on ``on``: what applied that day."""
        check_date(on, "on")
        end = term_end_as_at(self.original_term_end, self.extensions, on)
        found, basis = in_force(self.payment_bases, on)
        return AgreementView(
            code=self.code,
            name=self.name,
            kind=self.kind,
            on=on,
            term_start=self.term_start,
            term_end=end,
            in_term=self.term_start <= on <= end,
            commissioners=commissioners_on(self.commissioners, on),
            zones=zones_on(self.zones, on),
            service_types=service_types_on(self.services, on),
            awards=awards_on(self.awards, on),
            kpis=kpis_on(self.kpis, on),
            payment_basis=basis if found else self.payment_bases[0][1],
            living_wage_commitment=in_force(self.living_wage, on)[1],
            max_profit_margin=in_force(self.profit_caps, on)[1],
        )
