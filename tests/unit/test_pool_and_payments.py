"""The pooled budget's terms (refused band sets name the ranges), payment runs, and the run-rate forecast."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from domain.envelope import Actor, Envelope
from domain.errors import InvalidInput, RuleBroken
from domain.settlement.gainshare import Band
from domain.settlement.payment_ledger import (
    ActivityRow,
    PaymentLedger,
    capitated_run,
    check_month,
    months_of,
    rate_run,
    run_rate_forecast,
)
from domain.settlement.pooled_budget import Capitation, PaymentMechanism, PooledBudget, PoolTerms

DOMAIN_BANDS = [(None, "0.9", "0.25"), ("0.9", "1", "0.5"), ("1", "1.1", "0.5"), ("1.1", None, "1")]
ACCOUNTANT = Actor("accountant@wirral.example", "wirral-council")


def e(reason: str | None = "pool agreed", on: date = date(2019, 4, 1)) -> Envelope:
    return Envelope(ACCOUNTANT, on, reason)


def test_terms_from_text_with_a_lower_limit_of_zero_meaning_from_nothing():
    terms = PoolTerms.check(target="12000000.00", bands=[("0", "0.9", "0.25"), *DOMAIN_BANDS[1:]], gain_cap="250000")
    assert terms.bands[0] == Band(None, D("0.9"), D("0.25"))
    assert terms.gain_cap == D("250000") and terms.loss_cap is None
    assert PoolTerms.from_data(terms.to_data()) == terms
    assert "25% of the variance below 90% of target" in "\n".join(terms.describe())


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([(None, "0.9", "0.25"), ("0.95", None, "0.5")], "bands leave a gap between 90% and 95% of target"),
        ([(None, "1", "0.25"), ("0.9", None, "0.5")], "bands overlap between 90% and 100% of target"),
        ([("0.5", "1", "0.25"), ("1", None, "0.5")], "bands leave a gap below 50% of target"),
        ([(None, "1", "0.25"), ("1", "1.2", "0.5")], "bands leave a gap above 120% of target"),
        ([(None, "1", "1.5"), ("1", None, "0.5")], "provider share 1.5; it must be between 0 and 1"),
        ([], "no bands given"),
    ],
)
def test_refused_band_sets_name_the_ranges(bands, message):
    with pytest.raises(InvalidInput, match=message):
        PoolTerms.check(target="1000.00", bands=bands)


def test_every_problem_with_the_terms_is_reported_at_once():
    with pytest.raises(InvalidInput) as refused:
        PoolTerms.check(
            target="-1", bands=DOMAIN_BANDS, gain_cap="1.001", mechanism="barter", clawback_share="2",
            capitation=[("premier-care", "zone-1", "100.00")],
        )  # fmt: skip
    text = str(refused.value)
    for expected in ("target:", "gain_cap:", "mechanism: 'barter'", "clawback_share:"):
        assert expected in text
    with pytest.raises(InvalidInput, match="a capitated pool needs a monthly sum"):
        PoolTerms.check(target="1000.00", bands=DOMAIN_BANDS, mechanism="capitated")
    with pytest.raises(InvalidInput, match="given more than once"):
        PoolTerms.check(target="1000.00", bands=DOMAIN_BANDS, mechanism="capitated",
                        capitation=[("a-care", "zone-1", "1.00"), ("a-care", "zone-1", "2.00")])  # fmt: skip
    with pytest.raises(TypeError, match="never float"):
        PoolTerms.check(target=12000000.0, bands=DOMAIN_BANDS)


def test_a_pool_is_revised_only_when_its_terms_change():
    terms = PoolTerms.check(target="12000000.00", bands=DOMAIN_BANDS)
    pool = PooledBudget.set_up(e(), "wirral-homecare", "2019-20", terms)
    assert pool.id == PooledBudget.create_id("wirral-homecare", "2019-20")
    assert pool.revise(e("same again"), terms) is False
    assert pool.revise(e("cap agreed"), PoolTerms.check(target="12000000.00", bands=DOMAIN_BANDS, gain_cap="1.00"))
    assert pool.terms.gain_cap == D("1.00") and pool.revisions == 1
    with pytest.raises(InvalidInput, match="reason"):
        pool.revise(e(None), terms)


# -- payment runs ----------------------------------------------------------------------------------


def row(provider: str, month: str, spend: str, zone: str = "zone-1", visits: int = 10) -> ActivityRow:
    return ActivityRow(provider, zone, "standard", month, visits, visits * 60, D(spend))


def test_a_rate_run_pays_the_month_and_the_unpaid_difference_of_earlier_months():
    activity = [
        row("premier-care", "2019-04", "156.00"),
        row("premier-care", "2019-05", "187.20"),  # 12 hours at £15.60
        row("haven-care", "2019-04", "78.00", "zone-3", 5),
        row("haven-care", "2019-06", "78.00", "zone-3", 5),  # a later month: left for its own run
    ]
    # April was paid £140.40 to premier (a visit corrected upwards since) and £78.00 to haven.
    lines = rate_run("2019-05", activity, {"premier-care": D("140.40"), "haven-care": D("78.00")})
    assert [(line.provider, line.amount, line.month) for line in lines] == [
        ("premier-care", D("187.20"), "2019-05"),
        ("premier-care", D("15.60"), ""),  # £156.00 priced before May − £140.40 paid
    ]
    assert "now £156.00, paid £140.40" in lines[1].label


def test_a_capitated_run_pays_the_fixed_sums_zone_by_zone():
    sums = [Capitation("premier-care", "zone-2", D("500.00")), Capitation("premier-care", "zone-1", D("250.00"))]
    lines = capitated_run("2019-05", sums)
    assert [(line.zone, line.amount) for line in lines] == [("zone-1", D("250.00")), ("zone-2", D("500.00"))]


def test_runs_go_in_month_order_once_each_within_the_year():
    record = PaymentLedger.open(e(), "wirral-homecare", "2019-20")
    lines = rate_run("2019-04", [row("premier-care", "2019-04", "156.00")], {})
    record.record_run(e(on=date(2019, 5, 10)), "2019-04", PaymentMechanism.RATE, lines, "priced activity")
    assert record.paid() == {"premier-care": D("156.00")}
    with pytest.raises(RuleBroken, match="already run for 2019-04"):
        record.record_run(e(), "2019-04", PaymentMechanism.RATE, lines, "again")
    with pytest.raises(InvalidInput, match="not in the financial year 2019-20"):
        record.record_run(e(), "2020-04", PaymentMechanism.RATE, lines, "next year")
    with pytest.raises(RuleBroken, match="nothing to pay for 2019-05"):
        record.record_run(e(), "2019-05", PaymentMechanism.RATE, [], "none")
    assert [run.month for run in record.runs] == ["2019-04"]


def test_months_and_the_run_rate_forecast():
    assert months_of("2019-20")[0] == "2019-04" and months_of("2019-20")[-1] == "2020-03"
    with pytest.raises(InvalidInput, match="form 2019-05"):
        check_month("May 2019")
    assert check_month("1990-04") == "1990-04" and check_month("2099-03") == "2099-03"
    for outside in ("0001-01", "1990-03", "2099-04", "9999-12"):
        with pytest.raises(InvalidInput, match=f"month: {outside} is outside the months the ledger records"):
            check_month(outside)
    # £5,000,000.00 priced in the first 5 months: × 12 ÷ 5 = £12,000,000.00 at the run rate.
    assert run_rate_forecast(D("5000000.00"), 5) == D("12000000.00")
    # £1,000.00 in 7 months: 12,000 ÷ 7 = 1,714.2857… → £1,714.29.
    assert run_rate_forecast(D("1000.00"), 7) == D("1714.29")
    assert run_rate_forecast(D("0.00"), 0) is None
