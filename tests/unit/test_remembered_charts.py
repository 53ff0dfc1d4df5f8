"""A chart's SVG is kept by its arguments (``reports.charts.svg.remembered``): drawn once per figures, never reused
for other figures, and the cache stays bounded."""

from __future__ import annotations

from decimal import Decimal

from reports.charts import svg


def _counting():
    drawn: list[tuple] = []

    @svg.remembered
    def chart(rows, *, title):
        drawn.append((rows, title))
        return f"<svg>{title} {rows}</svg>"

    return chart, drawn


def test_the_same_figures_are_drawn_once_and_other_figures_drawn_again():
    chart, drawn = _counting()
    first = chart([{"month": "2020-04", "spend": Decimal("10.00")}], title="a")
    assert chart([{"month": "2020-04", "spend": Decimal("10.00")}], title="a") is first  # equal data, new objects
    assert len(drawn) == 1
    chart([{"month": "2020-04", "spend": Decimal("10.0")}], title="a")  # another figure as written: drawn again
    chart([{"month": "2020-04", "spend": Decimal("10.00")}], title="b")
    assert len(drawn) == 3


def test_an_argument_that_cannot_be_pickled_is_drawn_every_time():
    chart, drawn = _counting()
    rows = [lambda: None]
    chart(rows, title="a")
    chart(rows, title="a")
    assert len(drawn) == 2


def test_the_least_recently_used_chart_is_dropped_past_the_bound(monkeypatch):
    monkeypatch.setattr(svg, "REMEMBERED", 2)
    monkeypatch.setattr(svg, "_REMEMBERED", type(svg._REMEMBERED)())
    chart, drawn = _counting()
    chart([1], title="a")
    chart([2], title="a")
    chart([1], title="a")  # used again: now the most recent
    chart([3], title="a")  # drops [2]
    assert len(svg._REMEMBERED) == 2 and len(drawn) == 3
    chart([1], title="a")
    assert len(drawn) == 3
    chart([2], title="a")
    assert len(drawn) == 4
