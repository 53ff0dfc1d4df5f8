"""A return's cost per contact hour as one stacked bar, group by group, against the rate paid.

It draws what ``ledger.queries.returns.return_sheet`` returned: the return's
own cost groups per contact hour (``domain.returns.filing.CostGroup``: careworker
pay for contact and travel time, on-costs — NI, pension, holiday, training and
sickness —, mileage and vehicles, PPE, running the business, surplus), stacked
in the order the return files them, and the rate on the card as a dashed
line with its figure. The groups are the domain's, not regrouped here, so the
bar, the statement's table and the market chart use one breakdown.

Greyscale: each segment has its own hatch as well as its own shade, and the
legend writes each group's figure, so the chart reads without colour. A
deficit (negative surplus) is drawn back from the top of the costs, cross-
hatched, and the total written at the bar's end is the query's
``total_per_hour``, never a sum of drawn floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from domain.money import format_gbp
from domain.returns.unit_costs import format_per_hour
from reports.charts.svg import INK, MUTED, plotted, remembered, render

__all__ = ["cost_breakdown_chart"]

#: One (fill, hatch) per group in filing order: light to dark greys paired with distinct hatches.
_SEGMENTS = (("#4D4D4D", ""), ("#9A9A9A", "//"), ("#FFFFFF", ".."), ("#D9D9D9", "xx"), ("#BDBDBD", "\\\\"),
             ("#FFFFFF", "oo"))  # fmt: skip
_DEFICIT = ("#FFFFFF", "xxxx")


def _describe(sheet: Mapping[str, Any]) -> str:
    each = "; ".join(f"{g['label']} {format_per_hour(g['per_hour'])}" for g in sheet["groups"])
    rate = sheet["rate"].shown_rate
    paid = f"Rate paid {format_gbp(rate)} an hour, gap {format_per_hour(sheet['gap'])}." if rate is not None else (
        "No rate paid is known.")  # fmt: skip
    return (
        f"Cost per contact hour of {sheet['provider_name']}'s return for {sheet['period']}, by cost group: {each}. "
        f"Total {format_per_hour(sheet['totals']['total_per_hour'])}. {paid}"
    )


@remembered
def cost_breakdown_chart(sheet: Mapping[str, Any], *, title: str | None = None) -> str:
    """SVG of a ``return_sheet``: its cost groups per contact hour as one stacked bar, and the rate paid."""
    groups = list(sheet["groups"])
    rate = sheet["rate"].shown_rate  # as the page beside it shows it: a card's rate with the card's places
    total = sheet["totals"]["total_per_hour"]
    title = title or f"Cost per contact hour by group against the rate paid, {sheet['period']}"

    def draw(figure: Figure) -> None:
        ax = figure.subplots()
        top = 0.0
        for i, group in enumerate(groups):
            width = plotted(group["per_hour"])
            label = f"{group['label']} {format_per_hour(group['per_hour'])}"
            if width < 0:  # a deficit: drawn back from the top of the costs
                fill, hatch = _DEFICIT
                ax.barh(0, width, left=top, height=0.55, color=fill, edgecolor=INK, hatch=hatch,
                        label=f"deficit {format_per_hour(group['per_hour'])}")  # fmt: skip
                continue
            fill, hatch = _SEGMENTS[i % len(_SEGMENTS)]
            ax.barh(0, width, left=top, height=0.55, color=fill, edgecolor=INK, hatch=hatch, linewidth=0.6,
                    label=label)  # fmt: skip
            top += width
        end = plotted(total)
        ax.annotate(f"cost {format_per_hour(total)}", xy=(end, 0), xytext=(5, 0), textcoords="offset points",
                    ha="left", va="center", fontsize=8.5, fontweight="bold")  # fmt: skip
        if rate is not None:
            ax.plot([plotted(rate)] * 2, [-0.42, 0.42], color=INK, linestyle="--", linewidth=1.6,
                    label=f"rate paid {format_gbp(rate)}")  # fmt: skip
            ax.annotate(f"rate paid {format_gbp(rate)}", xy=(plotted(rate), 0.42), xytext=(0, 2),
                        textcoords="offset points", ha="center", va="bottom", fontsize=8.5)  # fmt: skip
        right = max(top, end, plotted(rate) if rate is not None else 0.0)
        ax.set_xlim(0, right * 1.2 if right > 0 else 1)
        ax.set_ylim(-0.5, 0.75)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_xlabel("£ per contact hour")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_formatter(lambda value, _: f"£{value:,.0f}")  # axis ticks only: the figures are text
        ax.grid(axis="x", color=MUTED, linewidth=0.5)
        ax.set_axisbelow(True)
        ax.set_title(title, loc="left", color=INK)
        handles, labels = ax.get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda i: labels[i].startswith("rate paid"))  # segments, then rate
        figure.legend([handles[i] for i in order], [labels[i] for i in order], loc="outside lower center", ncols=3,
                      fontsize=7.5, frameon=False)  # fmt: skip

    return render(draw, title=title, desc=_describe(sheet), size=(8.0, 2.9))
