"""Snapshots of each statement kind's HTML: a change to what a statement says shows up as a reviewed diff.

Each kind in ``KINDS`` is built from the loaded demo (the module's own SQLite
copy, nothing added) and its HTML compared with ``tests/snapshots/statement-KIND.html``.
The HTML is normalised first, so only what the statement says is compared:

* the time it was generated is fixed (``GENERATED``), and the head's and any
  checkpoint's hash, signature and recording time — which hash the events'
  recording times, so differ from run to run — become placeholders; positions
  stay, since they are the demo's own;
* each chart's SVG is reduced to its ``<title>`` and ``<desc>``, which state
  every figure it draws in words (``reports.charts.svg``): a changed figure in
  a chart still fails, a new matplotlib's different path data does not;
* the stylesheet (fonts by file path, layout rules) is left out.

Every figure the statement shows stays in the snapshot, so a changed figure
fails the test with a diff. To accept a change, rewrite the snapshots and
review the diff (``git diff tests/snapshots``)::

    OPENBOOK_UPDATE_SNAPSHOTS=1 pytest tests/integration/test_statement_snapshots.py

A new kind is one more entry in ``KINDS`` and one run with that variable set.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from demo.partnerships import PREMIER_CARE_FINANCE, WIRRAL, WIRRAL_ACCOUNTANT
from domain.money import format_gbp
from ledger.authorisation import Access, accountant_access, provider_access
from ledger.bootstrap import Openbook, open_openbook
from ledger.queries.settlements import settlement
from reports.statements import Facts, Statement, render_html
from reports.statements.cost import cost_statement
from reports.statements.incentive import incentive_statement
from reports.statements.payment import payment_statement
from reports.statements.rate_notice import rate_notice
from reports.statements.settlement import settlement_statement
from tests.support import demo_copy

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"
UPDATE = os.environ.get("OPENBOOK_UPDATE_SNAPSHOTS") == "1"
GENERATED = datetime(2020, 7, 1, 9, 0, tzinfo=timezone.utc)
YEAR = "2019-20"

#: kind -> how the demo's statement of that kind is built, from (book, {"accountant": ..., "provider": ...}).
KINDS: dict[str, Callable[[Openbook, dict[str, Access]], Statement]] = {
    "settlement": lambda book, a: settlement_statement(book, a["accountant"], YEAR),
    "settlement-provider": lambda book, a: settlement_statement(book, a["provider"], YEAR),
    "cost": lambda book, a: cost_statement(book, a["provider"], "premier-care", "2019-20-Q1"),
    "payment": lambda book, a: payment_statement(book, a["provider"], "premier-care", "2019-06"),
    "incentive": lambda book, a: incentive_statement(book, a["accountant"], YEAR),
    "rate-notice": lambda book, a: rate_notice(book, a["provider"], "2020-21", "premier-care"),
}

_SVG = re.compile(r"<svg\b.*?(<title\b.*?</title>)\s*(<desc\b.*?</desc>).*?</svg>", re.S)
_STYLE = re.compile(r"<style>.*?</style>", re.S)


@pytest.fixture(scope="module")
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Openbook]:
    book = open_openbook(demo_copy(request, "sqlite", tmp_path_factory.mktemp("snapshots")))
    yield book
    book.close()


@pytest.fixture(scope="module")
def readers(demo: Openbook) -> dict[str, Access]:
    return {
        "accountant": accountant_access(demo.records, WIRRAL_ACCOUNTANT, WIRRAL),
        "provider": provider_access(demo.records, PREMIER_CARE_FINANCE, WIRRAL, "premier-care"),
    }


def steady(statement: Statement) -> Statement:
    """The statement with what differs from run to run fixed: when it was generated, the hashes and signatures."""
    p = statement.provenance
    head = {**p.head, "hash": "(head hash)"}
    for key in ("signature", "key_id", "recorded_at"):
        if head.get(key):
            head[key] = f"(head {key})"
    checkpoint = p.checkpoint and {**p.checkpoint, "hash": "(checkpoint hash)", "recorded_at": "(recorded at)"}
    return dataclasses.replace(statement, provenance=dataclasses.replace(p, generated_at=GENERATED, head=head,
                                                                            checkpoint=checkpoint))  # fmt: skip


def normalised(statement: Statement) -> str:
    html = render_html(steady(statement))
    html = _STYLE.sub("<style>/* reports/templates/statement.css */</style>", html, count=1)
    return _SVG.sub(lambda m: f"<svg>\n {m.group(1)}\n {m.group(2)}\n</svg>", html)


def compare(kind: str, html: str) -> None:
    path = SNAPSHOTS / f"statement-{kind}.html"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(html, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path.name}: run with OPENBOOK_UPDATE_SNAPSHOTS=1 to write it, then review it")
    stored = path.read_text(encoding="utf-8")
    if html != stored:
        diff = "".join(difflib.unified_diff(stored.splitlines(True), html.splitlines(True), path.name, "now", n=1))
        pytest.fail(f"statement {kind} differs from its snapshot (OPENBOOK_UPDATE_SNAPSHOTS=1 to accept):\n"
                    f"{diff[:6000]}")  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_each_statement_kinds_html_matches_its_snapshot(demo, readers, kind):
    compare(kind, normalised(KINDS[kind](demo, readers)))


def test_the_snapshot_keeps_every_figure_so_a_changed_figure_fails(demo, readers):
    statement = KINDS["settlement"](demo, readers)
    html = normalised(statement)
    s = settlement(demo.read_engine, readers["accountant"], WIRRAL, YEAR)["statement"]
    assert all(format_gbp(s[f]) in html for f in ("target", "actual", "variance", "provider_amount"))
    assert f"target {format_gbp(s['target'])}, actual spend {format_gbp(s['actual'])}" in html  # the chart's words
    assert "(head hash)" in html and "1 July 2020 09:00 UTC" in html and "<path" not in html
    # one figure changed (the actual spend, a pound more): the normalised HTML is no longer the same
    summary = statement.sections[0]
    facts = next(b for b in summary.blocks if isinstance(b, Facts))
    moved = [(label, value + 1 if label == "Actual spend" else value, kind) for label, value, kind in facts.items]
    blocks = [Facts(moved) if block is facts else block for block in summary.blocks]
    changed = dataclasses.replace(statement, sections=[dataclasses.replace(summary, blocks=blocks),
                                                       *statement.sections[1:]])  # fmt: skip
    assert normalised(changed) != html
