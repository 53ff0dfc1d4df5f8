"""Charts and table exports of the demo's own figures: what charts say in text, whom they name, that they
repeat; and that an exported table reads back to the query's figures.

The demo is loaded once on SQLite for the module (the charts read the query
functions' answers, which the query tests already check on both databases).
Expected figures come from the same queries the charts draw, formatted the way
people read them (``format_gbp``): a chart that dropped or rounded a figure,
or named a provider to another provider, fails here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from xml.etree import ElementTree

import matplotlib
import pytest
from openpyxl import load_workbook

from demo.partnerships import PREMIER_CARE_FINANCE, WIRRAL, WIRRAL_ACCOUNTANT, load_demo
from domain.money import format_gbp
from ledger.authorisation import accountant_access, provider_access
from ledger.bootstrap import Openbook, open_openbook
from ledger.persistence.database import Database
from ledger.queries import activity, returns, settlements
from reports.charts import activity_chart, market_chart, pool_chart
from reports.tables import Column, sort_rows, to_csv, to_xlsx

QUARTER, YEAR = "2019-20-Q1", "2019-20"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Openbook]:
    book = open_openbook(Database.from_url(f"sqlite:///{tmp_path_factory.mktemp('charts')}/ledger.sqlite"))
    load_demo(book)
    yield book
    book.close()


@pytest.fixture(scope="module")
def accountant(demo):
    return accountant_access(demo.records, WIRRAL_ACCOUNTANT, WIRRAL)


@pytest.fixture(scope="module")
def premier(demo):
    return provider_access(demo.records, PREMIER_CARE_FINANCE, WIRRAL, "premier-care")


def texts(svg: str) -> list[str]:
    """What the chart writes as text (labels, ticks, legend), unescaped enough for money and names."""
    found = re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S)
    return [re.sub(r"<[^>]+>", "", t).replace("&amp;", "&") for t in found]


def title_and_desc(svg: str) -> tuple[str, str]:
    found = re.match(r'<svg\b[^>]*aria-labelledby="(title-\w+) (desc-\w+)"[^>]*>\s*<title id="\1">(.*?)</title>\s*'
                     r'<desc id="\2">(.*?)</desc>', svg, re.S)  # fmt: skip
    assert found, svg[:600]
    return found.group(3), found.group(4)


def quartile_label(q: dict[str, Decimal]) -> str:
    return f"{format_gbp(q['lower'])} · {format_gbp(q['median'])} · {format_gbp(q['upper'])}"


def test_the_accountants_market_chart_writes_every_quartile_and_names_each_provider_when_asked(demo, accountant):
    view = returns.market(demo.read_engine, accountant, QUARTER)
    svg = market_chart(view, names=True)
    shown = texts(svg)
    market = view["market"]
    assert quartile_label(market["total"]) in shown
    ticks = [t for t in shown if re.fullmatch(r"-?[\d.,]+", t) or re.fullmatch(r"£[\d,]+\.\d\d", t)]
    assert len(ticks) >= 3 and all(t.startswith("£") for t in ticks), ticks  # the axis in pounds, as every chart's
    for group, q in market["groups"].items():
        assert quartile_label(q) in shown, group
    title, desc = title_and_desc(svg)
    assert title == f"Market view of cost per hour, {WIRRAL}, {QUARTER}"
    assert f"median {format_gbp(market['total']['median'])}" in desc
    rates = {entry["rate"].rate for entry in view["providers"]}
    assert [f"rate paid {format_gbp(r)}" for r in sorted(rates)] == [t for t in shown if t.startswith("rate paid £")]
    for entry in [*view["providers"], *view["in_house"]]:
        assert any(entry["name"] in t for t in shown), entry["name"]  # in the legend: marker and name together
        assert f"{entry['name']}: {format_gbp(entry['total_per_hour'])}" in desc


def test_without_names_the_market_chart_shows_every_point_but_no_provider(demo, accountant):
    view = returns.market(demo.read_engine, accountant, QUARTER)
    svg = market_chart(view)
    for entry in [*view["providers"], *view["in_house"]]:
        assert entry["name"] not in svg and entry["provider"] not in svg
    _, desc = title_and_desc(svg)
    shown = re.findall(r"a provider: (£[\d,]+\.\d+)", desc)
    by_cost = sorted(view["providers"], key=lambda e: e["total_per_hour"])
    assert shown == [format_gbp(e["total_per_hour"]) for e in by_cost]
    assert [f"in-house: {format_gbp(e['total_per_hour'])}" in desc for e in view["in_house"]] == [True]


def test_a_provider_sees_its_own_cost_and_the_anonymised_market_with_no_other_provider_named(demo, accountant, premier):
    view = returns.market(demo.read_engine, premier, QUARTER)
    rate = returns.rate_paid(demo.read_engine, premier, "premier-care", QUARTER, in_house=False).rate
    svg = market_chart(view, rate=rate)
    shown = texts(svg)
    assert quartile_label(view["market"]["total"]) in shown
    assert f"rate paid {format_gbp(rate)}" in shown and "your return" in shown
    _, desc = title_and_desc(svg)
    assert f"your return: {format_gbp(view['own']['total_per_hour'])}" in desc
    others = returns.market(demo.read_engine, accountant, QUARTER)
    for entry in [*others["providers"], *others["in_house"]]:
        if entry["provider"] != "premier-care":
            assert entry["name"] not in svg and entry["provider"] not in svg, entry["provider"]


def test_the_same_figures_draw_the_same_bytes_and_other_figures_do_not(demo, accountant):
    view = returns.market(demo.read_engine, accountant, QUARTER)
    salt = matplotlib.rcParams["svg.hashsalt"]
    first = market_chart(view, names=True)
    assert market_chart(view, names=True) == first
    assert matplotlib.rcParams["svg.hashsalt"] == salt  # the chart's settings were scoped to its drawing
    assert market_chart(view, names=True, rate=Decimal("16.00")) != first
    later = returns.market(demo.read_engine, accountant, "2019-20-Q2")
    assert market_chart(later, names=True) != first


def test_charts_drawn_in_several_threads_at_once_are_the_same_bytes(demo, accountant):
    view = returns.market(demo.read_engine, accountant, QUARTER)
    position = settlements.pool_position(demo.read_engine, accountant, YEAR)
    with ThreadPoolExecutor(max_workers=4) as pool:
        drawn = list(pool.map(lambda i: market_chart(view, names=True) if i % 2 else pool_chart(position), range(8)))
    assert len({drawn[i] for i in range(1, 8, 2)}) == 1 and len({drawn[i] for i in range(0, 8, 2)}) == 1


def test_a_provider_shown_no_market_is_told_why_in_the_chart(demo, premier):
    view = returns.market(demo.read_engine, premier, "2018-19-Q4")
    assert view["market"] is None
    svg = market_chart(view)
    message = view["not_enough_providers"]["message"]
    assert title_and_desc(svg)[1] == message[0].upper() + message[1:] + "."
    assert "lower · median · upper" not in texts(svg)


def test_charts_are_self_contained_text_svg(demo, accountant):
    svg = market_chart(returns.market(demo.read_engine, accountant, QUARTER), names=True)
    assert svg.startswith("<svg ") and "<?xml" not in svg and "<!DOCTYPE" not in svg
    assert "<image" not in svg and "@font-face" not in svg and "<use xlink:href=\"#DejaVu" not in svg
    assert not re.search(r'(?:href|src)="https?:', svg)
    assert 'role="img"' in svg and svg.count("<title") == 1
    # Inlined in a page under style-src 'self': no style attribute or element, the same look as attributes.
    assert "style=" not in svg and "<style" not in svg
    assert 'stroke-linecap="butt"' in svg.split(">", 1)[0] and 'fill="#ffffff"' in svg
    ElementTree.fromstring(svg)  # still well-formed: no attribute written twice


def test_the_pool_chart_shows_budget_paid_due_and_forecast_as_the_position_gives_them(demo, accountant):
    position = settlements.pool_position(demo.read_engine, accountant, YEAR)
    svg = pool_chart(position)
    shown = texts(svg)
    assert f"budget {format_gbp(position['budget'])}" in shown
    assert f"forecast {format_gbp(position['forecast'])}" in shown
    assert f"priced to date {format_gbp(position['priced_to_date'])}" in shown
    _, desc = title_and_desc(svg)
    for words in (f"paid {format_gbp(position['paid_to_date'])}", f"due {format_gbp(position['due'])}",
                  f"headroom {format_gbp(position['headroom'])}", f"Through {position['through_month']}"):  # fmt: skip
        assert words in desc


def test_a_pool_position_part_way_through_the_year_draws_its_own_forecast(demo, accountant):
    whole = settlements.pool_position(demo.read_engine, accountant, YEAR)
    half = settlements.pool_position(demo.read_engine, accountant, YEAR, "2019-09")
    assert half["forecast"] != whole["forecast"]
    svg = pool_chart(half)
    assert f"forecast {format_gbp(half['forecast'])}" in texts(svg)
    assert f"forecast {format_gbp(whole['forecast'])}" not in texts(svg)
    assert "Through 2019-09 (6 months)" in title_and_desc(svg)[1]


def test_the_activity_chart_labels_each_month_with_its_spend(demo, accountant, premier):
    for access in (accountant, premier):
        rows = activity.totals(demo.read_engine, access, by=("month",))
        assert rows
        svg = activity_chart(rows, title="Priced activity by month")
        shown = texts(svg)
        for row in rows:
            assert format_gbp(row["spend"]) in shown and row["month"] in shown
        assert all(f"{row['month']} {format_gbp(row['spend'])}" in title_and_desc(svg)[1] for row in rows)


POSITION_COLUMNS = [
    Column("provider", "Provider"),
    Column("priced_to_date", "Priced to date", "money"),
    Column("paid_to_date", "Paid to date", "money"),
    Column("due", "Due", "money"),
]


def test_the_pool_positions_providers_export_and_read_back_to_the_querys_figures(demo, accountant):
    position = settlements.pool_position(demo.read_engine, accountant, YEAR, "2019-09")
    rows = sort_rows(position["providers"], "paid_to_date", descending=True)
    assert [r["paid_to_date"] for r in rows] == sorted((r["paid_to_date"] for r in rows), reverse=True)
    _, *lines = csv.reader(io.StringIO(to_csv(POSITION_COLUMNS, rows), newline=""))
    assert [(p, Decimal(priced), Decimal(paid)) for p, priced, paid, _ in lines] == [
        (r["provider"], r["priced_to_date"], r["paid_to_date"]) for r in rows
    ]
    assert sum(Decimal(line[2]) for line in lines) == position["paid_to_date"]  # exact text adds back to the total
    sheet = load_workbook(io.BytesIO(to_xlsx(POSITION_COLUMNS, rows))).active
    read = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [r[0] for r in read] == [r["provider"] for r in rows]
    assert [Decimal(repr(r[2])) for r in read] == [r["paid_to_date"] for r in rows]
