"""KPI results: met or missed in each direction, corrections as new events, and the incentive gate's view."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from domain.agreements.agreement import Agreement
from domain.envelope import Actor, Envelope
from domain.errors import InvalidInput, NotFound
from domain.incentives.kpi_results import KpiResults, find_kpi, kpi_standing
from domain.periods import FinancialYear, parse_period

ACCOUNTANT = Actor("accountant@hfd.example", "hfd-council")
START = date(2017, 4, 1)
Y = parse_period("2018-19")


def on(day: date, reason: str | None = "KPI results") -> Envelope:
    return Envelope(ACCOUNTANT, day, reason)


def agreement() -> Agreement:
    found = Agreement.register(on(START), "hfd", "Help to Live at Home", "framework", START, date(2022, 6, 30))
    found.define_kpi(on(START), "missed-visits", "Missed visits", "per 1,000 planned", D("0.5"), "lower-is-better")
    found.define_kpi(on(START), "continuity", "Continuity of carer", "% by regular carers", D("80"), "higher-is-better")
    return found


def results() -> KpiResults:
    return KpiResults.open(on(date(2019, 5, 1)), "hfd", "hfd-provider-a", Y)


@pytest.mark.parametrize(
    ("kpi", "value", "met"),
    [
        ("continuity", D("80"), True),  # higher is better: exactly the target is met
        ("continuity", D("80.1"), True),
        ("continuity", D("79.9"), False),
        ("missed-visits", D("0.5"), True),  # lower is better: exactly the target is met
        ("missed-visits", D("0.2"), True),
        ("missed-visits", D("0.51"), False),
    ],
)
def test_met_or_missed_in_each_direction(kpi, value, met):
    record = results()
    assert record.record(on(date(2019, 5, 1)), find_kpi(agreement(), kpi, Y), value, "ECM report") == "recorded"
    result = record.results[kpi]
    assert (result.value, result.met) == (value, met)
    assert result.verdict.endswith("(met)" if met else "(missed)")


def test_a_kpi_is_found_by_code_or_name_and_an_unknown_one_is_refused_listing_the_kpis():
    found = agreement()
    assert find_kpi(found, "Missed Visits", Y).code == "missed-visits"
    with pytest.raises(NotFound, match=r"kpi: 'late-visits' is not a KPI of hfd on 2019-03-31 .*missed-visits, continuity"):
        find_kpi(found, "late-visits", Y)


def test_the_kpi_in_force_on_the_periods_last_day_judges_the_result():
    found = agreement()
    found.define_kpi(on(date(2018, 10, 1), "target raised"), "continuity", "Continuity of carer", "%", D("85"),
                     "higher-is-better")  # fmt: skip
    record = results()
    record.record(on(date(2019, 5, 1)), find_kpi(found, "continuity", Y), D("82"), "rostering report")
    assert record.results["continuity"].target == D("85") and not record.results["continuity"].met
    q1 = parse_period("2018-19-Q1")  # ended before the revision
    assert find_kpi(found, "continuity", q1).target == D("80")


def test_a_correction_is_a_new_event_with_the_value_before_and_needs_a_reason():
    record = results()
    kpi = find_kpi(agreement(), "missed-visits", Y)
    record.record(on(date(2019, 5, 1)), kpi, D("0.8"), "ECM report")
    assert record.record(on(date(2019, 5, 2)), kpi, D("0.8"), "ECM report") == "unchanged"
    with pytest.raises(InvalidInput, match="reason: a correction of hfd-provider-a's missed-visits result"):
        record.record(on(date(2019, 6, 1), None), kpi, D("0.4"), "ECM report, re-run")
    assert record.record(on(date(2019, 6, 1), "ECM report re-run"), kpi, D("0.4"), "ECM report, re-run") == "corrected"
    events = record.collect_events()
    assert [type(e).__name__ for e in events] == ["Opened", "Recorded", "Corrected"]
    assert (events[2].previous_value, events[2].previous_met, events[2].value, events[2].met) == (
        D("0.8"), False, D("0.4"), True,
    )  # fmt: skip
    result = record.results["missed-visits"]
    assert (result.corrections, result.previous_value, result.met) == (1, D("0.8"), True)


def test_values_are_exact_and_every_result_needs_evidence():
    record = results()
    kpi = find_kpi(agreement(), "continuity", Y)
    with pytest.raises(TypeError, match="never float"):
        record.record(on(date(2019, 5, 1)), kpi, 95.0, "report")
    with pytest.raises(InvalidInput, match="value: '95%' is not a number"):
        record.record(on(date(2019, 5, 1)), kpi, "95%", "report")
    with pytest.raises(InvalidInput, match="evidence: must not be blank"):
        record.record(on(date(2019, 5, 1)), kpi, "95", "  ")


def test_the_gate_counts_a_kpi_with_no_result_as_missed_and_says_so():
    year = FinancialYear(2018)
    standing = kpi_standing("continuity", year, [])
    assert not standing.met
    assert standing.note == "continuity missed: no result recorded for 2018-19 or its quarters, so it counts as missed"


def test_the_gate_needs_every_result_of_the_year_and_its_quarters_met():
    record = results()
    kpi = find_kpi(agreement(), "continuity", Y)
    record.record(on(date(2019, 5, 1)), kpi, D("90"), "report")
    met = record.results["continuity"]
    quarter = KpiResults.open(on(date(2019, 5, 1)), "hfd", "hfd-provider-a", parse_period("2018-19-Q3"))
    quarter.record(on(date(2019, 5, 1)), find_kpi(agreement(), "continuity", parse_period("2018-19-Q3")), D("70"), "r")
    missed = quarter.results["continuity"]
    year = FinancialYear(2018)
    assert kpi_standing("continuity", year, [("2018-19", met)]).met
    standing = kpi_standing("continuity", year, [("2018-19", met), ("2018-19-Q3", missed)])
    assert not standing.met and standing.label == "continuity (2018-19-Q3: 70 against a target of at least 80)"
