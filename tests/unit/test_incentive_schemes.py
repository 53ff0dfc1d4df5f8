"""Incentive schemes: every field checked and named, terms as at a financial year, amendments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from domain.agreements.agreement import Agreement
from domain.envelope import Actor, Envelope
from domain.errors import InvalidInput, NotFound
from domain.incentives.incentive_scheme import BaselineRule, IncentiveScheme, KpiGate, Measure, PaymentRule, check_terms

ACCOUNTANT = Actor("accountant@hfd.example", "hfd-council")
START = date(2017, 4, 1)


def on(day: date = START, reason: str | None = "incentive rule") -> Envelope:
    return Envelope(ACCOUNTANT, day, reason)


def herefordshire(**changes):
    """Reduce hours by at least 5% a year; £2.00 an hour beyond it; only if all KPIs are met."""
    terms = {"from_year": "2017-18", "minimum_reduction": "0.05", "payment_per_hour": "2.00", **changes}
    return check_terms(**terms)


def problems(**changes) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        herefordshire(**changes)
    return caught.value.problems


def test_herefordshire_terms_and_the_defaults():
    terms = herefordshire()
    assert (terms.measure, terms.baseline, terms.payment, terms.kpi_gate) == (
        Measure.PAYABLE_HOURS, BaselineRule.PREVIOUS_YEAR, PaymentRule.PER_HOUR, KpiGate.ALL,
    )  # fmt: skip
    assert (terms.minimum_reduction, terms.payment_per_hour, terms.cap) == (D("0.05"), D("2.00"), None)
    assert str(terms.minimum_reduction) == "0.05"  # kept as written
    assert "minimum reduction: 0.05 (5% of the baseline)" in terms.describe()
    assert "payment: £2.00 per hour of reduction beyond the minimum" in terms.describe()


def test_a_percentage_given_as_a_whole_number_is_refused_with_a_hint():
    assert problems(minimum_reduction="5") == [
        "minimum_reduction: 5 must be a fraction less than 1, e.g. 0.05 for 5% (did you mean 0.05 for 5%?)"
    ]


def test_every_problem_is_reported_at_once_each_naming_its_field():
    found = problems(
        from_year="2017-19", measure="visits", minimum_reduction="-0.1", payment_per_hour="2.001", cap="-1"
    )
    fields = [p.split(":")[0] for p in found]
    assert fields == ["financial_year", "measure", "minimum_reduction", "payment_per_hour", "cap"]
    assert "measure: 'visits' is not one of payable-hours, actual-hours" in found


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"payment_per_hour": None}, "payment_per_hour: required for a per-hour payment"),
        ({"payment_per_hour": "0"}, "payment_per_hour: 0.00 must be more than 0"),
        ({"saving_share": "0.5"}, "saving_share: only a share-of-saving payment has one"),
        ({"payment": "share-of-saving", "payment_per_hour": None, "saving_share": "0.5"}, "saving_rate: required"),
        ({"payment": "share-of-saving", "payment_per_hour": None, "saving_rate": "15.80"}, "saving_share: required"),
        ({"payment": "share-of-saving", "saving_rate": "15.80", "saving_share": "0.5"},
         "payment_per_hour: only a per-hour payment has one"),
        ({"payment": "share-of-saving", "payment_per_hour": None, "saving_rate": "15.80", "saving_share": "1.5"},
         "saving_share: 1.5 must be a fraction at most 1"),
        ({"baseline": "fixed"}, "fixed_baselines: a fixed baseline states the hours of at least one provider"),
        ({"fixed_baselines": {"hfd-provider-a": "1000"}}, "fixed_baselines: only a fixed baseline states hours"),
        ({"baseline": "fixed", "fixed_baselines": {"hfd-provider-a": "0"}}, "fixed_baselines[hfd-provider-a]: 0.00 must be more than 0"),
        ({"baseline": "fixed", "fixed_baselines": {"Provider A": "10"}}, "fixed_baselines: 'Provider A' must be 2-63"),
        ({"kpi_gate": "named"}, "kpis: the 'named' gate needs at least one KPI code"),
        ({"kpis": ["missed-visits"]}, "kpis: the 'all' gate takes every KPI of the agreement"),
        ({"kpi_gate": "named", "kpis": ["a1", "a1"]}, "kpis: a1 named more than once"),
        ({"kpi_gate": "some"}, "kpi_gate: 'some' is not one of all, named"),
        ({"cap": "100.001"}, "cap: '100.001' has more than 2 decimal places"),
        ({"minimum_reduction": None}, "minimum_reduction: required"),
    ],
)  # fmt: skip
def test_each_field_is_checked(changes, message):
    assert any(p.startswith(message) for p in problems(**changes)), problems(**changes)


def test_share_of_saving_and_fixed_baselines_and_a_named_gate_and_a_cap():
    terms = herefordshire(
        payment="share-of-saving", payment_per_hour=None, saving_rate="15.80", saving_share="0.5",
        baseline="fixed", fixed_baselines={"hfd-provider-a": "87452"}, kpi_gate="named", kpis=["missed-visits"],
        cap="5000.00",
    )  # fmt: skip
    assert (terms.saving_rate, terms.saving_share, terms.fixed_baselines) == (
        D("15.80"), D("0.5"), {"hfd-provider-a": D("87452.00")},
    )  # fmt: skip
    assert terms.gate(["missed-visits", "continuity"]) == ("missed-visits",)
    assert terms.assess(D("10000"), D("9200"), ()).payment == D("2370.00")  # 300 h × £15.80 × 0.5


def test_named_kpis_must_be_the_agreements():
    found = Agreement.register(on(), "hfd", "Help to Live at Home", "framework", START, date(2022, 6, 30))
    found.define_kpi(on(), "missed-visits", "Missed visits", "per 1,000", D("0.5"), "lower-is-better")
    with pytest.raises(InvalidInput, match=r"kpis: late-visits not a KPI of hfd \(its KPIs: missed-visits\)"):
        herefordshire(kpi_gate="named", kpis=["missed-visits", "late-visits"], agreement=found)


def test_terms_apply_from_their_year_and_an_amendment_leaves_earlier_years_alone():
    scheme = IncentiveScheme.define(on(), "hfd", herefordshire())
    assert scheme.amend(on(date(2018, 4, 1), "2018-19 terms"), herefordshire(from_year="2018-19", payment_per_hour="3.00"))
    assert scheme.terms_for("2017-18").payment_per_hour == D("2.00")
    assert scheme.terms_for("2019-20").payment_per_hour == D("3.00")
    with pytest.raises(NotFound, match="applies from 2017-18, not in 2016-17"):
        scheme.terms_for("2016-17")
    assert not scheme.amend(on(date(2018, 5, 1), "again"), herefordshire(from_year="2018-19", payment_per_hour="3.00"))
    with pytest.raises(InvalidInput, match="reason: amending an incentive scheme needs a reason"):
        scheme.amend(on(date(2018, 5, 1), None), herefordshire(from_year="2018-19"))
    assert [type(e).__name__ for e in scheme.collect_events()] == ["Defined", "Amended"]
