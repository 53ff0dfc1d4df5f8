"""A file of visits as the import reads it: CSV or XLSX, streamed row by row, never held whole.

``inspect_file`` names the file, its format and its sha256 (the import's
identity), and notices a file that changes while it is read;
``column_positions`` maps the header to the template's columns. Checking and
staging the rows is ``ledger/files/activity_staging.py``.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from domain.activity.visits import (
    COLUMNS,
    REQUIRED_COLUMNS,
    normalise_header,
)
from domain.checks import check_file_name
from domain.errors import InvalidInput
from ledger.files.csv_text import check_start, refusal_of

__all__ = [
    "MAX_FILE_MB",
    "FileInfo",
    "inspect_file",
]

#: The largest activity file imported, in MB, unless ``OPENBOOK_MAX_IMPORT_MB`` says otherwise: ten times the
#: largest real file (a million visits a year is about 100 MB), so only the wrong file meets it.
MAX_FILE_MB = 1024

# -- the file ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileInfo:
    path: Path
    name: str
    format: str  # csv or xlsx
    digest: str  # sha256 of the file's bytes
    size: int
    lines: int  # newline count: an estimate of the rows, for progress bars
    modified_ns: int  # the file's modification time when it was hashed

    def unchanged(self) -> bool:
        """Whether the file still has the size and modification time it had when it was hashed."""
        try:
            now = self.path.stat()
        except OSError:
            return False
        return (now.st_size, now.st_mtime_ns) == (self.size, self.modified_ns)


def inspect_file(path: str | Path, name: str | None = None, *, max_mb: int = MAX_FILE_MB) -> FileInfo:
    """The file's digest (what makes an import idempotent), format and size, in one streamed pass; a file over
    ``max_mb`` is refused before it is read."""
    file_path = Path(path)
    try:
        over = file_path.stat().st_size > max_mb * 1024 * 1024
    except OSError:
        over = False  # the read below names what is wrong
    if over:
        raise InvalidInput(
            f"{name or file_path.name}: the file is larger than {max_mb:,} MB, the most openbook imports "
            "(OPENBOOK_MAX_IMPORT_MB); is it the right file?"
        )
    digest = hashlib.sha256()
    size = lines = 0
    first = b""
    try:
        with open(file_path, "rb") as f:
            modified_ns = os.fstat(f.fileno()).st_mtime_ns
            while block := f.read(1 << 20):
                if not first:
                    first = block[:4096]
                digest.update(block)
                size += len(block)
                lines += block.count(b"\n")
    except OSError as e:
        raise InvalidInput(f"file: cannot read {file_path.name}: {e.strerror or e}") from None
    workbook = first.startswith(b"PK\x03\x04")
    if workbook or file_path.suffix.lower() == ".xlsx":
        fmt = "xlsx"
        if not workbook:
            raise InvalidInput(f"{name or file_path.name}: is named .xlsx but is not an Excel workbook")
    else:
        fmt = "csv"
    shown = check_file_name(name or file_path.name)  # before any row is read, not after staging them all
    if fmt == "csv":
        if not size:
            raise InvalidInput(f"{shown}: the file is empty; expected a header row: {','.join(COLUMNS)}")
        check_start(first, shown)  # UTF-16 named as such before a row is read (ledger/files/csv_text.py)
    return FileInfo(file_path, shown, fmt, digest.hexdigest(), size, lines, modified_ns)


def _cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a CSV would hold (dates as ISO, 30.0 as 30)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%dT%H:%M")
        return text + (f":{value.second:02d}" if value.second else "")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Rows:
    """A file's header and an iterator of its rows as lists of text; close when done."""

    def __init__(self, info: FileInfo):
        self.info = info
        self._close: Callable[[], None] = lambda: None
        if info.format == "xlsx":
            self.header, self.rows, self.estimate = self._open_xlsx()
        else:
            self.header, self.rows, self.estimate = self._open_csv()

    def _open_csv(self) -> tuple[list[str], Iterator[list[str]], int]:
        f = open(self.info.path, newline="", encoding="utf-8-sig")
        self._close = f.close
        reader = csv.reader(f, strict=True)  # strictly: a never-closed quote is refused, not read to the end
        try:
            header = next(reader, None)
        except (UnicodeDecodeError, csv.Error):
            f.close()
            raise refusal_of(self.info.path, self.info.name) from None
        return header or [], reader, max(self.info.lines - 1, 0)

    def _open_xlsx(self) -> tuple[list[str], Iterator[list[str]], int]:
        import openpyxl

        try:
            book = openpyxl.load_workbook(self.info.path, read_only=True, data_only=True)
        except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds for a bad workbook
            raise InvalidInput(f"{self.info.name}: not a readable Excel workbook ({type(e).__name__})") from None
        # A formula whose result was never stored (a workbook written by a program, not saved by
        # Excel) reads as None, which is not a blank: where the workbook has formulas at all, they are
        # read beside the values, so such a cell can be named.
        formulas = openpyxl.load_workbook(self.info.path, read_only=True) if _has_formulas(self.info.path) else None

        def close() -> None:
            book.close()
            if formulas is not None:
                formulas.close()

        self._close = close
        chosen = "visits" if "visits" in book.sheetnames else book.sheetnames[0]
        sheet = book[chosen]
        cells = sheet.iter_rows(values_only=True)
        written = iter(()) if formulas is None else formulas[chosen].iter_rows(values_only=True)
        header = [_cell_text(v) for v in next(cells, ())]
        next(written, None)
        while header and not header[-1]:
            header.pop()
        width = len(header)

        def rows() -> Iterator[list[str]]:
            for number, values in enumerate(cells, 2):
                typed = next(written, ())
                for column, (value, text) in enumerate(zip(values, typed, strict=False)):
                    if value is None and isinstance(text, str) and text.startswith("="):
                        heading = header[column] if column < width else f"column {column + 1}"
                        raise InvalidInput(
                            f"{self.info.name}: row {number}, column {heading}: a formula without a value "
                            f"({text[:40]}); open the workbook in Excel and save it so each result is stored"
                        )
                row = [_cell_text(v) for v in values]
                if len(row) > width and not any(row[width:]):
                    row = row[:width]
                elif len(row) < width:
                    row += [""] * (width - len(row))
                yield row

        estimate = max((sheet.max_row or 1) - 1, 0)
        return header, rows(), estimate

    def close(self) -> None:
        self._close()


_FORMULA = re.compile(rb"<(?:\w+:)?f[ >/]")  # a cell's <f> element, with or without a namespace prefix


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet holds a formula, read straight from the workbook's XML: decompressing
    is far cheaper than parsing every cell a second time."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with archive.open(name) as member:
                    tail = b""
                    while block := member.read(1 << 20):
                        if _FORMULA.search(tail + block):
                            return True
                        tail = block[-16:]
    return False


def column_positions(header: list[str], file_name: str) -> dict[str, int]:
    """Where each template column is; missing, unknown or repeated columns are refused before any row is read."""
    positions: dict[str, int] = {}
    problems = []
    for index, raw in enumerate(header):
        name = normalise_header(raw)
        if not name:
            problems.append(f"{file_name}: column {index + 1} has no heading")
        elif name not in COLUMNS:
            problems.append(
                f"{file_name}: column {index + 1} {str(raw)[:40]!r} is not in the template "
                f"(columns: {', '.join(COLUMNS)})"
            )
        elif name in positions:
            problems.append(f"{file_name}: column {name} appears twice")
        else:
            positions[name] = index
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        problems.append(f"{file_name}: missing column(s) {', '.join(missing)}")
    if problems:
        raise InvalidInput(problems)
    return positions
