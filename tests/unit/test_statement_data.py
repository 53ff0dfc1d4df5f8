"""A statement's CSV data: every table and list of facts, one after another, written as every other CSV export is."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from decimal import Decimal as D

from reports.statements import Facts, Figure, Note, Provenance, Section, Statement, Table, statement_csv
from reports.tables import Column

HEAD = {"position": 278, "hash": "ab" * 32, "events": 278}


def statement() -> Statement:
    lines = Table("Costs by line", [Column("label", "Cost line"), Column("amount", "Amount", "money")],
                  [{"label": "=HYPERLINK(\"http://x\")", "amount": D("1234.50")},
                   {"label": "Surplus", "amount": D("-20.00")}])  # fmt: skip
    summary = Facts([("Rate paid per hour", D("15.60"), "money"), ("Return", "accepted, revision 1", "text")])
    return Statement(
        title="Cost statement, 2019-20-Q1: Premier Care", agreement_code="wirral-homecare",
        agreement_name="Wirral homecare alliance", period="2019-20-Q1", parties=[],
        sections=[Section("Summary", [summary, Note("a note is not data")]),
                  Section("Costs per contact hour", [Figure("a chart", "<svg/>"), lines])],
        provenance=Provenance(datetime(2020, 7, 1, 9, 30, tzinfo=timezone.utc), HEAD, None, [("head", 278)]),
        author="Premier Care",
    )  # fmt: skip


def test_each_table_and_fact_list_follows_its_section_and_caption_with_money_exact_and_formulas_escaped():
    rows = list(csv.reader(io.StringIO(statement_csv(statement()))))
    assert rows[:6] == [
        ["statement", "Cost statement, 2019-20-Q1: Premier Care"],
        ["agreement", "Wirral homecare alliance (wirral-homecare)"],
        ["period", "2019-20-Q1"],
        ["generated", "2020-07-01T09:30:00+00:00"],
        ["head", "278", "ab" * 32],
        [],
    ]
    assert rows[6:10] == [["Summary"], ["Item", "Value"], ["Rate paid per hour", "15.60"],
                          ["Return", "accepted, revision 1"]]  # fmt: skip
    assert rows[11:15] == [["Costs per contact hour", "Costs by line"], ["Cost line", "Amount"],
                           ["'=HYPERLINK(\"http://x\")", "1234.50"], ["Surplus", "-20.00"]]  # fmt: skip
    assert "a note is not data" not in statement_csv(statement()) and "<svg" not in statement_csv(statement())
