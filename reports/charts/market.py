"""The market view as a chart: cost per hour quartiles, each provider's cost as a point, the rate paid as a line.

It draws what ``ledger.queries.returns.market`` returned, for either audience:

* an accountant's view (``providers``, ``in_house``): every provider's cost as
  a point; names are drawn only with ``names=True`` (an accountant's page),
  else the points are anonymous; in-house costs are drawn beside the market
  with their own marker, as the query keeps them out of the quartiles; the
  rate paid is each provider's rate on the card (one line per distinct rate);
* a provider's view (``own``, anonymised ``market``): its own cost as the one
  named point ("your return"), the quartiles, and the rate the caller passes
  (``ledger.queries.returns.rate_paid``), since that view does not carry it.

One row per figure: the total cost per hour, then each cost group. The rate
paid is compared with the total only, so its line spans the total's row and no
other. Every quartile is written as text on its row, so the chart can be read
without telling shapes apart; the description repeats the total's figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from matplotlib.figure import Figure

from domain.money import format_gbp
from domain.returns.unit_costs import format_per_hour
from reports.charts.svg import INK, MARKERS, MUTED, PALETTE, plotted, remembered, render

__all__ = ["market_chart"]

TOTAL = "total"
_SPREAD = 0.5  # how much of a row the points spread over, so equal costs stay visible side by side


def _rows(view: Mapping[str, Any]) -> list[str]:
    market = view.get("market")
    groups = list(market["groups"]) if market else []
    if not groups:
        entries = [*view.get("providers", ()), *view.get("in_house", ()), *([view["own"]] if view.get("own") else [])]
        groups = list(entries[0]["groups"]) if entries else []
    return [TOTAL, *groups]


def _figure(entry: Mapping[str, Any], row: str) -> Decimal:
    return entry["total_per_hour"] if row == TOTAL else entry["groups"][row]


def _quartiles(view: Mapping[str, Any], row: str) -> Mapping[str, Decimal] | None:
    market = view.get("market")
    if not market:
        return None
    return market["total"] if row == TOTAL else market["groups"][row]


def _points(view: Mapping[str, Any], names: bool) -> list[tuple[str | None, Mapping[str, Any], str]]:
    """(label or None, figures, kind) for each point: kind is "provider", "in-house" or "own"."""
    if view.get("own") is not None:
        return [("your return", view["own"], "own")]
    found: list[tuple[str | None, Mapping[str, Any], str]] = []
    for kind, entries in (("provider", view.get("providers", ())), ("in-house", view.get("in_house", ()))):
        if not names:  # anonymous points in order of cost, so not even their order follows the providers' codes
            entries = sorted(entries, key=lambda entry: entry["total_per_hour"])
        found += [(entry["name"] if names else None, entry, kind) for entry in entries]
    return found


def _rates(view: Mapping[str, Any], rate: Decimal | None) -> list[Decimal]:
    if rate is not None:
        return [rate]
    entries = view.get("providers", ())
    return sorted({e["rate"].shown_rate for e in entries if e.get("rate") is not None and e["rate"].rate is not None})


def _no_market(view: Mapping[str, Any]) -> str:
    """Why there are no quartiles, in the query's words where it gave them."""
    given = view.get("not_enough_providers", {}).get("message")
    message = given or f"no accepted provider returns for {view['period']}"
    return message[0].upper() + message[1:]


def _describe(view: Mapping[str, Any], rates: Sequence[Decimal], points: Sequence[Any]) -> str:
    period, total = view["period"], _quartiles(view, TOTAL)
    if total is None:
        market = f"{_no_market(view)}."
    else:
        market = (
            f"Total cost per hour in {period}, from {view['market']['contributors']} accepted provider returns: "
            f"lower quartile {format_per_hour(total['lower'])}, median {format_per_hour(total['median'])}, "
            f"upper quartile {format_per_hour(total['upper'])}. The rows below the total are the cost groups, each "
            "with its quartiles as text."
        )
    unnamed = {"provider": "a provider", "in-house": "in-house"}
    shown = [f"{label or unnamed[kind]}: {format_per_hour(_figure(entry, TOTAL))}" for label, entry, kind in points]
    paid = f" Rate paid: {', '.join(format_gbp(r) for r in rates)} an hour." if rates else ""
    each = f" Total cost per hour of each return shown: {'; '.join(shown)}." if shown else ""
    return f"{market}{paid}{each}"


@remembered
def market_chart(view: Mapping[str, Any], *, names: bool = False, rate: Decimal | None = None) -> str:
    """SVG of a ``market`` view; ``names`` draws providers' names (accountants); ``rate`` is the provider view's."""
    rows = _rows(view)
    points = _points(view, names)
    rates = _rates(view, rate)

    def draw(figure: Figure) -> None:
        ax = figure.subplots()
        ys = {row: len(rows) - 1 - i for i, row in enumerate(rows)}
        for row, y in ys.items():
            q = _quartiles(view, row)
            if q is None:
                continue
            box = "lower to upper quartile" if row == TOTAL else None
            ax.barh(y, plotted(q["upper"]) - plotted(q["lower"]), left=plotted(q["lower"]), height=0.6,
                    color="#DDDDDD", edgecolor=INK, hatch="//", label=box)  # fmt: skip
            ax.plot([plotted(q["median"])] * 2, [y - 0.3, y + 0.3], color=INK, linewidth=2.5,
                    label="median" if row == TOTAL else None)  # fmt: skip
            ax.annotate(
                f"{format_per_hour(q['lower'])} · {format_per_hour(q['median'])} · {format_per_hour(q['upper'])}",
                xy=(1.0, y), xycoords=("axes fraction", "data"), xytext=(6, 0), textcoords="offset points",
                va="center", fontsize=8,
            )  # fmt: skip
        for i, (label, entry, kind) in enumerate(points):
            style = _point_style(i, label, kind)
            offset = (i - (len(points) - 1) / 2) * (_SPREAD / max(len(points), 1))
            xs = [plotted(_figure(entry, row)) for row in rows]
            ax.scatter(xs, [ys[row] + offset for row in rows], zorder=3, **style)
        for i, paid in enumerate(rates):
            y = ys[TOTAL]
            ax.plot([plotted(paid)] * 2, [y - 0.45, y + 0.45], color=PALETTE[1], linestyle="--", linewidth=1.5,
                    label="rate paid" if i == 0 else None)  # fmt: skip
            ax.annotate(f"rate paid {format_gbp(paid)}", xy=(plotted(paid), y + 0.45), xytext=(0, 2 + 9 * i),
                        textcoords="offset points", ha="center", fontsize=8)  # fmt: skip
        ax.set_yticks(list(ys.values()), [row.replace("-", " ") for row in ys])
        ax.set_ylim(-0.7, len(rows) - 0.2)
        ax.set_xlabel("£ per contact hour")
        ax.xaxis.set_major_formatter(lambda value, _: f"£{value:,.2f}")  # axis ticks only: the figures are text
        ax.set_title(f"Market: cost per hour, {view['period']}", loc="left")
        ax.grid(axis="x", color=MUTED, linewidth=0.5)
        if view.get("market") is not None:
            ax.text(1.0, 1.0, "lower · median · upper", transform=ax.transAxes, ha="left", va="bottom", fontsize=8,
                    color=INK)  # fmt: skip
        else:
            ax.text(0.5, 0.5, _no_market(view), transform=ax.transAxes, ha="center", va="center", wrap=True,
                    fontsize=8, bbox={"facecolor": "white", "edgecolor": MUTED})  # fmt: skip
        if ax.get_legend_handles_labels()[0]:
            figure.legend(loc="outside lower center", ncols=4, fontsize=8, frameon=False)

    title = f"Market view of cost per hour, {view['agreement']}, {view['period']}"
    return render(draw, title=title, desc=_describe(view, rates, points), size=(8.0, 1.2 + 0.45 * len(rows)))


def _point_style(i: int, label: str | None, kind: str) -> dict[str, Any]:
    """Each named point its own marker and colour; anonymous providers one shared marker; in-house its own."""
    if kind == "own":
        return {"marker": "*", "s": 120, "color": PALETTE[0], "edgecolor": INK, "label": label}
    if kind == "in-house":
        return {"marker": "X", "s": 50, "color": PALETTE[6], "label": f"in-house: {label}" if label else "in-house"}
    if label is None:
        return {"marker": "o", "s": 28, "facecolor": "white", "edgecolor": INK,
                "label": "a provider's cost" if i == 0 else None}  # fmt: skip
    return {"marker": MARKERS[i % len(MARKERS)], "s": 36, "color": PALETTE[i % len(PALETTE)], "edgecolor": INK,
            "label": label}  # fmt: skip
