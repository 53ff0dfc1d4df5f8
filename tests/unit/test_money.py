"""Tests for the money policy in domain.money: exact Decimal money, documented rounding."""

from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import (
    BLENDED_RATE_QUANTUM,
    PENNY,
    RATE_QUANTUM,
    ZERO,
    MoneyFormatError,
    allocate,
    format_count,
    format_gbp,
    format_quantity,
    format_rate,
    pence_from_pounds,
    pounds_from_pence,
    round_blended_rate,
    round_money,
    round_rate,
    to_decimal,
    total,
)

D = Decimal


# --- constants -------------------------------------------------------------


def test_constants():
    assert PENNY == D("0.01") and RATE_QUANTUM == D("0.01")
    assert BLENDED_RATE_QUANTUM == D("0.0001")
    assert ZERO == D("0.00") and str(ZERO) == "0.00"


# --- rounding --------------------------------------------------------------


def test_round_money_is_half_up_where_float_would_go_down():
    # float(2.675) is 2.67499999..., which is why money is never float.
    assert round_money(D("2.675")) == D("2.68")
    assert round_money(D("2.674999")) == D("2.67")
    assert str(round_money(D("5"))) == "5.00"
    assert round_money(7) == D("7.00")


def test_round_money_is_symmetric_for_negatives():
    assert round_money(D("-2.675")) == D("-2.68")
    assert str(round_money(D("-0.004"))) == "0.00"  # no negative zero


def test_round_money_ignores_callers_decimal_context():
    with localcontext() as ctx:
        ctx.rounding = "ROUND_DOWN"
        ctx.prec = 3
        assert round_money(D("1234.565")) == D("1234.57")


def test_priced_visit_rounds_once_to_the_penny():
    # Herefordshire: £15.80 an hour, pro rata for a 20-minute visit.
    assert round_money(D("15.80") * 20 / 60) == D("5.27")


def test_round_rate_two_places():
    assert round_rate(D("15.805")) == D("15.81")
    assert str(round_rate(D("15.8"))) == "15.80"


def test_herefordshire_blended_rate():
    # Complex lots: blended 70% @ £12.80 + 30% @ £15.80 = £13.70.
    blended = round_blended_rate(D("0.70") * D("12.80") + D("0.30") * D("15.80"))
    assert blended == D("13.70")
    assert str(blended) == "13.7000"
    # and 70,460 annual hours at that rate is the £965,302 the source transposed
    assert round_money(blended * 70460) == D("965302.00")


def test_round_blended_rate_keeps_four_places():
    assert round_blended_rate(D("13.70245")) == D("13.7025")
    assert round_blended_rate(D("13.70244")) == D("13.7024")


@pytest.mark.parametrize("fn", [round_money, round_rate, round_blended_rate])
@pytest.mark.parametrize("bad", [15.8, True, "15.80", None])
def test_rounding_refuses_non_exact_types(fn, bad):
    with pytest.raises(TypeError, match="Decimal or int"):
        fn(bad)


@pytest.mark.parametrize("fn", [round_money, round_rate, round_blended_rate])
def test_rounding_refuses_non_finite(fn):
    with pytest.raises(ValueError, match="finite"):
        fn(D("NaN"))
    with pytest.raises(ValueError, match="finite"):
        fn(D("Infinity"))


# --- to_decimal: the input boundary ----------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("15.80", D("15.80")),
        ("  15.80\n", D("15.80")),
        ("£1,234.50", D("1234.50")),
        ("£956,302", D("956302")),
        ("1,234,567.89", D("1234567.89")),
        ("-£1,234.50", D("-1234.50")),
        ("£-12.80", D("-12.80")),
        ("+3", D("3")),
        (".5", D("0.5")),
        ("0", D("0")),
        (42, D("42")),
        (D("9.30"), D("9.30")),
        (15.8, D("15.8")),
        (8.72, D("8.72")),
        (1e20, D("100000000000000000000")),
    ],
)
def test_to_decimal_accepts(raw, expected):
    result = to_decimal(raw, field="hourly_rate")
    assert isinstance(result, Decimal)
    assert result == expected
    assert str(result) == str(expected)


def test_float_goes_through_shortest_text_not_binary_value():
    assert to_decimal(15.8, field="rate") == D("15.8")
    assert to_decimal(15.8, field="rate") != D(15.8)
    # A spreadsheet sum like 0.1 + 0.2 has more digits than a rate may carry: refused.
    with pytest.raises(MoneyFormatError, match=r"rate: 0\.30000000000000004 has more than 2"):
        to_decimal(0.1 + 0.2, field="rate", places=2)


def test_places_normalises_representation_without_rounding():
    assert str(to_decimal(15.8, field="hourly_rate", places=2)) == "15.80"
    assert str(to_decimal("£1,381,734", field="cost", places=2)) == "1381734.00"
    assert str(to_decimal("15.800", field="hourly_rate", places=2)) == "15.80"
    assert str(to_decimal("-0", field="x")) == "0"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("abc", "'abc' is not a number"),
        ("", "'' is not a number"),
        ("   ", "'   ' is not a number"),
        ("£", "'£' is not a number"),
        ("1,23.4", "'1,23.4' is not a number"),
        ("12.80.1", "'12.80.1' is not a number"),
        ("1e3", "'1e3' is not a number"),
        ("-£-5", "'-£-5' is not a number"),
        ("NaN", "'NaN' is not a number"),
        ("Infinity", "'Infinity' is not a number"),
        (True, "True is not a number"),
        (None, "None is not a number"),
        (float("nan"), "nan is not a finite number"),
        (float("inf"), "inf is not a finite number"),
        (D("NaN"), "Decimal('NaN') is not a finite number"),
        (D("-Infinity"), "Decimal('-Infinity') is not a finite number"),
        ([15.8], "[15.8] is not a number"),
    ],
)
def test_to_decimal_refuses_with_field_and_value(raw, fragment):
    with pytest.raises(MoneyFormatError) as info:
        to_decimal(raw, field="hourly_rate")
    assert str(info.value).startswith("hourly_rate: ")
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("raw", ["15.805", D("15.805"), 15.805, "£1,234.567"])
def test_to_decimal_refuses_extra_places_instead_of_rounding(raw):
    with pytest.raises(MoneyFormatError, match=r"^hourly_rate: .* has more than 2 decimal places$"):
        to_decimal(raw, field="hourly_rate", places=2)


def test_to_decimal_places_must_be_sane():
    with pytest.raises(ValueError, match="places"):
        to_decimal("1", field="x", places=-1)


def test_to_decimal_refuses_too_large_for_places():
    with pytest.raises(MoneyFormatError, match="cost: .* is too large"):
        to_decimal("1" * 45, field="cost", places=2)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_to_decimal_round_trips_format_gbp(pennies):
    amount = D(pennies).scaleb(-2)
    assert to_decimal(format_gbp(amount), field="amount", places=2) == amount


# --- allocate ----------------------------------------------------------------


def test_allocate_three_ways_gives_first_penny_to_first():
    assert allocate(D("100.00"), [1, 1, 1]) == [D("33.34"), D("33.33"), D("33.33")]


def test_allocate_negative_overspend_share():
    assert allocate(D("-0.05"), [60, 40]) == [D("-0.03"), D("-0.02")]


def test_pool_contributions_split_sixty_forty():
    council, ccg = D("7200000.00"), D("4800000.00")
    assert allocate(council + ccg, [council, ccg]) == [council, ccg]
    # a commissioner cost of £1,000.01: exact shares 600.006 / 400.004
    assert allocate(D("1000.01"), [council, ccg]) == [D("600.01"), D("400.00")]
    assert allocate(D("-1000.01"), [council, ccg]) == [D("-600.01"), D("-400.00")]


def test_allocate_zero_weight_and_zero_amount():
    assert allocate(D("0.01"), [0, 1, 0]) == [D("0.00"), D("0.01"), D("0.00")]
    assert allocate(D("0.00"), [1, 2]) == [D("0.00"), D("0.00")]
    assert allocate(5, [1, 1]) == [D("2.50"), D("2.50")]
    assert all(str(p) == "0.00" for p in allocate(D("-0.00"), [1, 2]))


def test_allocate_largest_remainder_beats_position():
    # exact shares 0.0125 / 0.0375 pennies-wise: 1.25p and 3.75p -> 1p and 4p
    assert allocate(D("0.05"), [1, 3]) == [D("0.01"), D("0.04")]


@pytest.mark.parametrize(
    ("amount", "weights", "fragment"),
    [
        (D("10.005"), [1, 1], "not a whole number of pennies"),
        (D("NaN"), [1], "finite"),
        (D("10.00"), [], "must not be empty"),
        (D("10.00"), [1, -1], r"weights\[1\] must not be negative"),
        (D("10.00"), [1, 0.5], r"weights\[1\] must be a Decimal or int, not float"),
        (D("10.00"), [True, 1], r"weights\[0\] must be a Decimal or int, not bool"),
        (D("10.00"), [1, D("NaN")], r"weights\[1\] must be finite"),
        (D("10.00"), [0, 0], "positive sum"),
        (D("10.00"), "11", "sequence"),
    ],
)
def test_allocate_errors_name_the_problem(amount, weights, fragment):
    with pytest.raises(ValueError, match=fragment):
        allocate(amount, weights)


def test_allocate_refuses_float_amount():
    with pytest.raises(TypeError, match="amount"):
        allocate(10.0, [1, 1])


penny_amounts = st.integers(min_value=-(10**11), max_value=10**11).map(lambda p: D(p).scaleb(-2))
weight_values = st.one_of(
    st.integers(min_value=0, max_value=10**9),
    st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False),
)
weight_lists = st.lists(weight_values, min_size=1, max_size=12).filter(lambda ws: sum(ws) > 0)


def _exact_share(amount, weights, index):
    return Fraction(amount) * Fraction(weights[index]) / sum(Fraction(w) for w in weights)


@given(penny_amounts, weight_lists)
def test_allocate_parts_sum_exactly(amount, weights):
    parts = allocate(amount, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == amount
    assert all(p == p.quantize(PENNY) and p.as_tuple().exponent == -2 for p in parts)


@given(penny_amounts, weight_lists)
def test_allocate_each_part_within_a_penny_of_exact_share(amount, weights):
    for index, part in enumerate(allocate(amount, weights)):
        assert abs(Fraction(part) - _exact_share(amount, weights, index)) < Fraction(1, 100)


@given(penny_amounts, weight_lists)
def test_allocate_zero_weight_gets_zero(amount, weights):
    weights = [*weights, 0]
    for weight, part in zip(weights, allocate(amount, weights)):
        if weight == 0:
            assert part == 0


@given(penny_amounts, weight_lists)
def test_allocate_sign_symmetry(amount, weights):
    assert allocate(-amount, weights) == [-p for p in allocate(amount, weights)]


@given(penny_amounts.map(abs), weight_lists)
def test_allocate_extra_pennies_go_to_largest_remainders_then_position(amount, weights):
    parts = allocate(amount, weights)
    shares = [_exact_share(amount, weights, i) * 100 for i in range(len(weights))]
    remainders = [s - int(s) for s in shares]
    rounded_up = [Fraction(p) * 100 > int(s) for p, s in zip(parts, shares)]
    for i, up_i in enumerate(rounded_up):
        for j, up_j in enumerate(rounded_up):
            if up_i and not up_j:
                assert remainders[i] > remainders[j] or (remainders[i] == remainders[j] and i < j)


# --- format_gbp --------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (D("1234.5"), "£1,234.50"),
        (D("-1234.50"), "-£1,234.50"),
        (D("7557964"), "£7,557,964.00"),
        (D("0.05"), "£0.05"),
        (D("-0.00"), "£0.00"),
        (12000000, "£12,000,000.00"),
        (D("13.7000"), "£13.70"),
        (D("13.7025"), "£13.7025"),
    ],
)
def test_format_gbp(amount, text):
    assert format_gbp(amount) == text


def test_format_gbp_refuses_float():
    with pytest.raises(TypeError, match="amount"):
        format_gbp(1234.5)


# --- format_quantity ---------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "places", "text"),
    [
        (D("12000.00"), 0, "12,000"),  # in a sentence: no needless zeros
        (D("9200.50"), 0, "9,200.5"),
        (D("1E+4"), 0, "10,000"),  # a normalized figure keeps its digits
        (30, 0, "30"),
        (D("5.85"), 0, "5.85"),
        (D("1675.00"), 2, "1,675.00"),  # in a column: at least 2 places
        (1675, 2, "1,675.00"),
        (D("1540.875"), 2, "1,540.875"),  # more places only when it has them: never rounds
        (D("-1234567.5"), 2, "-1,234,567.50"),
        (D("-0.00"), 2, "0.00"),
        (D("0"), 0, "0"),
    ],
)
def test_format_quantity(quantity, places, text):
    assert format_quantity(quantity, places) == text


@pytest.mark.parametrize(
    ("count", "noun", "plural", "text"),
    [
        (1, "provider", None, "1 provider"),  # never "1 providers"
        (0, "provider", None, "0 providers"),
        (2000, "visit", None, "2,000 visits"),
        (1, "zone/lot", "zones/lots", "1 zone/lot"),
        (4, "zone/lot", "zones/lots", "4 zones/lots"),
    ],
)
def test_format_count_agrees_in_number(count, noun, plural, text):
    assert format_count(count, noun, plural) == text


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        (D("15.80"), "£15.80"),  # a published rate: 2 places
        (D("13.7000"), "£13.7000"),  # a blend: the 4 places round_blended_rate gives, zeros too
        (D("13.7150"), "£13.7150"),
        (D("16"), "£16.00"),
        (D("1000.00"), "£1,000.00"),
    ],
)
def test_format_rate_shows_the_places_the_card_states(rate, text):
    assert format_rate(rate) == text


def test_format_quantity_refuses_float():
    with pytest.raises(TypeError, match="quantity"):
        format_quantity(1675.5)


def test_total_adds_exactly_and_keeps_the_places():
    assert str(total([D("1.50"), D("2.25"), 3])) == "6.75"
    assert str(total([])) == "0.00"
    assert str(total([D("0.7"), D("0.2")], start=D(0))) == "0.9"  # blend weights keep their own places
    # 1e30 and a penny need 33 digits: sum() at Python's 28 gives 1.000000000000000000000000000E+30.
    assert str(total([D("1E+30"), D("0.01")])) == "1000000000000000000000000000000.01"


def test_total_ignores_the_callers_decimal_context():
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = 3, "ROUND_DOWN"
        assert str(total([D("1234.56"), D("0.01")])) == "1234.57"


def test_pence_from_pounds_is_exact_and_refuses_part_of_a_penny():
    assert pence_from_pounds(D("12.34")) == 1234
    assert pence_from_pounds(D("-0.05")) == -5
    assert pence_from_pounds(D("12345678.91")) == 1234567891
    assert pounds_from_pence(pence_from_pounds(D("29608.86"))) == D("29608.86")
    with pytest.raises(ValueError, match="not a whole number of pennies"):
        pence_from_pounds(D("12.345"))
