"""Risk and gain share: worked examples, refused band sets and properties.

Worked examples use the DOMAIN.md band set on a £1,000,000 target:
the provider side keeps 50% of an underspend down to 90% of target and 25%
beyond; it bears 50% of an overspend up to 110% and 100% beyond.
"""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.settlement.gainshare import (
    Band,
    BandSetError,
    BandShare,
    CappedAmount,
    GainShareOutcome,
    SpendRange,
    apply_cap,
    share_variance,
    validate_bands,
)

TARGET = D("1000000")

DOMAIN_BANDS = (
    Band(None, D("0.9"), D("0.25")),
    Band(D("0.9"), D("1.0"), D("0.5")),
    Band(D("1.0"), D("1.1"), D("0.5")),
    Band(D("1.1"), None, D("1.0")),
)


def outcome(actual: str, bands=DOMAIN_BANDS) -> GainShareOutcome:
    return share_variance(TARGET, D(actual), bands)


def assert_adds_up(result: GainShareOutcome) -> None:
    assert result.variance == result.target - result.actual
    assert result.commissioner_cost == result.actual + result.provider_share_amount
    assert sum(line.variance_in_band for line in result.bands) == result.variance
    assert sum(line.provider_share_amount for line in result.bands) == result.provider_share_amount


# --- worked examples -------------------------------------------------------


def test_underspend_within_first_band():
    # actual £950,000: variance 1,000,000 - 950,000 = 50,000, all of it in the
    # 90–100% band (£900,000–£1,000,000), shared at 50%:
    # 50,000 × 0.5 = £25,000.00 to the provider side.
    result = outcome("950000")
    assert result.variance == D("50000")
    assert result.provider_share_amount == D("25000.00")
    # commissioners: 950,000 + 25,000 = £975,000.00
    assert result.commissioner_cost == D("975000.00")
    in_bands = [line.variance_in_band for line in result.bands]
    assert in_bands == [0, D("50000"), 0, 0]
    assert_adds_up(result)


def test_underspend_across_two_bands():
    # actual £850,000: variance 150,000.
    #   £900,000–£1,000,000: 100,000 × 0.50 = 50,000
    #   £850,000–£900,000:    50,000 × 0.25 = 12,500
    #   total                                = £62,500.00
    result = outcome("850000")
    assert result.provider_share_amount == D("62500.00")
    assert [line.provider_share_amount for line in result.bands] == [
        D("12500.00"), D("50000.00"), D("0.00"), D("0.00"),
    ]
    assert result.commissioner_cost == D("912500.00")  # 850,000 + 62,500
    assert_adds_up(result)


def test_overspend_within_first_band():
    # actual £1,050,000: variance -50,000, all in the 100–110% band at 50%:
    # the provider side bears -50,000 × 0.5 = -£25,000.00.
    result = outcome("1050000")
    assert result.variance == D("-50000")
    assert result.provider_share_amount == D("-25000.00")
    # commissioners: 1,050,000 - 25,000 = £1,025,000.00
    assert result.commissioner_cost == D("1025000.00")
    assert_adds_up(result)


def test_overspend_across_two_bands():
    # actual £1,150,000: variance -150,000.
    #   £1,000,000–£1,100,000: 100,000 × 0.5 = 50,000
    #   £1,100,000–£1,150,000:  50,000 × 1.0 = 50,000
    #   provider bears -(50,000 + 50,000)    = -£100,000.00
    result = outcome("1150000")
    assert result.provider_share_amount == D("-100000.00")
    assert result.commissioner_cost == D("1050000.00")  # 1,150,000 - 100,000
    assert_adds_up(result)


def test_exactly_at_lower_boundary():
    # actual £900,000 = 90% of target: variance 100,000, all in the 90–100%
    # band; the 25% band gets nothing (a point has no length).
    # 100,000 × 0.5 = £50,000.00
    result = outcome("900000")
    assert result.provider_share_amount == D("50000.00")
    assert result.bands[0].variance_in_band == 0
    assert result.commissioner_cost == D("950000.00")
    assert_adds_up(result)


def test_exactly_at_upper_boundary():
    # actual £1,100,000 = 110%: variance -100,000 all in the 100–110% band.
    # -100,000 × 0.5 = -£50,000.00; the 100% band gets nothing.
    result = outcome("1100000")
    assert result.provider_share_amount == D("-50000.00")
    assert result.bands[3].variance_in_band == 0
    assert result.commissioner_cost == D("1050000.00")
    assert_adds_up(result)


def test_zero_variance():
    result = outcome("1000000")
    assert result.variance == 0
    assert result.provider_share_amount == D("0.00")
    assert str(result.provider_share_amount) == "0.00"
    assert result.commissioner_cost == D("1000000.00")
    assert all(str(line.provider_share_amount) == "0.00" for line in result.bands)
    assert_adds_up(result)


def test_breakdown_shows_money_ranges_lowest_band_first():
    result = outcome("850000", bands=tuple(reversed(DOMAIN_BANDS)))
    assert [line.band for line in result.bands] == list(DOMAIN_BANDS)
    assert [line.spend_range for line in result.bands] == [
        SpendRange(None, D("900000")),
        SpendRange(D("900000"), D("1000000")),
        SpendRange(D("1000000"), D("1100000")),
        SpendRange(D("1100000"), None),
    ]
    # Each line unpacks as (band, spend range, variance in band, provider share).
    band, spend, in_band, share = result.bands[0]
    assert (band, spend, in_band, share) == (
        DOMAIN_BANDS[0], SpendRange(None, D("900000")), D("50000"), D("12500.00"),
    )
    assert isinstance(result.bands[0], BandShare)


def test_each_band_share_rounded_to_the_penny_and_summed():
    # target £100.01, actual £89.00, share 0.3333 below 100% of target:
    # variance 11.01; 11.01 × 0.3333 = 3.669633 -> £3.67 (rounded once per band).
    bands = (Band(None, D("1"), D("0.3333")), Band(D("1"), None, D("0.5")))
    result = share_variance(D("100.01"), D("89.00"), bands)
    assert result.bands[0].provider_share_amount == D("3.67")
    assert result.provider_share_amount == D("3.67")
    assert_adds_up(result)


def test_penny_rounding_is_half_up_both_ways():
    # variance ±0.01 at 50% = ±0.005 -> ±0.01 (half rounds away from zero).
    bands = (Band(None, None, D("0.5")),)
    assert share_variance(D("100.00"), D("99.99"), bands).provider_share_amount == D("0.01")
    assert share_variance(D("100.00"), D("100.01"), bands).provider_share_amount == D("-0.01")


def test_ints_accepted_floats_refused():
    assert share_variance(100, 90, (Band(None, None, 1),)).provider_share_amount == D("10.00")
    with pytest.raises(TypeError):
        share_variance(100.0, D("90"), DOMAIN_BANDS)
    with pytest.raises(TypeError):
        share_variance(D("100"), 90.0, DOMAIN_BANDS)
    with pytest.raises(TypeError):
        Band(None, 0.9, D("0.5"))


@pytest.mark.parametrize("target", [D("0"), D("-1")])
def test_target_must_be_positive(target):
    with pytest.raises(ValueError, match="target must be positive"):
        share_variance(target, D("10"), DOMAIN_BANDS)


# --- refused band sets -----------------------------------------------------


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        pytest.param(
            [Band(None, D("0.9"), D("0.25")), Band(D("0.95"), None, D("0.5"))],
            "bands leave a gap between 90% and 95% of target",
            id="gap",
        ),
        pytest.param(
            [Band(None, D("1.1"), D("0.5")), Band(D("1.05"), None, D("1"))],
            "bands overlap between 105% and 110% of target",
            id="overlap",
        ),
        pytest.param(
            [Band(D("0.9"), D("1.0"), D("0.5")), Band(D("1.0"), None, D("0.5"))],
            "bands leave a gap below 90% of target",
            id="not-starting-at-None",
        ),
        pytest.param(
            [Band(None, D("1.0"), D("0.5")), Band(D("1.0"), D("1.1"), D("0.5"))],
            "bands leave a gap above 110% of target",
            id="not-ending-at-None",
        ),
        pytest.param(
            [Band(None, D("1.0"), D("1.5")), Band(D("1.0"), None, D("0.5"))],
            "band below 100% of target has provider share 1.5; it must be between 0 and 1",
            id="share-above-1",
        ),
        pytest.param(
            [Band(None, D("1.0"), D("0.5")), Band(D("1.0"), None, D("-0.1"))],
            "band above 100% of target has provider share -0.1",
            id="share-below-0",
        ),
        pytest.param(
            [Band(None, D("1.0"), D("0.5")), Band(None, None, D("0.5"))],
            "bands overlap below 100% of target",
            id="two-open-below",
        ),
        pytest.param(
            [Band(None, None, D("0.5")), Band(D("1.1"), None, D("0.5"))],
            "bands overlap above 110% of target",
            id="inside-an-open-band",
        ),
        pytest.param(
            [Band(None, D("1.1"), D("0.5")), Band(D("1.1"), D("1.05"), D("0.5")),
             Band(D("1.05"), None, D("0.5"))],
            "band from 110% to 105% of target is empty or reversed",
            id="reversed",
        ),
        pytest.param([], "no bands given", id="empty"),
    ],
)
def test_bad_band_sets_refused_with_named_range(bands, message):
    with pytest.raises(BandSetError) as caught:
        share_variance(TARGET, D("950000"), bands)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_validate_bands_returns_them_sorted():
    shuffled = (DOMAIN_BANDS[2], DOMAIN_BANDS[0], DOMAIN_BANDS[3], DOMAIN_BANDS[1])
    assert validate_bands(shuffled) == DOMAIN_BANDS


def test_a_single_open_band_is_a_valid_partition():
    # 40% of any variance either way.
    result = share_variance(TARGET, D("1200000"), [Band(None, None, D("0.4"))])
    assert result.provider_share_amount == D("-80000.00")  # -200,000 × 0.4


# --- caps ------------------------------------------------------------------


def test_gain_cap_keeps_excess_with_commissioners():
    # provider would gain £62,500; capped at £50,000; £12,500 stays with commissioners.
    assert apply_cap(D("62500.00"), D("50000"), D("40000")) == CappedAmount(
        uncapped=D("62500.00"), capped=D("50000"), removed=D("12500.00"),
    )


def test_loss_cap_limits_what_provider_bears():
    # provider would bear -£100,000; loss cap £40,000; commissioners carry -£60,000 more.
    capped = apply_cap(D("-100000.00"), D("50000"), D("40000"))
    assert capped.capped == D("-40000")
    assert capped.removed == D("-60000.00")
    assert capped.was_capped


def test_within_caps_or_no_caps_unchanged():
    for amount in (D("25000.00"), D("-25000.00"), D("0.00")):
        for caps in ((D("50000"), D("40000")), (None, None)):
            result = apply_cap(amount, *caps)
            assert result.capped == amount and result.removed == 0
            assert not result.was_capped


def test_caps_must_not_be_negative_or_float():
    with pytest.raises(ValueError, match="loss_cap"):
        apply_cap(D("10"), None, D("-1"))
    with pytest.raises(ValueError, match="gain_cap"):
        apply_cap(D("10"), D("-1"), None)
    with pytest.raises(TypeError):
        apply_cap(D("10"), 5.0, None)


# --- properties ------------------------------------------------------------

shares = st.decimals(min_value=0, max_value=1, places=2)
pounds = st.decimals(min_value=0, max_value=10_000_000, places=2)
targets = st.decimals(min_value=D("0.01"), max_value=10_000_000, places=2)


@st.composite
def band_sets(draw):
    """A valid partition: distinct cut points (fractions of target), random shares."""
    cuts = sorted(draw(st.sets(st.decimals(min_value=D("0.5"), max_value=D("1.5"), places=2), max_size=5)))
    edges = [None, *cuts, None]
    return [Band(lo, hi, draw(shares)) for lo, hi in zip(edges, edges[1:])]


@settings(max_examples=200)
@given(target=targets, a=pounds, b=pounds, bands=band_sets())
def test_provider_share_never_increases_with_actual_spend(target, a, b, bands):
    low, high = sorted((a, b))
    assert (
        share_variance(target, low, bands).provider_share_amount
        >= share_variance(target, high, bands).provider_share_amount
    )


@given(target=targets, bands=band_sets())
def test_zero_at_target(target, bands):
    result = share_variance(target, target, bands)
    assert result.variance == 0 and result.provider_share_amount == 0
    assert result.commissioner_cost == target


@given(target=targets, actual=pounds, bands=band_sets(), data=st.data())
def test_order_of_bands_does_not_matter(target, actual, bands, data):
    shuffled = data.draw(st.permutations(bands))
    assert share_variance(target, actual, shuffled) == share_variance(target, actual, bands)


@settings(max_examples=200)
@given(target=targets, actual=pounds, bands=band_sets())
def test_lines_add_to_the_total(target, actual, bands):
    result = share_variance(target, actual, bands)
    assert_adds_up(result)
    assert result.provider_share_amount == result.provider_share_amount.quantize(D("0.01"))
    # the provider side's amount has the variance's sign (or is zero)
    assert result.provider_share_amount * result.variance >= 0


@given(target=targets, actual=pounds, share=shares)
def test_single_band_is_plain_percentage(target, actual, share):
    result = share_variance(target, actual, [Band(None, None, share)])
    expected = ((target - actual) * share).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert result.provider_share_amount == expected


money = st.decimals(min_value=-10_000_000, max_value=10_000_000, places=2)
caps = st.none() | st.decimals(min_value=0, max_value=10_000_000, places=2)


@given(amount=money, gain_cap=caps, loss_cap=caps)
def test_caps_never_increase_the_amount_and_removed_is_accounted(amount, gain_cap, loss_cap):
    result = apply_cap(amount, gain_cap, loss_cap)
    assert abs(result.capped) <= abs(result.uncapped)
    assert result.uncapped == result.capped + result.removed
    assert result.uncapped == amount
    if gain_cap is not None:
        assert result.capped <= gain_cap
    if loss_cap is not None:
        assert result.capped >= -loss_cap
    # the cap only ever moves the amount towards zero, never across it
    assert result.capped * amount >= 0
