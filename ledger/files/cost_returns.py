"""Cost return files: the CSV and XLSX templates, and reading a filled-in file into a filing.

The template (both formats, sheet "Cost return" in XLSX) is one table of the
cost lines, then one table of the volumes:

    line,amount,note,description            <- header (names matched case-insensitively)
    contact_pay,87200.00,,Careworker pay for contact time
    ... one row per cost line, amount in pounds for the whole period, 0 if none
    total,206900.00,,(optional) the total of the lines; checked against their sum

    volume,value,,description
    contact_hours,10000,,Contact hours delivered
    ... one row per volume
    prepared_on,2021-04-30,,(optional) the date the figures were prepared

Columns are found by their header, so their order does not matter and other
columns (such as "description") are ignored; rows before the first header,
blank rows and rows whose first cell starts with "#" are ignored. Keys are
matched ignoring case, spaces and hyphens ("Contact pay" is contact_pay).

A file is accepted whole or refused whole: ``parse_cost_return`` returns a
checked ``CostReturnFiling`` or raises one ``InvalidInput`` listing every
problem with the file name, row and column. It records nothing either way.

Cells become exact Decimals here, at the boundary, through
``domain.money.to_decimal`` (inside ``CostReturnFiling.parse``): text as
written; whole numbers as they are; a spreadsheet's binary number is read at
the 15 significant digits a spreadsheet keeps and shows (so a cached
``=SUM`` of 8.72 and 1.70 is 10.42, not 10.420000000000002). Nothing is
rounded: a figure with more decimal places than its field allows is
refused. XLSX files are read with their cached values (openpyxl cannot
compute formulas); a formula with no cached value is refused with its cell.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from domain.errors import InvalidInput
from domain.returns.filing import CostLine, CostReturnFiling, FilingInvalid, Volume
from ledger.files.csv_text import read_rows
from ledger.files.formulas import escaped, unescaped

__all__ = ["MAX_FILE_BYTES", "parse_cost_return", "template_csv", "template_xlsx"]

MAX_FILE_BYTES = 2_000_000
MAX_UNZIPPED_BYTES = 20_000_000  # an XLSX is a zip: refuse one that would expand past this
MAX_ROWS = 1_000
SHEET_TITLE = "Cost return"

TOTAL = "total"
PREPARED_ON = "prepared_on"
_LINE_KEYS = {line.value for line in CostLine} | {TOTAL, "stated_total"}
_VOLUME_KEYS = {volume.value for volume in Volume} | {PREPARED_ON}

_INSTRUCTIONS = (
    "openbook cost return. Amounts are in pounds for the whole period (e.g. 87200.00); "
    "enter 0 where there is no cost.",
    "Give every line and every volume. Surplus may be negative (a deficit). Notes are optional.",
    "Keep the keys in the first column. Rows starting with # are ignored. "
    "The total and prepared_on rows are optional.",
)


@dataclass(frozen=True)
class _Cell:
    row: int
    column: int
    header: str

    def __str__(self) -> str:
        return f"row {self.row}, column {get_column_letter(self.column)} ({self.header})"


@dataclass(frozen=True)
class _Section:
    name: str  # "line" or "volume"
    key_column: int
    value_column: int
    value_header: str
    note_column: int | None
    width: int  # the header's cells, up to its last heading


# -- writing templates ----------------------------------------------------------------------------


def _figure(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def _csv_text(value: Any) -> str:
    """A cell as CSV text; a provider's note that a spreadsheet would run as a formula escaped (read back without)."""
    text = _figure(value)
    return escaped(text) if isinstance(value, str) else text


def _rows(filing: CostReturnFiling | None) -> list[list[Any]]:
    """The template's rows as values (None for blank), filled in from ``filing`` if given."""
    rows: list[list[Any]] = [["line", "amount", "note", "description"]]
    for line in CostLine:
        amount = filing.lines.get(line) if filing else None
        note = filing.notes.get(line) if filing else None
        rows.append([line.value, amount, note, line.label])
    rows.append([TOTAL, filing.stated_total if filing else None, None, "(optional) the total of the lines, checked"])
    rows.append([])
    rows.append(["volume", "value", None, "description"])
    for volume in Volume:
        rows.append([volume.value, filing.volumes[volume] if filing else None, None, volume.label])
    prepared_on = filing.prepared_on if filing else None
    rows.append([PREPARED_ON, prepared_on, None, "(optional) date prepared, e.g. 2021-04-30"])
    return rows


def template_csv(filing: CostReturnFiling | None = None) -> str:
    """The CSV template, blank or filled in with ``filing`` (which then reads back as the same filing)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for text in _INSTRUCTIONS:
        writer.writerow([f"# {text}"])
    for row in _rows(filing):
        writer.writerow([_csv_text(value) for value in row])
    return out.getvalue()


def template_xlsx(filing: CostReturnFiling | None = None) -> bytes:
    """The XLSX template (sheets "Cost return" and "How to fill in"), blank or filled in with ``filing``."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    for row in _rows(filing):
        sheet.append([v if v is None or isinstance(v, (int, Decimal, date)) else escaped(str(v)) for v in row])
    for row in sheet.iter_rows():
        first = row[0]
        if first.value in ("line", "volume"):
            for cell in row:
                cell.font = Font(bold=True)
        elif first.value == PREPARED_ON:
            row[1].number_format = "yyyy-mm-dd"
        elif first.value in _LINE_KEYS or first.value in (Volume.LOWEST_HOURLY_PAY, Volume.TYPICAL_HOURLY_PAY):
            row[1].number_format = "#,##0.00"
    for column, width in zip("ABCD", (26, 16, 40, 56)):
        sheet.column_dimensions[column].width = width
    help_sheet = workbook.create_sheet("How to fill in")
    for text in _INSTRUCTIONS:
        help_sheet.append([text])
    help_sheet.column_dimensions["A"].width = 120
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# -- reading a file ----------------------------------------------------------------------------------


def _normalise(text: object) -> str:
    return "_".join(str(text).strip().lower().replace("-", " ").split()) if text is not None else ""


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Reader:
    """Collects the raw filing and every problem, remembering which cell each figure came from."""

    def __init__(self, filename: str, *, fixed_width: bool = False):
        self.filename = filename
        #: CSV: a row with a cell beyond its table's last heading is refused (a figure split at its thousands
        #: comma: 21,800.00 unquoted is 21 and a stray 800.00); a workbook's cells cannot split, so it may have
        #: notes of its own off to the right.
        self.fixed_width = fixed_width
        self.filled = 0  # rows that are not blank
        self.rows = 0  # rows that are neither blank, comments nor headers
        self.problems: list[tuple[tuple[int, int], str]] = []
        self.cells: dict[str, _Cell] = {}
        self.bad_fields: set[str] = set()
        self.data: dict[str, Any] = {"lines": {}, "notes": {}, "volumes": {}}
        self.seen: dict[tuple[str, str], int] = {}
        self.found: set[str] = set()

    def problem(self, cell: _Cell | None, message: str) -> None:
        where = (cell.row, cell.column) if cell else (10**9, 0)
        self.problems.append((where, f"{cell}: {message}" if cell else message))

    def read(self, rows: Iterable[tuple[int, list[tuple[Any, str | None]]]]) -> None:
        """``rows``: (row number, [(value, problem or None) per column]); a problem is a cell's own."""
        section: _Section | None = None
        count = 0
        for number, cells in rows:
            values = [value for value, _ in cells]
            if all(_is_blank(v) for v in values) and not any(p for _, p in cells):
                continue
            count += 1
            self.filled = count
            if count > MAX_ROWS:
                raise InvalidInput(f"{self.filename}: the file has more than {MAX_ROWS} rows; is this a cost return?")
            header = self._header(values)
            if header is not None:
                section = header
                self.found.add(header.name)
                continue
            first = values[0] if values else None
            if isinstance(first, str) and first.strip().startswith("#"):
                continue
            if section is not None:
                self.rows += 1
                self._row(section, number, cells)

    def _header(self, values: list[Any]) -> _Section | None:
        names = [_normalise(v) for v in values]
        for name, value_name in (("line", "amount"), ("volume", "value")):
            if name in names and value_name in names:
                note = next((i for i, n in enumerate(names) if n in ("note", "notes")), None)
                note_column = None if note is None else note + 1
                width = max(i + 1 for i, n in enumerate(names) if n)
                return _Section(name, names.index(name) + 1, names.index(value_name) + 1, value_name, note_column,
                                width)
        return None

    def _row(self, section: _Section, number: int, cells: list[tuple[Any, str | None]]) -> None:
        def at(column: int | None) -> tuple[Any, str | None]:
            return cells[column - 1] if column is not None and column <= len(cells) else (None, None)

        key_value, key_problem = at(section.key_column)
        key_cell = _Cell(number, section.key_column, section.name)
        filled = [column for column, (value, _) in enumerate(cells, start=1) if not _is_blank(value)]
        if self.fixed_width and filled and filled[-1] > section.width:
            beyond = _Cell(number, filled[-1], "no heading")
            self.problem(beyond, f"{cells[filled[-1] - 1][0]!r} is beyond the table's {section.width} columns; "
                                 'a figure with a thousands comma must be quoted ("21,800.00") or written 21800.00')
        if key_problem:
            self.problem(key_cell, key_problem)
            return
        key = _normalise(key_value)
        allowed = _LINE_KEYS if section.name == "line" else _VOLUME_KEYS
        if not key:
            self.problem(key_cell, f"is blank; which {section.name} is this row?")
            return
        if key not in allowed:
            kind = "cost line" if section.name == "line" else "volume"
            choices = CostLine if section.name == "line" else Volume
            self.problem(key_cell, f"{key_value!r} is not a {kind}; expected one of {', '.join(choices)}")
            return
        if key == "stated_total":
            key = TOTAL
        earlier = self.seen.get((section.name, key))
        if earlier is not None:
            self.problem(key_cell, f"{key} is listed twice (first on row {earlier})")
            return
        self.seen[(section.name, key)] = number

        field = _field_for(section.name, key)
        value_cell = _Cell(number, section.value_column, section.value_header)
        self.cells[field] = value_cell
        value, problem = at(section.value_column)
        if problem:
            self.problem(value_cell, problem)
            self.bad_fields.add(field)
        elif key == PREPARED_ON:
            self._put(field, self._date(value_cell, value))
        elif key == TOTAL:
            self._put(field, self._number(value_cell, field, value, optional=True))
        else:
            self._put(field, self._number(value_cell, field, value))
        if section.name == "line" and key != TOTAL and section.note_column is not None:
            note_cell = _Cell(number, section.note_column, "note")
            note, note_problem = at(section.note_column)
            self.cells[f"notes.{key}"] = note_cell
            if note_problem:
                self.problem(note_cell, note_problem)
            elif not _is_blank(note):
                self.data["notes"][key] = unescaped(_figure(note))

    def _put(self, field: str, value: Any) -> None:
        if value is _REFUSED:
            self.bad_fields.add(field)
            return
        if value is None:
            return
        head, _, key = field.partition(".")
        if key:
            self.data[head][key] = value
        else:
            self.data[head] = value

    def _number(self, cell: _Cell, field: str, value: Any, optional: bool = False) -> Any:
        if _is_blank(value):
            if optional:
                return None
            hint = "; enter 0 if there is no cost" if field.startswith("lines.") else ""
            self.problem(cell, f"is blank{hint}")
            return _REFUSED
        if isinstance(value, bool):
            self.problem(cell, f"{value} is not a number")
            return _REFUSED
        if isinstance(value, (datetime, date)):
            self.problem(cell, "is a date, not a number; format the cell as a number")
            return _REFUSED
        if isinstance(value, float):
            # A spreadsheet keeps 15 significant digits; read the number it shows.
            return Decimal(f"{value:.15g}")
        if isinstance(value, str) and value.strip().startswith("="):
            self.problem(cell, "is a formula with no computed value; type the number itself")
            return _REFUSED
        return value

    def _date(self, cell: _Cell, value: Any) -> Any:
        if _is_blank(value):
            return None
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            self.problem(cell, "is a number, not a date; format the cell as a date or write 2021-04-30")
            return _REFUSED
        return value

    def filing(self) -> CostReturnFiling:
        if not self.filled:
            raise InvalidInput(f"{self.filename}: the file is empty; start from the template")
        if self.found and not self.rows and not self.problems:
            raise InvalidInput(f"{self.filename}: the file has a header but no figures; fill in the template's rows")
        missing: list[str] = []  # fields of a table without a header: one problem says it all
        for name, columns, fields in (
            ("line", "'line' and 'amount'", ("lines", "notes", "stated_total")),
            ("volume", "'volume' and 'value'", ("volumes", "prepared_on")),
        ):
            if name not in self.found:
                self.problem(None, f"no header row with the columns {columns}; start from the template")
                missing.extend(fields)
        try:
            filing = CostReturnFiling.parse(self.data)
        except FilingInvalid as invalid:
            for problem in invalid.field_problems:
                if problem.field in self.bad_fields or problem.field.split(".")[0] in missing:
                    continue  # the cell's own problem, or the missing table, is already reported
                cell = self.cells.get(problem.field)
                if cell is None and problem.field.startswith(("lines.", "volumes.")):
                    section = "lines" if problem.field.startswith("lines.") else "volumes"
                    message = f"{problem}; the {section} table needs a row for it"
                else:
                    message = str(problem)
                self.problem(cell, message)
            filing = None
        if self.problems:
            ordered = [message for _, message in sorted(self.problems, key=lambda item: item[0])]
            raise InvalidInput([f"{self.filename}: {message}" for message in ordered])
        return filing  # type: ignore[return-value]


_REFUSED = object()


def _field_for(section: str, key: str) -> str:
    if key == TOTAL:
        return "stated_total"
    if key == PREPARED_ON:
        return "prepared_on"
    return f"lines.{key}" if section == "line" else f"volumes.{key}"


def _csv_rows(content: bytes, filename: str) -> list[tuple[int, list[tuple[Any, str | None]]]]:
    """The rows of a CSV return (UTF-8, read strictly: ``ledger.files.csv_text``), each with its row number."""
    return [
        (number, [(value, None) for value in row])
        for number, row in enumerate(read_rows(content, filename), start=1)
    ]


def _check_zip(content: bytes, filename: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise InvalidInput(
            f"{filename}: is not an XLSX workbook; save it from a spreadsheet program as .xlsx"
        ) from None
    if unzipped > MAX_UNZIPPED_BYTES:
        raise InvalidInput(f"{filename}: the workbook is too large to be a cost return")


def _xlsx_rows(content: bytes, filename: str) -> list[tuple[int, list[tuple[Any, str | None]]]]:
    _check_zip(content, filename)
    try:
        values = load_workbook(io.BytesIO(content), data_only=True)
        formulas = load_workbook(io.BytesIO(content), data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise InvalidInput(f"{filename}: cannot be read as an XLSX workbook ({type(error).__name__})") from None
    title = next((name for name in values.sheetnames if name.strip().lower() == SHEET_TITLE.lower()), None)
    title = title or values.sheetnames[0]
    value_sheet, formula_sheet = values[title], formulas[title]
    rows = []
    for value_row, formula_row in zip(value_sheet.iter_rows(), formula_sheet.iter_rows()):
        cells: list[tuple[Any, str | None]] = []
        for value_cell, formula_cell in zip(value_row, formula_row):
            value, problem = value_cell.value, None
            if formula_cell.data_type == "f" and value is None:
                problem = "formula has no computed value; open and save the file in a spreadsheet program"
            elif value_cell.data_type == "e":
                problem = f"the cell shows the error {value}; correct the formula or type the number"
                value = None
            cells.append((value, problem))
        rows.append((value_row[0].row, cells))
    return rows


def _too_large(filename: str) -> str:
    return f"{filename}: the file is larger than {MAX_FILE_BYTES:,} bytes; is this a cost return?"


def parse_cost_return(path_or_bytes: str | os.PathLike[str] | bytes, filename: str | None = None) -> CostReturnFiling:
    """Read a filled-in CSV or XLSX cost return (chosen by the file name's extension).

    Returns the checked filing, or raises one ``InvalidInput`` whose problems
    each start with the file name and give the row and column.
    """
    if isinstance(path_or_bytes, (bytes, bytearray)):
        if not filename:
            raise InvalidInput("filename: the file's name is needed to tell CSV from XLSX")
        content = bytes(path_or_bytes)
    else:
        path = Path(path_or_bytes)
        filename = filename or path.name
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput(_too_large(filename))
        content = path.read_bytes()
    if len(content) > MAX_FILE_BYTES:
        raise InvalidInput(_too_large(filename))
    extension = Path(filename).suffix.lower()
    if extension == ".csv":
        rows = _csv_rows(content, filename)
    elif extension == ".xlsx":
        rows = _xlsx_rows(content, filename)
    else:
        raise InvalidInput(f"{filename}: only .csv and .xlsx files can be read; save the file as one of those")
    reader = _Reader(filename, fixed_width=extension == ".csv")
    reader.read(rows)
    return reader.filing()
