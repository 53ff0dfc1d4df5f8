"""Wage checks: the lowest hourly pay on a return against the wage floors in force during its period.

Pay below the National Living Wage is a *breach to explain* (younger workers
may lawfully be paid less), not a rejection; pay below the Real Living Wage
under an agreement committed to it is flagged. A finding names the floor and
age band it used.
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
from domain.returns.statutory_wages import national_living_wage_age_on, national_living_wage_on

__all__ = [
    "FindingKind",
    "WageFinding",
    "check_lowest_pay",
    "check_wages",
]

class FindingKind(StrEnum):
    NLW_BREACH = "nlw-breach"  # blocks acceptance until an accountant records an explanation
    RLW_FLAG = "rlw-flag"  # shown on the return; blocks nothing


@dataclass(frozen=True)
class WageFinding:
    kind: FindingKind
    field: str
    pay: Decimal
    floor: Decimal
    floor_from: date  # the first day of the period on which that floor applied
    message: str

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


def check_wages(
    filing: CostReturnFiling,
    period_start: date,
    period_end: date,
    real_living_wage_commitment: Decimal | Callable[[date], Decimal | None] | None = None,
    national_living_wage: Callable[[date], Decimal] | None = None,
) -> tuple[WageFinding, ...]:
    """Wage findings for a filing over a period (both dates inclusive).

    * Lowest hourly pay below the National Living Wage in force on any day of
      the period is a breach that needs an accountant's explanation before
      acceptance (younger workers may lawfully be paid less).
    * Below a Real Living Wage commitment it is a flag. Give the commitment as
      the hourly rate for the whole period, or as "rate on date" (e.g. an
      agreement's ``real_living_wage_on``, None where not committed).

    ``national_living_wage`` is "floor on date" when the ledger's reference
    data extends the built-in table (``domain.returns.wage_floors``); by default
    the built-in ``national_living_wage_on``.
    """
    return check_lowest_pay(
        filing.volumes.lowest_hourly_pay, period_start, period_end, real_living_wage_commitment, national_living_wage
    )


def check_lowest_pay(
    pay: Decimal,
    period_start: date,
    period_end: date,
    real_living_wage_commitment: Decimal | Callable[[date], Decimal | None] | None = None,
    national_living_wage: Callable[[date], Decimal] | None = None,
) -> tuple[WageFinding, ...]:
    """``check_wages`` on the lowest hourly pay alone: read models re-check stored pay when a floor is added."""
    if period_end < period_start:
        raise InvalidInput(f"period_end: {period_end.isoformat()} is before {period_start.isoformat()}")
    where = f"volumes.{Volume.LOWEST_HOURLY_PAY.value}"
    findings: list[WageFinding] = []
    nlw = _highest_floor(national_living_wage or national_living_wage_on, period_start, period_end)
    if nlw is not None and pay < nlw[0]:
        floor, since = nlw
        try:
            ages = f" (for workers aged {national_living_wage_age_on(since)} and over)"
        except NotFound:  # a floor added by an admin before the built-in age table starts
            ages = ""
        findings.append(
            WageFinding(
                FindingKind.NLW_BREACH,
                where,
                pay,
                floor,
                since,
                f"{format_gbp(pay)} is below the National Living Wage of {format_gbp(floor)}{ages} "
                f"in force on {since.isoformat()}; an accountant must record "
                "an explanation before the return can be accepted",
            )
        )
    if real_living_wage_commitment is not None:
        commitment = real_living_wage_commitment
        floor_on = commitment if callable(commitment) else (lambda _day: commitment)
        rlw = _highest_floor(floor_on, period_start, period_end)  # type: ignore[arg-type]
        if rlw is not None and pay < rlw[0]:
            floor, since = rlw
            findings.append(
                WageFinding(
                    FindingKind.RLW_FLAG,
                    where,
                    pay,
                    floor,
                    since,
                    f"{format_gbp(pay)} is below the Real Living Wage of {format_gbp(floor)} "
                    f"the agreement commits to from {since.isoformat()}",
                )
            )
    return tuple(findings)
