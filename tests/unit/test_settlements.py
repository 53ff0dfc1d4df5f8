"""The settlement arithmetic: worked examples (a cap and a clawback biting) and its properties.

Figures are DOMAIN.md's: a £12m pool, council £7.2m and CCG £4.8m (60/40),
the provider side keeping 50% of an underspend down to 90% of target and 25%
beyond, bearing 50% of an overspend up to 110% and 100% beyond.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import RuleBroken
from domain.settlement.gainshare import Band
from domain.settlement.pooled_budget import MarginBasis
from domain.settlement.statement import ReturnFigures, SettlementInputs, compare, compute_clawback, compute_settlement

BANDS = (
    Band(None, D("0.9"), D("0.25")),
    Band(D("0.9"), D("1.0"), D("0.5")),
    Band(D("1.0"), D("1.1"), D("0.5")),
    Band(D("1.1"), None, D("1.0")),
)
POOL = {"wirral-council": D("7200000.00"), "wirral-ccg": D("4800000.00")}


def inputs(activity: dict[str, D], **changes) -> SettlementInputs:
    base = dict(
        agreement="wirral-homecare", financial_year="2019-20", target=D("12000000.00"), bands=BANDS,
        contributions=POOL, activity=activity,
    )  # fmt: skip
    return SettlementInputs(**{**base, **changes})


def step(statement, label: str, party: str = "") -> D:
    [found] = [s.amount for s in statement.steps if s.label == label and s.party == party]
    return found


def test_an_underspend_where_the_gain_cap_bites():
    # Actual £10,200,000 is 85% of target: variance £1,800,000 (underspend).
    #   below 90% (£0 to £10,800,000): £10,200,000..£10,800,000 = £600,000 × 25% = £150,000
    #   90%..100% (£10,800,000 to £12,000,000): £1,200,000 × 50%            = £600,000
    #   provider side before cap: £750,000; the £500,000 gain cap keeps £250,000 with the commissioners.
    s = compute_settlement(
        inputs(
            {"premier-care": D("6120000.00"), "haven-care": D("4080000.00")},
            paid={"premier-care": D("6120000.00"), "haven-care": D("4000000.00")},
            gain_cap=D("500000.00"),
            loss_cap=D("500000.00"),
        )
    )
    assert s.actual == D("10200000.00") and s.variance == D("1800000.00")
    assert [b.provider_share_amount for b in s.outcome.bands] == [D("150000.00"), D("600000.00"), 0, 0]
    assert (s.capped.uncapped, s.capped.capped, s.capped.removed) == (D("750000.00"), D("500000.00"), D("250000.00"))
    # Split 60/40 by priced activity (6,120,000 : 4,080,000): £300,000 and £200,000.
    assert {p: x.share for p, x in s.providers.items()} == {"haven-care": D("200000.00"), "premier-care": D("300000.00")}
    # Commissioners' cost £10,200,000 + £500,000 = £10,700,000, 60/40: £6,420,000 and £4,280,000;
    # each keeps contribution − cost: £780,000 and £520,000 (together the £1,300,000 left in the £12m pool).
    assert s.commissioner_cost == D("10700000.00")
    assert {c: (x.cost, x.pool_balance) for c, x in s.commissioners.items()} == {
        "wirral-ccg": (D("4280000.00"), D("520000.00")),
        "wirral-council": (D("6420000.00"), D("780000.00")),
    }
    # Balances: premier £6,120,000 + £300,000 − £6,120,000 paid = £300,000;
    #           haven £4,080,000 + £200,000 − £4,000,000 paid = £280,000 (includes £80,000 unpaid activity).
    assert s.providers["premier-care"].balance == D("300000.00")
    assert s.providers["haven-care"].balance == D("280000.00")
    assert step(s, "removed by the cap (stays with the commissioners)") == D("250000.00")
    assert step(s, "check: balances and payments") == s.commissioner_cost


def test_an_overspend_where_the_loss_cap_and_an_excess_surplus_clawback_bite():
    # Actual £13,800,000 is 115% of target: variance −£1,800,000 (overspend).
    #   100%..110% (£12,000,000 to £13,200,000): £1,200,000 × 50%  = −£600,000
    #   above 110% (£13,200,000 up):             £600,000 × 100%   = −£600,000
    #   provider side before cap −£1,200,000; the £1,000,000 loss cap: the commissioners carry £200,000 more.
    # Haven's accepted returns: total £5,000,000 with surplus £400,000, a margin of 8% on total;
    #   permitted 5% × £5,000,000 = £250,000; excess £150,000 × 100% = £150,000 clawed back.
    s = compute_settlement(
        inputs(
            {"premier-care": D("8280000.00"), "haven-care": D("5520000.00")},
            paid={"premier-care": D("8000000.00"), "haven-care": D("5520000.00")},
            loss_cap=D("1000000.00"),
            max_margin=D("0.05"),
            returns={"haven-care": ReturnFigures("haven-care", D("5000000.00"), D("400000.00"), ("2019-20 revision 1",))},
        )
    )
    assert (s.capped.uncapped, s.capped.capped, s.capped.removed) == (
        D("-1200000.00"), D("-1000000.00"), D("-200000.00"),
    )  # fmt: skip
    assert {p: x.share for p, x in s.providers.items()} == {
        "haven-care": D("-400000.00"), "premier-care": D("-600000.00"),
    }  # fmt: skip
    [clawback] = s.clawbacks
    assert (clawback.permitted, clawback.excess, clawback.amount) == (D("250000.00"), D("150000.00"), D("150000.00"))
    assert "margin of 8%" in clawback.formula
    # Commissioners' cost £13,800,000 − £1,000,000 − £150,000 = £12,650,000: £7,590,000 and £5,060,000.
    assert s.commissioner_cost == D("12650000.00")
    assert s.commissioners["wirral-council"].cost == D("7590000.00")
    assert s.commissioners["wirral-ccg"].pool_balance == D("-260000.00")  # £4,800,000 − £5,060,000: a top-up
    # Balances: premier £8,280,000 − £600,000 − £8,000,000 = −£320,000;
    #           haven £5,520,000 − £400,000 − £150,000 − £5,520,000 = −£550,000 (owed back).
    assert (s.providers["premier-care"].balance, s.providers["haven-care"].balance) == (
        D("-320000.00"), D("-550000.00"),
    )  # fmt: skip
    assert step(s, "excess surplus clawback", "haven-care") == D("150000.00")


def test_the_clawback_on_cost_and_with_an_agreed_share():
    figures = ReturnFigures("haven-care", D("5400000.00"), D("400000.00"))
    # On cost: cost = £5,400,000 − £400,000 = £5,000,000; permitted 5% = £250,000; excess £150,000 × 50% = £75,000.
    on_cost = compute_clawback("haven-care", figures, D("0.05"), MarginBasis.COST, D("0.5"))
    assert (on_cost.base, on_cost.amount) == (D("5000000.00"), D("75000.00"))
    # On total: permitted 5% × £5,400,000 = £270,000; excess £130,000 × 50% = £65,000.
    on_total = compute_clawback("haven-care", figures, D("0.05"), MarginBasis.TOTAL, D("0.5"))
    assert on_total.amount == D("65000.00")
    within = compute_clawback("haven-care", figures, D("0.10"), MarginBasis.TOTAL, D("1"))
    assert within.amount == 0 and "no excess" in within.formula
    deficit = compute_clawback("x", ReturnFigures("x", D("100.00"), D("-5.00")), D("0.05"), MarginBasis.TOTAL, D("1"))
    assert deficit.amount == 0


def test_awkward_pennies_are_allocated_so_the_parts_add_up():
    # £100.00 of provider side split three ways 1:1:1 is 33.33 + 33.33 + 33.34 (largest remainder, earliest first).
    s = compute_settlement(
        inputs(
            {"a-care": D("3.33"), "b-care": D("3.33"), "c-care": D("3.33")},
            target=D("209.99"),
            bands=(Band(None, None, D("0.5")),),
            contributions={"council": D("1.00"), "ccg": D("1.00"), "icb": D("1.00")},
        )
    )
    # Variance £209.99 − £9.99 = £200.00 × 50% = £100.00.
    assert s.capped.capped == D("100.00")
    assert sorted(x.share for x in s.providers.values()) == [D("33.33"), D("33.33"), D("33.34")]
    assert sum(x.cost for x in s.commissioners.values()) == s.commissioner_cost == D("109.99")


def test_the_split_does_not_depend_on_the_order_the_inputs_were_built_in():
    # −£0.02 over four equal providers: two get −£0.01. ``allocate`` gives a tied penny to the earlier
    # position, so the parties are taken in code order, whatever order the activity arrived in.
    forward = {"a-care": D("0.01"), "b-care": D("0.01"), "c-care": D("0.01"), "d-care": D("0.01")}
    backward = dict(reversed(list(forward.items())))
    one_band = (Band(None, None, D("0.5")),)
    first, second = (
        compute_settlement(inputs(a, target=D("0.01"), bands=one_band, contributions={"council": D("1.00")}))
        for a in (forward, backward)
    )
    assert first.parties() == second.parties()
    assert [first.providers[p].share for p in sorted(forward)] == [D("-0.01"), D("-0.01"), 0, 0]


def test_an_agreed_split_replaces_the_activity_split():
    s = compute_settlement(
        inputs({"premier-care": D("6120000.00"), "haven-care": D("4080000.00")},
               provider_split={"premier-care": D("1"), "haven-care": D("3")})  # fmt: skip
    )
    assert s.providers["haven-care"].share == D("562500.00")  # £750,000 × 3/4
    assert s.providers["premier-care"].share == D("187500.00")


def test_no_clawback_is_computed_from_an_incomplete_year():
    """Q1 alone (surplus £200.00 on £2,500.00, 8%) would give (£200.00 − £125.00) × 50% = £37.50: pending instead."""
    q1 = ReturnFigures("haven-care", D("2500.00"), D("200.00"), ("2019-20-Q1 revision 1",),
                       ("2019-20-Q2", "2019-20-Q3", "2019-20-Q4"))  # fmt: skip
    found = compute_clawback("haven-care", q1, D("0.05"), MarginBasis.TOTAL, D("0.5"))
    assert (found.pending, found.amount, found.excess) == (True, D("0"), D("0"))
    assert found.formula.startswith("pending: returns for 2019-20-Q2, Q3, Q4 not accepted;")
    s = compute_settlement(inputs({"haven-care": D("468.00")}, max_margin=D("0.05"), returns={"haven-care": q1}))
    assert s.clawback_total == 0 and s.providers["haven-care"].clawback == 0
    assert step(s, "excess surplus clawback (pending)", "haven-care") == 0
    stored = inputs({"haven-care": D("468.00")}, max_margin=D("0.05"), returns={"haven-care": q1})
    assert SettlementInputs.from_data(stored.to_data()) == stored  # the missing quarters survive the stored form


def test_a_pool_without_contributions_or_activity_to_split_by_is_refused():
    with pytest.raises(RuleBroken, match="no contributions"):
        compute_settlement(inputs({"premier-care": D("100.00")}, contributions={}))
    with pytest.raises(RuleBroken, match="nothing to split"):
        compute_settlement(inputs({}, target=D("100.00")))


def test_inputs_survive_their_stored_form():
    found = inputs(
        {"premier-care": D("6120000.00")}, gain_cap=D("1.00"), max_margin=D("0.05"),
        returns={"premier-care": ReturnFigures("premier-care", D("10.00"), D("1.00"), ("2019-20-Q1 revision 2",))},
    )  # fmt: skip
    assert SettlementInputs.from_data(found.to_data()) == found


# -- properties ---------------------------------------------------------------------------------------

pennies = st.integers(min_value=0, max_value=5_000_000_000).map(lambda n: D(n).scaleb(-2))
positive_pennies = st.integers(min_value=1, max_value=5_000_000_000).map(lambda n: D(n).scaleb(-2))
shares = st.integers(min_value=0, max_value=20).map(lambda n: D(n) / 20)
caps = st.one_of(st.none(), pennies)


@st.composite
def band_sets(draw):
    """A valid band set: sorted distinct breakpoints (fractions of target) and a share for each band."""
    points = sorted(set(draw(st.lists(st.integers(min_value=1, max_value=300), max_size=5))))
    limits = [None, *(D(p) / 100 for p in points), None]
    return tuple(Band(low, high, draw(shares)) for low, high in zip(limits, limits[1:]))


@st.composite
def settlement_inputs(draw):
    providers = draw(st.lists(st.sampled_from(["a-care", "b-care", "c-care", "d-care"]), min_size=1, unique=True))
    commissioners = draw(st.lists(st.sampled_from(["council", "ccg", "icb"]), min_size=1, unique=True))
    activity = {p: draw(positive_pennies) for p in providers}
    return inputs(
        activity,
        target=draw(positive_pennies),
        bands=draw(band_sets()),
        contributions={c: draw(positive_pennies) for c in commissioners},
        paid={p: draw(pennies) for p in providers},
        gain_cap=draw(caps),
        loss_cap=draw(caps),
        max_margin=draw(st.one_of(st.none(), shares)),
        clawback_share=draw(shares),
        returns={p: ReturnFigures(p, draw(positive_pennies), draw(pennies)) for p in providers if draw(st.booleans())},
    )


@settings(max_examples=300, deadline=None)
@given(settlement_inputs())
def test_the_parts_always_add_to_the_whole_to_the_penny(found):
    s = compute_settlement(found)
    assert sum(x.share for x in s.providers.values()) == s.capped.capped
    assert sum(x.cost for x in s.commissioners.values()) == s.commissioner_cost
    assert sum(x.balance + x.paid for x in s.providers.values()) == s.commissioner_cost
    assert s.capped.uncapped == s.capped.capped + s.capped.removed
    assert s.commissioner_cost == s.actual + s.capped.capped - s.clawback_total
    assert sum(x.pool_balance for x in s.commissioners.values()) == sum(found.contributions.values()) - s.commissioner_cost
    for amount in (x.share for x in s.providers.values()):
        assert amount == amount.quantize(D("0.01"))


@settings(max_examples=300, deadline=None)
@given(positive_pennies, pennies, pennies, band_sets(), caps, caps)
def test_the_provider_side_amount_never_rises_as_actual_spend_rises(target, a, b, bands, gain_cap, loss_cap):
    low, high = sorted((a, b))

    def provider_side(actual):
        s = compute_settlement(
            inputs({"a-care": actual}, target=target, bands=bands, gain_cap=gain_cap, loss_cap=loss_cap)
        ) if actual else None
        return s.capped.capped if s else None

    if low == 0:  # no activity to split an underspend by: compare the uncapped band arithmetic only
        return
    assert provider_side(low) >= provider_side(high)


@settings(max_examples=200, deadline=None)
@given(positive_pennies, band_sets(), caps, caps)
def test_the_provider_side_amount_is_zero_at_target(target, bands, gain_cap, loss_cap):
    s = compute_settlement(inputs({"a-care": target}, target=target, bands=bands, gain_cap=gain_cap, loss_cap=loss_cap))
    assert s.capped.capped == 0 and s.providers["a-care"].share == 0


@settings(max_examples=200, deadline=None)
@given(settlement_inputs())
def test_a_resettlement_with_unchanged_inputs_differs_by_zero_for_every_party(found):
    first = compute_settlement(found)
    again = compute_settlement(SettlementInputs.from_data(found.to_data()))
    comparison = compare(first.parties(), again.parties())
    for kind in ("providers", "commissioners"):
        assert set(comparison[kind]) == set(first.parties()[kind])
        for figures in comparison[kind].values():
            assert all(row["difference"] == 0 for row in figures.values())


def test_compare_shows_previous_new_and_difference_per_party():
    before = compute_settlement(inputs({"premier-care": D("6120000.00"), "haven-care": D("4080000.00")}))
    after = compute_settlement(inputs({"premier-care": D("6120000.00"), "haven-care": D("4180000.00")}))
    rows = compare(before.parties(), after.parties())
    haven = rows["providers"]["haven-care"]
    assert haven["activity"] == {"previous": D("4080000.00"), "new": D("4180000.00"), "difference": D("100000.00")}
    council = rows["commissioners"]["wirral-council"]["cost"]
    assert council["difference"] == council["new"] - council["previous"]
