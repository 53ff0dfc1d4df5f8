"""Plausibility findings on a return: figures that cannot all be true, or that an accountant should see.

Figures: the Homecare Association's 2020-21 minimum price (tests/worked_examples.py), for 10,000 contact
hours in 20,000 visits of 30 minutes with 5.85 travel minutes a visit: 60 ÷ 30 × 5.85 = 11.70 travel minutes
per contact hour, careworker pay £8.72 + £1.70 = £10.42 per contact hour, surplus £0.60 of £20.69 = 2.90%.
Each test changes one figure so that one finding appears.
"""

from __future__ import annotations

from decimal import Decimal as D

from domain.returns.filing import CostReturnFiling
from domain.returns.plausibility import (
    DEFAULT_BOUNDS,
    PlausibilityBounds,
    bounds_for,
    check_plausibility,
    check_ranges,
)
from domain.returns.wage_checks import FindingKind
from tests.unit.test_cost_model import PER_HOUR_2020_21, filing_data


def _filing(per_hour=PER_HOUR_2020_21, **volume_changes: object) -> CostReturnFiling:
    return CostReturnFiling.parse(filing_data("10000", per_hour, **volume_changes))


def test_the_2020_21_worked_example_is_plausible():
    assert check_plausibility(_filing()) == ()


def test_careworker_pay_per_contact_hour_below_the_lowest_hourly_pay_implies_negative_travel():
    # £10.42 per contact hour for contact and travel time, but no one is paid under £10.50 an hour:
    # fewer hours were paid than were delivered.
    (finding,) = check_plausibility(_filing(lowest_hourly_pay="10.50", typical_hourly_pay="11.00"))
    assert (finding.kind, finding.value, finding.bound) == (FindingKind.PAY_BELOW_LOWEST, D("10.42"), D("10.50"))
    assert finding.needs_explanation and finding.field == "lines.pay"
    assert "£10.42 per contact hour is below the stated lowest hourly pay of £10.50" in finding.message
    assert "negative travel" in finding.message


def test_contact_hours_far_from_visits_times_minutes_are_a_finding():
    # 24,000 visits × 30 minutes ÷ 60 = 12,000 hours; 10,000 filed is 2,000 (16.7%) short, beyond 10%.
    (finding,) = check_plausibility(_filing(visits="24000"))
    assert (finding.kind, finding.value, finding.bound) == (FindingKind.CONTACT_HOURS, D("10000"), D("12000.00"))
    assert finding.needs_explanation
    assert "10,000 contact hours filed, but 24,000 visits × 30 minutes ÷ 60 = 12,000 hours" in finding.message
    # 21,000 visits: 10,500 hours, 500 (4.8%) apart: within 10%.
    assert check_plausibility(_filing(visits="21000")) == ()


def test_travel_minutes_per_contact_hour_outside_the_range_are_shown():
    # 60 ÷ 30 × 16 = 32.00 minutes per contact hour, above 30; 60 ÷ 30 × 0.5 = 1.00, below 2.
    (high,) = check_plausibility(_filing(average_travel_minutes="16"))
    assert (high.kind, high.value, high.bound) == (FindingKind.TRAVEL_MINUTES, D("32.00"), D(30))
    assert not high.needs_explanation
    assert high.message == "32.00 travel minutes per contact hour (60 ÷ 30 × 16) is outside 2 to 30"
    (low,) = check_plausibility(_filing(average_travel_minutes="0.5"))
    assert (low.value, low.bound) == (D("1.00"), D(2))


def test_a_surplus_margin_above_the_level_is_shown():
    # Surplus £2.60 instead of £0.60: total £22.69, margin 2.60 ÷ 22.69 = 11.46%, above 10%.
    per_hour = {**PER_HOUR_2020_21, "surplus": D("2.60")}
    per_hour = {line: D(rate) for line, rate in per_hour.items()}
    (finding,) = check_plausibility(_filing(per_hour))
    assert (finding.kind, finding.value, finding.bound) == (FindingKind.SURPLUS_MARGIN, D("11.46"), D(10))
    assert finding.message == "a surplus margin of 11.46% of the total is above 10%"


def test_an_agreement_may_state_its_own_bounds_and_which_findings_need_an_explanation():
    per_hour = {line: D(rate) for line, rate in {**PER_HOUR_2020_21, "surplus": D("2.60")}.items()}
    assert check_plausibility(_filing(per_hour), PlausibilityBounds(surplus_margin_highest_percent=D(12))) == ()
    strict = PlausibilityBounds(explanation_required=frozenset({FindingKind.SURPLUS_MARGIN}))
    (finding,) = check_plausibility(_filing(per_hour), strict)
    assert finding.needs_explanation and "an accountant must record an explanation" in finding.message
    assert FindingKind.SURPLUS_MARGIN not in DEFAULT_BOUNDS.explanation_required


def test_an_agreements_profit_cap_is_its_surplus_level():
    # Maximum profit margin 0.02 (2%): the worked example's 2.90% is above it; no cap keeps the defaults.
    assert bounds_for(None) is DEFAULT_BOUNDS
    (finding,) = check_plausibility(_filing(), bounds_for(D("0.02")))
    assert finding.message == "a surplus margin of 2.90% of the total is above 2%"
    assert check_plausibility(_filing(), bounds_for(D("0.05"))) == ()


def test_the_surplus_level_is_measured_on_the_pools_margin_basis_and_the_finding_names_it():
    # The worked example's surplus £0.60 is 2.90% of the total £20.69 but 0.60 ÷ 20.09 = 2.99% of cost. Under a
    # 2.95% cap a pool measuring its clawback on the total claws nothing back and finds nothing; one measuring it
    # on cost claws back, and the finding says so on the same basis.
    assert check_plausibility(_filing(), bounds_for(D("0.0295"))) == ()
    assert check_plausibility(_filing(), bounds_for(D("0.0295"), "total")) == ()
    (finding,) = check_plausibility(_filing(), bounds_for(D("0.0295"), "cost"))
    assert (finding.kind, finding.value, finding.bound) == (FindingKind.SURPLUS_MARGIN, D("2.99"), D("2.95"))
    assert finding.message == (
        "a surplus margin of 2.99% of cost (surplus ÷ the total less the surplus, the pool's clawback basis) "
        "is above 2.95%"
    )


def test_an_agreements_stated_ranges_replace_the_defaults_and_the_rest_stay():
    stated = check_ranges({"travel_minutes_highest": "35", "contact_hours_tolerance_percent": None}, [])
    assert stated == {"travel_minutes_highest": D("35"), "explanation_required": []}
    bounds = bounds_for(None, "total", stated)
    assert (bounds.travel_minutes_lowest, bounds.travel_minutes_highest) == (D(2), D(35))
    assert bounds.contact_hours_tolerance_percent == D(10) and bounds.explanation_required == frozenset()
    # 24,000 visits: 16.7% short of 12,000 hours, a finding that no longer needs an explanation; travel 32.00 is
    # within 2 to 35.
    (hours,) = check_plausibility(_filing(visits="24000", average_travel_minutes="16"), bounds)
    assert hours.kind is FindingKind.CONTACT_HOURS and not hours.needs_explanation
    assert bounds_for(None, "total", {}) is DEFAULT_BOUNDS
