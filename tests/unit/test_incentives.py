"""Incentive triggers: Herefordshire's "reduction beyond 5%, only if all KPIs met"."""

from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.incentives.reduction import ReductionAssessment, assess_reduction, assess_reduction_share_of_saving

FIVE_PERCENT = D("0.05")
TWO_POUNDS = D("2.00")


def test_worked_example():
    # baseline 10,000 h, actual 9,200 h:
    #   reduction = 10,000 - 9,200       = 800 h
    #   threshold = 10,000 × 0.05        = 500 h
    #   eligible  = 800 - 500            = 300 h
    #   payment   = 300 × £2.00          = £600.00
    result = assess_reduction(D("10000"), D("9200"), FIVE_PERCENT, TWO_POUNDS)
    assert isinstance(result, ReductionAssessment)
    assert result.reduction_hours == D("800")
    assert result.threshold_hours == D("500")
    assert result.eligible_hours == D("300")
    assert result.payment == D("600.00")
    assert str(result.payment) == "600.00"
    assert result.capped is False
    assert "£600.00" in result.reason
    # inputs echoed beside the result
    assert (result.baseline_hours, result.actual_hours) == (D("10000"), D("9200"))
    assert (result.minimum_reduction, result.payment_per_hour) == (FIVE_PERCENT, TWO_POUNDS)
    assert result.missed_kpis == () and result.cap is None


def test_missed_kpi_withholds_payment_and_says_which():
    # Same hours, but a KPI was missed: eligible hours still 300, payment £0.00.
    result = assess_reduction(
        D("10000"), D("9200"), FIVE_PERCENT, TWO_POUNDS, missed_kpis=("Missed visits",)
    )
    assert result.eligible_hours == D("300")
    assert result.payment == D("0.00")
    assert str(result.payment) == "0.00"
    assert "Missed visits" in result.reason
    assert result.reason.startswith("No payment")
    assert result.missed_kpis == ("Missed visits",)


def test_every_missed_kpi_is_named():
    kpis = ["Missed visits", "Late visits"]
    result = assess_reduction(10000, 9000, FIVE_PERCENT, TWO_POUNDS, missed_kpis=kpis)
    assert result.payment == 0
    assert "Missed visits" in result.reason and "Late visits" in result.reason
    assert result.missed_kpis == tuple(kpis)


def test_cap_limits_payment():
    # £600.00 earned, capped at £500: pays £500.00 and says so.
    result = assess_reduction(D("10000"), D("9200"), FIVE_PERCENT, TWO_POUNDS, cap=D("500"))
    assert result.payment == D("500.00")
    assert result.capped is True
    assert "cap" in result.reason and "£500.00" in result.reason
    assert result.cap == D("500")


def test_cap_above_earnings_does_nothing():
    result = assess_reduction(D("10000"), D("9200"), FIVE_PERCENT, TWO_POUNDS, cap=D("1000"))
    assert result.payment == D("600.00")
    assert result.capped is False


def test_increase_in_hours_pays_nothing():
    # 10,000 -> 10,200: hours rose by 200, reduction -200, nothing eligible.
    result = assess_reduction(D("10000"), D("10200"), FIVE_PERCENT, TWO_POUNDS)
    assert result.reduction_hours == D("-200")
    assert result.eligible_hours == 0
    assert result.payment == D("0.00")
    assert "rose by 200" in result.reason
    assert "10,000" in result.reason and "10,200" in result.reason


def test_reduction_below_threshold_pays_nothing():
    # 10,000 -> 9,700: reduction 300 < threshold 500.
    result = assess_reduction(D("10000"), D("9700"), FIVE_PERCENT, TWO_POUNDS)
    assert result.eligible_hours == 0
    assert result.payment == D("0.00")
    assert "short of" in result.reason and "300" in result.reason and "500" in result.reason


def test_threshold_exactly_met_pays_nothing():
    # 10,000 -> 9,500: reduction 500 == threshold 500, eligible 0.
    result = assess_reduction(D("10000"), D("9500"), FIVE_PERCENT, TWO_POUNDS)
    assert result.reduction_hours == result.threshold_hours == D("500")
    assert result.eligible_hours == 0
    assert result.payment == D("0.00")
    assert "exactly meets" in result.reason


def test_fractional_hours_kept_exact_and_payment_rounded_once():
    # baseline 1,234.56 h, actual 1,100.25 h:
    #   reduction = 134.31; threshold = 1,234.56 × 0.05 = 61.7280
    #   eligible  = 134.31 - 61.728 = 72.582
    #   payment   = 72.582 × £2.00 = 145.164 -> £145.16
    result = assess_reduction(D("1234.56"), D("1100.25"), FIVE_PERCENT, TWO_POUNDS)
    assert result.threshold_hours == D("61.7280")
    assert result.eligible_hours == D("72.582")
    assert result.payment == D("145.16")


def test_share_of_saving():
    # 300 eligible hours × £15.80 × 50% = £2,370.00
    result = assess_reduction_share_of_saving(
        D("10000"), D("9200"), FIVE_PERCENT, D("15.80"), D("0.5")
    )
    assert result.eligible_hours == D("300")
    assert result.payment == D("2370.00")
    assert result.rate == D("15.80") and result.saving_share == D("0.5")
    assert result.payment_per_hour == D("7.90")
    assert "50%" in result.reason and "£15.80" in result.reason


def test_share_of_saving_kpi_gate_and_cap():
    missed = assess_reduction_share_of_saving(
        10000, 9200, FIVE_PERCENT, D("15.80"), D("0.5"), missed_kpis=("Missed visits",)
    )
    assert missed.payment == D("0.00") and "Missed visits" in missed.reason
    capped = assess_reduction_share_of_saving(
        10000, 9200, FIVE_PERCENT, D("15.80"), D("0.5"), cap=D("2000")
    )
    assert capped.payment == D("2000.00") and capped.capped


@pytest.mark.parametrize("baseline", [D("0"), D("-100")])
def test_baseline_must_be_positive(baseline):
    with pytest.raises(ValueError, match="baseline_hours"):
        assess_reduction(baseline, D("0"), FIVE_PERCENT, TWO_POUNDS)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"actual_hours": D("-1")}, "actual_hours"),
        ({"minimum_reduction": D("1.5")}, "minimum_reduction"),
        ({"payment_per_hour": D("-2")}, "payment_per_hour"),
        ({"cap": D("-1")}, "cap"),
        ({"cap": D("1.005")}, "cap"),
    ],
)
def test_bad_inputs_name_the_field(kwargs, field):
    args = {
        "baseline_hours": D("10000"),
        "actual_hours": D("9200"),
        "minimum_reduction": FIVE_PERCENT,
        "payment_per_hour": TWO_POUNDS,
    } | kwargs
    with pytest.raises(ValueError, match=field):
        assess_reduction(**args)


@pytest.mark.parametrize("position", range(4))
def test_floats_refused(position):
    args = [D("10000"), D("9200"), FIVE_PERCENT, TWO_POUNDS]
    args[position] = float(args[position])
    with pytest.raises(TypeError):
        assess_reduction(*args)


def test_float_cap_and_bare_string_kpi_refused():
    with pytest.raises(TypeError):
        assess_reduction(10000, 9200, FIVE_PERCENT, TWO_POUNDS, cap=500.0)
    with pytest.raises(TypeError):
        assess_reduction(10000, 9200, FIVE_PERCENT, TWO_POUNDS, missed_kpis="Missed visits")


# --- properties ------------------------------------------------------------

hours = st.decimals(min_value=0, max_value=1_000_000, places=2)
baselines = st.decimals(min_value=D("0.01"), max_value=1_000_000, places=2)
fractions = st.decimals(min_value=0, max_value=D("0.5"), places=2)
rates = st.decimals(min_value=0, max_value=50, places=2)
kpi_lists = st.lists(st.sampled_from(["Missed visits", "Late visits", "Complaints"]), max_size=2)
caps = st.none() | st.decimals(min_value=0, max_value=100_000, places=2)


def penny(amount: D) -> D:
    return amount.quantize(D("0.01"), rounding=ROUND_HALF_UP)


@given(baselines, hours, fractions, rates, kpi_lists, caps)
def test_payment_never_negative_and_within_cap(baseline, actual, minimum, rate, kpis, cap):
    result = assess_reduction(baseline, actual, minimum, rate, missed_kpis=kpis, cap=cap)
    assert result.payment >= 0
    assert result.payment == penny(result.payment)
    if cap is not None:
        assert result.payment <= cap
    if kpis:
        assert result.payment == 0
        assert all(kpi in result.reason for kpi in kpis)


@given(baselines, hours, fractions, rates)
def test_payment_is_eligible_hours_times_rate(baseline, actual, minimum, rate):
    result = assess_reduction(baseline, actual, minimum, rate)
    assert result.payment == penny(result.eligible_hours * rate)


@given(baselines, hours, fractions, rates)
def test_eligible_hours_is_reduction_beyond_threshold(baseline, actual, minimum, rate):
    result = assess_reduction(baseline, actual, minimum, rate)
    assert result.reduction_hours == baseline - actual
    assert result.threshold_hours == baseline * minimum
    assert result.eligible_hours == max(D(0), result.reduction_hours - result.threshold_hours)


@given(baselines, hours, fractions, rates, st.decimals(min_value=0, max_value=1, places=2))
def test_share_of_saving_is_eligible_times_rate_times_share(baseline, actual, minimum, rate, share):
    result = assess_reduction_share_of_saving(baseline, actual, minimum, rate, share)
    assert result.payment == penny(result.eligible_hours * rate * share)
    assert result.payment >= 0
