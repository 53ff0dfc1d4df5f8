"""Every table sorts by any column and exports the same rows to CSV and XLSX, formula-like text escaped."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from flask import render_template_string
from openpyxl import load_workbook

from web.access import public
from web.tables import Column, table

COLUMNS = [Column("provider", "Provider"), Column("paid", "Paid", "money")]
ROWS = [
    {"provider": "Premier Care", "paid": Decimal("1234.50")},
    {"provider": "=HYPERLINK(\"http://evil.example\")", "paid": Decimal("-2.00")},
    {"provider": "Haven Care", "paid": Decimal("99.99")},
]
PAGE = '{% from "macros/table.html" import data_table %}{{ data_table(t) }}'



def test_a_table_sorts_by_the_column_asked_and_marks_it(app):
    @public
    def page():
        return render_template_string(PAGE, t=table("paid", "Paid this year", COLUMNS, ROWS))

    app.add_url_rule("/_tables_test", "tables_test", page)
    client = app.test_client()
    html = client.get("/_tables_test?paid-sort=paid&paid-dir=desc").get_data(as_text=True)
    assert html.index("£1,234.50") < html.index("£99.99") < html.index("-£2.00")
    assert 'aria-sort="descending"' in html and "paid-sort=provider" in html
    ascending = client.get("/_tables_test?paid-sort=paid").get_data(as_text=True)
    assert ascending.index("-£2.00") < ascending.index("£99.99") < ascending.index("£1,234.50")
    ignored = client.get("/_tables_test?paid-sort=password_hash").get_data(as_text=True)  # not a column: unsorted
    assert ignored.index("Premier Care") < ignored.index("Haven Care")

    exported = client.get("/_tables_test?paid-sort=provider&export=paid&format=csv")
    assert exported.headers["Content-Disposition"] == 'attachment; filename="paid.csv"'
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0] == ["Provider", "Paid"]
    assert rows[1:] == [["'=HYPERLINK(\"http://evil.example\")", "-2.00"], ["Haven Care", "99.99"],
                        ["Premier Care", "1234.50"]]

    xlsx = client.get("/_tables_test?export=paid&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[1][1] == 1234.5 and values[2][0].startswith("'=") and values[2][1] == -2
