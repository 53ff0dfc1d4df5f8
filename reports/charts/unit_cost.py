"""A provider's cost per contact hour over time against the rate paid, from ``ledger.queries.returns.history``.

One point per return period (its accepted revision where accepted), joined
by a solid line with round markers; the rate paid over the same periods as a
dashed line with square markers, so the two read apart in greyscale. Each
cost point carries its figure as text, the rate its figure where it starts or
changes; the description lists every period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

from domain.money import format_gbp
from domain.returns.unit_costs import format_per_hour
from reports.charts.svg import INK, MUTED, PALETTE, plotted, remembered, render

__all__ = ["unit_cost_chart"]


@remembered
def unit_cost_chart(periods: Sequence[Mapping[str, Any]], *, title: str) -> str:
    """SVG of ``history`` rows (each with ``period``, ``total_per_hour`` and ``rate``), in the order given."""
    rates = [row["rate"].shown_rate for row in periods]

    def draw(figure: Figure) -> None:
        ax = figure.subplots()
        xs = range(len(periods))
        costs = [plotted(row["total_per_hour"]) for row in periods]
        ax.plot(xs, costs, color=PALETTE[0], marker="o", linewidth=1.5, label="cost per contact hour")
        for x, row in zip(xs, periods, strict=True):
            ax.annotate(format_per_hour(row["total_per_hour"]), xy=(x, plotted(row["total_per_hour"])), xytext=(0, 6),
                        textcoords="offset points", ha="center", fontsize=7)  # fmt: skip
        paid = [(x, plotted(r)) for x, r in zip(xs, rates, strict=True) if r is not None]
        if paid:
            ax.plot([x for x, _ in paid], [y for _, y in paid], color=PALETTE[1], linestyle="--", marker="s",
                    linewidth=1.5, label="rate paid")  # fmt: skip
        for x, rate in zip(xs, rates, strict=True):  # the rate's figure where it starts or changes
            if rate is not None and (x == 0 or rates[x - 1] != rate):
                ax.annotate(format_gbp(rate), xy=(x, plotted(rate)), xytext=(0, -12), textcoords="offset points",
                            ha="center", fontsize=7)  # fmt: skip
        ax.set_xticks(list(xs), [row["period"] for row in periods], rotation=30, ha="right")
        ax.set_ylabel("£ per contact hour")
        ax.yaxis.set_major_formatter(lambda value, _: f"£{value:,.2f}")  # axis ticks only: the figures are text
        ax.margins(y=0.3)
        ax.grid(axis="y", color=MUTED, linewidth=0.5)
        ax.set_title(title, loc="left", color=INK)
        if periods:
            figure.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)

    each = "; ".join(
        f"{row['period']} cost {format_per_hour(row['total_per_hour'])}"
        + (f", rate paid {format_gbp(rate)}" if rate is not None else ", no rate paid")
        for row, rate in zip(periods, rates, strict=True)
    )
    desc = f"Cost per contact hour by period: {each}." if periods else "No cost returns yet."
    return render(draw, title=title, desc=desc, size=(8.0, 3.4))
