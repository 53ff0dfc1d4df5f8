"""The wage floors as reference data: the built-in tables, extended by an admin's recorded rates.

``domain/returns/statutory_wages.py`` holds the public figures known when the code was
written. A new National Living Wage is announced every autumn and a Real
Living Wage every November; waiting for a code release to apply them would
leave returns checked against last year's floor. So an admin records a new
(or corrected) rate as an event on the one ``WageFloors`` aggregate, and
every wage check reads the *combined* table (``WageFloorTable``):

* the built-in rows first, then the recorded rows in the order recorded;
* "the floor on date D" is the row with the latest start on or before D, and
  a later row with the same start wins: a recorded rate for 1 April 2027
  extends the table, one for 1 April 2020 corrects the built-in £8.72.

Every row names the age band it applies to ("25 and over"). A recorded rate
may state its band; one that does not (every rate recorded before bands were
kept) takes the band of the row in force on its date, so old events replay
unchanged and a new National Living Wage keeps "21 and over".

Real Living Wage rows are *adoption* dates (when the rate applies), like the
agreement's own ``adoptions``: the default rule "announced in year Y, adopted
from 1 April of Y + 1" is the built-in rows' rule, and an admin records the
rate with the date it applies from. An agreement that states its own
adoption dates keeps them (they replace the default table entirely).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from uuid import UUID

from domain.aggregate import LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.agreements.terms import LivingWageAdoption
from domain.checks import check_choice, check_day, check_hourly_rate, check_reason, check_text
from domain.envelope import Envelope
from domain.errors import RuleBroken
from domain.money import format_gbp
from domain.returns.statutory_wages import (
    NATIONAL_LIVING_WAGE,
    NATIONAL_MINIMUM_WAGE_ADULT,
    NLW_BANDS,
    NMW_BANDS,
    REAL_LIVING_WAGE_BAND,
    StatutoryFloor,
    band_on,
    national_living_wage_on,
    real_living_wage_adoptions,
    real_living_wage_on,
    statutory_floor_on,
)

__all__ = ["Floor", "FloorRow", "WageFloorTable", "WageFloors", "commitment_floor"]


class Floor(StrEnum):
    NATIONAL_LIVING_WAGE = "national-living-wage"
    REAL_LIVING_WAGE = "real-living-wage"
    NATIONAL_MINIMUM_WAGE = "national-minimum-wage"  # the adult (main) rate, the floor before April 2016

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Floor.NATIONAL_LIVING_WAGE: "National Living Wage",
    Floor.REAL_LIVING_WAGE: "Real Living Wage",
    Floor.NATIONAL_MINIMUM_WAGE: "National Minimum Wage (adult rate)",
}


def _built_in(floor: Floor) -> tuple[tuple[date, Decimal], ...]:
    if floor is Floor.NATIONAL_LIVING_WAGE:
        return NATIONAL_LIVING_WAGE
    if floor is Floor.NATIONAL_MINIMUM_WAGE:
        return NATIONAL_MINIMUM_WAGE_ADULT
    return real_living_wage_adoptions()


def _built_in_band(floor: Floor, on: date) -> str | None:
    if floor is Floor.NATIONAL_LIVING_WAGE:
        return band_on(NLW_BANDS, on)
    if floor is Floor.NATIONAL_MINIMUM_WAGE:
        return band_on(NMW_BANDS, on)
    return REAL_LIVING_WAGE_BAND


@dataclass(frozen=True)
class FloorRow:
    """One recorded rate: ``floor`` at ``hourly_rate`` from ``effective_from``, for ``band`` (None: as before)."""

    floor: Floor
    effective_from: date
    hourly_rate: Decimal
    band: str | None = None


@dataclass(frozen=True)
class WageFloorTable:
    """The built-in floors extended by recorded rows: what every wage check reads."""

    recorded: tuple[FloorRow, ...] = ()

    def rows(self, floor: Floor) -> tuple[tuple[date, Decimal], ...]:
        added = tuple((r.effective_from, r.hourly_rate) for r in self.recorded if r.floor is floor)
        return (*_built_in(floor), *added)

    def banded_rows(self, floor: Floor) -> tuple[tuple[date, Decimal, str], ...]:
        """``rows`` with each row's age band: its own, else the band of the row in force on its date."""
        banded: list[tuple[date, Decimal, str]] = [
            (start, rate, _built_in_band(floor, start) or "") for start, rate in _built_in(floor)
        ]
        for r in (r for r in self.recorded if r.floor is floor):
            before = [row for row in banded if row[0] <= r.effective_from]
            inherited = max(before, key=lambda row: row[0])[2] if before else _built_in_band(floor, r.effective_from)
            banded.append((r.effective_from, r.hourly_rate, r.band or inherited or ""))
        return tuple(banded)

    @cached_property
    def _statutory(self) -> tuple[tuple[tuple[date, Decimal, str], ...], tuple[tuple[date, Decimal, str], ...]]:
        """The banded NLW and NMW rows, worked out once: a check asks for every day of a period."""
        return self.banded_rows(Floor.NATIONAL_LIVING_WAGE), self.banded_rows(Floor.NATIONAL_MINIMUM_WAGE)

    def statutory_floor_on(self, on: date) -> StatutoryFloor | None:
        """The adult statutory floor on ``on`` (NLW, before it the NMW's adult rate); None: none known."""
        return statutory_floor_on(on, *self._statutory)

    def national_living_wage_on(self, on: date) -> Decimal:
        return national_living_wage_on(on, self.rows(Floor.NATIONAL_LIVING_WAGE))

    def real_living_wage_on(self, on: date, adoptions: Iterable[tuple[date, Decimal]] | None = None) -> Decimal:
        """The Real Living Wage on ``on``: from the agreement's own ``adoptions`` if it states them."""
        table = self.rows(Floor.REAL_LIVING_WAGE) if adoptions is None else tuple(adoptions)
        return real_living_wage_on(on, table)


def commitment_floor(
    table: WageFloorTable, commitment: Sequence[LivingWageAdoption] | None, on: date
) -> Decimal | None:
    """The Real Living Wage an agreement's commitment requires on ``on`` (None: not committed).

    The same rule as ``Agreement.real_living_wage_on``, reading the combined
    table where the commitment states no dates of its own.
    """
    if commitment is None:
        return None
    own = [(a.adopted_from, a.hourly_rate) for a in commitment] or None
    return table.real_living_wage_on(on, own)


class WageFloors(LedgerAggregate):
    """The one record of wage floors added after the built-in tables: an admin's reference data."""

    TOPIC = "openbook:wage-floors"

    class Started(LedgerCreated):
        TOPIC = "openbook:wage-floors.started"

    class RateAdded(LedgerEvent):
        TOPIC = "openbook:wage-floors.rate-added"
        floor: str
        effective_from: date
        hourly_rate: Decimal
        band: str | None = None  # absent from rates recorded before bands were kept: the band in force then

        def apply(self, aggregate: WageFloors) -> None:
            aggregate._rows.append(FloorRow(Floor(self.floor), self.effective_from, self.hourly_rate, self.band))

    @staticmethod
    def create_id() -> UUID:
        return natural_id("wage-floors")

    def __init__(self, envelope: Envelope):
        self._rows: list[FloorRow] = []

    @classmethod
    def start(cls, envelope: Envelope) -> WageFloors:
        """The record, created with the first rate added (in the same save)."""
        return cls._create(cls.Started, id=cls.create_id(), envelope=envelope)

    def add_rate(
        self,
        envelope: Envelope,
        floor: Floor | str,
        effective_from: date,
        hourly_rate: Decimal,
        band: str | None = None,
    ) -> None:
        """Add (or correct) a floor from a date; the envelope must say why (e.g. the announcement).

        ``band`` is the age band the rate applies to ("21 and over"); without
        it the rate keeps the band in force on its date.
        """
        check_reason(envelope, "a wage floor")
        chosen = check_choice(Floor, floor, "floor")
        start = check_day(effective_from, "effective_from")
        rate = check_hourly_rate(hourly_rate, "hourly_rate")
        ages = None if band is None else check_text(band, "band")
        current = {row[0]: row for row in self.table.banded_rows(chosen)}
        if start in current and current[start][1] == rate and (ages is None or current[start][2] == ages):
            raise RuleBroken(
                f"the {chosen.label} from {start.isoformat()} is already {format_gbp(rate)} "
                f"for workers aged {current[start][2]}; nothing to record"
            )
        extra = {} if ages is None else {"band": ages}
        self.trigger_event(
            self.RateAdded, envelope=envelope, floor=chosen.value, effective_from=start, hourly_rate=rate, **extra
        )

    @property
    def table(self) -> WageFloorTable:
        return WageFloorTable(tuple(self._rows))
