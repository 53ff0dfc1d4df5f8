"""Reading a file of KPI results: five columns, checked in full before anything is recorded.

The file is small (a row per provider, period and KPI), so it is read whole,
every row is checked, and every problem is reported by row and column at
once: a file with one problem records nothing. Column names match
case-insensitively, with spaces and hyphens read as underscores.

    provider,period,kpi,value,evidence
    hfd-provider-a,2017-18,missed-visits,0.3,ECM exception report Q1-Q4 2017-18
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from domain.errors import InvalidInput
from ledger.files.csv_text import SAVE_AS, read_rows

__all__ = ["COLUMNS", "KpiFile", "KpiRow", "MAX_PROBLEMS", "read_kpi_file", "refuse"]

COLUMNS = ("provider", "period", "kpi", "value", "evidence")
MAX_PROBLEMS = 100
MAX_BYTES = 5_000_000  # a KPI file is a few hundred rows; anything this big is the wrong file


@dataclass(frozen=True)
class KpiRow:
    """One row as text, with its row number in the file (the header is row 1)."""

    number: int
    provider: str
    period: str
    kpi: str
    value: str
    evidence: str


@dataclass(frozen=True)
class KpiFile:
    name: str
    digest: str
    rows: tuple[KpiRow, ...]


def _header(name: object) -> str:
    return str(name or "").strip().lower().replace(" ", "_").replace("-", "_")


def refuse(file_name: str, problems: list[str]) -> InvalidInput:
    """One error for the whole file: how many problems, that nothing was recorded, then the first 100."""
    shown = problems[:MAX_PROBLEMS]
    more = [f"and {len(problems) - len(shown)} more"] if len(problems) > len(shown) else []
    return InvalidInput([f"{file_name}: {len(problems)} problem(s); nothing was recorded", *shown, *more])


def read_kpi_file(source: str | os.PathLike[str] | bytes, file_name: str | None = None) -> KpiFile:
    """The rows of a UTF-8 CSV file of KPI results, or InvalidInput naming what is wrong with its layout."""
    if isinstance(source, bytes):
        content, name = source, file_name or "kpi-results.csv"
        if len(content) > MAX_BYTES:  # an upload: the web app's own limit is far larger
            raise refuse(name, [f"the file is larger than {MAX_BYTES:,} bytes; is it the right file?"])
    else:
        path = Path(source)
        name = file_name or path.name
        try:
            if path.stat().st_size > MAX_BYTES:
                raise refuse(name, [f"the file is larger than {MAX_BYTES:,} bytes; is it the right file?"])
            content = path.read_bytes()
        except OSError as error:
            raise InvalidInput(f"{name}: cannot be read ({error.strerror or error})") from None
    if Path(name).suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        raise refuse(name, [f"KPI results are read from a CSV file, not a workbook; {SAVE_AS}"])
    try:
        lines = read_rows(content, name)  # UTF-8 only, read strictly: ledger/files/csv_text.py says why
    except InvalidInput as unreadable:
        raise refuse(name, [problem.removeprefix(f"{name}: ") for problem in unreadable.problems]) from None
    while lines and not any(cell.strip() for cell in lines[-1]):
        lines.pop()
    if not lines:
        raise refuse(name, [f"the file is empty; expected a header row: {','.join(COLUMNS)}"])
    header = [_header(cell) for cell in lines[0]]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [lines[0][i] for i, c in enumerate(header) if c not in COLUMNS]
    repeated = sorted({c for c in header if c in COLUMNS and header.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"row 1: missing column(s) {', '.join(missing)} (expected {','.join(COLUMNS)})")
    if unknown:
        problems.append(f"row 1: unknown column(s) {', '.join(repr(u) for u in unknown)} (expected {','.join(COLUMNS)})")
    if repeated:
        problems.append(f"row 1: column(s) {', '.join(repeated)} appear more than once")
    if problems:
        raise refuse(name, problems)
    at = {c: header.index(c) for c in COLUMNS}
    rows = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            problems.append(f"row {number}: {len(cells)} cells, but the header has {len(header)} columns")
            continue
        values = {c: (cells[i] if i < len(cells) else "") for c, i in at.items()}
        rows.append(KpiRow(number, **values))
    if problems:
        raise refuse(name, problems)
    if not rows:
        raise refuse(name, ["the file has a header but no rows of results"])
    return KpiFile(name, hashlib.sha256(content).hexdigest(), tuple(rows))
