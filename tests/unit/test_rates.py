"""Rate cards and pricing, worked through Herefordshire's old and new rates (DOMAIN.md).

Old rates: urban £14.76, rural £15.76 (a band: a property of the package),
24-hour sleep-in £11.48. New framework: £15.80 an hour, pro rata for shorter
visits; £12.80 for 24-hour packages and sleep-in nights; Complex lots blended
70% at £12.80 + 30% at £15.80.

Invented for the tests: the old rates in force from 1 April 2016 and the new
framework from Monday 6 November 2017, in the middle of 2017-18-Q3, so one
quarter holds visits at both rates.
"""

import re
from datetime import date, timedelta
from decimal import Decimal as D
from decimal import localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.aggregate import natural_id
from domain.agreements.agreement import Agreement
from domain.agreements.terms import PaymentBasis, ServiceType
from domain.envelope import Actor, Envelope
from domain.errors import InvalidInput, NotFound
from domain.money import round_money
from domain.periods import quarter_of
from domain.rates.pricing import BlendPart, blended_rate, payable_minutes, price_minutes, price_visit
from domain.rates.rate_card import RateCard
from tests.support import replay

ACCOUNTANT = Actor("finance@herefordshire.gov.uk", "herefordshire-council")
OLD = date(2016, 4, 1)  # invented: the old rates were in force by then
NEW = date(2017, 11, 6)  # invented changeover to the new framework, mid 2017-18-Q3
ZONES = ["zone-a", "zone-b", "zone-c", "zone-d", "zone-e"]  # Pathway O
COMPLEX_BLEND = [(D("0.70"), D("12.80")), (D("0.30"), D("15.80"))]


def env(day: date = NEW) -> Envelope:
    return Envelope(actor=ACCOUNTANT, effective_date=day, reason="Help to Live at Home")


def herefordshire() -> RateCard:
    card = RateCard.create(env(OLD), "herefordshire-hlah")
    for zone in ZONES:
        card.publish_rate(env(OLD), "standard", zone, OLD, "old rates", hourly_rate=D("14.76"), band="urban")
        card.publish_rate(env(OLD), "standard", zone, OLD, "old rates", hourly_rate=D("15.76"), band="rural")
        card.publish_rate(env(OLD), "sleep-in", zone, OLD, "old rates", hourly_rate=D("11.48"))
        # The new framework: one rate for the whole zone, so the bands end.
        card.publish_rate(env(), "standard", zone, NEW, "new framework", hourly_rate=D("15.80"))
        for band in ("urban", "rural"):
            card.withdraw_rate(env(), "standard", zone, NEW, "new framework: one rate, urban or rural", band=band)
        card.publish_rate(env(), "sleep-in", zone, NEW, "new framework", hourly_rate=D("12.80"))
        card.publish_rate(env(), "live-in-24h", zone, NEW, "new framework", hourly_rate=D("12.80"))
    for lot in ("lot-d-ab", "lot-d-cde"):  # Pathway D: Complex A & B, Complex C, D, E
        card.publish_rate(env(), ServiceType.COMPLEX, lot, NEW, "new framework", blend=COMPLEX_BLEND)
    return card




# -- blended rates --------------------------------------------------------------------


def test_blended_complex_rate():
    # 0.70 × 12.80 + 0.30 × 15.80 = 8.96 + 4.74 = 13.70, kept to 4 dp.
    assert blended_rate(COMPLEX_BLEND) == D("13.7000")
    assert str(blended_rate(COMPLEX_BLEND)) == "13.7000"
    assert blended_rate([BlendPart(D("0.3"), D("15.80")), BlendPart(D("0.7"), D("12.80"))]) == D("13.7000")


def test_blended_rate_on_the_card_prices_complex_a_and_b():
    quote = herefordshire().rate_for("complex", "lot-d-ab", date(2018, 1, 15))
    assert quote.hourly_rate == D("13.7000")
    assert "blended 70% × £12.80 + 30% × £15.80 = £13.7000 (4 dp, half up)" in quote.derivation
    # DOMAIN.md: 70,460 hours × £13.70 = £965,302 (the source's £956,302 is a transposition).
    assert round_money(D(70460) * quote.hourly_rate) == D("965302.00")


def test_blend_rules_name_the_field():
    with pytest.raises(InvalidInput, match="blend: the weights add up to 0.90, not exactly 1"):
        blended_rate([(D("0.70"), D("12.80")), (D("0.20"), D("15.80"))])
    with pytest.raises(InvalidInput, match="blend: a blended rate needs at least two parts"):
        blended_rate([(D("1"), D("12.80"))])
    with pytest.raises(InvalidInput, match=r"blend\[1\].weight: 0 must be more than 0"):
        blended_rate([(D("1"), D("12.80")), (D("0"), D("15.80"))])
    with pytest.raises(InvalidInput, match=r"blend\[0\].rate: '12.805' has more than 2 decimal places"):
        blended_rate([(D("0.5"), "12.805"), (D("0.5"), D("15.80"))])
    with pytest.raises(TypeError, match=r"blend\[0\].weight.*float"):
        blended_rate([(0.7, D("12.80")), (D("0.3"), D("15.80"))])


# -- pro rata ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "minutes, expected",
    [
        (15, "3.95"),  # 15.80 × 15 ÷ 60 = 3.95
        (30, "7.90"),  # 15.80 × 30 ÷ 60 = 7.90
        (45, "11.85"),  # 15.80 × 45 ÷ 60 = 11.85
        (20, "5.27"),  # 15.80 × 20 ÷ 60 = 5.2666… → 5.27
        (60, "15.80"),
        (0, "0.00"),
    ],
)
def test_pro_rata_at_the_new_rate(minutes, expected):
    assert str(price_minutes(D("15.80"), minutes)) == expected


def test_pro_rata_at_a_blended_rate_rounds_once():
    assert price_minutes(D("13.7000"), 30) == D("6.85")
    assert price_minutes(D("13.7000"), 20) == D("4.57")  # 13.70 × 20 ÷ 60 = 4.5666… → 4.57


def test_pricing_ignores_the_callers_decimal_context():
    with localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = "ROUND_DOWN"
        assert price_minutes(D("15.80"), 20) == D("5.27")
        assert blended_rate(COMPLEX_BLEND) == D("13.7000")


def test_minutes_rules_name_the_field():
    with pytest.raises(InvalidInput, match="minutes: -5 must not be negative"):
        price_minutes(D("15.80"), -5)
    with pytest.raises(InvalidInput, match="minutes: 7.5 is not a whole number of minutes"):
        price_minutes(D("15.80"), 7.5)
    with pytest.raises(TypeError, match="rate.*float"):
        price_minutes(15.80, 30)


# -- payment basis ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "basis, planned, actual, paid",
    [
        ("actual", 30, 40, 40),
        ("actual", 30, 25, 25),
        ("planned", 30, 40, 30),
        ("planned", 30, 25, 30),
        ("actual-capped", 30, 40, 30),
        ("actual-capped", 30, 25, 25),
    ],
)
def test_each_payment_basis(basis, planned, actual, paid):
    assert payable_minutes(basis, planned, actual) == paid
    visit = price_visit(D("15.80"), PaymentBasis(basis), planned, actual)
    assert visit.payable_minutes == paid
    assert visit.amount == price_minutes(D("15.80"), paid)
    assert f"{paid} min ({basis} basis" in visit.working


def test_payment_basis_rules_name_the_field():
    with pytest.raises(InvalidInput, match="basis: 'rounded' is not one of actual, planned, actual-capped"):
        payable_minutes("rounded", 30, 30)
    with pytest.raises(InvalidInput, match="planned_minutes: None"):
        payable_minutes("planned", None, 30)
    with pytest.raises(InvalidInput, match="actual_minutes: -1 must not be negative"):
        payable_minutes("actual", 30, -1)


# -- the rate card ------------------------------------------------------------------------------


def test_rate_superseded_mid_quarter_priced_on_each_side_of_the_date():
    card = herefordshire()
    day_before, changeover = NEW - timedelta(days=1), NEW
    assert quarter_of(day_before) == quarter_of(changeover)  # both in 2017-18-Q3

    rural_before = card.rate_for("standard", "zone-c", day_before, band="rural")
    rural_after = card.rate_for("standard", "zone-c", changeover, band="rural")
    assert (rural_before.hourly_rate, rural_before.effective_from) == (D("15.76"), OLD)
    assert (rural_after.hourly_rate, rural_after.effective_from) == (D("15.80"), NEW)
    # A 45-minute rural visit: 15.76 × 45 ÷ 60 = 11.82; then 15.80 × 45 ÷ 60 = 11.85.
    assert price_visit(rural_before, "actual", 45, 45).amount == D("11.82")
    assert price_visit(rural_after, "actual", 45, 45).amount == D("11.85")
    # A 30-minute urban visit: 14.76 ÷ 2 = 7.38; then 7.90.
    assert price_visit(card.rate_for("standard", "zone-c", day_before, "urban"), "actual", 30, 30).amount == D("7.38")
    assert price_visit(card.rate_for("standard", "zone-c", changeover, "urban"), "actual", 30, 30).amount == D("7.90")
    # Sleep-in: £11.48, superseded by £12.80.
    assert card.rate_for("sleep-in", "zone-c", day_before).hourly_rate == D("11.48")
    assert card.rate_for("sleep-in", "zone-c", changeover).hourly_rate == D("12.80")


def test_a_band_falls_back_to_the_rate_without_a_band_and_says_so():
    quote = herefordshire().rate_for("standard", "zone-a", NEW, band="rural")
    assert quote.band == "rural" and quote.rate_band is None
    assert quote.derivation.startswith("no rural rate is in force, so the rate without a band applies: £15.80")
    banded = herefordshire().rate_for("standard", "zone-a", NEW - timedelta(days=1), band="rural")
    assert banded.rate_band == "rural"
    assert "£15.76 an hour for service standard, zone zone-a, band rural, effective from 2016-04-01" in banded.derivation


def test_no_band_asked_where_rates_are_banded():
    with pytest.raises(NotFound, match=r"no rate for service standard, zone zone-a on 2017-11-05: "
                                       r"rates here are banded \(rural, urban\); give the package's band"):
        herefordshire().rate_for("standard", "zone-a", NEW - timedelta(days=1))


def test_no_rate_names_service_zone_band_and_date():
    card = herefordshire()
    with pytest.raises(NotFound, match="no rate for service complex, zone lot-d-ab on 2017-11-05: "
                                       "the first rate applies from 2017-11-06"):
        card.rate_for("complex", "lot-d-ab", NEW - timedelta(days=1))
    with pytest.raises(NotFound, match="no rate for service reablement, zone zone-a, band rural on 2018-01-01$"):
        card.rate_for("reablement", "zone-a", date(2018, 1, 1), band="rural")
    with pytest.raises(InvalidInput, match="service: 'domiciliary'"):
        card.rate_for("domiciliary", "zone-a", date(2018, 1, 1))


def test_a_same_day_publication_is_a_correction_recorded_not_edited():
    card = RateCard.create(env(), "herefordshire-hlah")
    card.publish_rate(env(), "standard", "zone-a", NEW, "new framework", hourly_rate=D("15.08"))  # a typo
    card.publish_rate(env(), "standard", "zone-a", NEW, "correction: typed 15.08", hourly_rate=D("15.80"))
    assert card.rate_for("standard", "zone-a", NEW).hourly_rate == D("15.80")
    assert [e.hourly_rate for e in card.history("standard", "zone-a")] == [D("15.08"), D("15.80")]
    assert len(card.collect_events()) == 3


def test_publishing_what_is_already_in_force_records_nothing():
    card = herefordshire()
    card.collect_events()
    card.publish_rate(env(), "standard", "zone-a", NEW, "again", hourly_rate=D("15.80"))
    card.publish_rate(env(), "complex", "lot-d-ab", NEW, "again", blend=COMPLEX_BLEND)
    assert card.collect_events() == []


def test_a_rate_inserted_between_two_applies_until_the_next():
    card = herefordshire()
    card.publish_rate(env(), "sleep-in", "zone-b", date(2017, 4, 1), "interim uplift", hourly_rate=D("11.80"))
    assert card.rate_for("sleep-in", "zone-b", date(2017, 3, 31)).hourly_rate == D("11.48")
    assert card.rate_for("sleep-in", "zone-b", date(2017, 11, 5)).hourly_rate == D("11.80")
    assert card.rate_for("sleep-in", "zone-b", NEW).hourly_rate == D("12.80")


def test_publish_and_withdraw_rules_name_the_field():
    card = herefordshire()
    with pytest.raises(InvalidInput, match="hourly_rate: give either an hourly rate or a blend"):
        card.publish_rate(env(), "standard", "zone-a", NEW, "x", hourly_rate=D("15.80"), blend=COMPLEX_BLEND)
    with pytest.raises(InvalidInput, match="hourly_rate: give either"):
        card.publish_rate(env(), "standard", "zone-a", NEW, "x")
    with pytest.raises(InvalidInput, match="hourly_rate: '15.805' has more than 2 decimal places"):
        card.publish_rate(env(), "standard", "zone-a", NEW, "x", hourly_rate="15.805")
    with pytest.raises(InvalidInput, match="hourly_rate: 0.00 must be more than 0"):
        card.publish_rate(env(), "standard", "zone-a", NEW, "x", hourly_rate=D("0"))
    with pytest.raises(InvalidInput, match="reason: must not be blank"):
        card.publish_rate(env(), "standard", "zone-a", NEW, " ", hourly_rate=D("15.80"))
    with pytest.raises(InvalidInput, match="band: 'Rural Band'"):
        card.publish_rate(env(), "standard", "zone-a", NEW, "x", hourly_rate=D("15.80"), band="Rural Band")
    with pytest.raises(InvalidInput, match="effective_from: '2017-11-06' is not a date"):
        card.publish_rate(env(), "standard", "zone-a", "2017-11-06", "x", hourly_rate=D("15.80"))
    with pytest.raises(NotFound, match="no rate for service standard, zone zone-a, band rural is in force on 2018-01-01"):
        card.withdraw_rate(env(), "standard", "zone-a", date(2018, 1, 1), "again", band="rural")


def test_publishing_checks_the_agreement_has_the_service_and_zone():
    agreement = Agreement.register(env(OLD), "herefordshire-hlah", "Help to Live at Home", "framework",
                                   date(2017, 4, 1), date(2022, 3, 31))
    agreement.add_zone(env(NEW), "zone-a", "Zone A", ["HR1"])
    agreement.add_service_type(env(NEW), "standard")
    card = RateCard.create(env(), "herefordshire-hlah")
    card.publish_rate(env(), "standard", "zone-a", NEW, "new framework", hourly_rate=D("15.80"), agreement=agreement)
    with pytest.raises(NotFound, match="zone: zone-f is not a zone of herefordshire-hlah"):
        card.publish_rate(env(), "standard", "zone-f", NEW, "x", hourly_rate=D("15.80"), agreement=agreement)
    with pytest.raises(NotFound, match="service: reablement is not a service type of herefordshire-hlah on 2017-11-06"):
        card.publish_rate(env(), "reablement", "zone-a", NEW, "x", hourly_rate=D("15.80"), agreement=agreement)


def test_the_card_replays_exactly():
    card = herefordshire()
    card.publish_rate(env(), "standard", "zone-a", NEW, "correction", hourly_rate=D("15.81"))
    copy = replay(card)
    assert copy.id == natural_id("rate-card", "herefordshire-hlah") == card.id
    for zone in ZONES:
        for day in (OLD, NEW - timedelta(days=1), NEW):
            for band in ("urban", "rural", None):
                try:
                    expected = card.rate_for("standard", zone, day, band)
                except NotFound as error:
                    with pytest.raises(NotFound, match=re.escape(str(error))):
                        copy.rate_for("standard", zone, day, band)
                else:
                    assert copy.rate_for("standard", zone, day, band) == expected
    assert copy.rate_for("complex", "lot-d-cde", NEW) == card.rate_for("complex", "lot-d-cde", NEW)
    assert copy.rate_for("standard", "zone-a", NEW).hourly_rate == D("15.81")


# -- properties ----------------------------------------------------------------------------

RATES = st.decimals(min_value=D("5.00"), max_value=D("60.00"), places=2)
MINUTES = st.integers(min_value=0, max_value=24 * 60)


@given(RATES, MINUTES, MINUTES)
def test_price_is_monotonic_in_minutes(rate, a, b):
    low, high = sorted((a, b))
    assert price_minutes(rate, low) <= price_minutes(rate, high)


@given(st.decimals(min_value=D("5.0000"), max_value=D("60.0000"), places=4))
def test_sixty_minutes_pays_the_hourly_rate(rate):
    assert price_minutes(rate, 60) == round_money(rate)


@given(RATES)
def test_sixty_minutes_at_a_penny_rate_is_exactly_the_rate(rate):
    assert price_minutes(rate, 60) == rate


@given(RATES, MINUTES, MINUTES)
def test_splitting_a_visit_moves_the_price_by_at_most_a_penny(rate, a, b):
    # Rounding once per visit: two visits are within a penny of one visit of the same total length.
    assert abs(price_minutes(rate, a + b) - price_minutes(rate, a) - price_minutes(rate, b)) <= D("0.01")


@given(RATES, RATES, st.integers(min_value=1, max_value=99))
def test_blended_rate_lies_between_its_parts(first, second, percent):
    weight = D(percent) / 100
    blended = blended_rate([(weight, first), (1 - weight, second)])
    assert min(first, second) <= blended <= max(first, second)
    assert blended.as_tuple().exponent == -4
