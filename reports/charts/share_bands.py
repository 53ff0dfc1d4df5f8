"""The gain and pain share bands of a year's settlement on the axis of actual spend, with the target and the actual.

It draws the ``statement`` of ``ledger.queries.settlements.settlement``: each
band as a stretch of actual spend (its ``spend_from`` to ``spend_to``; an open
end runs to the edge of the chart), shaded and hatched differently and named
in the legend in the band's own words ("50% of the variance between 90% and
100% of target"); the target as a solid line; the year's actual as a heavy
dash-dot line with a marker; and the variance between them as an arrow
carrying the provider side's amount before any cap. Every figure written is
the query's Decimal; floats only place the marks (``reports.charts.svg.plotted``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from matplotlib.figure import Figure

from domain.money import format_gbp
from reports.charts.svg import INK, plotted, remembered, render

__all__ = ["share_bands_chart"]

#: (fill, hatch) per band from the lowest spend up: greys and hatches that stay apart in greyscale.
_BANDS = (("#EFEFEF", "//"), ("#D0D0D0", ""), ("#F7F7F7", ".."), ("#B8B8B8", "\\\\"), ("#FFFFFF", "xx"))


def _axis_money(value: float, right: float) -> str:
    """A tick's label: millions where the axis runs to millions (axis only: the figures are written as text)."""
    return f"£{value / 1e6:,.1f}m" if right >= 2e6 else f"£{value:,.0f}"


def _describe(s: Mapping[str, Any], year: str) -> str:
    bands = "; ".join(
        f"{b['band']} (spend {format_gbp(b['spend_from']) if b['spend_from'] is not None else 'from nothing'} to "
        f"{format_gbp(b['spend_to']) if b['spend_to'] is not None else 'no limit'}): variance in band "
        f"{format_gbp(Decimal(b['variance_in_band']))}, provider side {format_gbp(b['provider_amount'])}"
        for b in s["bands"]
    )
    return (
        f"Gain and pain share bands for {year}: target {format_gbp(s['target'])}, actual spend "
        f"{format_gbp(s['actual'])}, variance {format_gbp(s['variance'])}, provider side's amount before cap "
        f"{format_gbp(s['provider_amount_uncapped'])}. Bands: {bands}."
    )


@remembered
def share_bands_chart(s: Mapping[str, Any], *, year: str) -> str:
    """SVG of a settlement's ``statement``: the bands along actual spend, the target and the year's actual marked."""
    bounds = [plotted(b[k]) for b in s["bands"] for k in ("spend_from", "spend_to") if b[k] is not None]
    target, actual = plotted(s["target"]), plotted(s["actual"])
    right = max([target, actual, *bounds]) * 1.12
    title = f"Gain and pain share bands, {year}: the year's actual spend against the target"

    def draw(figure: Figure) -> None:
        ax = figure.subplots()
        for i, band in enumerate(s["bands"]):
            low = plotted(band["spend_from"]) if band["spend_from"] is not None else 0.0
            high = plotted(band["spend_to"]) if band["spend_to"] is not None else right
            fill, hatch = _BANDS[i % len(_BANDS)]
            ax.axvspan(low, high, ymin=0, ymax=0.5, facecolor=fill, edgecolor="#777777", hatch=hatch,
                       linewidth=0.5, label=band["band"])  # fmt: skip
            share = f"{(band['provider_share'] * 100).normalize():f}%"
            ax.text((low + high) / 2, 0.27, share, ha="center", va="center", fontsize=9, fontweight="bold",
                    zorder=5, bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5})  # fmt: skip
        # Target and actual each on a row of their own, labelled on the side with room, so they never overlap.
        for x, figure_, row, name, style in ((target, s["target"], 0.68, "target", "-"),
                                             (actual, s["actual"], 0.86, "actual spend", "-.")):  # fmt: skip
            ax.plot([x, x], [0, row], color=INK, linewidth=2.0, linestyle=style, label=f"{name} {format_gbp(figure_)}")
            ax.plot([x], [row], marker="v" if name != "target" else "_", markersize=9, color=INK)
            left = x < right / 2
            ax.annotate(f"{name} {format_gbp(figure_)}", xy=(x, row), xytext=(8 if left else -8, 0),
                        textcoords="offset points", ha="left" if left else "right", va="center", fontsize=8)  # fmt: skip
        ax.annotate("", xy=(actual, 0.6), xytext=(target, 0.6), arrowprops={"arrowstyle": "->", "color": INK})
        ax.text(0, 1.0, f"variance (target − actual) {format_gbp(s['variance'])}; provider side's amount before cap "
                f"{format_gbp(s['provider_amount_uncapped'])}", ha="left", va="bottom", fontsize=8)  # fmt: skip
        ax.set_xlim(0, right)
        ax.set_ylim(0, 1.1)
        ax.set_title(title, loc="left", color=INK)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_xlabel("actual spend of the pooled budget (the number in each band is the provider side's share)")
        ax.xaxis.set_major_formatter(lambda value, _: _axis_money(value, right))
        figure.legend(loc="outside lower center", ncols=2, fontsize=7.5, frameon=False)

    return render(draw, title=title, desc=_describe(s, year), size=(8.0, 3.6))
