"""Priced activity by month as a bar chart, each bar labelled with its spend.

It draws the rows of ``ledger.queries.activity.totals(..., by=("month",))``
(one provider's or every provider's, as the caller's access gave them). Each
bar carries its figure as text, so the chart reads without the axis; the
description lists every month.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

from domain.money import format_gbp
from reports.charts.svg import INK, MUTED, PALETTE, plotted, remembered, render

__all__ = ["activity_chart"]


@remembered
def activity_chart(rows: Sequence[Mapping[str, Any]], *, title: str) -> str:
    """SVG of priced spend by month from ``totals`` rows (each with ``month`` and ``spend``), months in order."""
    ordered = sorted(rows, key=lambda row: row["month"])
    labels = [format_gbp(row["spend"]) for row in ordered]

    def draw(figure: Figure) -> None:
        ax = figure.subplots()
        bars = ax.bar(range(len(ordered)), [plotted(row["spend"]) for row in ordered], color=PALETTE[0],
                      edgecolor=INK)  # fmt: skip
        ax.bar_label(bars, labels=labels, fontsize=7, rotation=90, padding=3)
        ax.set_xticks(range(len(ordered)), [row["month"] for row in ordered], rotation=45, ha="right")
        ax.set_ylabel("£ priced")
        ax.margins(y=0.25)
        ax.yaxis.set_major_formatter(lambda value, _: f"£{value:,.0f}")  # axis ticks only: the figures are text
        ax.grid(axis="y", color=MUTED, linewidth=0.5)
        ax.set_axisbelow(True)
        ax.set_title(title, loc="left")

    months = "; ".join(f"{row['month']} {label}" for row, label in zip(ordered, labels, strict=True))
    desc = f"Priced activity by month: {months}." if ordered else "No priced activity yet."
    return render(draw, title=title, desc=desc, size=(8.0, 3.6))
