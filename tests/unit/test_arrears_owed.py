"""One rule for what a visit is owed, without a database: the arrears lines and the payment run's adjustment agree.

A backdated review re-prices visits already paid. ``visit_owed`` is what one
visit is owed (its penny price now less its penny price paid); the arrears
lines add it per visit, and a payment run whose priced activity is the visits
at the new price, paid at the old, adjusts by exactly the same sum and names
it as the arrears it includes.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.activity.arrears import ArrearsGroup, arrears_lines, visit_owed
from domain.money import EXACT, ZERO
from domain.rates.pricing import price_visit
from domain.settlement.payment_ledger import ActivityRow, rate_run


def priced_at(rate: D):
    def price(service, zone, day, band, planned, actual):
        return price_visit(rate, "actual", planned, actual)

    return price


def test_the_issues_three_visits_owe_1_18_visit_by_visit_not_1_17_by_the_line():
    # £7.97 − £7.60 + £11.95 − £11.39 + £5.31 − £5.06 = £0.37 + £0.56 + £0.25 = £1.18 (95 min × £0.74 ÷ 60 = £1.17).
    old, new = D("15.19"), D("15.93")
    owed = [visit_owed(price_visit(new, "actual", m, m), price_visit(old, "actual", m, m)) for m in (30, 45, 20)]
    assert owed == [D("0.37"), D("0.56"), D("0.25")]
    groups = [ArrearsGroup("premier-care", "standard", "zone-1", "", date(2020, 4, 15), m, m, 1) for m in (30, 45, 20)]
    [line], unpriced = arrears_lines(groups, priced_at(old), priced_at(new))
    assert (line.amount, line.visits, line.payable_minutes, unpriced) == (D("1.18"), 3, 95, [])


@settings(max_examples=60, deadline=None)
@given(
    minutes=st.lists(st.integers(min_value=0, max_value=720), min_size=1, max_size=30),
    old=st.decimals(min_value=D("0.00"), max_value=D("60.00"), places=2),
    new=st.decimals(min_value=D("0.00"), max_value=D("60.00"), places=2),
)
def test_visits_owed_summed_are_the_arrears_total_and_the_payment_runs_adjustment(minutes, old, new):
    owed = (visit_owed(price_visit(new, "actual", m, m), price_visit(old, "actual", m, m)) for m in minutes)
    per_visit = sum(owed, ZERO)

    groups = [ArrearsGroup("premier-care", "standard", "zone-1", "", date(2020, 4, 15), m, m, 1) for m in minutes]
    lines, _ = arrears_lines(groups, priced_at(old), priced_at(new))
    arrears = sum((line.amount for line in lines), ZERO)

    now = sum((price_visit(new, "actual", m, m).amount for m in minutes), ZERO)
    paid = sum((price_visit(old, "actual", m, m).amount for m in minutes), ZERO)
    april = ActivityRow("premier-care", "zone-1", "standard", "2020-04", len(minutes), sum(minutes), now)
    run = rate_run("2020-05", [april], {"premier-care": paid}, {"premier-care": arrears}, "the 2020-21 rate review")
    adjustment = sum((line.amount for line in run), ZERO)
    identified = sum((line.arrears for line in run), ZERO)

    assert per_visit == arrears == adjustment == identified == EXACT.subtract(now, paid)
