"""The terms an agreement is made of: service types, zones and lots, awards, KPIs, and the agreement as at a date.

Frozen value objects and the names the events store (service types, tiers,
payment bases, KPI directions): read-only views that the ``Agreement``
aggregate (``domain/agreements/agreement.py``) hands out, and that queries
build from the read models.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from domain.checks import (
    check_choice,
)

__all__ = [
    "AgreementKind",
    "AgreementView",
    "Award",
    "awards_during",
    "AwardTier",
    "CommissionerKind",
    "Kpi",
    "KpiDirection",
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


