"""The statutory wage floor by date, with the age band each rate applied to (DOMAIN.md, "Wage floors by date").

National Minimum Wage adult rate: £3.60 from 1 April 1999 for workers aged 22 and over, then each 1 October;
from October 2010 (£5.93) for 21 and over. National Living Wage from 1 April 2016: 25 and over until March
2021, 23 and over until March 2024, 21 and over since. Before 1 April 1999 no floor is known.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from domain.envelope import SYSTEM, Envelope
from domain.errors import RuleBroken
from domain.returns.filing import CostReturnFiling
from domain.returns.statutory_wages import statutory_floor_on
from domain.returns.wage_checks import FindingKind, check_wages
from domain.returns.wage_floors import Floor, WageFloors
from tests.unit.test_cost_model import filing_data


def _paying(lowest: str) -> CostReturnFiling:
    return CostReturnFiling.parse(filing_data(lowest_hourly_pay=lowest, typical_hourly_pay="13.00"))


@pytest.mark.parametrize(
    "on, name, rate, band",
    [
        (date(1999, 4, 1), "National Minimum Wage (adult rate)", "3.60", "22 and over"),
        (date(2000, 9, 30), "National Minimum Wage (adult rate)", "3.60", "22 and over"),
        (date(2000, 10, 1), "National Minimum Wage (adult rate)", "3.70", "22 and over"),
        (date(2009, 10, 1), "National Minimum Wage (adult rate)", "5.80", "22 and over"),
        (date(2010, 10, 1), "National Minimum Wage (adult rate)", "5.93", "21 and over"),
        (date(2016, 3, 31), "National Minimum Wage (adult rate)", "6.70", "21 and over"),
        (date(2016, 4, 1), "National Living Wage", "7.20", "25 and over"),
        (date(2021, 4, 1), "National Living Wage", "8.91", "23 and over"),
        (date(2024, 4, 1), "National Living Wage", "11.44", "21 and over"),
    ],
)
def test_the_statutory_floor_names_its_rate_and_age_band(on, name, rate, band):
    floor = statutory_floor_on(on)
    assert floor is not None and (floor.name, floor.hourly_rate, floor.band) == (name, D(rate), band)


def test_before_april_1999_no_floor_is_known():
    assert statutory_floor_on(date(1999, 3, 31)) is None


def test_a_period_before_1999_gets_a_no_wage_floor_known_finding():
    (finding,) = check_wages(_paying("2.50"), date(1998, 4, 1), date(1999, 3, 31))
    assert finding.kind is FindingKind.NO_FLOOR_KNOWN and not finding.needs_explanation
    assert finding.message.startswith("no wage floor known for 1998-04-01 to 1999-03-31")


def test_a_period_straddling_the_first_floor_says_both():
    # March 1999 has no floor; from 1 April £3.60 for workers aged 22 and over, which £3.00 breaches.
    unknown, breach = check_wages(_paying("3.00"), date(1999, 3, 1), date(1999, 4, 30))
    assert unknown.message.startswith("no wage floor known for 1999-03-01 to 1999-03-31")
    assert (breach.kind, breach.floor, breach.floor_from) == (FindingKind.NLW_BREACH, D("3.60"), date(1999, 4, 1))
    assert "below the National Minimum Wage (adult rate) of £3.60 (for workers aged 22 and over)" in breach.message


@pytest.mark.parametrize(
    "start, end, pay, said",
    [
        (date(2020, 4, 1), date(2020, 6, 30), "8.50", "National Living Wage of £8.72 (for workers aged 25 and over)"),
        (date(2021, 4, 1), date(2021, 6, 30), "8.72", "National Living Wage of £8.91 (for workers aged 23 and over)"),
        (date(2024, 4, 1), date(2024, 6, 30), "11.00", "National Living Wage of £11.44 (for workers aged 21 and over)"),
    ],
)
def test_a_national_living_wage_breach_names_the_age_band(start, end, pay, said):
    (finding,) = check_wages(_paying(pay), start, end)
    assert said in finding.message and finding.floor_name == "National Living Wage"


def by(reason: str | None = "announced") -> Envelope:
    return Envelope(SYSTEM, date(2026, 11, 20), reason)


def test_a_recorded_rate_keeps_the_band_in_force_unless_it_states_its_own():
    floors = WageFloors.start(by())
    floors.add_rate(by(), Floor.NATIONAL_LIVING_WAGE, date(2027, 4, 1), D("13.10"))
    assert floors.table.statutory_floor_on(date(2027, 4, 1)).band == "21 and over"
    floors.add_rate(by("the age lowered"), Floor.NATIONAL_LIVING_WAGE, date(2028, 4, 1), D("13.60"), "18 and over")
    floor = floors.table.statutory_floor_on(date(2028, 4, 1))
    assert (floor.hourly_rate, floor.band) == (D("13.60"), "18 and over")
    # A later row without a band keeps the one recorded before it.
    floors.add_rate(by(), Floor.NATIONAL_LIVING_WAGE, date(2029, 4, 1), D("14.00"))
    assert floors.table.statutory_floor_on(date(2029, 4, 1)).band == "18 and over"


def test_an_admin_extends_the_national_minimum_wage_back_and_corrects_a_band():
    floors = WageFloors.start(by())
    floors.add_rate(by("correction"), "national-minimum-wage", date(1999, 4, 1), D("3.60"), "22 and over (main rate)")
    assert floors.table.statutory_floor_on(date(1999, 6, 1)).band == "22 and over (main rate)"
    with pytest.raises(RuleBroken, match="already £3.60 for workers aged 22 and over .main rate.; nothing to record"):
        floors.add_rate(by(), Floor.NATIONAL_MINIMUM_WAGE, date(1999, 4, 1), D("3.60"))
