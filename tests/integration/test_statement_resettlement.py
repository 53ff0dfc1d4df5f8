"""A re-settlement's statement: previous, new and the difference for each party, on the demo's own figures.

The module has its own copy of the loaded demo (SQLite). Its drafted 2019-20 Wirral settlement is reviewed, approved
by both commissioners and issued; late March 2020 visits are then imported and the year drafted again, which gives
settlement 2 re-settling settlement 1. Expected figures are the query's comparison (``ledger.queries.settlements``),
formatted as people read them (``format_gbp``); the PDF's text is read back with poppler's ``pdftotext``.
"""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from demo.partnerships import PREMIER_CARE_FINANCE, WIRRAL, WIRRAL_ACCOUNTANT
from demo.visits import visit_rows
from domain.activity.visits import COLUMNS
from domain.envelope import Actor, Envelope
from domain.money import format_gbp
from ledger.authorisation import accountant_access, provider_access
from ledger.bootstrap import Openbook, open_openbook
from ledger.persistence.database import Database
from ledger.queries import settlements
from reports.statements import render_pdf
from reports.statements.settlement import settlement_statement
from tests.support import demo_copy

YEAR = "2019-20"
CCG_ACCOUNTANT = Actor("accountant@wirralccg.example", "wirral-ccg")
CHANGED = "Re-settlement: what changed"


@pytest.fixture(scope="module")
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Openbook]:
    url = demo_copy(request, "sqlite", tmp_path_factory.mktemp("resettlement")).url
    book = open_openbook(Database.from_url(url.render_as_string(hide_password=False)))

    def by(actor: Actor, on: date, key: str) -> Envelope:
        return Envelope(actor, on, key, f"resettle-{key}")

    book.settlements.review_settlement(by(CCG_ACCOUNTANT, date(2020, 7, 1), "review"), WIRRAL, YEAR, 1)
    book.settlements.approve_settlement(by(WIRRAL_ACCOUNTANT, date(2020, 7, 2), "council"), WIRRAL, YEAR, 1)
    book.settlements.approve_settlement(by(CCG_ACCOUNTANT, date(2020, 7, 3), "ccg"), WIRRAL, YEAR, 1)
    book.settlements.issue_settlement(by(WIRRAL_ACCOUNTANT, date(2020, 7, 10), "issue"), WIRRAL, YEAR, 1)
    late = list(visit_rows(book.records.agreement(WIRRAL), 40, date(2020, 3, 1), date(2020, 3, 31), seed=11,
                           id_prefix="LATE"))  # fmt: skip
    path = tmp_path_factory.mktemp("late") / "ecm-late-march-2020.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([list(COLUMNS), *late])
    book.activity.import_activity(by(WIRRAL_ACCOUNTANT, date(2020, 8, 1), "late-visits"), WIRRAL, path)
    book.settlements.draft_settlement(by(WIRRAL_ACCOUNTANT, date(2020, 8, 3), "redraft"), WIRRAL, YEAR)
    yield book
    book.close()


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf)
    return " ".join(subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())  # fmt: skip


def test_a_re_settlements_statement_states_previous_new_and_the_difference_for_each_party(demo, tmp_path):
    accountant = accountant_access(demo.records, WIRRAL_ACCOUNTANT, WIRRAL)
    view = settlements.settlement(demo.read_engine, accountant, WIRRAL, YEAR)
    assert (view["sequence"], view["previous"]) == (2, 1)
    statement = settlement_statement(demo, accountant, YEAR)
    assert statement.title.startswith("Re-settlement statement")
    [changed] = [section for section in statement.sections if section.heading == CHANGED]
    comparison = view["comparison"]
    balances = {p: figures["balance"] for p, figures in comparison["providers"].items()}
    assert any(row["difference"] != 0 for row in balances.values())  # the late visits changed someone's balance
    text = pdf_text(render_pdf(statement), tmp_path)
    assert CHANGED in text and "Settlement 2 against settlement 1: previous, new and the difference" in text
    rows = changed.blocks[0].rows
    for provider, row in balances.items():
        shown = [r for r in rows if r["figure"] == "Balance due" and r["party"] == statement_party(demo, provider)]
        assert [(r["previous"], r["new"], r["difference"]) for r in shown] == [
            (row["previous"], row["new"], row["difference"])
        ]  # fmt: skip
        words = " ".join(format_gbp(row[k]) for k in ("previous", "new", "difference"))
        assert words in text, words
    council = comparison["commissioners"]["wirral-council"]["cost"]
    assert " ".join(format_gbp(council[k]) for k in ("previous", "new", "difference")) in text


def test_a_providers_re_settlement_statement_compares_its_own_figures_only(demo, tmp_path):
    premier = provider_access(demo.records, PREMIER_CARE_FINANCE, WIRRAL, "premier-care")
    statement = settlement_statement(demo, premier, YEAR)
    [changed] = [section for section in statement.sections if section.heading == CHANGED]
    parties = {row["party"] for row in changed.blocks[0].rows}
    assert "Premier Care" in parties and not parties & {"Haven Care", "Carewatch", "Wirral Home Care Alliance"}
    text = pdf_text(render_pdf(statement), tmp_path)
    assert "Haven Care" not in text and CHANGED in text


def statement_party(book: Openbook, provider: str) -> str:
    """The name a statement calls a provider by (its registered name)."""
    return book.records.organisation(provider).name


def test_what_a_re_settlement_changed_follows_its_summary_in_the_statements_own_words(demo, tmp_path):
    """The reader of a re-settlement asks first what changed: it is the section after the summary, on the first
    page, each figure called what the positions' columns call it (not the settlement's keys, "activity", "paid")."""
    accountant = accountant_access(demo.records, WIRRAL_ACCOUNTANT, WIRRAL)
    statement = settlement_statement(demo, accountant, YEAR)
    assert [section.heading for section in statement.sections[:2]] == ["Summary", CHANGED]
    [changed] = statement.sections[1].blocks
    [providers] = [b for s in statement.sections if s.heading == "Each party's amount" for b in s.blocks[:1]]
    headings = [c.heading for c in providers.columns[1:]]
    premier = [row["figure"] for row in changed.rows if row["party"] == "Premier Care"]
    assert premier == headings == ["Priced activity", "Incentives", "Share", "Clawback", "Paid on account",
                                   "Balance due"]  # fmt: skip
    council = [row["figure"] for row in changed.rows if row["party"] == "Wirral Council"]
    assert council == ["Contribution", "Cost", "Pool balance"]
    page_one = pdf_text(render_pdf(statement), tmp_path).split("page 1 of", 1)[0]
    assert "Target spend" in page_one and CHANGED in page_one
    assert "Carewatch Priced activity £" in page_one and "Carewatch activity" not in page_one
