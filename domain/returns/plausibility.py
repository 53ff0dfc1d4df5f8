"""Plausibility checks on a filed return: figures that cannot all be true, or that an accountant should see.

These are *findings, not refusals*: a provider's figures are stored as filed
(openbook never "fixes" them), and the accountant sees each finding beside
the return. Some are impossible rather than merely unusual, and an
accountant must record an explanation before accepting the revision (the
same explanation step as a National Living Wage breach):

* **pay below the lowest hourly pay**: careworker pay (contact and travel
  time) per contact hour below the lowest hourly pay the provider states
  means fewer hours were paid than were delivered, i.e. negative travel;
* **contact hours** far from visits × average visit minutes ÷ 60: the
  volumes disagree with each other.

Two are shown and block nothing by default:

* **travel minutes per contact hour** outside a range (DOMAIN.md: travel
  minutes per contact hour = 60 ÷ average visit minutes × average travel
  minutes per visit; the Homecare Association's 2020-21 price, £1.70 travel
  on £8.72 contact pay, is about 11.7 minutes);
* **surplus margin** (surplus as a percentage of the total) above a level;
  open-book agreements often cap the permitted profit margin.

The bounds are domain defaults stated here, in one place
(``PlausibilityBounds``). An agreement overrides the surplus level by the
setting it already has: its maximum permitted profit margin
(``Agreement.set_profit_cap``, surplus ÷ total, as the settlement's excess
surplus clawback reads it), in force on the period's last day
(``bounds_for``). The other bounds have no agreement setting yet.

The surplus finding is a function of the margin and the level alone
(``surplus_margin_finding``), so a read model can work it out again when
an agreement's cap changes without re-reading the filing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from domain.money import EXACT, format_gbp, format_quantity
from domain.returns.filing import CostGroup, CostReturnFiling, Volume
from domain.returns.unit_costs import shown, unit_costs
from domain.returns.wage_checks import FindingKind

__all__ = [
    "DEFAULT_BOUNDS",
    "PlausibilityBounds",
    "PlausibilityFinding",
    "bounds_for",
    "check_plausibility",
    "filing_findings",
    "surplus_margin_finding",
]

_SIXTY = Decimal(60)
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PlausibilityBounds:
    """The ranges a return's figures are checked against, and which findings need an explanation."""

    #: contact hours may differ from visits × average minutes ÷ 60 by at most this percentage of the latter
    contact_hours_tolerance_percent: Decimal = Decimal(10)
    #: travel minutes per contact hour outside [lowest, highest] is a finding
    travel_minutes_lowest: Decimal = Decimal(2)
    travel_minutes_highest: Decimal = Decimal(30)
    #: surplus as a percentage of the total above this is a finding
    surplus_margin_highest_percent: Decimal = Decimal(10)
    #: findings an accountant must explain before accepting the revision
    explanation_required: frozenset[FindingKind] = field(
        default_factory=lambda: frozenset({FindingKind.PAY_BELOW_LOWEST, FindingKind.CONTACT_HOURS})
    )


DEFAULT_BOUNDS = PlausibilityBounds()


def bounds_for(max_profit_margin: Decimal | None) -> PlausibilityBounds:
    """The bounds under an agreement: its maximum profit margin (a fraction, 0.05 = 5%) is its surplus level."""
    if max_profit_margin is None:
        return DEFAULT_BOUNDS
    level = EXACT.multiply(max_profit_margin, _HUNDRED)
    return replace(DEFAULT_BOUNDS, surplus_margin_highest_percent=level)


@dataclass(frozen=True)
class PlausibilityFinding:
    kind: FindingKind
    field: str  # the figure found implausible, e.g. "volumes.contact_hours"
    value: Decimal
    bound: Decimal  # the figure or limit it was checked against
    message: str
    needs_explanation: bool


def _finding(
    bounds: PlausibilityBounds, kind: FindingKind, where: str, value: Decimal, bound: Decimal, message: str
) -> PlausibilityFinding:
    needed = kind in bounds.explanation_required
    tail = "; an accountant must record an explanation before the return can be accepted" if needed else ""
    return PlausibilityFinding(kind, where, value, bound, message + tail, needed)


def check_plausibility(
    filing: CostReturnFiling, bounds: PlausibilityBounds = DEFAULT_BOUNDS
) -> tuple[PlausibilityFinding, ...]:
    """Every plausibility finding on a filing, in a fixed order (pay, hours, travel, surplus)."""
    surplus = surplus_margin_finding(unit_costs(filing).surplus_percent_of_total, bounds)
    return (*filing_findings(filing, bounds), *((surplus,) if surplus else ()))


def surplus_margin_finding(margin: Decimal | None, bounds: PlausibilityBounds) -> PlausibilityFinding | None:
    """A surplus margin (percent of the total) above the level, or None."""
    if margin is None or margin <= bounds.surplus_margin_highest_percent:
        return None
    level = bounds.surplus_margin_highest_percent
    return _finding(
        bounds, FindingKind.SURPLUS_MARGIN, "lines.surplus", margin, level,
        f"a surplus margin of {margin}% of the total is above {format_quantity(level)}%",
    )  # fmt: skip


def filing_findings(filing: CostReturnFiling, bounds: PlausibilityBounds) -> tuple[PlausibilityFinding, ...]:
    """The findings that depend on the filing alone (pay, hours, travel): no agreement setting moves them."""
    costs = unit_costs(filing)
    volumes = filing.volumes
    found: list[PlausibilityFinding] = []

    def add(kind: FindingKind, where: str, value: Decimal, bound: Decimal, message: str) -> None:
        found.append(_finding(bounds, kind, where, value, bound, message))

    pay = costs.per_group(CostGroup.PAY)
    lowest = volumes.lowest_hourly_pay
    if pay < lowest:
        add(
            FindingKind.PAY_BELOW_LOWEST, f"lines.{CostGroup.PAY.value}", pay, lowest,
            f"careworker pay (contact and travel time) of {format_gbp(shown(pay))} per contact hour is below the "
            f"stated lowest hourly pay of {format_gbp(lowest)}: fewer hours paid than delivered, i.e. negative travel",
        )  # fmt: skip

    expected = EXACT.divide(EXACT.multiply(Decimal(volumes.visits), volumes.average_visit_minutes), _SIXTY)
    gap = abs(EXACT.subtract(volumes.contact_hours, expected))
    allowed = EXACT.divide(EXACT.multiply(expected, bounds.contact_hours_tolerance_percent), _HUNDRED)
    if gap > allowed:
        worked = expected.quantize(Decimal("0.01"), context=EXACT)
        add(
            FindingKind.CONTACT_HOURS, f"volumes.{Volume.CONTACT_HOURS.value}", volumes.contact_hours, worked,
            f"{format_quantity(volumes.contact_hours)} contact hours filed, but {int(volumes.visits):,} visits × "
            f"{format_quantity(volumes.average_visit_minutes)} minutes ÷ 60 = {format_quantity(worked)} hours: "
            "more than "
            f"{bounds.contact_hours_tolerance_percent}% apart",
        )  # fmt: skip

    travel = costs.travel_minutes_per_contact_hour
    if not bounds.travel_minutes_lowest <= travel <= bounds.travel_minutes_highest:
        limit = bounds.travel_minutes_lowest if travel < bounds.travel_minutes_lowest else bounds.travel_minutes_highest
        add(
            FindingKind.TRAVEL_MINUTES, f"volumes.{Volume.AVERAGE_TRAVEL_MINUTES.value}", travel, limit,
            f"{travel} travel minutes per contact hour (60 ÷ {format_quantity(volumes.average_visit_minutes)} × "
            f"{format_quantity(volumes.average_travel_minutes)}) is outside {bounds.travel_minutes_lowest} to "
            f"{bounds.travel_minutes_highest}",
        )  # fmt: skip
    return tuple(found)
