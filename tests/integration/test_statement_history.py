"""A provider with five years of history: its cost statement stays a few pages long however long the history grows.

The fixture builds the history once for the module on a copy of an empty ledger
with ``demo.history.build_history`` (the ledger's own commands: the demo's Wirral
and, for each of the 20 quarters 2019-20-Q1 to 2023-24-Q4, a few visits imported
and Premier Care's cost return filed, submitted and accepted, its contact pay
rising with the wage floor each year); the statements benchmark measures the
same ledger.

**The bound: at most 5 pages.** The cost statement shows one return, its 17
cost lines, its findings, the rate paid, the market and the provider's *last*
``HISTORY`` (8) periods as a table and a chart, then the provenance. Nothing in
it grows with the length of the history: with 20 periods it shows 8, as with 8
it does. The demo's statement with four periods is 4 pages; four more rows in
the history table can push the chart onto one more page, hence 5. A statement
that listed every period (or drew all 20 points) would grow past it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from decimal import Decimal as D

import pytest

from demo.history import FILER, PAY, PROVIDER, QUARTERS, build_history
from domain.money import format_gbp
from ledger.authorisation import provider_access
from ledger.bootstrap import Openbook, open_openbook
from ledger.queries.returns import history
from reports.statements import Table, render_pdf
from reports.statements.cost import HISTORY, cost_statement
from tests.support import demo_copy

MAX_PAGES = 5


@pytest.fixture(scope="module")
def five_years(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Openbook]:
    folder = tmp_path_factory.mktemp("five-years")
    book = open_openbook(demo_copy(request, "sqlite", folder, contents="empty"))
    build_history(book, folder)
    yield book
    book.close()


def test_a_cost_statement_after_five_years_shows_the_last_periods_and_stays_within_its_pages(five_years, tmp_path):
    access = provider_access(five_years.records, FILER, "wirral-homecare", PROVIDER)
    periods = history(five_years.read_engine, access, PROVIDER)
    assert [p["period"] for p in periods] == list(QUARTERS) and all(p["status"] == "accepted" for p in periods)

    statement = cost_statement(five_years, access, PROVIDER, QUARTERS[-1])
    [table] = [b for s in statement.sections for b in s.blocks if isinstance(b, Table) and "periods" in b.caption]
    assert [row["period"] for row in table.rows] == list(QUARTERS[-HISTORY:])  # the last 8 of 20, oldest first
    chart = statement.sections[-1].blocks[1].svg
    assert format_gbp(periods[-1]["total_per_hour"]) in chart and QUARTERS[-HISTORY - 1] not in chart

    path = tmp_path / "five-years.pdf"
    path.write_bytes(render_pdf(statement))
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1))
    assert 2 <= pages <= MAX_PAGES, f"{pages} pages (the bound, and why, is in the module docstring)"
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert f"page {pages} of {pages}" in text and QUARTERS[0] not in text
    assert format_gbp(D(PAY["2023-24"][0]) + D("0.00")) in text  # this year's contact pay per hour, as filed
