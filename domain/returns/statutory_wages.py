"""Wage floors by date: the National Living Wage and the Real Living Wage.

Rate reviews uplift the pay-related share of a rate by the rise in the wage
floor, and cost returns flag pay below it, so both need "what was the floor on
date D?". The figures are public (DOMAIN.md, "Wage floors by date") and kept
here as dated tables, one place, so a review's arithmetic and a return's flag
can never disagree about them.

* National Living Wage (statutory): in force from 1 April of each year listed.
  It applied from age 25 until March 2021, from 23 until March 2024, and from
  21 since (``NLW_BANDS``); younger workers may lawfully be
  paid less, so pay below it is a breach to explain, not a rejection.
* National Minimum Wage, adult (main) rate: the statutory floor before the
  National Living Wage, in force from 1 April 1999 and then each 1 October;
  it applied from age 22 until September 2010 and from 21 from October 2010.
  Youth rates are not kept: pay below the adult rate is a breach to explain,
  as with the National Living Wage. From April 2016 the NMW's 21-24 rate
  stayed below the NLW, so the NLW is the floor from then on.
* Real Living Wage (voluntary, UK outside London): announced each autumn and
  adopted by employers by the following spring. openbook's default rule is
  that the rate announced in year Y is adopted from **1 April of Y + 1**
  (2019's £9.30 from 1 April 2020). An agreement with a Real Living Wage
  commitment may state its own adoption dates instead; pass them as
  ``adoptions`` and they replace the default table entirely.

Before the first entry of a table there is no floor, and asking for one is
refused (NotFound) rather than answered with a guess; ``statutory_floor_on``
answers None, so a check can say "no wage floor known" instead of nothing.

Every row names the age band it applies to, as the law then said, so every
finding can say which floor and band it used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.errors import InvalidInput, NotFound

__all__ = [
    "NATIONAL_LIVING_WAGE",
    "NATIONAL_MINIMUM_WAGE_ADULT",
    "NLW_BANDS",
    "NMW_BANDS",
    "REAL_LIVING_WAGE_BAND",
    "StatutoryFloor",
    "band_on",
    "statutory_floor_on",
    "NLW_MINIMUM_AGE",
    "REAL_LIVING_WAGE_ANNOUNCED",
    "national_living_wage_on",
    "real_living_wage_adoptions",
    "real_living_wage_on",
]

#: (in force from, hourly rate): the statutory National Living Wage.
NATIONAL_LIVING_WAGE: tuple[tuple[date, Decimal], ...] = tuple(
    (date(year, 4, 1), Decimal(rate))
    for year, rate in (
        (2016, "7.20"),
        (2017, "7.50"),
        (2018, "7.83"),
        (2019, "8.21"),
        (2020, "8.72"),
        (2021, "8.91"),
        (2022, "9.50"),
        (2023, "10.42"),
        (2024, "11.44"),
        (2025, "12.21"),
        (2026, "12.71"),
    )
)

#: (from, minimum age): who the National Living Wage applies to.
NLW_MINIMUM_AGE: tuple[tuple[date, int], ...] = (
    (date(2016, 4, 1), 25),
    (date(2021, 4, 1), 23),
    (date(2024, 4, 1), 21),
)

#: (in force from, hourly rate): the National Minimum Wage's adult (main) rate, 1 April 1999 then each
#: 1 October, until the National Living Wage replaced it as the adult floor (DOMAIN.md, "Wage floors by date").
NATIONAL_MINIMUM_WAGE_ADULT: tuple[tuple[date, Decimal], ...] = (
    (date(1999, 4, 1), Decimal("3.60")),
    *(
        (date(year, 10, 1), Decimal(rate))
        for year, rate in (
            (2000, "3.70"),
            (2001, "4.10"),
            (2002, "4.20"),
            (2003, "4.50"),
            (2004, "4.85"),
            (2005, "5.05"),
            (2006, "5.35"),
            (2007, "5.52"),
            (2008, "5.73"),
            (2009, "5.80"),
            (2010, "5.93"),
            (2011, "6.08"),
            (2012, "6.19"),
            (2013, "6.31"),
            (2014, "6.50"),
            (2015, "6.70"),
        )
    ),
)

#: (from, age band): whom the National Minimum Wage's adult rate applied to.
NMW_BANDS: tuple[tuple[date, str], ...] = (
    (date(1999, 4, 1), "22 and over"),
    (date(2010, 10, 1), "21 and over"),
)

#: (from, age band): whom the National Living Wage applies to (the same dates as ``NLW_MINIMUM_AGE``).
NLW_BANDS: tuple[tuple[date, str], ...] = tuple((start, f"{age} and over") for start, age in NLW_MINIMUM_AGE)

#: Whom the Real Living Wage covers: the Living Wage Foundation's rate is for every worker aged 18 and over
#: (not in DOMAIN.md; the Foundation's published scope).
REAL_LIVING_WAGE_BAND = "18 and over"

#: Autumn of announcement -> hourly rate: the Real Living Wage outside London.
REAL_LIVING_WAGE_ANNOUNCED: dict[int, Decimal] = {
    year: Decimal(rate)
    for year, rate in (
        (2016, "8.45"),
        (2017, "8.75"),
        (2018, "9.00"),
        (2019, "9.30"),
        (2020, "9.50"),
        (2021, "9.90"),
        (2022, "10.90"),
        (2023, "12.00"),
        (2024, "12.60"),
        (2025, "13.45"),
    )
}


def real_living_wage_adoptions() -> tuple[tuple[date, Decimal], ...]:
    """The default adoption table: each announced rate from 1 April of the next year."""
    return tuple((date(year + 1, 4, 1), rate) for year, rate in sorted(REAL_LIVING_WAGE_ANNOUNCED.items()))


def _on(table: Iterable[tuple[date, object]], d: date) -> object | None:
    """The value of the latest entry starting on or before ``d`` (a later-listed entry wins a tie)."""
    found: tuple[date, object] | None = None
    for start, value in table:
        if start <= d and (found is None or start >= found[0]):
            found = (start, value)
    return None if found is None else found[1]


def _check_date(d: object) -> date:
    if not isinstance(d, date):
        raise InvalidInput(f"date: {d!r} is not a date")
    return d


def national_living_wage_on(d: date, table: Iterable[tuple[date, Decimal]] | None = None) -> Decimal:
    """The National Living Wage in force on ``d``.

    ``table`` is a whole (in force from, rate) table to read instead of the
    built-in one: the ledger's reference data (``domain.returns.wage_floors``)
    passes the built-in rows extended by an admin's later ones.
    """
    rate = _on(NATIONAL_LIVING_WAGE if table is None else tuple(table), _check_date(d))
    if rate is None:
        raise NotFound(f"there was no National Living Wage on {d.isoformat()}; it began on 1 April 2016")
    return rate  # type: ignore[return-value]


def real_living_wage_on(d: date, adoptions: Iterable[tuple[date, Decimal]] | None = None) -> Decimal:
    """The Real Living Wage adopted on ``d``.

    ``adoptions`` are an agreement's own (adopted from, rate) dates; without
    them each announced rate applies from 1 April of the following year.
    """
    table = real_living_wage_adoptions() if adoptions is None else tuple(adoptions)
    rate = _on(table, _check_date(d))
    if rate is None:
        first = min((start for start, _ in table), default=None)
        since = f"; the first adoption is on {first.isoformat()}" if first else ""
        raise NotFound(f"no Real Living Wage had been adopted on {d.isoformat()}{since}")
    return rate  # type: ignore[return-value]


@dataclass(frozen=True)
class StatutoryFloor:
    """The statutory wage floor in force on a day: which floor, its rate, whom it covered, since when."""

    name: str  # "National Living Wage", "National Minimum Wage (adult rate)"
    hourly_rate: Decimal
    band: str  # "25 and over": the age band the rate applied to
    effective_from: date


def band_on(bands: Iterable[tuple[date, str]], d: date) -> str | None:
    """The age band of the latest entry starting on or before ``d`` (None before the first)."""
    return _on(bands, d)  # type: ignore[return-value]


def _latest(table: Iterable[tuple[date, Decimal, str]], d: date) -> tuple[date, Decimal, str] | None:
    found: tuple[date, Decimal, str] | None = None
    for row in table:
        if row[0] <= d and (found is None or row[0] >= found[0]):
            found = row
    return found


def statutory_floor_on(
    d: date,
    national_living_wage: Iterable[tuple[date, Decimal, str]] | None = None,
    national_minimum_wage: Iterable[tuple[date, Decimal, str]] | None = None,
) -> StatutoryFloor | None:
    """The adult statutory floor on ``d``: the National Living Wage once it exists, before it the NMW's adult rate.

    Tables are (in force from, rate, age band) rows, by default the built-in
    ones; ``domain.returns.wage_floors`` passes them extended by an admin's
    rows. None before the first row of either: no floor is known.
    """
    day = _check_date(d)
    nlw = _latest(_with_bands(NATIONAL_LIVING_WAGE, NLW_BANDS) if national_living_wage is None
                  else national_living_wage, day)  # fmt: skip
    if nlw is not None:
        return StatutoryFloor("National Living Wage", nlw[1], nlw[2], nlw[0])
    nmw = _latest(_with_bands(NATIONAL_MINIMUM_WAGE_ADULT, NMW_BANDS) if national_minimum_wage is None
                  else national_minimum_wage, day)  # fmt: skip
    if nmw is not None:
        return StatutoryFloor("National Minimum Wage (adult rate)", nmw[1], nmw[2], nmw[0])
    return None


def _with_bands(
    table: Iterable[tuple[date, Decimal]], bands: Iterable[tuple[date, str]]
) -> tuple[tuple[date, Decimal, str], ...]:
    """Each (from, rate) row with the age band in force on its start."""
    chosen = tuple(bands)
    return tuple((start, rate, band_on(chosen, start) or "") for start, rate in table)
