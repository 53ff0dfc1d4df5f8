"""The pooled budget's position by month as a chart: budget, paid, due and the run-rate forecast.

It draws what ``ledger.queries.settlements.pool_position`` returned (an
accountant's view). The budget is for the whole year, so the months show
cumulative figures against it: paid so far (hatched bar) and due (priced but
not yet paid, dotted bar stacked on it), up to the month the position is taken
through. The forecast (the query's run rate, to year end) is a dashed line
from the priced total to date to the year's last month. Budget and forecast
are written on the chart as text; the description gives every total.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from matplotlib.figure import Figure

from domain.money import EXACT, ZERO, format_gbp
from reports.charts.svg import INK, MUTED, PALETTE, plotted, remembered, render

__all__ = ["pool_chart"]


def _cumulative(position: Mapping[str, Any]) -> list[tuple[str, Decimal, Decimal]]:
    """(month, paid to the month's end, due at the month's end) for each month through ``through_month``."""
    last, out = position["through_month"], []
    priced = paid = ZERO
    for row in position["months"]:
        if last is None or row["month"] > last:
            break
        priced, paid = EXACT.add(priced, row["priced"]), EXACT.add(paid, row["paid"])
        out.append((row["month"], paid, EXACT.subtract(priced, paid)))
    return out


def _describe(position: Mapping[str, Any]) -> str:
    year, budget = position["financial_year"], format_gbp(position["budget"])
    if position["through_month"] is None:
        return f"Pooled budget {budget} for {year}; nothing priced or paid yet, so no forecast."
    forecast = position["forecast"]
    return (
        f"Pooled budget {budget} for {year}. Through {position['through_month']} "
        f"({position['months_elapsed']} months): priced {format_gbp(position['priced_to_date'])}, "
        f"paid {format_gbp(position['paid_to_date'])}, due {format_gbp(position['due'])}. "
        f"Forecast to year end {format_gbp(forecast)} ({position['forecast_method']}); "
        f"headroom {format_gbp(position['headroom'])}."
    )


@remembered
def pool_chart(position: Mapping[str, Any]) -> str:
    """SVG of a ``pool_position``: cumulative paid and due by month against the budget, with the forecast."""
    months = [row["month"] for row in position["months"]]
    shown = _cumulative(position)

    def draw(figure: Figure) -> None:
        ax = figure.subplots()
        xs = range(len(shown))
        paid = [plotted(p) for _, p, _ in shown]
        ax.bar(xs, paid, color=PALETTE[0], edgecolor=INK, hatch="//", label="paid (to date)")
        ax.bar(xs, [plotted(d) for _, _, d in shown], bottom=paid, color=PALETTE[4], edgecolor=INK, hatch="..",
               label="due (priced, not yet paid)")  # fmt: skip
        if shown:
            ax.annotate(f"priced to date {format_gbp(position['priced_to_date'])}", xy=(len(shown) - 1, 0),
                        xytext=(0, 14), textcoords="offset points", ha="center", fontsize=8)  # fmt: skip
        budget = plotted(position["budget"])
        ax.axhline(budget, color=INK, linewidth=1.5, label="budget")
        ax.annotate(f"budget {format_gbp(position['budget'])}", xy=(0, budget), xytext=(0, 3),
                    textcoords="offset points", fontsize=8)  # fmt: skip
        if position["forecast"] is not None and shown:
            end = len(months) - 1
            ax.plot([len(shown) - 1, end], [plotted(position["priced_to_date"]), plotted(position["forecast"])],
                    color=PALETTE[1], linestyle="--", marker="D", label="forecast (run rate)")  # fmt: skip
            ax.annotate(f"forecast {format_gbp(position['forecast'])}", xy=(end, plotted(position["forecast"])),
                        xytext=(-4, 6), textcoords="offset points", ha="right", fontsize=8)  # fmt: skip
        ax.set_xticks(range(len(months)), months, rotation=45, ha="right")
        ax.set_xlim(-0.6, len(months) - 0.4)
        ax.set_ylabel("£ (cumulative)")
        ax.yaxis.set_major_formatter(lambda value, _: f"£{value:,.0f}")  # axis ticks only: the figures are text
        ax.grid(axis="y", color=MUTED, linewidth=0.5)
        ax.set_title(f"Pooled budget position, {position['financial_year']}", loc="left")
        figure.legend(loc="outside lower center", ncols=4, fontsize=8, frameon=False)

    title = f"Pooled budget position, {position['agreement']}, {position['financial_year']}"
    return render(draw, title=title, desc=_describe(position), size=(8.0, 4.2))
