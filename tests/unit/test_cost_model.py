"""The standard cost model: the £20.69 worked example, every bad input's message, wage checks.

Figures from DOMAIN.md: the Homecare Association minimum price for 2020-21,
£20.69 per contact hour, broken down as contact pay £8.72, travel time
£1.70, NI and pension £1.14, other on-costs £1.97, mileage £1.36, running the
business £5.20, surplus £0.60; the National and Real Living Wage tables.
Invented: how the combined figures are split (below), the volumes, and the
Real Living Wage commitment dates.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput, NotFound
from domain.money import round_money
from domain.periods import DATE_FORMS, parse_period
from domain.returns.filing import CostGroup, CostLine, CostReturnFiling, FilingInvalid, Volume, Volumes, lines_in
from domain.returns.unit_costs import hours_weighted_rate, rate_gap, shown, unit_costs
from domain.returns.wage_checks import FindingKind, check_wages
from tests.worked_examples import PER_HOUR_2020_21 as WORKED_EXAMPLE

# The 2020-21 breakdown per contact hour, with the combined figures split (invented split):
# NI 0.70 + pension 0.44 = 1.14; holiday 1.26 + training 0.31 + sickness/other 0.40 = 1.97;
# running the business 2.60 + 0.50 + 0.35 + 0.30 + 0.25 + 0.40 + 0.80 = 5.20; PPE 0 (free in 2020-21).
PER_HOUR_2020_21 = {CostLine(line): D(rate) for line, rate in WORKED_EXAMPLE.items()}
NI_AND_PENSION = (CostLine.EMPLOYER_NI, CostLine.PENSION)
OTHER_ON_COSTS = (CostLine.HOLIDAY_PAY, CostLine.TRAINING, CostLine.SICKNESS_OTHER_ONCOSTS)


def volumes(hours: D | str = "10000", **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "contact_hours": str(hours),
        "visits": "20000",
        "average_visit_minutes": "30",
        "average_travel_minutes": "5.85",
        "careworker_headcount": "10",
        "careworker_fte": "8.5",
        "hours_paid": str(D(hours) * D("1.3")),
        "lowest_hourly_pay": "8.72",
        "typical_hourly_pay": "9.00",
    }
    data.update(changes)
    return data


def filing_data(hours: D | str = "10000", per_hour=PER_HOUR_2020_21, **volume_changes: object) -> dict[str, object]:
    """A return for ``hours`` contact hours at the per-hour figures: each amount to the penny."""
    lines = {line.value: str(round_money(rate * D(hours))) for line, rate in per_hour.items()}
    return {"lines": lines, "volumes": volumes(hours, **volume_changes)}


def problems_of(data: object) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        CostReturnFiling.parse(data)  # type: ignore[arg-type]
    return caught.value.problems


# -- the worked example ---------------------------------------------------------------------------


@pytest.mark.parametrize("hours", ["10000", "52000", "123456.5"])
def test_the_2020_21_breakdown_gives_20_69_per_contact_hour_at_any_volume(hours):
    costs = unit_costs(CostReturnFiling.parse(filing_data(hours)))
    assert shown(costs.total_per_hour) == D("20.69")
    # The combined figures of DOMAIN.md come out as published.
    assert shown(costs.per_line[CostLine.CONTACT_PAY]) == D("8.72")
    assert shown(costs.per_line[CostLine.TRAVEL_PAY]) == D("1.70")
    assert shown(costs.per_hour_of(NI_AND_PENSION)) == D("1.14")
    assert shown(costs.per_hour_of(OTHER_ON_COSTS)) == D("1.97")
    assert shown(costs.per_line[CostLine.MILEAGE]) == D("1.36")
    assert shown(costs.per_group(CostGroup.RUNNING_THE_BUSINESS)) == D("5.20")
    assert shown(costs.per_line[CostLine.SURPLUS]) == D("0.60")
    # Groups: pay 8.72 + 1.70; on-costs 1.14 + 1.97.
    assert shown(costs.per_group(CostGroup.PAY)) == D("10.42")
    assert shown(costs.per_group(CostGroup.ON_COSTS)) == D("3.11")
    # 3.11 / 10.42 = 29.85%; 0.60 / (20.69 - 0.60) = 2.99%; 0.60 / 20.69 = 2.90%.
    assert costs.on_costs_percent_of_pay == D("29.85")
    assert costs.surplus_percent_of_cost == D("2.99")
    assert costs.surplus_percent_of_total == D("2.90")
    # (60 / 30 minutes) × 5.85 minutes = 11.70 travel minutes per contact hour.
    assert costs.travel_minutes_per_contact_hour == D("11.70")


def test_the_worked_example_at_10000_hours_is_exact():
    costs = unit_costs(CostReturnFiling.parse(filing_data("10000")))
    assert costs.total_cost == D("206900.00")  # 20.69 × 10,000
    assert costs.total_per_hour == D("20.6900")
    assert costs.per_line[CostLine.CONTACT_PAY] == D("8.7200")


def test_per_hour_figures_keep_four_places_and_the_total_is_rounded_once():
    # £100 over 3 hours: 33.3333…; a line of £1 and a line of £99 are 0.3333 and 33.0000.
    data = filing_data("10000")
    data["lines"] = {line.value: "0" for line in CostLine} | {"contact_pay": "99.00", "mileage": "1.00"}
    data["volumes"] = volumes("3", hours_paid="3")
    costs = unit_costs(CostReturnFiling.parse(data))
    assert costs.per_line[CostLine.CONTACT_PAY] == D("33.0000")
    assert costs.per_line[CostLine.MILEAGE] == D("0.3333")
    assert costs.total_per_hour == D("33.3333")
    assert shown(costs.total_per_hour) == D("33.33")


def test_travel_minutes_per_contact_hour_is_sixty_over_visit_length_times_travel():
    data = filing_data(average_visit_minutes="45", average_travel_minutes="10")
    # (60 / 45) × 10 = 13.333… minutes
    assert unit_costs(CostReturnFiling.parse(data)).travel_minutes_per_contact_hour == D("13.33")


def test_the_rate_gap_is_the_rate_less_the_cost_per_hour():
    costs = unit_costs(CostReturnFiling.parse(filing_data()))
    gap = rate_gap(costs, D("15.60"), "Wirral aggregated rate, standard, zone-1")
    assert gap.gap == D("-5.0900")  # 15.60 − 20.69: the rate falls short by £5.09 an hour
    assert gap.rate_source.startswith("Wirral")
    with pytest.raises(TypeError):
        rate_gap(costs, 15.6, "a float")  # type: ignore[arg-type]


def test_the_hours_weighted_rate_paid():
    # 70% of hours at £12.80 and 30% at £15.80: £13.70 (Herefordshire's blend).
    assert hours_weighted_rate([(D("12.80"), D("700")), (D("15.80"), D("300"))]) == D("13.7000")
    with pytest.raises(NotFound):
        hours_weighted_rate([])


def test_a_deficit_is_a_negative_surplus_and_is_allowed():
    data = filing_data()
    data["lines"]["surplus"] = "-1500.00"
    costs = unit_costs(CostReturnFiling.parse(data))
    assert costs.per_line[CostLine.SURPLUS] == D("-0.1500")
    assert costs.surplus_percent_of_cost < 0


# -- what counts as what ----------------------------------------------------------------------------


def test_pay_and_on_costs_are_the_documented_lines():
    assert lines_in(CostGroup.PAY) == (CostLine.CONTACT_PAY, CostLine.TRAVEL_PAY)
    assert lines_in(CostGroup.ON_COSTS) == (
        CostLine.EMPLOYER_NI,
        CostLine.PENSION,
        CostLine.HOLIDAY_PAY,
        CostLine.TRAINING,
        CostLine.SICKNESS_OTHER_ONCOSTS,
    )
    assert lines_in(CostGroup.TRAVEL) == (CostLine.MILEAGE,)
    assert all(line.label for line in CostLine) and all(group.label for group in CostGroup)


def test_keys_are_stable():
    assert [line.value for line in CostLine] == [
        "contact_pay", "travel_pay", "mileage", "employer_ni", "pension", "holiday_pay", "training",
        "sickness_other_oncosts", "ppe", "office_staff", "premises", "it_rostering", "insurance",
        "regulator_fees", "recruitment", "other_business_costs", "surplus",
    ]  # fmt: skip
    assert [volume.value for volume in Volume] == list(Volumes.model_fields)
    assert [group.value for group in CostGroup] == [
        "pay", "on-costs", "travel", "consumables", "running-the-business", "surplus",
    ]  # fmt: skip


# -- boundary conversion ------------------------------------------------------------------------------


def test_figures_are_exact_decimals_as_filed():
    data = filing_data()
    data["lines"]["contact_pay"] = "£87,200"
    data["stated_total"] = "206900"
    filing = CostReturnFiling.parse(data)
    assert str(filing.lines[CostLine.CONTACT_PAY]) == "87200.00"
    assert str(filing.stated_total) == "206900.00"
    assert str(filing.volumes.contact_hours) == "10000.00"
    assert filing.volumes.visits == 20000 and isinstance(filing.volumes.visits, int)


def test_the_stored_form_round_trips_without_checking_again():
    filing = CostReturnFiling.parse(filing_data("123456.5") | {"notes": {"pension": "3% auto-enrolment"}})
    data = filing.to_data()
    assert all(isinstance(key, str) for key in data["lines"])
    back = CostReturnFiling.from_data(data)
    assert back == filing and back.to_data() == data
    # A stored figure that today's rules would refuse still replays as it was.
    data["volumes"]["average_visit_minutes"] = D("3.00")
    assert CostReturnFiling.from_data(data).volumes.average_visit_minutes == D("3.00")


# -- every bad input has its own message ---------------------------------------------------------------


def _with(path: str, value: object, data: dict | None = None) -> dict:
    data = data or filing_data()
    head, _, key = path.partition(".")
    if key:
        if value is _MISSING:
            del data[head][key]
        else:
            data[head][key] = value
    else:
        data[head] = value
    return data


_MISSING = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("lines.pension", "-1.00", "lines.pension: must not be negative"),
        ("volumes.contact_hours", "0", "volumes.contact_hours: must be more than zero"),
        ("volumes.average_visit_minutes", "3", "volumes.average_visit_minutes: 3 is implausible (expected 5 to 240)"),
        ("volumes.average_visit_minutes", "300", "volumes.average_visit_minutes: 300 is implausible (expected 5 to 240)"),
        ("volumes.average_travel_minutes", "150", "volumes.average_travel_minutes: 150 is implausible (expected 0 to 120)"),
        ("volumes.average_travel_minutes", "-1", "volumes.average_travel_minutes: must not be negative"),
        ("stated_total", "206899.99", "stated_total: £206,899.99 does not equal the sum of the lines £206,900.00"),
        ("lines.mileage", "13600.001", "lines.mileage: 13600.001 has more than 2 decimal places"),
        ("lines.mileage", 13600.0, "lines.mileage: 13600.0 is a float; give the figure as text, an int or a Decimal"),
        ("lines.mileage", "lots", "lines.mileage: 'lots' is not a number"),
        ("lines.ppe", _MISSING, "lines.ppe: is required (enter 0 if there is no cost)"),
        ("lines.pensoin", "1.00", "lines.pensoin: not a cost line; the lines are contact_pay, travel_pay"),
        ("volumes.visits", "1.5", "volumes.visits: 1.5 must be a whole number"),
        ("volumes.visits", "0", "volumes.visits: must be more than zero"),
        ("volumes.careworker_fte", _MISSING, "volumes.careworker_fte: is required"),
        ("volumes.contact_hours", "10000.005", "volumes.contact_hours: 10000.005 has more than 2 decimal places"),
        ("volumes.lowest_hourly_pay", "9.50", "volumes.lowest_hourly_pay: £9.50 is more than the typical hourly pay £9.00"),
        ("volumes.hours_paid", "9000", "volumes.hours_paid: 9,000 is less than the 10,000 contact hours"),
        ("volumes.overtime", "1", "volumes.overtime: is not part of a cost return"),
        ("period", "2020-21", "period: is not part of a cost return"),
        ("prepared_on", "31/13/2021", "prepared_on: '31/13/2021' is not a date"),
        # the one date reader (domain.periods.parse_date), with the words an option's refusal has too
        ("prepared_on", "2021/04/30", f"prepared_on: '2021/04/30' is not a date; write it as {DATE_FORMS}"),
    ],
)
def test_each_bad_input_has_its_own_message(path, value, message):
    problems = problems_of(_with(path, value))
    assert [p for p in problems if p.startswith(message)], problems
    assert len(problems) == 1, problems


def test_every_problem_is_reported_at_once_each_naming_its_field():
    data = filing_data()
    data["lines"]["pension"] = "-1.00"
    data["lines"]["training"] = "abc"
    data["volumes"]["contact_hours"] = "0"
    data["volumes"]["average_visit_minutes"] = "3"
    data["stated_total"] = "1.00"
    with pytest.raises(FilingInvalid) as caught:
        CostReturnFiling.parse(data)
    assert [str(p) for p in caught.value.field_problems] == caught.value.problems
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "lines.pension",
        "lines.training",
        "volumes.contact_hours",
        "volumes.average_visit_minutes",
    ]  # the total is not checked against lines that are not numbers


def test_a_wrong_total_is_reported_beside_a_negative_line():
    data = filing_data()
    data["lines"]["pension"] = "-1.00"
    data["stated_total"] = "1.00"
    fields = [p.split(":")[0] for p in problems_of(data)]
    assert fields == ["lines.pension", "stated_total"]


def test_a_filing_that_is_not_a_table_is_refused():
    assert problems_of([]) == ["cost return: must be a table of its parts"]
    assert problems_of({}) == ["lines: is required", "volumes: is required"]


# -- properties --------------------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
hours_values = st.decimals(min_value=D("0.01"), max_value=10**6, places=2, allow_nan=False, allow_infinity=False)


def _filing(line_amounts: list[D], hours: D) -> CostReturnFiling:
    return CostReturnFiling.parse(
        {
            "lines": {line.value: amount for line, amount in zip(CostLine, line_amounts)},
            "volumes": volumes(hours, hours_paid=str(hours)),
        }
    )


@given(st.lists(amounts, min_size=len(CostLine), max_size=len(CostLine)), hours_values)
def test_per_line_figures_add_up_to_the_total_within_rounding(line_amounts, hours):
    costs = unit_costs(_filing(line_amounts, hours))
    # Each of 17 lines is rounded to 4 places once: at most half a unit of the 4th place each.
    assert abs(sum(costs.per_line.values()) - costs.total_per_hour) <= len(CostLine) * D("0.00005")


@given(st.lists(amounts, min_size=len(CostLine), max_size=len(CostLine)), hours_values, st.integers(2, 1000))
def test_scaling_every_amount_and_the_hours_leaves_per_hour_figures_unchanged(line_amounts, hours, factor):
    one = unit_costs(_filing(line_amounts, hours))
    scaled = unit_costs(_filing([a * factor for a in line_amounts], hours * factor))
    assert scaled.per_line == one.per_line
    assert scaled.total_per_hour == one.total_per_hour
    assert scaled.on_costs_percent_of_pay == one.on_costs_percent_of_pay


# -- wage checks -------------------------------------------------------------------------------------


def _paying(lowest: str, typical: str = "9.50") -> CostReturnFiling:
    return CostReturnFiling.parse(filing_data(lowest_hourly_pay=lowest, typical_hourly_pay=typical))


def test_pay_below_the_national_living_wage_is_a_breach_needing_an_explanation():
    quarter = parse_period("2020-21-Q2")
    (finding,) = check_wages(_paying("8.50"), quarter.start, quarter.end)
    assert finding.kind is FindingKind.NLW_BREACH and finding.needs_explanation
    assert (finding.pay, finding.floor, finding.floor_from) == (D("8.50"), D("8.72"), date(2020, 7, 1))
    assert finding.field == "volumes.lowest_hourly_pay"
    assert "£8.50 is below the National Living Wage of £8.72 (for workers aged 25 and over)" in finding.message


def test_pay_at_the_national_living_wage_is_no_breach():
    year = parse_period("2020-21")
    assert check_wages(_paying("8.72"), year.start, year.end) == ()


def test_the_floor_in_force_on_any_day_of_the_period_counts():
    # March to April 2020: £8.21 until 31 March, £8.72 from 1 April; £8.50 breaches the latter.
    (finding,) = check_wages(_paying("8.50"), date(2020, 3, 1), date(2020, 4, 30))
    assert (finding.floor, finding.floor_from) == (D("8.72"), date(2020, 4, 1))
    assert check_wages(_paying("8.50"), date(2020, 3, 1), date(2020, 3, 31)) == ()


def test_before_the_national_living_wage_the_national_minimum_wage_adult_rate_is_the_floor():
    # 2015-16 Q1: the NMW adult rate was £6.50 (from 1 October 2014) for workers aged 21 and over.
    (finding,) = check_wages(_paying("5.00", "6.00"), date(2015, 4, 1), date(2015, 6, 30))
    assert (finding.kind, finding.floor, finding.floor_from) == (FindingKind.NLW_BREACH, D("6.50"), date(2015, 4, 1))
    assert (finding.floor_name, finding.band) == ("National Minimum Wage (adult rate)", "21 and over")
    assert check_wages(_paying("6.50", "7.00"), date(2015, 4, 1), date(2015, 6, 30)) == ()


def test_pay_below_a_real_living_wage_commitment_is_a_flag():
    quarter = parse_period("2020-21-Q2")
    (flag,) = check_wages(_paying("9.00"), quarter.start, quarter.end, D("9.30"))
    assert flag.kind is FindingKind.RLW_FLAG and not flag.needs_explanation
    assert flag.message == "£9.00 is below the Real Living Wage of £9.30 (for workers aged 18 and over) the agreement commits to from 2020-07-01"
    assert check_wages(_paying("9.30"), quarter.start, quarter.end, D("9.30")) == ()


def test_a_commitment_given_as_rate_on_date_applies_from_its_date():
    # Invented: a commitment to £9.50 from 1 November 2020, none before.
    def committed(day: date) -> D | None:
        return D("9.50") if day >= date(2020, 11, 1) else None

    q2, q3 = parse_period("2020-21-Q2"), parse_period("2020-21-Q3")
    assert check_wages(_paying("9.30"), q2.start, q2.end, committed) == ()
    (flag,) = check_wages(_paying("9.30"), q3.start, q3.end, committed)
    assert (flag.floor, flag.floor_from) == (D("9.50"), date(2020, 11, 1))


def test_a_breach_and_a_flag_together():
    year = parse_period("2020-21")
    kinds = [f.kind for f in check_wages(_paying("8.50"), year.start, year.end, D("9.30"))]
    assert kinds == [FindingKind.NLW_BREACH, FindingKind.RLW_FLAG]
