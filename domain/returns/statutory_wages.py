"""Wage floors by date: the National Living Wage and the Real Living Wage.

Rate reviews uplift the pay-related share of a rate by the rise in the wage
floor, and cost returns flag pay below it, so both need "what was the floor on
date D?". The figures are public (DOMAIN.md, "Wage floors by date") and kept
here as dated tables, one place, so a review's arithmetic and a return's flag
can never disagree about them.

* National Living Wage (statutory): in force from 1 April of each year listed.
  It applied from age 25 until March 2021, from 23 until March 2024, and from
  21 since (``national_living_wage_age_on``); younger workers may lawfully be
  paid less, so pay below it is a breach to explain, not a rejection.
* Real Living Wage (voluntary, UK outside London): announced each autumn and
  adopted by employers by the following spring. openbook's default rule is
  that the rate announced in year Y is adopted from **1 April of Y + 1**
  (2019's £9.30 from 1 April 2020). An agreement with a Real Living Wage
  commitment may state its own adoption dates instead; pass them as
  ``adoptions`` and they replace the default table entirely.

Before the first entry of a table there is no floor, and asking for one is
refused (NotFound) rather than answered with a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from domain.errors import InvalidInput, NotFound

__all__ = [
    "NATIONAL_LIVING_WAGE",
    "NLW_MINIMUM_AGE",
    "REAL_LIVING_WAGE_ANNOUNCED",
    "national_living_wage_age_on",
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


def national_living_wage_age_on(d: date) -> int:
    """The age from which the National Living Wage applied on ``d``."""
    age = _on(NLW_MINIMUM_AGE, _check_date(d))
    if age is None:
        raise NotFound(f"there was no National Living Wage on {d.isoformat()}; it began on 1 April 2016")
    return age  # type: ignore[return-value]


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
