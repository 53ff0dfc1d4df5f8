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
* **surplus margin** above a level; open-book agreements often cap the
  permitted profit margin. It is measured on the basis the year's pooled
  budget measures its excess-surplus clawback (``MarginBasis``: surplus ÷
  the total by default, or surplus ÷ cost, the total less the surplus), so
  the finding and the clawback read a profit cap alike; the finding names
  its basis.

The bounds are domain defaults stated here, in one place
(``PlausibilityBounds``). An agreement overrides the surplus level by the
setting it already has: its maximum permitted profit margin
(``Agreement.set_profit_cap``), in force on the period's last day, on the
margin basis of the pool of the period's financial year (``bounds_for``).
The other ranges, and which findings need an explanation, an agreement
overrides by its own term (``Agreement.set_plausibility_ranges``, event
``openbook:agreement.plausibility-ranges-set``), in force on the period's
last day; a range it does not state keeps the default (``RANGES``,
``check_ranges``).

The surplus finding is a function of the two margins, the level and the
basis alone (``surplus_margin_finding``), so a read model can work it out
again when an agreement's cap or a pool's basis changes without re-reading
the filing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from domain.checks import check_decimal
from domain.errors import InvalidInput
from domain.money import EXACT, format_gbp, format_quantity
from domain.returns.filing import CostGroup, CostReturnFiling, Volume
from domain.returns.unit_costs import shown, unit_costs
from domain.returns.wage_checks import EXPLANATION_NEEDED, FindingKind
from domain.settlement.pooled_budget import MarginBasis

__all__ = [
    "DEFAULT_BOUNDS",
    "PLAUSIBILITY_KINDS",
    "RANGES",
    "PlausibilityBounds",
    "PlausibilityFinding",
    "bounds_for",
    "check_plausibility",
    "check_ranges",
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
    #: surplus as a percentage of the basis (the total, or cost) above this is a finding
    surplus_margin_highest_percent: Decimal = Decimal(10)
    #: what the surplus margin is a percentage of: the pool's clawback basis for the year
    surplus_margin_basis: MarginBasis = MarginBasis.TOTAL
    #: findings an accountant must explain before accepting the revision
    explanation_required: frozenset[FindingKind] = field(
        default_factory=lambda: frozenset({FindingKind.PAY_BELOW_LOWEST, FindingKind.CONTACT_HOURS})
    )


DEFAULT_BOUNDS = PlausibilityBounds()

#: The ranges an agreement may state for itself (each in ``PlausibilityBounds``' units); the surplus level is its
#: profit cap. ``explanation_required`` (which findings need an explanation) it may state too.
RANGES = ("contact_hours_tolerance_percent", "travel_minutes_lowest", "travel_minutes_highest")
PLAUSIBILITY_KINDS = (
    FindingKind.PAY_BELOW_LOWEST, FindingKind.CONTACT_HOURS, FindingKind.TRAVEL_MINUTES, FindingKind.SURPLUS_MARGIN,
)  # fmt: skip


def check_ranges(
    ranges: Mapping[str, object], explanation_required: Iterable[object] | None = None
) -> dict[str, Any]:
    """An agreement's stated ranges, checked: each named in ``RANGES`` (None or absent: the default), a tolerance
    above 0 and at most 100 percent, travel minutes from 0 to 600 with the lowest below the highest (a range
    stated on one side is checked against the other's default); the findings that need an explanation, each a
    plausibility finding's kind (an empty list: none). Every problem is named at once."""
    problems: list[str] = []
    found: dict[str, Any] = {}
    for name in ranges:
        if name not in RANGES:
            problems.append(f"{name}: not a plausibility range (they are {', '.join(RANGES)})")
    limits = {
        "contact_hours_tolerance_percent": (Decimal(0), Decimal(100), True),
        "travel_minutes_lowest": (Decimal(0), Decimal(600), False),
        "travel_minutes_highest": (Decimal(0), Decimal(600), True),
    }
    for name, (lowest, highest, above) in limits.items():
        value = ranges.get(name)
        if value is None:
            continue
        try:
            found[name] = check_decimal(value, name, places=2, minimum=lowest, maximum=highest, above_minimum=above)
        except InvalidInput as e:
            problems.append(str(e))
    low = found.get("travel_minutes_lowest", DEFAULT_BOUNDS.travel_minutes_lowest)
    high = found.get("travel_minutes_highest", DEFAULT_BOUNDS.travel_minutes_highest)
    if ("travel_minutes_lowest" in found or "travel_minutes_highest" in found) and not low < high:
        problems.append(f"travel_minutes_lowest: {format_quantity(low)} is not below travel_minutes_highest {format_quantity(high)}")
    if explanation_required is not None:
        if isinstance(explanation_required, (str, bytes)):
            explanation_required = [explanation_required]
        kinds = []
        for index, kind in enumerate(explanation_required):
            if kind not in {k.value for k in PLAUSIBILITY_KINDS}:
                choices = ", ".join(k.value for k in PLAUSIBILITY_KINDS)
                problems.append(f"explanation_required[{index}]: {kind!r} is not a plausibility finding ({choices})")
            elif kind not in kinds:
                kinds.append(str(kind))
        found["explanation_required"] = sorted(kinds)
    if problems:
        raise InvalidInput("; ".join(problems))
    return found


def bounds_for(
    max_profit_margin: Decimal | None,
    margin_basis: MarginBasis | str = MarginBasis.TOTAL,
    stated: Mapping[str, Any] | None = None,
) -> PlausibilityBounds:
    """The bounds under an agreement: its maximum profit margin (a fraction, 0.05 = 5%) is its surplus level,
    measured on the basis of the year's pool (``PoolTerms.margin_basis``; the total without a pool), and the
    ranges it states (``check_ranges``'s result, as recorded) replace the defaults; the rest stay the defaults."""
    changes: dict[str, Any] = {}
    basis = MarginBasis(margin_basis)
    if basis is not DEFAULT_BOUNDS.surplus_margin_basis:
        changes["surplus_margin_basis"] = basis
    if max_profit_margin is not None:
        changes["surplus_margin_highest_percent"] = EXACT.multiply(max_profit_margin, _HUNDRED)
    for name, value in (stated or {}).items():
        if value is None:
            continue
        changes[name] = frozenset(FindingKind(k) for k in value) if name == "explanation_required" else value
    return replace(DEFAULT_BOUNDS, **changes) if changes else DEFAULT_BOUNDS


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
    tail = EXPLANATION_NEEDED if needed else ""
    return PlausibilityFinding(kind, where, value, bound, message + tail, needed)


def check_plausibility(
    filing: CostReturnFiling, bounds: PlausibilityBounds = DEFAULT_BOUNDS
) -> tuple[PlausibilityFinding, ...]:
    """Every plausibility finding on a filing, in a fixed order (pay, hours, travel, surplus)."""
    costs = unit_costs(filing)
    surplus = surplus_margin_finding(costs.surplus_percent_of_total, costs.surplus_percent_of_cost, bounds)
    return (*filing_findings(filing, bounds), *((surplus,) if surplus else ()))


def surplus_margin_finding(
    of_total: Decimal | None, of_cost: Decimal | None, bounds: PlausibilityBounds
) -> PlausibilityFinding | None:
    """A surplus margin above the level, or None: the percentage of the total or of cost, as ``bounds`` measure it."""
    on_cost = bounds.surplus_margin_basis is MarginBasis.COST
    margin = of_cost if on_cost else of_total
    if margin is None or margin <= bounds.surplus_margin_highest_percent:
        return None
    level = bounds.surplus_margin_highest_percent
    basis = "of cost (surplus ÷ the total less the surplus, the pool's clawback basis)" if on_cost else "of the total"
    return _finding(
        bounds, FindingKind.SURPLUS_MARGIN, "lines.surplus", margin, level,
        f"a surplus margin of {margin}% {basis} is above {format_quantity(level)}%",
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
            f"{format_quantity(volumes.average_visit_minutes)} minutes ÷ 60 = {format_quantity(worked)} hours: more than "
            f"{format_quantity(bounds.contact_hours_tolerance_percent)}% apart",
        )  # fmt: skip

    travel = costs.travel_minutes_per_contact_hour
    if not bounds.travel_minutes_lowest <= travel <= bounds.travel_minutes_highest:
        limit = bounds.travel_minutes_lowest if travel < bounds.travel_minutes_lowest else bounds.travel_minutes_highest
        add(
            FindingKind.TRAVEL_MINUTES, f"volumes.{Volume.AVERAGE_TRAVEL_MINUTES.value}", travel, limit,
            f"{travel} travel minutes per contact hour (60 ÷ {format_quantity(volumes.average_visit_minutes)} × "
            f"{format_quantity(volumes.average_travel_minutes)}) is outside {format_quantity(bounds.travel_minutes_lowest)} to "
            f"{format_quantity(bounds.travel_minutes_highest)}",
        )  # fmt: skip
    return tuple(found)
