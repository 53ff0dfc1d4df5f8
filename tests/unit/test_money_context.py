"""One decimal context for money: the worked examples give the same pennies whatever the caller's context.

Every sum and rounding of money, rates, hours and percentages runs in
``domain.money.EXACT`` (40 digits, half up). Python's default context (28
digits, half even) belongs to the thread: a library, a test or an operator's
script may lower it, and a sum done there silently loses digits. So each
worked example below is computed twice — under Python's own default context
and under a hostile one (6 digits, rounding down) — and must give the same
figures, written the same way, to the penny.

The figures have more than 6 significant digits on purpose: £1,076,545.04 of
contact pay is what a 6-digit context would cut to £1,076,540.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Context, localcontext
from decimal import Decimal as D
from typing import Any

import pytest

from domain.activity.arrears import ArrearsGroup, arrears_lines
from domain.incentives.reduction import assess_reduction, assess_reduction_share_of_saving
from domain.money import EXACT, allocate, format_gbp
from domain.rates.pricing import blended_rate, price_visit
from domain.rates.uplift import propose_uplift
from domain.returns.filing import CostGroup, CostReturnFiling
from domain.returns.market import market_view
from domain.returns.unit_costs import hours_weighted_rate, rate_gap, unit_costs
from domain.settlement.gainshare import Band, apply_cap, share_variance
from domain.settlement.payment_ledger import ActivityRow, rate_run, run_rate_forecast
from domain.settlement.pooled_budget import MarginBasis
from domain.settlement.statement import ReturnFigures, SettlementInputs, compute_settlement
from tests.worked_examples import PER_HOUR_2020_21

#: DOMAIN.md's bands: the provider side keeps 25% of an underspend beyond 10%, 50% down to 90% of target,
#: bears 50% of an overspend up to 110% and 100% beyond.
BANDS = (
    Band(None, D("0.9"), D("0.25")),
    Band(D("0.9"), D("1.0"), D("0.5")),
    Band(D("1.0"), D("1.1"), D("0.5")),
    Band(D("1.1"), None, D("1.0")),
)


def exact_sum(amounts: Iterable[D]) -> D:
    """The test's own exact sum, so the examples' inputs never depend on the context under test."""
    result = D("0.00")
    for amount in amounts:
        result = EXACT.add(result, amount)
    return result


def filing(hours: int, per_hour: dict[str, str] = PER_HOUR_2020_21, **changes: str) -> CostReturnFiling:
    """A return of ``hours`` contact hours: each line its rate per hour × hours (exact), ``changes`` as given."""
    lines = {line: str(EXACT.multiply(D(rate), D(hours))) for line, rate in per_hour.items()} | changes
    volumes = {
        "contact_hours": str(hours), "visits": str(2 * hours), "average_visit_minutes": "30",
        "average_travel_minutes": "5.85", "careworker_headcount": "400", "careworker_fte": "310.5",
        "hours_paid": str(EXACT.multiply(D(hours), D("1.3"))), "lowest_hourly_pay": "8.72",
        "typical_hourly_pay": "9.00",
    }  # fmt: skip
    stated_total = str(exact_sum(D(amount) for amount in lines.values()))
    return CostReturnFiling.parse({"lines": lines, "volumes": volumes, "stated_total": stated_total})


def cost_return() -> dict[str, Any]:
    # 123,457 contact hours of the 2020-21 minimum price: £20.69 × 123,457 = £2,554,325.33, £20.69 an hour;
    # contact pay £8.72 × 123,457 = £1,076,545.04; pay (contact + travel) £10.42 an hour.
    # On-costs £3.11 of pay £10.42 an hour: 29.85%; surplus £0.60 of £20.69: 2.90%; a £19.93 rate is £0.76 short.
    # With £1,076,549.99 of contact pay instead (£4.95 more): £1,076,549.99 ÷ 123,457 = £8.72004… → £8.7200.
    # Paid £15.60 for 98,765.43 h and £16.34 for 12,345.67 h: £1,742,468.9558 ÷ 111,111.10 h = £15.6822.
    worked = filing(123_457)
    costs = unit_costs(worked)
    odd = unit_costs(filing(123_457, contact_pay="1076549.99"))
    gap = rate_gap(costs, D("19.93"), "the agreement's rate")
    return {
        "total": worked.total,
        "contact pay": worked.lines["contact_pay"],
        "total per hour": costs.total_per_hour,
        "pay per hour": costs.per_group(CostGroup.PAY),
        "on-costs % of pay": costs.on_costs_percent_of_pay,
        "surplus % of total": costs.surplus_percent_of_total,
        "rate gap": gap.gap,
        "odd total": odd.total_cost,
        "odd contact pay per hour": odd.per_line["contact_pay"],
        "rate paid": hours_weighted_rate([(D("15.60"), D("98765.43")), (D("16.34"), D("12345.67"))]),
        "everything": (costs, odd, gap),
    }


def market() -> dict[str, Any]:
    # Five providers of 111,111 to 555,555 hours: contact pay of £8.72, £8.95, £9.10, £9.40, £9.80 an hour.
    # Their totals per hour are £20.69 + (pay − £8.72): £20.69, £20.92, £21.07, £21.37, £21.77.
    pay = {"premier-care": "8.72", "haven-care": "8.95", "alliance": "9.10", "carewatch": "9.40", "caring": "9.80"}
    costs = {
        code: unit_costs(filing(111_111 * (i + 1), PER_HOUR_2020_21 | {"contact_pay": rate}))
        for i, (code, rate) in enumerate(pay.items())
    }
    view = market_view(costs)
    return {
        "lower quartile": view.total.lower,
        "median": view.total.median,
        "upper quartile": view.total.upper,
        "pay median": view.groups[CostGroup.PAY].median,
        "everything": view,
    }


def pricing() -> dict[str, Any]:
    # £15.80 for 20 minutes is £5.2666… → £5.27; £1,234.56 for 1,439 minutes is £29,608.8640 → £29,608.86;
    # Herefordshire's complex lots: 70% × £12.80 + 30% × £15.80 = £13.7000.
    return {
        "20 minutes": price_visit(D("15.80"), "actual", 20, 20).amount,
        "1,439 minutes": price_visit(D("1234.56"), "planned", 1439, 1).amount,
        "blended": blended_rate([(D("0.70"), D("12.80")), (D("0.30"), D("15.80"))]),
        "everything": price_visit(D("1234.56"), "actual-capped", 1439, 1500),
    }


def gain_share() -> dict[str, Any]:
    # Target £12,345,678.91, actual £11,111,111.11 (90.0% of target): variance £1,234,567.80.
    #   90%..100% (£11,111,111.019 to £12,345,678.91): £1,234,567.80 × 50% = £617,283.90
    #   below 90%: £11,111,111.11 is above £11,111,111.019, so nothing.
    # A gain cap of £500,000.00 keeps £117,283.90 with the commissioners.
    outcome = share_variance(D("12345678.91"), D("11111111.11"), BANDS)
    capped = apply_cap(outcome.provider_share_amount, D("500000.00"), D("500000.00"))
    return {
        "variance": outcome.variance,
        "provider side": outcome.provider_share_amount,
        "commissioners' cost": outcome.commissioner_cost,
        "removed by the cap": capped.removed,
        "everything": (outcome, capped),
    }


def settlement() -> dict[str, Any]:
    # A £12m pool (council £7.2m, CCG £4.8m); actual £6,123,456.78 + £4,321,098.76 = £10,444,555.54.
    #   below 90%: (£10,800,000 − £10,444,555.54) × 25% = £88,861.115 → £88,861.12
    #   90%..100%: £1,200,000 × 50% = £600,000.00; £688,861.12 in all, capped at £500,000.00.
    # Premier's returns: surplus £234,567.89 on £2,345,678.91, 5% permitted = £117,283.9455, excess
    # £117,283.9445 × 50% clawed back = £58,641.97225 → £58,641.97.
    # Commissioners' cost £10,444,555.54 + £500,000.00 − £58,641.97 = £10,885,913.57; the council's 60% is
    # £6,531,548.142 → £6,531,548.14. Premier's share of the £500,000 by activity is £293,141.09, so its balance is
    # £6,123,456.78 + £293,141.09 − £58,641.97 − £5,987,654.32 paid = £370,301.58.
    s = compute_settlement(
        SettlementInputs(
            agreement="wirral-homecare", financial_year="2019-20", target=D("12000000.00"), bands=BANDS,
            contributions={"wirral-council": D("7200000.00"), "wirral-ccg": D("4800000.00")},
            activity={"premier-care": D("6123456.78"), "haven-care": D("4321098.76")},
            paid={"premier-care": D("5987654.32"), "haven-care": D("4210987.65")},
            gain_cap=D("500000.00"), loss_cap=D("500000.00"), max_margin=D("0.05"),
            margin_basis=MarginBasis.TOTAL, clawback_share=D("0.5"),
            returns={"premier-care": ReturnFigures("premier-care", D("2345678.91"), D("234567.89"))},
        )  # fmt: skip
    )
    return {
        "actual": s.actual,
        "provider side": s.capped.capped,
        "clawback": s.clawback_total,
        "commissioners' cost": s.commissioner_cost,
        "premier balance": s.providers["premier-care"].balance,
        "council cost": s.commissioners["wirral-council"].cost,
        "everything": s,
    }


def incentives() -> dict[str, Any]:
    # Baseline 123,456.75 h, actual 110,000.5 h, minimum 5%: reduction 13,456.25 h, threshold 6,172.8375 h,
    # eligible 7,283.4125 h; at £2.00 an hour £14,566.825 → £14,566.83 (half up); as 50% of the saving at £15.80,
    # £57,538.95875 → £57,538.96.
    per_hour = assess_reduction(D("123456.75"), D("110000.5"), D("0.05"), D("2.00"))
    share = assess_reduction_share_of_saving(D("123456.75"), D("110000.5"), D("0.05"), D("15.80"), D("0.5"))
    return {"eligible hours": per_hour.eligible_hours, "per hour": per_hour.payment, "share": share.payment,
            "everything": (per_hour, share)}  # fmt: skip


def arrears() -> dict[str, Any]:
    # 250,000 visits of 31 minutes (7,750,000 min, 129,166.666667 h) backdated from £15.60 to £16.34: each visit
    # £8.44 (8.4423…) less £8.06 owes £0.38, so 250,000 × £0.38 = £95,000.00.
    groups = [ArrearsGroup("premier-care", "standard", "zone-2", "", date(2020, 5, 1), 31, 31, 250_000)]

    def at(rate: str) -> Any:
        return lambda service, zone, day, band, planned, actual: price_visit(D(rate), "actual", planned, actual)

    [line], _ = arrears_lines(groups, at("15.60"), at("16.34"))
    return {"amount": line.amount, "hours": line.hours, "everything": line}


def payments() -> dict[str, Any]:
    # April and May priced at £1,234,567.89 and £2,345,678.91, April paid £1,111,111.11 before: May's run pays
    # May's £2,345,678.91 and April's £123,456.78 difference; £3,580,246.80 in 2 months runs at £21,481,480.80 a year.
    activity = [
        ActivityRow("premier-care", "zone-2", "standard", "2019-04", 40_000, 4_748_338, D("1234567.89")),
        ActivityRow("premier-care", "zone-2", "standard", "2019-05", 76_000, 9_021_842, D("2345678.91")),
    ]
    lines = rate_run("2019-05", activity, {"premier-care": D("1111111.11")})
    return {
        "paid": exact_sum(line.amount for line in lines),
        "forecast": run_rate_forecast(D("3580246.80"), 2),
        "everything": lines,
    }


def money() -> dict[str, Any]:
    # £12,345,678.91 split 60/40: £7,407,407.346 and £4,938,271.564; the left-over penny goes to the larger
    # remainder, so the council gets £7,407,407.35. An uplift of a £21.3456 median, 65% pay, NLW £8.21 → £8.72 and
    # 2% inflation: 13.8746 × 8.72 ÷ 8.21 = 14.7365, 7.4710 × 1.02 = 7.6204, together £22.3569 → £22.36.
    return {
        "council": allocate(D("12345678.91"), [D("7200000.00"), D("4800000.00")])[0],
        "shown": format_gbp(D("-1234567.891")),
        "uplift": propose_uplift(D("21.3456"), D("0.65"), D("8.21"), D("8.72"), D("0.02")).proposed_rate,
    }


WORKED_EXAMPLES: dict[str, tuple[Callable[[], dict[str, Any]], dict[str, str]]] = {
    "cost return": (cost_return, {
        "total": "2554325.33", "contact pay": "1076545.04", "total per hour": "20.6900", "pay per hour": "10.4200",
        "on-costs % of pay": "29.85", "surplus % of total": "2.90", "rate gap": "-0.7600", "odd total": "2554330.28",
        "odd contact pay per hour": "8.7200", "rate paid": "15.6822",
    }),
    "market": (market, {"lower quartile": "20.9200", "median": "21.0700", "upper quartile": "21.3700",
                        "pay median": "10.8000"}),
    "pricing": (pricing, {"20 minutes": "5.27", "1,439 minutes": "29608.86", "blended": "13.7000"}),
    "gain share": (gain_share, {"variance": "1234567.80", "provider side": "617283.90",
                                "commissioners' cost": "11728395.01", "removed by the cap": "117283.90"}),
    "settlement": (settlement, {
        "actual": "10444555.54", "provider side": "500000.00", "clawback": "58641.97",
        "commissioners' cost": "10885913.57", "premier balance": "370301.58", "council cost": "6531548.14",
    }),
    "incentives": (incentives, {"eligible hours": "7283.4125", "per hour": "14566.83", "share": "57538.96"}),
    "arrears": (arrears, {"amount": "95000.00", "hours": "129166.666667"}),
    "payments": (payments, {"paid": "2469135.69", "forecast": "21481480.80"}),
    "money": (money, {"council": "7407407.35", "shown": "-£1,234,567.891", "uplift": "22.36"}),
}  # fmt: skip


@pytest.mark.parametrize("name", WORKED_EXAMPLES)
def test_a_worked_example_gives_the_same_pennies_under_a_hostile_default_context(name, hostile_default_context):
    example, expected = WORKED_EXAMPLES[name]
    with localcontext(Context()):  # Python's own default: 28 digits, half even
        normal = example()
    hostile = example()  # the thread's context: 6 digits, rounding down
    assert {key: str(hostile[key]) for key in expected} == expected
    assert repr(hostile) == repr(normal)


def test_a_recorded_line_of_1e30_replays_with_its_exact_total():
    # A return recorded before any bound on a line: £1e30 of contact pay beside the 2020-21 lines at 10,000
    # hours (£206,900.00 − £87,200.00 contact pay = £119,700.00 of other lines). At 28 digits the total came out
    # £1,000,000,000,000,000,000,000,000,120,000 (£300 too much); it is 1e30 + £119,700.00 exactly, £1e26 +
    # £11.97 an hour.
    stored = filing(10_000).to_data()
    stored["lines"]["contact_pay"] = D("1000000000000000000000000000000.00")
    replayed = CostReturnFiling.from_data(stored)
    assert str(replayed.total) == "1000000000000000000000000119700.00"
    assert str(unit_costs(replayed).total_per_hour) == "100000000000000000000000011.9700"


def test_lines_near_ten_billion_add_up_to_the_penny_under_a_hostile_default_context(hostile_default_context):
    # £9,999,880,299.99 of contact pay beside £119,700.00 of other lines: £9,999,999,999.99, as stated, a penny
    # under the bound (domain.bounds.MAX_AMOUNT); ÷ 10,000 hours = £999,999.999999 → £1,000,000.0000 an hour.
    big = filing(10_000, contact_pay="9999880299.99")
    assert str(big.total) == "9999999999.99" == str(big.stated_total)
    assert str(unit_costs(big).total_per_hour) == "1000000.0000"
