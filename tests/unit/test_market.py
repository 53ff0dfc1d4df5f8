"""The market view: quartiles exactly as statistics.quantiles(method="inclusive"), and privacy.

Figures: invented providers' costs around the 2020-21 minimum price of
£20.69 (DOMAIN.md); the 5-provider threshold is DOMAIN.md's privacy rule.
"""

from __future__ import annotations

import statistics
from dataclasses import fields, is_dataclass
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import NotFound
from domain.returns.filing import CostGroup, CostLine, CostReturnFiling
from domain.returns.market import (
    AnonymisedMarketView,
    NotEnoughProviders,
    Quartiles,
    anonymised,
    for_provider,
    market_view,
    quartiles,
)
from domain.returns.unit_costs import UnitCosts, unit_costs
from tests.worked_examples import PER_HOUR_2020_21 as PER_HOUR


def reference(data: list[D]) -> list[Fraction]:
    """What the standard library says, in exact fractions."""
    return statistics.quantiles([Fraction(d) for d in data], n=4, method="inclusive")


def as_fractions(q: Quartiles) -> list[Fraction]:
    return [Fraction(q.lower), Fraction(q.median), Fraction(q.upper)]


@pytest.mark.parametrize(
    "data",
    [
        [D("18.20"), D("20.69")],
        [D("19.1000"), D("20.6900"), D("22.0500")],
        [D("15.60"), D("17.25"), D("18.90"), D("20.69")],
        [D("20.6900"), D("18.3333"), D("21.0001"), D("19.9999"), D("23.4500")],
        [D("1"), D("2"), D("3"), D("4"), D("5"), D("6")],
        [D("20.69")] * 7,
        [D("-0.1500"), D("0.6000"), D("0.0000"), D("1.2000"), D("0.6000"), D("0.3000"), D("0.9000"), D("2.0000")],
        [D("14.76"), D("15.76"), D("11.48"), D("15.80"), D("12.80"), D("15.60"), D("13.70"), D("20.69"), D("32.14")],
    ],
)
def test_quartiles_match_statistics_quantiles_inclusive(data):
    result = quartiles(data)
    assert as_fractions(result) == reference(data)
    assert all(isinstance(value, D) for value in (result.lower, result.median, result.upper))


def test_worked_quartiles_of_five():
    # Inclusive method: positions (5 − 1) × p / 4 = 1, 2, 3: the 2nd, 3rd and 4th of the sorted five.
    result = quartiles([D("22.00"), D("18.00"), D("20.69"), D("19.50"), D("21.10")])
    assert result == Quartiles(D("19.50"), D("20.69"), D("21.10"))
    # Four: positions 0.75, 1.5, 2.25, interpolated.
    result = quartiles([D("18.00"), D("19.00"), D("20.00"), D("22.00")])
    assert result == Quartiles(D("18.75"), D("19.50"), D("20.50"))


def test_one_value_and_none():
    assert quartiles([D("20.69")]) == Quartiles(D("20.69"), D("20.69"), D("20.69"))
    with pytest.raises(NotFound):
        quartiles([])


per_hour = st.decimals(min_value=-5, max_value=100, places=4, allow_nan=False, allow_infinity=False)


@given(st.lists(per_hour, min_size=2, max_size=40))
def test_quartiles_property_against_statistics_quantiles(data):
    assert as_fractions(quartiles(data)) == reference(data)


# -- market views ---------------------------------------------------------------------------------



def provider_costs(contact_pay: str, hours: str = "10000") -> UnitCosts:
    lines = {key: str(D(rate) * D(hours)) for key, rate in PER_HOUR.items()}
    lines["contact_pay"] = str(D(contact_pay) * D(hours))
    return unit_costs(
        CostReturnFiling.parse(
            {
                "lines": lines,
                "volumes": {
                    "contact_hours": hours, "visits": "20000", "average_visit_minutes": "30",
                    "average_travel_minutes": "6", "careworker_headcount": "12", "careworker_fte": "9",
                    "hours_paid": str(D(hours) * 2), "lowest_hourly_pay": "8.72", "typical_hourly_pay": "9.10",
                },  # fmt: skip
            }
        )
    )


# Invented contact pay per hour for Wirral's providers in 2020-21.
CONTACT_PAY = {
    "premier-care": "8.72",
    "wirral-home-care-alliance": "9.10",
    "haven-care": "8.95",
    "carewatch": "9.40",
    "community-caring": "9.80",
    "aspire": "8.80",
}


def costs_of(codes: list[str]) -> dict[str, UnitCosts]:
    return {code: provider_costs(CONTACT_PAY[code], hours=str(7000 + 1000 * i)) for i, code in enumerate(codes)}


def test_the_accountants_view_has_every_provider_and_quartiles_per_line_group_and_total():
    costs = costs_of(list(CONTACT_PAY))
    view = market_view(costs)
    assert view.providers == tuple(sorted(CONTACT_PAY)) and view.contributors == 6
    assert view.figures["carewatch"] is costs["carewatch"]
    assert set(view.lines) == set(CostLine) and set(view.groups) == set(CostGroup)
    contact = [c.per_line[CostLine.CONTACT_PAY] for c in costs.values()]
    assert as_fractions(view.lines[CostLine.CONTACT_PAY]) == reference(contact)
    totals = [c.total_per_hour for c in costs.values()]
    assert as_fractions(view.total) == reference(totals)
    pay = [c.per_group(CostGroup.PAY) for c in costs.values()]
    assert as_fractions(view.groups[CostGroup.PAY]) == reference(pay)
    assert 'method="inclusive"' in view.method
    with pytest.raises(NotFound, match="no accepted cost returns to compare"):
        market_view({})


@pytest.mark.parametrize("contributors", [1, 2, 3, 4])
def test_fewer_than_five_providers_show_no_market_figures(contributors):
    view = market_view(costs_of(list(CONTACT_PAY)[:contributors]))
    result = anonymised(view)
    assert result == NotEnoughProviders(contributors, 5)
    assert str(result) == f"not enough providers: {contributors} of 5"


def test_five_providers_are_enough():
    view = market_view(costs_of(list(CONTACT_PAY)[:5]))
    result = anonymised(view)
    assert isinstance(result, AnonymisedMarketView) and result.contributors == 5
    assert result.total == view.total and result.lines == view.lines


def test_the_threshold_can_be_raised_but_never_lowered():
    view = market_view(costs_of(list(CONTACT_PAY)))
    assert anonymised(view, min_providers=7) == NotEnoughProviders(6, 7)
    with pytest.raises(ValueError, match="at least 5"):
        anonymised(view, min_providers=4)


def _everything_in(value: object) -> list[object]:
    """Every value reachable from a view: dataclass fields, mapping keys and values, sequence items."""
    found: list[object] = [value]
    if is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            found += _everything_in(getattr(value, f.name))
    elif isinstance(value, dict):
        for key, item in value.items():
            found += _everything_in(key) + _everything_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found += _everything_in(item)
    return found


@pytest.mark.parametrize("contributors", [3, 5, 6])
def test_a_provider_cannot_learn_another_providers_code_or_figures(contributors):
    codes = list(CONTACT_PAY)[:contributors]
    costs = costs_of(codes)
    view = market_view(costs)
    me = "haven-care"
    mine = for_provider(view, me)
    reachable = _everything_in(mine)
    others = [code for code in codes if code != me]
    # No other provider's code anywhere, nor in the text of the view.
    assert not [v for v in reachable if isinstance(v, str) and any(code in v for code in others)]
    assert not any(code in repr(mine) for code in others)
    # No other provider's UnitCosts, and its own are its own.
    assert mine.own is costs[me]
    assert not [v for v in reachable if isinstance(v, UnitCosts) and v is not costs[me]]
    if contributors < 5:
        # Below the threshold the only figures are the provider's own.
        own_figures = {v for v in _everything_in(costs[me]) if isinstance(v, D)}
        figures = {v for v in reachable if isinstance(v, D)}
        assert figures <= own_figures
        assert str(mine.market) == f"not enough providers: {contributors} of 5"


def test_an_anonymised_view_holds_no_provider_codes():
    view = market_view(costs_of(list(CONTACT_PAY)))
    result = anonymised(view)
    assert not [v for v in _everything_in(result) if isinstance(v, str) and any(c in v for c in CONTACT_PAY)]
    assert not any(code in repr(result) for code in CONTACT_PAY)
    assert for_provider(view, "someone-else").own is None
