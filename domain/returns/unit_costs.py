"""Unit costs: a filed return's cost per contact hour, line by line, and its gap to the rate paid.

**Rounding.** The arithmetic is exact Decimal; a figure is rounded once,
where it is produced, ROUND_HALF_UP: each per-hour figure (a line's, a
group's, the total) is its amount ÷ contact hours rounded to 4 decimal
places (so the total per hour is the total cost ÷ hours rounded once, not the
sum of rounded lines); travel minutes per contact hour and the percentages
are rounded to 2 decimal places. People are shown per-hour figures at 2
places (``shown``). Per-line figures at 4 places therefore add up to the
total per hour within 17 × £0.00005.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from domain.errors import NotFound
from domain.money import EXACT, format_gbp, round_rate, total
from domain.returns.filing import (
    CostGroup,
    CostLine,
    CostReturnFiling,
    lines_in,
)

__all__ = [
    "RateGap",
    "UnitCosts",
    "hours_weighted_rate",
    "rate_gap",
    "shown",
    "unit_costs",
]

PER_HOUR_QUANTUM = Decimal("0.0001")
MINUTES_QUANTUM = Decimal("0.01")
PERCENT_QUANTUM = Decimal("0.01")
_HUNDRED = Decimal(100)
_SIXTY = Decimal(60)


def _per_hour(amount: Decimal, hours: Decimal) -> Decimal:
    return EXACT.divide(amount, hours).quantize(PER_HOUR_QUANTUM, context=EXACT)


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole == 0:
        return None
    return EXACT.divide(EXACT.multiply(part, _HUNDRED), whole).quantize(PERCENT_QUANTUM, context=EXACT)


def shown(per_hour: Decimal) -> Decimal:
    """A per-hour figure as people see it: to the penny, half up."""
    return round_rate(per_hour)


def format_per_hour(per_hour: Decimal | None) -> str:
    """A per-hour figure (a cost, a gap, a quartile, an average paid) as text for people: '£18.85', never the
    working '£18.8467', so a page, a chart and a PDF show one figure; '' for none (docs/cost-returns.md)."""
    return "" if per_hour is None else format_gbp(shown(per_hour))


@dataclass(frozen=True)
class UnitCosts:
    """What a filing costs per contact hour, line by line and in total (see the module's rounding)."""

    contact_hours: Decimal
    amounts: dict[CostLine, Decimal]
    total_cost: Decimal
    per_line: dict[CostLine, Decimal]
    total_per_hour: Decimal
    travel_minutes_per_contact_hour: Decimal
    on_costs_percent_of_pay: Decimal | None
    surplus_percent_of_cost: Decimal | None
    surplus_percent_of_total: Decimal | None

    def per_hour_of(self, lines: Iterable[CostLine | str]) -> Decimal:
        """Several lines together per contact hour, rounded once (e.g. NI and pension)."""
        chosen = {CostLine(line) for line in lines}
        amount = total(self.amounts[line] for line in chosen)
        return _per_hour(amount, self.contact_hours)

    def per_group(self, group: CostGroup | str) -> Decimal:
        return self.per_hour_of(lines_in(CostGroup(group)))

    @property
    def groups(self) -> dict[CostGroup, Decimal]:
        return {group: self.per_group(group) for group in CostGroup}


def _group_amount(amounts: Mapping[CostLine, Decimal], group: CostGroup) -> Decimal:
    return total(amounts[line] for line in lines_in(group))


def unit_costs(filing: CostReturnFiling) -> UnitCosts:
    """Cost per contact hour per line and in total, travel minutes per hour, on-costs, surplus."""
    hours = filing.volumes.contact_hours
    amounts = {line: filing.lines[line] for line in CostLine}
    total_cost = filing.total
    surplus = amounts[CostLine.SURPLUS]
    visit, travel = filing.volumes.average_visit_minutes, filing.volumes.average_travel_minutes
    # (60 / average visit minutes) × average travel minutes, computed as 60 × travel ÷ visit.
    travel_per_hour = EXACT.divide(EXACT.multiply(_SIXTY, travel), visit).quantize(MINUTES_QUANTUM, context=EXACT)
    return UnitCosts(
        contact_hours=hours,
        amounts=amounts,
        total_cost=total_cost,
        per_line={line: _per_hour(amount, hours) for line, amount in amounts.items()},
        total_per_hour=_per_hour(total_cost, hours),
        travel_minutes_per_contact_hour=travel_per_hour,
        on_costs_percent_of_pay=_percent(
            _group_amount(amounts, CostGroup.ON_COSTS), _group_amount(amounts, CostGroup.PAY)
        ),
        # Cost is everything but the surplus; the margin (surplus of the total) is what a profit cap limits.
        surplus_percent_of_cost=_percent(surplus, EXACT.subtract(total_cost, surplus)),
        surplus_percent_of_total=_percent(surplus, total_cost),
    )


@dataclass(frozen=True)
class RateGap:
    """The rate paid against the cost per hour: positive when the rate covers the cost."""

    rate: Decimal
    rate_source: str
    total_per_hour: Decimal
    gap: Decimal


def rate_gap(costs: UnitCosts, rate: Decimal, rate_source: str) -> RateGap:
    """rate − total cost per hour. ``rate_source`` says which rate: the agreement's, or the average paid."""
    if isinstance(rate, float) or not isinstance(rate, (Decimal, int)):
        raise TypeError(f"rate must be a Decimal, not {type(rate).__name__}; money is never float")
    paid = Decimal(rate)
    return RateGap(paid, rate_source, costs.total_per_hour, EXACT.subtract(paid, costs.total_per_hour))


def hours_weighted_rate(rates_and_hours: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """Σ(rate × hours) ÷ Σ hours, to 4 decimal places half up: the average rate actually paid."""
    weighted = total_hours = Decimal(0)
    for rate, hours in rates_and_hours:
        weighted = EXACT.add(weighted, EXACT.multiply(rate, hours))
        total_hours = EXACT.add(total_hours, hours)
    if total_hours <= 0:
        raise NotFound("no paid hours to average a rate over")
    return _per_hour(weighted, total_hours)


# -- wage checks ---------------------------------------------------------------------------------


