"""The uplift calculator: a rate review's proposed rate from the median cost, the wage floors and inflation.

Every step is kept as a line (label, formula, amount), so a rate notice can
show the arithmetic a committee approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from domain.checks import check_decimal, check_text
from domain.errors import InvalidInput
from domain.money import EXACT, round_blended_rate, round_rate

__all__ = [
    "Outcome",
    "UpliftLine",
    "UpliftProposal",
    "propose_uplift",
]



class Outcome(StrEnum):
    ACCEPTED = "accepted"
    AMENDED = "amended"
    REJECTED = "rejected"


class UpliftLine(NamedTuple):
    label: str
    formula: str
    amount: Decimal


@dataclass(frozen=True)
class UpliftProposal:
    """The inputs, each step of the arithmetic, and the proposed hourly rate (2 dp)."""

    current_median_cost_per_hour: Decimal
    pay_share: Decimal
    old_wage_floor: Decimal
    new_wage_floor: Decimal
    inflation_index: Decimal
    lines: tuple[UpliftLine, ...]
    proposed_rate: Decimal


def _figure(value: Decimal) -> str:
    return f"{value:f}"


def propose_uplift(
    current_median_cost_per_hour: Decimal,
    pay_share: Decimal,
    old_wage_floor: Decimal,
    new_wage_floor: Decimal,
    inflation_index: Decimal,
    *,
    median_source: str = "stated figure",
) -> UpliftProposal:
    """Propose a rate: pay share × new floor ÷ old floor, plus the rest × (1 + inflation).

    ``pay_share`` is the fraction of the cost that is pay-related (0.65 for
    65%); ``inflation_index`` is the rise to apply to the rest, as a fraction
    (0.02 for 2%). ``median_source`` says where the median came from (the
    accepted cost returns of the period, or a stated figure).
    """
    median = check_decimal(
        current_median_cost_per_hour, "current_median_cost_per_hour", minimum=Decimal(0), above_minimum=True
    )
    share = check_decimal(pay_share, "pay_share", minimum=Decimal(0), maximum=Decimal(1))
    old = check_decimal(old_wage_floor, "old_wage_floor", minimum=Decimal(0), above_minimum=True)
    new = check_decimal(new_wage_floor, "new_wage_floor", minimum=Decimal(0), above_minimum=True)
    inflation = check_decimal(inflation_index, "inflation_index", minimum=Decimal(-1), above_minimum=True)
    if inflation >= 1:
        raise InvalidInput(
            f"inflation_index: {inflation} would more than double costs; give the rise as a fraction, e.g. 0.02 for 2%"
        )
    source = check_text(median_source, "median_source")

    pay = round_blended_rate(EXACT.multiply(median, share))
    other = EXACT.subtract(median, pay)
    new_pay = round_blended_rate(EXACT.divide(EXACT.multiply(pay, new), old))
    new_other = round_blended_rate(EXACT.multiply(other, EXACT.add(1, inflation)))
    total = EXACT.add(new_pay, new_other)
    proposed = round_rate(total)
    lines = (
        UpliftLine("median cost per contact hour", source, median),
        UpliftLine("pay-related share", f"{_figure(median)} × {_figure(share)}", pay),
        UpliftLine("other costs", f"{_figure(median)} − {_figure(pay)}", other),
        UpliftLine(
            "pay-related share after the wage-floor rise",
            f"{_figure(pay)} × {_figure(new)} ÷ {_figure(old)} (new floor ÷ old floor)",
            new_pay,
        ),
        UpliftLine("other costs after inflation", f"{_figure(other)} × (1 + {_figure(inflation)})", new_other),
        UpliftLine("proposed cost per hour", f"{_figure(new_pay)} + {_figure(new_other)}", total),
        UpliftLine("proposed rate (to the penny, half up)", f"round({_figure(total)}, 2)", proposed),
        UpliftLine("uplift per hour", f"{_figure(proposed)} − {_figure(median)}", EXACT.subtract(proposed, median)),
    )
    return UpliftProposal(median, share, old, new, inflation, lines, proposed)


