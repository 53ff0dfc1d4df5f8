"""The market view: how providers' costs per contact hour compare, for one agreement and period.

Accountants see every provider's figures by code beside the market's lower
quartile, median and upper quartile, per line, per group and in total. A
provider sees only the anonymised quartiles, and only where at least 5
providers contributed: with fewer, quartiles would reveal individual
providers' costs (DOMAIN.md, "Market figures and privacy").

**The quantile method** is exactly ``statistics.quantiles(data, n=4,
method="inclusive")``: the data sorted, m = n − 1 for n values, and the
p-th quartile (p = 1, 2, 3) read at position p × m / 4 (0-based), linearly
interpolating between the two neighbouring values. The median is the
ordinary median; with one value all three quartiles are that value. It is
done here in Decimal arithmetic, so each result is exact (it is a weighted
mean of two 4-decimal-place figures with weights in quarters).

The inputs are the ``UnitCosts`` of each provider's *accepted* revision;
choosing which returns count (accepted only; whether the council's in-house
costs join the providers' market) is the caller's decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from domain.errors import NotFound
from domain.money import EXACT
from domain.returns.filing import CostGroup, CostLine
from domain.returns.unit_costs import UnitCosts

__all__ = [
    "MIN_PROVIDERS",
    "QUANTILE_METHOD",
    "AnonymisedMarketView",
    "MarketView",
    "NotEnoughProviders",
    "ProviderMarketView",
    "Quartiles",
    "anonymised",
    "for_provider",
    "market_view",
    "quartiles",
]

QUANTILE_METHOD = 'statistics.quantiles(data, n=4, method="inclusive"), in exact Decimal arithmetic'
MIN_PROVIDERS = 5

_FOUR = Decimal(4)


@dataclass(frozen=True)
class Quartiles:
    lower: Decimal
    median: Decimal
    upper: Decimal


def quartiles(data: Sequence[Decimal]) -> Quartiles:
    """Lower quartile, median and upper quartile by the inclusive method (see the module docstring)."""
    if not data:
        raise NotFound("no figures to take quartiles of")
    ordered = sorted(data)
    if len(ordered) == 1:
        return Quartiles(ordered[0], ordered[0], ordered[0])
    m = len(ordered) - 1
    cuts = []
    for p in (1, 2, 3):
        j, delta = divmod(p * m, 4)
        # (data[j] × (4 − delta) + data[j + 1] × delta) / 4, as statistics.quantiles does.
        low = EXACT.multiply(ordered[j], Decimal(4 - delta))
        high = EXACT.multiply(ordered[j + 1], Decimal(delta)) if delta else Decimal(0)
        cuts.append(EXACT.divide(EXACT.add(low, high), _FOUR))
    return Quartiles(*cuts)


@dataclass(frozen=True)
class MarketView:
    """The accountants' view: each provider's figures by code, and the market's quartiles."""

    providers: tuple[str, ...]
    figures: dict[str, UnitCosts]
    lines: dict[CostLine, Quartiles]
    groups: dict[CostGroup, Quartiles]
    total: Quartiles
    method: str = QUANTILE_METHOD

    @property
    def contributors(self) -> int:
        return len(self.providers)


@dataclass(frozen=True)
class AnonymisedMarketView:
    """The quartiles only: no provider codes, no provider's own figures."""

    contributors: int
    lines: dict[CostLine, Quartiles]
    groups: dict[CostGroup, Quartiles]
    total: Quartiles
    method: str = QUANTILE_METHOD


@dataclass(frozen=True)
class NotEnoughProviders:
    """Why no market figures are shown: fewer providers contributed than privacy needs."""

    contributors: int
    required: int

    def __str__(self) -> str:
        return f"not enough providers: {self.contributors} of {self.required}"


@dataclass(frozen=True)
class ProviderMarketView:
    """What one provider may see: its own figures, and the anonymised market or why there is none."""

    provider: str
    own: UnitCosts | None
    market: AnonymisedMarketView | NotEnoughProviders


def market_view(unit_costs_by_provider: Mapping[str, UnitCosts]) -> MarketView:
    """Quartiles per line, per group and in total across the providers' accepted returns."""
    if not unit_costs_by_provider:
        raise NotFound("no accepted cost returns to compare")
    providers = tuple(sorted(unit_costs_by_provider))
    figures = {code: unit_costs_by_provider[code] for code in providers}
    costs = list(figures.values())
    return MarketView(
        providers=providers,
        figures=figures,
        lines={line: quartiles([c.per_line[line] for c in costs]) for line in CostLine},
        groups={group: quartiles([c.per_group(group) for c in costs]) for group in CostGroup},
        total=quartiles([c.total_per_hour for c in costs]),
    )


def anonymised(view: MarketView, min_providers: int = MIN_PROVIDERS) -> AnonymisedMarketView | NotEnoughProviders:
    """The view without provider codes or figures; nothing but the reason where too few contributed.

    ``min_providers`` may be raised, never lowered below 5: the privacy rule only tightens.
    """
    if isinstance(min_providers, bool) or not isinstance(min_providers, int) or min_providers < MIN_PROVIDERS:
        raise ValueError(f"min_providers must be an int of at least {MIN_PROVIDERS}, not {min_providers!r}")
    if view.contributors < min_providers:
        return NotEnoughProviders(view.contributors, min_providers)
    return AnonymisedMarketView(view.contributors, dict(view.lines), dict(view.groups), view.total, view.method)


def for_provider(view: MarketView, provider: str, min_providers: int = MIN_PROVIDERS) -> ProviderMarketView:
    """A provider's view: its own figures (if it contributed) and the anonymised market."""
    return ProviderMarketView(provider, view.figures.get(provider), anonymised(view, min_providers))
