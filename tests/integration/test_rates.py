"""Rate cards and the one pricing function through the ledger, on SQLite and PostgreSQL.

The worked figures are docs/pricing.md's: at £15.80, 15 minutes is £3.95, 30
is £7.90, 45 is £11.85 and 20 is £5.2666… → £5.27; 70% × £12.80 + 30% ×
£15.80 = £13.7000; Herefordshire's complex lots, 70,460 hours × £13.70 =
£965,302.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from domain.errors import InvalidInput, NotFound
from domain.money import round_money
from domain.periods import quarter_of
from ledger.queries import rates as views
from ledger.usecases.rates import rate_line
from tests.integration.agreement_setup import START, WIRRAL, framework, on, wirral
from tests.support import error_line, ok_json

HFD_START = date(2017, 4, 1)


@pytest.mark.parametrize(("minutes", "paid"), [(15, "3.95"), (20, "5.27"), (30, "7.90"), (45, "11.85"), (60, "15.80")])
def test_short_visits_are_paid_pro_rata_by_minutes(book, minutes, paid):
    framework(book)
    book.rates.publish_rate(on(HFD_START, "fixed rate"), "hfd", "standard", "zone-a", hourly_rate="15.80")

    price = book.rates.price_visit("hfd", "standard", "zone-a", date(2017, 7, 3), minutes, minutes)

    assert (price.payable_minutes, price.hourly_rate, price.amount) == (minutes, D("15.80"), D(paid))
    assert price.working == f"{minutes} min (actual basis: planned {minutes}, actual {minutes}) × £15.80 ÷ 60 = £{paid}"


def test_a_blended_rate_is_computed_from_its_parts_never_typed(book):
    framework(book)
    published = book.rates.publish_rate(
        on(HFD_START, "pathway D blended rate"), "hfd", "complex", "zone-a", blend=[("0.7", "12.80"), ("0.3", "15.80")]
    )
    assert published["hourly_rate"] == "13.7000"

    quote = book.rates.rate_for("hfd", "complex", "zone-a", date(2017, 7, 1))
    assert quote.hourly_rate == D("13.7000")
    assert "blended 70% × £12.80 + 30% × £15.80 = £13.7000 (4 dp, half up)" in quote.derivation
    assert round_money(D(70460) * quote.hourly_rate) == D("965302.00")  # the seed's £956,302 is a transposition
    assert book.rates.price_visit("hfd", "complex", "zone-a", date(2017, 7, 1), 30, 30).amount == D("6.85")
    [row] = views.rates_in_force(book.read_engine, "hfd", date(2017, 7, 1))
    assert row["hourly_rate"] == D("13.7000")
    assert row["blend"] == [{"weight": "0.7", "rate": "12.80"}, {"weight": "0.3", "rate": "15.80"}]  # a list, not text

    with pytest.raises(InvalidInput, match="blend: the weights add up to 0.9, not exactly 1"):
        book.rates.publish_rate(
            on(HFD_START, "typo"), "hfd", "complex", "zone-a", blend=[("0.6", "12.80"), ("0.3", "15.80")]
        )


def test_a_rate_superseded_mid_quarter_prices_each_visit_by_its_own_date(book):
    wirral(book)
    change = date(2019, 8, 15)  # in the middle of 2019-20-Q2
    book.rates.publish_rate(on(change, "interim uplift"), WIRRAL, "standard", "zone-2", hourly_rate="16.00")
    day_before = date(2019, 8, 14)
    assert quarter_of(day_before) == quarter_of(change)

    assert book.rates.price_visit(WIRRAL, "standard", "zone-2", day_before, 60, 60).amount == D("15.60")
    assert book.rates.price_visit(WIRRAL, "standard", "zone-2", change, 60, 60).amount == D("16.00")
    assert book.rates.price_visit(WIRRAL, "standard", "zone-1", change, 60, 60).amount == D("15.60")  # other zones

    history = views.rate_history(book.read_engine, WIRRAL, "standard", "zone-2")
    assert [(r["hourly_rate"], r["effective_from"], r["superseded_from"]) for r in history] == [
        (D("15.60"), START, change),
        (D("16.00"), change, None),
    ]
    in_force = {r["zone"]: r["hourly_rate"] for r in views.rates_in_force(book.read_engine, WIRRAL, day_before)}
    assert in_force == {"zone-1": D("15.60"), "zone-2": D("15.60"), "zone-3": D("15.60"), "zone-4": D("15.60")}
    after = {r["zone"]: r["hourly_rate"] for r in views.rates_in_force(book.read_engine, WIRRAL, change)}
    assert after["zone-2"] == D("16.00")


@pytest.mark.parametrize(
    ("basis", "over", "under"),
    [  # at £15.60: planned 30 / actual 40, and planned 30 / actual 25 (docs/pricing.md's table)
        ("actual", ("10.40", 40), ("6.50", 25)),
        ("planned", ("7.80", 30), ("7.80", 30)),
        ("actual-capped", ("7.80", 30), ("6.50", 25)),
    ],
)
def test_each_payment_basis_decides_the_minutes_paid_from_its_date(book, basis, over, under):
    wirral(book)
    switch = date(2020, 4, 1)
    book.agreements.set_payment_basis(on(switch, "electronic call monitoring"), WIRRAL, basis)

    long_visit = book.rates.price_visit(WIRRAL, "standard", "zone-1", switch, planned_minutes=30, actual_minutes=40)
    short_visit = book.rates.price_visit(WIRRAL, "standard", "zone-1", switch, planned_minutes=30, actual_minutes=25)

    assert (long_visit.amount, long_visit.payable_minutes) == (D(over[0]), over[1])
    assert (short_visit.amount, short_visit.payable_minutes) == (D(under[0]), under[1])
    before = book.rates.price_visit(WIRRAL, "standard", "zone-1", date(2020, 3, 31), 30, 40)
    assert (before.basis, before.payable_minutes) == ("actual", 40)  # the default until the change


def test_bands_fall_back_to_the_rate_without_a_band_once_withdrawn(book):
    framework(book)
    book.rates.publish_rates(
        on(HFD_START, "old rates"),
        "hfd",
        [
            rate_line("standard", "zone-a", band="urban", hourly_rate="14.76"),
            rate_line("standard", "zone-a", band="rural", hourly_rate="15.76"),
        ],
    )
    new_framework = date(2017, 7, 1)
    book.rates.publish_rates(
        on(new_framework, "fixed rate; bands withdrawn"),
        "hfd",
        [
            rate_line("standard", "zone-a", hourly_rate="15.80"),
            rate_line("standard", "zone-a", band="urban", withdraw=True),
            rate_line("standard", "zone-a", band="rural", withdraw=True),
        ],
    )

    assert book.rates.rate_for("hfd", "standard", "zone-a", date(2017, 6, 30), band="rural").hourly_rate == D("15.76")
    rural = book.rates.rate_for("hfd", "standard", "zone-a", new_framework, band="rural")
    assert rural.hourly_rate == D("15.80") and rural.derivation.startswith("no rural rate is in force")
    with pytest.raises(NotFound, match="rates here are banded \\(rural, urban\\); give the package's band"):
        book.rates.rate_for("hfd", "standard", "zone-a", date(2017, 6, 30))
    history = views.rate_history(book.read_engine, "hfd")
    assert [(r["band"], r["withdrawn"], r["superseded_from"]) for r in history] == [
        (None, False, None),
        ("rural", False, new_framework),
        ("rural", True, None),
        ("urban", False, new_framework),
        ("urban", True, None),
    ]


def test_the_rates_in_force_read_model_agrees_with_rate_for(book):
    """Out-of-order (backdated) publications and same-day corrections re-date the read model like the card."""
    wirral(book)
    book.rates.publish_rate(on(date(2020, 4, 1), "2020-21"), WIRRAL, "standard", "zone-1", hourly_rate="16.34")
    backdated = on(date(2019, 10, 1), "backdated interim rate")
    book.rates.publish_rate(backdated, WIRRAL, "standard", "zone-1", hourly_rate="15.90")
    book.rates.publish_rate(on(date(2019, 10, 1), "correction: typo"), WIRRAL, "standard", "zone-1", hourly_rate="15.95")
    book.rates.withdraw_rate(on(date(2021, 1, 1), "zone merged"), WIRRAL, "standard", "zone-3")

    for day in (START, date(2019, 9, 30), date(2019, 10, 1), date(2020, 3, 31), date(2020, 4, 1), date(2021, 1, 1)):
        shown = {r["zone"]: r["hourly_rate"] for r in views.rates_in_force(book.read_engine, WIRRAL, day)}
        priced = {}
        for zone in ("zone-1", "zone-2", "zone-3", "zone-4"):
            try:
                priced[zone] = book.rates.rate_for(WIRRAL, "standard", zone, day).hourly_rate
            except NotFound:
                pass
        assert shown == priced, day
    corrected = [r for r in views.rate_history(book.read_engine, WIRRAL, zone="zone-1") if r["corrected"]]
    assert [(r["hourly_rate"], r["reason"]) for r in corrected] == [(D("15.90"), "backdated interim rate")]


def test_a_batch_pricer_loads_once_and_prices_exactly_like_price_visit(book):
    wirral(book)
    book.rates.publish_rate(on(date(2019, 8, 15), "interim"), WIRRAL, "standard", "zone-2", hourly_rate="16.00")
    pricer = book.rates.pricer(WIRRAL)
    visits = [(zone, date(2019, 8, day), planned, actual) for zone in ("zone-1", "zone-2") for day in (14, 15)
              for planned, actual in ((30, 25), (45, 50), (15, 15))]

    assert [pricer.price("standard", z, d, p, a) for z, d, p, a in visits] == [
        book.rates.price_visit(WIRRAL, "standard", z, d, p, a) for z, d, p, a in visits
    ]

    book.rates.publish_rate(on(date(2019, 8, 15), "correction"), WIRRAL, "standard", "zone-2", hourly_rate="16.10")
    assert pricer.price("standard", "zone-2", date(2019, 8, 15), 60, 60).amount == D("16.00")  # a snapshot
    assert book.rates.price_visit(WIRRAL, "standard", "zone-2", date(2019, 8, 15), 60, 60).amount == D("16.10")


def test_rates_are_checked_against_the_agreement_and_a_card_is_all_or_nothing(book):
    wirral(book, rate=None)
    head = book.ledger.recorder.max_notification_id()
    with pytest.raises(NotFound, match="agreement 'wirral-homecare' has no rates published yet"):
        book.rates.rate_for(WIRRAL, "standard", "zone-1", START)
    with pytest.raises(NotFound, match="zone: zone-9 is not a zone of wirral-homecare"):
        book.rates.publish_rate(on(START, "typo"), WIRRAL, "standard", "zone-9", hourly_rate="15.60")
    with pytest.raises(NotFound, match="service: sleep-in is not a service type of wirral-homecare"):
        book.rates.publish_rate(on(START, "not commissioned"), WIRRAL, "sleep-in", "zone-1", hourly_rate="11.48")
    with pytest.raises(InvalidInput, match="reason: must not be blank"):
        book.rates.publish_rate(on(START, None), WIRRAL, "standard", "zone-1", hourly_rate="15.60")
    with pytest.raises(InvalidInput, match="hourly_rate: '15.605' has more than 2 decimal places"):
        book.rates.publish_rates(
            on(START, "rate card"),
            WIRRAL,
            [
                rate_line("standard", "zone-1", hourly_rate="15.60"),
                rate_line("standard", "zone-2", hourly_rate="15.605"),
            ],
        )
    with pytest.raises(NotFound, match="agreement 'nowhere' is not registered"):
        book.rates.price_visit("nowhere", "standard", "zone-1", START, 30, 30)
    assert book.ledger.recorder.max_notification_id() == head  # no card, no rate


# -- the command line ------------------------------------------------------------------------


def json_of(openbook, *args: str) -> dict | list:
    return ok_json(openbook(*args, "--json"))


@pytest.mark.demo
def test_the_cli_looks_up_a_postcode_shows_rates_and_prices_a_visit(book, openbook):

    found = json_of(openbook, "postcode", "CH45", "3AB", "--agreement", "wirral-homecare", "--on", "2019-06-01")
    assert (found["district"], found["zone"], found["zone_name"], found["primary_provider"]) == (
        "CH45", "zone-2", "Wallasey", "premier-care"
    )
    by_district = json_of(openbook, "postcode", "HR6 8AA", "--on", "2017-08-01")  # the agreement found by its district
    assert (by_district["agreement"], by_district["lots"]) == ("herefordshire-hlah", ["complex-north"])

    old = json_of(openbook, "rates", "show", "--agreement", "wirral-homecare", "--on", "2020-03-31")
    new = json_of(openbook, "rates", "show", "--agreement", "wirral-homecare", "--on", "2020-04-01")
    assert {r["hourly_rate"] for r in old} == {"15.60"} and {r["hourly_rate"] for r in new} == {"16.34"}

    price = json_of(openbook, 
        "rates", "price", "--agreement", "herefordshire-hlah", "--service", "standard", "--zone", "zone-a",
        "--band", "rural", "--on", "2017-06-30", "--planned", "30", "--actual", "25",
    )
    assert (price["hourly_rate"], price["payable_minutes"], price["amount"]) == ("15.76", 25, "6.57")
    assert price["working"] == "25 min (actual basis: planned 30, actual 25) × £15.76 ÷ 60 = £6.57"

    refused = openbook("postcode", "CH64 9ZZ", "--agreement", "wirral-homecare", "--on", "2019-06-01")
    assert error_line(refused) == "error: postcode district CH64 is not in any zone of wirral-homecare on 2019-06-01"


def test_the_cli_sets_up_an_agreement_and_publishes_a_blended_rate(book, openbook):
    for code, kind in (("hfd-council", "council"), ("hfd-provider", "provider")):
        json_of(openbook, "organisations", "register", code, code, "--kind", kind, "--effective", "2017-04-01")
    recording = ("--effective", "2017-04-01", "--reason", "set-up")
    json_of(openbook, "agreements", "register", "hfd", "Help to Live at Home", "--kind", "framework",
             "--term-start", "2017-04-01", "--term-end", "2022-06-30", "--effective", "2017-04-01")
    json_of(openbook, "agreements", "add-commissioner", "hfd", "hfd-council", *recording)
    json_of(openbook, "agreements", "set-contribution", "hfd", "hfd-council", "2017-18", "9094000.00", *recording)
    json_of(openbook, "agreements", "add-zone", "hfd", "zone-a", "Zone A", "--district", "HR5", "--district", "HR6", *recording)
    json_of(openbook, "agreements", "add-service", "hfd", "complex", *recording)
    json_of(openbook, "agreements", "award", "hfd", "hfd-provider", "zone-a", "--tier", "primary", *recording)
    json_of(openbook, "agreements", "define-kpi", "hfd", "all-kpis", "--name", "Reduction", "--measure", "% hours",
             "--target", "5", "--direction", "higher-is-better", *recording)
    json_of(openbook, "agreements", "set-payment-basis", "hfd", "actual-capped", *recording)
    published = json_of(openbook, "rates", "publish", "--agreement", "hfd", "--service", "complex", "--zone", "zone-a",
                         "--blend", "0.7@12.80", "--blend", "0.3@15.80", *recording)
    assert published["hourly_rate"] == "13.7000"

    shown = json_of(openbook, "agreements", "show", "hfd", "--on", "2017-07-01")
    view = shown["agreement"]
    assert (view["payment_basis"], [z["code"] for z in view["zones"]], view["awards"][0]["provider"]) == (
        "actual-capped", ["zone-a"], "hfd-provider"
    )
    assert shown["pooled_budget"] == "9094000.00" and shown["rates"][0]["hourly_rate"] == "13.7000"
    assert [c["reason"] for c in json_of(openbook, "agreements", "history", "hfd")][1:] == ["set-up"] * 7
    assert [a["code"] for a in json_of(openbook, "agreements", "list")] == ["hfd"]
    priced = json_of(openbook, "rates", "price", "--agreement", "hfd", "--service", "complex", "--zone", "zone-a",
                      "--on", "2017-07-01", "--planned", "30", "--actual", "40")
    assert (priced["payable_minutes"], priced["amount"]) == (30, "6.85")
