"""The wage floors as reference data: built-in rows extended and corrected by an admin's recorded rates.

Figures: DOMAIN.md's National and Real Living Wage tables; the recorded rates
(2027's £13.10, a corrected 2020 rate) are invented to prove the rules.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from domain.agreements.terms import LivingWageAdoption
from domain.envelope import SYSTEM, Envelope
from domain.errors import InvalidInput, RuleBroken
from domain.returns.wage_checks import FindingKind, check_lowest_pay
from domain.returns.wage_floors import Floor, FloorRow, WageFloors, WageFloorTable, commitment_floor


def by(reason: str | None = "announced") -> Envelope:
    return Envelope(SYSTEM, date(2026, 11, 20), reason)


def test_the_built_in_table_answers_until_a_rate_is_recorded():
    table = WageFloorTable()
    assert table.national_living_wage_on(date(2020, 4, 1)) == D("8.72")
    assert table.national_living_wage_on(date(2027, 4, 1)) == D("12.71")  # the latest known rate continues
    assert table.real_living_wage_on(date(2020, 4, 1)) == D("9.30")  # announced 2019, adopted April 2020


def test_a_recorded_rate_extends_the_table_and_a_same_day_rate_corrects_it():
    floors = WageFloors.start(by())
    floors.add_rate(by(), "national-living-wage", date(2027, 4, 1), D("13.10"))
    floors.add_rate(by("correction"), Floor.NATIONAL_LIVING_WAGE, date(2020, 4, 1), "8.75")
    floors.add_rate(by(), "real-living-wage", date(2027, 4, 1), D("14.00"))
    table = floors.table

    assert table.national_living_wage_on(date(2027, 4, 1)) == D("13.10")
    assert table.national_living_wage_on(date(2027, 3, 31)) == D("12.71")
    assert table.national_living_wage_on(date(2020, 6, 1)) == D("8.75")  # corrects the built-in £8.72
    assert table.real_living_wage_on(date(2027, 4, 1)) == D("14.00")
    # An agreement that states its own adoption dates keeps them.
    assert table.real_living_wage_on(date(2027, 4, 1), [(date(2026, 10, 1), D("13.45"))]) == D("13.45")
    assert [e.TOPIC for e in floors.collect_events()] == [
        "openbook:wage-floors.started", *["openbook:wage-floors.rate-added"] * 3
    ]


def test_a_rate_needs_a_reason_a_positive_penny_figure_and_to_change_something():
    floors = WageFloors.start(by())
    with pytest.raises(InvalidInput, match="reason: a wage floor needs a reason"):
        floors.add_rate(by(None), "national-living-wage", date(2027, 4, 1), D("13.10"))
    with pytest.raises(InvalidInput, match="hourly_rate"):
        floors.add_rate(by(), "national-living-wage", date(2027, 4, 1), D("13.105"))
    with pytest.raises(InvalidInput, match="floor: 'minimum-wage' is not one of"):
        floors.add_rate(by(), "minimum-wage", date(2027, 4, 1), D("13.10"))
    with pytest.raises(RuleBroken, match="the National Living Wage from 2020-04-01 is already £8.72"):
        floors.add_rate(by(), "national-living-wage", date(2020, 4, 1), D("8.72"))


def test_the_wage_checks_read_the_combined_table():
    table = WageFloorTable((FloorRow(Floor.NATIONAL_LIVING_WAGE, date(2019, 7, 1), D("8.40")),))
    quarter_2 = (date(2019, 7, 1), date(2019, 9, 30))
    assert check_lowest_pay(D("8.30"), *quarter_2) == ()  # the built-in £8.21
    [breach] = check_lowest_pay(D("8.30"), *quarter_2, statutory_floor=table.statutory_floor_on)
    assert (breach.kind, breach.floor, breach.floor_from) == (FindingKind.NLW_BREACH, D("8.40"), date(2019, 7, 1))

    committed = (LivingWageAdoption(date(2019, 4, 1), D("9.00")),)
    assert commitment_floor(table, committed, date(2019, 8, 1)) == D("9.00")
    assert commitment_floor(table, (), date(2020, 8, 1)) == D("9.30")  # default dates
    assert commitment_floor(table, None, date(2020, 8, 1)) is None
