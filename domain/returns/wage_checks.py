"""Wage checks: the lowest hourly pay on a return against the wage floors in force during its period.

Pay below the statutory floor (the National Living Wage, before April 2016
the National Minimum Wage's adult rate) is a *breach to explain* (younger
workers may lawfully be paid less), not a rejection; pay below the Real
Living Wage under an agreement committed to it is flagged. A finding names
the floor and age band it used, and a period with days before any known
floor gets a finding saying so: silence would read as "checked, and fine".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from domain.errors import InvalidInput, NotFound
from domain.money import format_gbp
from domain.periods import days_between
from domain.returns.filing import CostReturnFiling, Volume
from domain.returns.statutory_wages import REAL_LIVING_WAGE_BAND, StatutoryFloor, statutory_floor_on

#: "the statutory floor on date D" (None: none known): ``WageFloorTable.statutory_floor_on`` or the built-in rule.
StatutoryFloorOn = Callable[[date], StatutoryFloor | None]

__all__ = [
    "EXPLANATION_NEEDED",
    "FindingKind",
    "StatutoryFloorOn",
    "WageFinding",
    "check_lowest_pay",
    "check_wages",
]

#: How a finding that needs an explanation ends its message (wage floors and plausibility alike): what is still to
#: do. Once the explanation is recorded it no longer applies, so a statement shows the explanation in its place.
EXPLANATION_NEEDED = "; an accountant must record an explanation before the return can be accepted"


class FindingKind(StrEnum):
    NLW_BREACH = "nlw-breach"  # below the statutory floor: blocks acceptance until an accountant explains it
    RLW_FLAG = "rlw-flag"  # shown on the return; blocks nothing
    NO_FLOOR_KNOWN = "no-wage-floor"  # days of the period before any known floor; blocks nothing
    # plausibility of the filed figures (domain/returns/plausibility.py)
    PAY_BELOW_LOWEST = "pay-below-lowest"
    CONTACT_HOURS = "contact-hours"
    TRAVEL_MINUTES = "travel-minutes"
    SURPLUS_MARGIN = "surplus-margin"


@dataclass(frozen=True)
class WageFinding:
    kind: FindingKind
    field: str
    pay: Decimal
    floor: Decimal
    floor_from: date  # the first day of the period on which that floor applied
    message: str
    floor_name: str = ""  # "National Living Wage"
    band: str = ""  # "25 and over": the age band that floor applied to

    @property
    def needs_explanation(self) -> bool:
        return self.kind is FindingKind.NLW_BREACH


def _highest_floor(floor_on: Callable[[date], Decimal | None], start: date, end: date) -> tuple[Decimal, date] | None:
    """The highest floor in force on any day of the period, and the first day it applied."""
    best: tuple[Decimal, date] | None = None
    for day in days_between(start, end):
        try:
            floor = floor_on(day)
        except NotFound:
            continue
        if floor is not None and (best is None or floor > best[0]):
            best = (floor, day)
    return best


def _highest_statutory(
    floor_on: StatutoryFloorOn, start: date, end: date
) -> tuple[StatutoryFloor | None, date, list[date]]:
    """The highest statutory floor on any day of the period, the first day it applied, and the days with none."""
    best: StatutoryFloor | None = None
    since = start
    unknown: list[date] = []
    for day in days_between(start, end):
        floor = floor_on(day)
        if floor is None:
            unknown.append(day)
        elif best is None or floor.hourly_rate > best.hourly_rate:
            best, since = floor, day
    return best, since, unknown


def check_wages(
    filing: CostReturnFiling,
    period_start: date,
    period_end: date,
    real_living_wage_commitment: Decimal | Callable[[date], Decimal | None] | None = None,
    statutory_floor: StatutoryFloorOn | None = None,
) -> tuple[WageFinding, ...]:
    """Wage findings for a filing over a period (both dates inclusive).

    * Lowest hourly pay below the statutory floor in force on any day of
      the period is a breach that needs an accountant's explanation before
      acceptance (younger workers may lawfully be paid less). Days before
      any known floor give a "no wage floor known" finding.
    * Below a Real Living Wage commitment it is a flag. Give the commitment as
      the hourly rate for the whole period, or as "rate on date" (e.g. an
      agreement's ``real_living_wage_on``, None where not committed).

    ``statutory_floor`` is "floor on date" when the ledger's reference data
    extends the built-in tables (``WageFloorTable.statutory_floor_on``); by
    default the built-in ``statutory_floor_on``.
    """
    return check_lowest_pay(
        filing.volumes.lowest_hourly_pay, period_start, period_end, real_living_wage_commitment, statutory_floor
    )


def check_lowest_pay(
    pay: Decimal,
    period_start: date,
    period_end: date,
    real_living_wage_commitment: Decimal | Callable[[date], Decimal | None] | None = None,
    statutory_floor: StatutoryFloorOn | None = None,
) -> tuple[WageFinding, ...]:
    """``check_wages`` on the lowest hourly pay alone: read models re-check stored pay when a floor is added."""
    if period_end < period_start:
        raise InvalidInput(f"period_end: {period_end.isoformat()} is before {period_start.isoformat()}")
    where = f"volumes.{Volume.LOWEST_HOURLY_PAY.value}"
    findings: list[WageFinding] = []
    floor, since, unknown = _highest_statutory(statutory_floor or statutory_floor_on, period_start, period_end)
    if unknown:
        first, last = unknown[0], unknown[-1]
        findings.append(
            WageFinding(
                FindingKind.NO_FLOOR_KNOWN,
                where,
                pay,
                Decimal(0),
                first,
                f"no wage floor known for {first.isoformat()} to {last.isoformat()} (the first recorded is the "
                "National Minimum Wage from 1999-04-01): the pay on those days is checked against no floor",
            )
        )
    if floor is not None and pay < floor.hourly_rate:
        findings.append(
            WageFinding(
                FindingKind.NLW_BREACH,
                where,
                pay,
                floor.hourly_rate,
                since,
                f"{format_gbp(pay)} is below the {floor.name} of {format_gbp(floor.hourly_rate)} "
                f"(for workers aged {floor.band}) in force on {since.isoformat()}{EXPLANATION_NEEDED}",
                floor.name,
                floor.band,
            )
        )
    if real_living_wage_commitment is not None:
        commitment = real_living_wage_commitment
        floor_on = commitment if callable(commitment) else (lambda _day: commitment)
        rlw = _highest_floor(floor_on, period_start, period_end)  # type: ignore[arg-type]
        if rlw is not None and pay < rlw[0]:
            rate, since = rlw
            findings.append(
                WageFinding(
                    FindingKind.RLW_FLAG,
                    where,
                    pay,
                    rate,
                    since,
                    f"{format_gbp(pay)} is below the Real Living Wage of {format_gbp(rate)} "
                    f"(for workers aged {REAL_LIVING_WAGE_BAND}) the agreement commits to from {since.isoformat()}",
                    "Real Living Wage",
                    REAL_LIVING_WAGE_BAND,
                )
            )
    return tuple(findings)
