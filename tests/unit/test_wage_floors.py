"""Wage floors by date: the National Living Wage and the Real Living Wage (DOMAIN.md figures)."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput, NotFound
from domain.returns.statutory_wages import (
    NATIONAL_LIVING_WAGE,
    national_living_wage_on,
    real_living_wage_adoptions,
    real_living_wage_on,
    statutory_floor_on,
)


def test_national_living_wage_changes_on_1_april():
    assert national_living_wage_on(date(2019, 3, 31)) == D("7.83")
    assert national_living_wage_on(date(2019, 4, 1)) == D("8.21")
    assert national_living_wage_on(date(2020, 4, 1)) == D("8.72")
    assert national_living_wage_on(date(2024, 4, 1)) == D("11.44")
    assert national_living_wage_on(date(2026, 4, 1)) == D("12.71")
    assert national_living_wage_on(date(2030, 1, 1)) == D("12.71")  # the latest known rate continues


def test_every_national_living_wage_rate_from_domain_md():
    expected = {2016: "7.20", 2017: "7.50", 2018: "7.83", 2019: "8.21", 2020: "8.72", 2021: "8.91",
                2022: "9.50", 2023: "10.42", 2024: "11.44", 2025: "12.21", 2026: "12.71"}
    for year, rate in expected.items():
        assert national_living_wage_on(date(year, 4, 1)) == D(rate)
        assert str(national_living_wage_on(date(year, 4, 1))) == rate


def test_no_national_living_wage_before_april_2016():
    with pytest.raises(NotFound, match="2016-03-31.*1 April 2016"):
        national_living_wage_on(date(2016, 3, 31))


def test_national_living_wage_age_threshold():
    assert statutory_floor_on(date(2021, 3, 31)).band == "25 and over"
    assert statutory_floor_on(date(2021, 4, 1)).band == "23 and over"
    assert statutory_floor_on(date(2024, 3, 31)).band == "23 and over"
    assert statutory_floor_on(date(2024, 4, 1)).band == "21 and over"


def test_real_living_wage_is_adopted_from_the_april_after_it_is_announced():
    # Announced autumn 2019 at £9.30; by default adopted from 1 April 2020.
    assert real_living_wage_on(date(2020, 3, 31)) == D("9.00")
    assert real_living_wage_on(date(2020, 4, 1)) == D("9.30")
    assert real_living_wage_on(date(2024, 4, 1)) == D("12.00")
    assert real_living_wage_on(date(2026, 4, 1)) == D("13.45")
    assert real_living_wage_adoptions()[0] == (date(2017, 4, 1), D("8.45"))


def test_an_agreement_may_state_its_own_adoption_dates():
    # Invented dates for a Wigan-style commitment: each rate from the first Monday of January.
    wigan = [(date(2019, 1, 7), D("9.00")), (date(2020, 1, 6), D("9.30"))]
    assert real_living_wage_on(date(2019, 12, 31), wigan) == D("9.00")
    assert real_living_wage_on(date(2020, 1, 6), wigan) == D("9.30")
    with pytest.raises(NotFound, match="2018-12-31.*2019-01-07"):
        real_living_wage_on(date(2018, 12, 31), wigan)


def test_no_real_living_wage_before_the_first_adoption():
    with pytest.raises(NotFound, match="2017-03-31"):
        real_living_wage_on(date(2017, 3, 31))


def test_a_date_is_required():
    with pytest.raises(InvalidInput, match="date: '2019-04-01'"):
        national_living_wage_on("2019-04-01")


@given(st.dates(min_value=date(2016, 4, 1), max_value=date(2035, 12, 31)), st.integers(min_value=0, max_value=800))
def test_floors_never_fall(day, later_by):
    later = day + timedelta(days=later_by)
    assert national_living_wage_on(later) >= national_living_wage_on(day)
    if day >= date(2017, 4, 1):
        assert real_living_wage_on(later) >= real_living_wage_on(day)
        # The voluntary Real Living Wage has always been above the statutory floor.
        assert real_living_wage_on(day) > national_living_wage_on(day)


def test_table_is_in_date_order():
    starts = [start for start, _ in NATIONAL_LIVING_WAGE]
    assert starts == sorted(starts)
