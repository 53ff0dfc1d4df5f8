"""The checks that apply domain/bounds.py: each bound itself is accepted, one step beyond it refused by name."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from domain.agreements.terms import KpiUnit
from domain.bounds import EARLIEST_DATE, LATEST_DATE, MAX_AMOUNT, MAX_HOURLY_RATE, NAME_LENGTH, TEXT_LENGTH
from domain.checks import (
    check_amount,
    check_day,
    check_envelope,
    check_hourly_rate,
    check_name,
    check_text,
    check_year,
)
from domain.envelope import SYSTEM, Envelope
from domain.errors import InvalidInput


def test_each_bound_is_accepted_and_one_step_beyond_is_refused_naming_the_field():
    assert check_name("ü" * NAME_LENGTH) == "ü" * NAME_LENGTH
    assert check_text("✓" * TEXT_LENGTH, "note") == "✓" * TEXT_LENGTH
    assert check_amount(MAX_AMOUNT, "amount") == MAX_AMOUNT
    assert check_hourly_rate("1000.00", "hourly_rate") == MAX_HOURLY_RATE
    assert check_day(EARLIEST_DATE, "on") == EARLIEST_DATE and check_day(LATEST_DATE, "on") == LATEST_DATE
    assert (check_year("1990-91"), check_year("2098-99")) == ("1990-91", "2098-99")
    refusals = [
        (lambda: check_name("ü" * (NAME_LENGTH + 1)), "name: is 201 characters long; at most 200 are allowed"),
        (lambda: check_text("✓" * (TEXT_LENGTH + 1), "note"), "note: is 2001 characters long; at most 2000"),
        (lambda: check_amount(MAX_AMOUNT + D("0.01"), "amount"), "amount: 10000000000.01 must be at most"),
        (lambda: check_amount("-0.01", "amount"), "amount: -0.01 must be at least 0"),
        (lambda: check_hourly_rate("1000.01", "hourly_rate"), "hourly_rate: 1000.01 must be at most 1000.00"),
        (lambda: check_hourly_rate("0", "hourly_rate"), "hourly_rate: 0.00 must be more than 0"),
        (lambda: check_day(date(2099, 4, 1), "on"), "on: 2099-04-01 is outside the dates the ledger records"),
        (lambda: check_year("2999-00"), "financial_year: 2999-00 is outside the financial years"),
        (lambda: check_envelope(Envelope(SYSTEM, date(9999, 12, 31))), "effective_date: 9999-12-31 is outside"),
        (lambda: check_envelope(Envelope(SYSTEM, LATEST_DATE, "r" * (TEXT_LENGTH + 1))),
         "reason: is 2001 characters long; at most 2000"),
    ]  # fmt: skip
    for refused, message in refusals:
        with pytest.raises(InvalidInput) as caught:
            refused()
        assert message in str(caught.value)


@pytest.mark.parametrize(
    ("measure", "unit"),
    [
        ("% of visits by the person's regular carers", KpiUnit.PERCENT),
        ("Percentage of packages started within 48 hours", KpiUnit.PERCENT),
        ("Number of complaints upheld", KpiUnit.COUNT),
        ("missed visits per 1,000 planned visits", KpiUnit.RATE),
    ],
)
def test_a_kpis_unit_comes_from_its_measure_when_not_given(measure, unit):
    assert KpiUnit.of_measure(measure) is unit


def test_a_kpi_figure_must_lie_in_its_units_range():
    assert KpiUnit.PERCENT.check("100", "value") == 100 and KpiUnit.COUNT.check("1000000000", "value") == 10**9
    assert KpiUnit.NUMBER.check("-5", "value") == -5
    for unit, value, message in (
        (KpiUnit.PERCENT, "1000000000", "value: 1000000000 is outside 0 to 100, the range of a percent KPI"),
        (KpiUnit.RATE, "-5", "value: -5 is outside 0 to 1000000000, the range of a rate KPI"),
        (KpiUnit.COUNT, "2.5", "value: 2.5 is not a whole number, as a count KPI's figures are"),
    ):
        with pytest.raises(InvalidInput, match=message):
            unit.check(value, "value")
