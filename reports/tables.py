"""Every table exported one way, as CSV and as XLSX, and sorted one way.

A table is a list of ``Column`` specs and rows (mappings keyed by each
column's ``key``), as the web pages and statements already hold them.

Why the care:

* **Formula injection** (OWASP, "CSV Injection"): a spreadsheet runs a cell
  that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return as a
  formula. Text from the ledger (a provider's name, a note, a visit's
  reference from an import) could start that way, so such text gets a leading
  single quote (``ledger.files.formulas.escaped``, the one helper every
  exporter uses). Real numbers are never escaped: a negative amount is a
  number, not a formula.
* **Money stays exact and numeric.** A Decimal is written to CSV as plain
  fixed-point text with its own places (``1234.50``, never ``1.2345E+3`` or a
  float's ``1234.5``), and to XLSX as a number with a 2 dp format (the column's
  ``places``), so the spreadsheet can add it up. XLSX numbers are the format's
  own doubles, exact to 15 significant digits; a figure with more is refused
  rather than silently rounded.
* **Dates as dates**: ISO text in CSV, date cells in XLSX.

``sort_rows`` is the one sort every table uses: by one column, ascending or
descending, empty cells last either way, comparing Decimals, ints, text
(case-insensitively) and dates as what they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.styles import Font

from domain.errors import InvalidInput
from ledger.files.formulas import escaped

__all__ = ["Column", "escaped", "sort_rows", "to_csv", "to_xlsx"]

Kind = Literal["text", "money", "number", "date"]
Row = Mapping[str, Any]

_XLSX_DIGITS = 15  # significant digits a spreadsheet number (an IEEE double) holds exactly
_XLSX_DATE = "yyyy-mm-dd"
_XLSX_DATETIME = "yyyy-mm-dd hh:mm:ss"


@dataclass(frozen=True)
class Column:
    """One column: the row key it reads, its heading, and what its cells are (money gets a 2 dp format)."""

    key: str
    heading: str
    kind: Kind = "text"
    places: int | None = None  # the XLSX number format's places; money defaults to 2

    @property
    def number_format(self) -> str | None:
        places = self.places if self.places is not None else (2 if self.kind == "money" else None)
        if places is None:
            return None
        return "#,##0" + ("." + "0" * places if places else "")


def _checked(value: Any, where: str) -> Any:
    if isinstance(value, float):
        raise InvalidInput(f"{where}: {value!r} is a float; money and figures are exported from Decimal only")
    return value


def _csv_cell(value: Any, where: str) -> str:
    value = _checked(value, where)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")  # fixed point with the value's own places: 1234.50 stays 1234.50
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return escaped(str(value))


def _xlsx_cell(value: Any, where: str) -> Any:
    value = _checked(value, where)
    if isinstance(value, Decimal) and len(value.as_tuple().digits) > _XLSX_DIGITS:
        raise InvalidInput(
            f"{where}: {value} has more than {_XLSX_DIGITS} digits; an XLSX number cannot hold it exactly"
        )
    if value is None or isinstance(value, (bool, int, Decimal, date, datetime)):
        return value  # a Decimal becomes a number cell: a double, exact within the digits checked above
    return escaped(str(value))


def _cells(columns: Sequence[Column], rows: Iterable[Row]) -> Iterable[tuple[int, list[tuple[Column, Any, str]]]]:
    keys = [c.key for c in columns]
    if len(set(keys)) != len(keys):
        raise InvalidInput(f"columns: a key appears twice in {keys}")
    for number, row in enumerate(rows, start=1):
        missing = [k for k in keys if k not in row]
        if missing:
            raise InvalidInput(f"row {number}: no value for column(s) {', '.join(missing)}")
        yield number, [(c, row[c.key], f"row {number}, column {c.key!r}") for c in columns]


def to_csv(columns: Sequence[Column], rows: Iterable[Row]) -> str:
    """The table as CSV text: a heading line, then one line per row (every cell checked before any is written)."""
    body = [[_csv_cell(value, where) for _, value, where in cells] for _, cells in _cells(columns, rows)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([escaped(c.heading) for c in columns])
    writer.writerows(body)
    return out.getvalue()


def to_xlsx(columns: Sequence[Column], rows: Iterable[Row], *, sheet: str = "Table") -> bytes:
    """The table as an XLSX workbook of one sheet: headings bold and frozen, money 2 dp, dates as date cells."""
    body = [[(c, _xlsx_cell(value, where)) for c, value, where in cells] for _, cells in _cells(columns, rows)]
    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]  # Excel's limit on a sheet's name
    ws.append([escaped(c.heading) for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for row_number, cells in enumerate(body, start=2):
        for col_number, (column, value) in enumerate(cells, start=1):
            cell = ws.cell(row=row_number, column=col_number, value=value)
            if isinstance(value, datetime):
                cell.number_format = _XLSX_DATETIME
            elif isinstance(value, date):
                cell.number_format = _XLSX_DATE
            elif isinstance(value, (Decimal, int)) and not isinstance(value, bool) and column.number_format:
                cell.number_format = column.number_format
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sort_key(value: Any) -> Any:
    """Compare like with like: text case-insensitively, then by its exact spelling so ties stay stable."""
    if isinstance(value, str):
        return (value.casefold(), value)
    return value


def sort_rows(rows: Iterable[Row], key: str, *, descending: bool = False) -> list[Row]:
    """Rows ordered by ``key``: ascending or descending, empty cells (None) last either way, ties in given order.

    Values of a column are of one kind (Decimal and int compare as numbers;
    text, dates); a column mixing kinds is an error naming it, not an
    arbitrary order.
    """
    listed = list(rows)
    if any(key not in row for row in listed):
        raise InvalidInput(f"sort: no column {key!r} in the rows")
    filled = [row for row in listed if row[key] is not None]
    empty = [row for row in listed if row[key] is None]
    try:
        ordered = sorted(filled, key=lambda row: _sort_key(row[key]), reverse=descending)
    except TypeError as error:
        kinds = sorted({type(row[key]).__name__ for row in filled})
        raise InvalidInput(f"sort: column {key!r} mixes {', '.join(kinds)}; cannot order it") from error
    return ordered + empty
