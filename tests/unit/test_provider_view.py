"""What a provider sees of a settlement statement: its own lines and the shared totals, worked through.

DOMAIN.md's pool: target £12m, actual £10.2m (premier-care £6.12m, haven-care
£4.08m); the provider side's £750,000 is split 1:3 by the agreed split, or
pro rata to priced activity (premier £450,000, haven £300,000).
"""

from __future__ import annotations

from decimal import Decimal as D

from domain.settlement.provider_view import provider_statement
from domain.settlement.statement import compute_settlement
from tests.unit.test_settlements import inputs

ACTIVITY = {"premier-care": D("6120000.00"), "haven-care": D("4080000.00")}


def steps(shown) -> dict[str, str]:
    return {step["label"]: step["formula"] for step in shown["steps"]}


def test_the_share_names_its_divisor_and_pool_sums_are_left_out():
    shown = provider_statement(compute_settlement(inputs(ACTIVITY)).to_data(), "haven-care")
    assert steps(shown)["provider share"] == (
        "£750,000.00 × priced activity £4,080,000.00 / every provider's priced activity (allocate, to the penny)"
    )
    assert steps(shown)["actual spend"] == "the pool's priced activity + incentive payments"
    assert {"priced activity", "commissioners' cost", "commissioner's cost", "check: provider shares"}.isdisjoint(steps(shown))
    assert (shown["actual"], shown["provider_amount"], shown["providers"]["haven-care"]["share"]) == (
        D("10200000.00"), D("750000.00"), D("300000.00"))  # fmt: skip
    assert set(shown["providers"]) == {"haven-care"} and "commissioner_cost" not in shown
    assert "6120000" not in str(shown).replace(",", "")  # premier-care's activity, written anywhere


def test_under_an_agreed_split_the_share_names_the_splits_total():
    statement = compute_settlement(inputs(ACTIVITY, provider_split={"premier-care": D("1"), "haven-care": D("3")}))
    shown = provider_statement(statement.to_data(), "premier-care")
    assert steps(shown)["provider share"] == (
        "£750,000.00 × the agreed split 1 / every provider's agreed split (allocate, to the penny)"
    )
    assert shown["providers"]["premier-care"]["share"] == D("187500.00")  # £750,000 × 1/4
