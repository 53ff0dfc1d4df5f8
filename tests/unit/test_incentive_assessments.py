"""Assessment lines: the Herefordshire arithmetic written out, the KPI gate, the cap, and re-runs.

DOMAIN.md's worked example: baseline 10,000 h, actual 9,200 h, at least 5%
reduction, £2.00 an hour beyond it (illustrative):
reduction 800 h, threshold 500 h, eligible 300 h, payment £600.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from domain.envelope import Actor, Envelope
from domain.incentives.incentive_assessment import HoursFigure, IncentiveAssessment, assessment_line
from domain.incentives.incentive_scheme import check_terms
from domain.incentives.kpi_results import KpiStanding

ACCOUNTANT = Actor("accountant@hfd.example", "hfd-council")
MET = (KpiStanding("missed-visits", True, "2018-19: 0.3 against a target of at most 0.5"),)
BASELINE = HoursFigure(D("10000"), "2017-18 activity: 600,000 payable minutes ÷ 60", 600_000)
ACTUAL = HoursFigure(D("9200"), "2018-19 activity: 552,000 payable minutes ÷ 60", 552_000)


def terms(**changes):
    return check_terms(from_year="2017-18", minimum_reduction="0.05", payment_per_hour="2.00", **changes)


def test_the_worked_example_with_its_arithmetic():
    line = assessment_line("hfd-provider-a", terms(), BASELINE, ACTUAL, MET)
    assert (line.reduction_hours, line.threshold_hours, line.eligible_hours, line.payment) == (
        D("800"), D("500"), D("300"), D("600.00"),
    )  # fmt: skip
    assert line.eligible and not line.capped and line.missed_kpis == ()
    assert line.working == (
        "threshold = 10,000 h × 0.05 = 500 h; reduction = 10,000 h − 9,200 h = 800 h; "
        "eligible = max(0, 800 h − 500 h) = 300 h; earned = 300 h × £2.00 = £600.00; payment £600.00"
    )
    assert line.reason.startswith("Payment £600.00") and line.reason.endswith("all KPIs were met.")
    assert line.kpi_notes == ("missed-visits met: 2018-19: 0.3 against a target of at most 0.5",)


def test_a_kpi_with_no_result_withholds_the_payment_and_the_reason_says_so():
    standings = (*MET, KpiStanding("continuity", False, "no result recorded for 2018-19 or its quarters, so it counts as missed"))
    line = assessment_line("hfd-provider-a", terms(), BASELINE, ACTUAL, standings)
    assert (line.eligible_hours, line.payment, line.missed_kpis) == (D("300"), D("0.00"), ("continuity",))
    assert "these KPIs were missed: continuity (no result recorded for 2018-19" in line.reason
    assert line.working.endswith("earned = 300 h × £2.00 = £600.00; withheld, KPI missed: continuity; payment £0.00")


def test_the_cap_limits_the_payment():
    line = assessment_line("hfd-provider-a", terms(cap="500.00"), BASELINE, ACTUAL, MET)
    assert (line.payment, line.capped) == (D("500.00"), True)
    assert line.working.endswith("£600.00; capped at £500.00; payment £500.00")


def test_a_share_of_the_saving_at_the_rate():
    chosen = check_terms(
        from_year="2017-18", minimum_reduction="0.05", payment="share-of-saving", saving_rate="15.80",
        saving_share="0.5",
    )  # fmt: skip
    line = assessment_line("hfd-provider-a", chosen, BASELINE, ACTUAL, MET)
    assert (line.payment_per_hour, line.payment) == (D("7.900"), D("2370.00"))
    assert "earned = 300 h × £15.80 × 0.5 = £2,370.00" in line.working


def test_without_a_baseline_there_is_nothing_to_reduce_from():
    none = HoursFigure(D("0.00"), "no payable hours of hfd-provider-d recorded under hfd in 2017-18", 0)
    line = assessment_line("hfd-provider-d", terms(), none, ACTUAL, MET)
    assert (line.payment, line.reduction_hours, line.eligible) == (D("0.00"), None, False)
    assert line.reason == (
        "No payment: there is no baseline to reduce from "
        "(no payable hours of hfd-provider-d recorded under hfd in 2017-18)."
    )
    unstated = assessment_line("hfd-provider-d", terms(), None, ACTUAL, MET)
    assert "the scheme states no baseline for this provider" in unstated.reason


def test_a_rerun_records_the_difference_and_an_unchanged_one_records_nothing():
    envelope = Envelope(ACCOUNTANT, date(2019, 5, 15), "annual assessment")
    missed = (KpiStanding("missed-visits", False, "2018-19: 0.8 against a target of at most 0.5"),)
    first = [
        assessment_line("hfd-provider-a", terms(), BASELINE, ACTUAL, missed),
        assessment_line("hfd-provider-b", terms(), BASELINE, ACTUAL, MET),
    ]
    assessment = IncentiveAssessment.assess(envelope, "hfd", "2018-19", terms(), first, "basis")
    assert (assessment.run, assessment.total, assessment.payments) == (
        1, D("600.00"), {"hfd-provider-a": D("0.00"), "hfd-provider-b": D("600.00")},
    )  # fmt: skip
    assert not assessment.reassess(envelope, terms(), first, "later basis")
    corrected = [assessment_line("hfd-provider-a", terms(), BASELINE, ACTUAL, MET), first[1]]
    assert assessment.reassess(envelope, terms(), corrected, "basis after the correction")
    assert (assessment.run, assessment.total, assessment.previous_total) == (2, D("1200.00"), D("600.00"))
    assert assessment.difference == {"hfd-provider-a": D("600.00"), "hfd-provider-b": D("0.00")}
    assert assessment.changes == [
        {"provider": "hfd-provider-a", "field": "missed_kpis", "before": "missed-visits", "after": "none"},
        {"provider": "hfd-provider-a", "field": "payment", "before": "0.00", "after": "600.00"},
    ]
    assert [type(e).__name__ for e in assessment.collect_events()] == ["Assessed", "Reassessed"]
