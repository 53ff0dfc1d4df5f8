"""Bad files, made from a good one for each entry point that reads a file: the one generator the command line's
tests (tests/integration/test_bad_input_files.py) and the web's (tests/web/test_bad_input.py) share.

``BAD`` lists each bad file and what its refusal says after the file's name; ``bad_file(case, entry)`` makes it
from ``entry.good()``: a never-closed quote, a row wider than its header, a workbook that is not one and one cut
short, latin-1 text (refused: ``ledger/files/csv_text.py`` says why), UTF-16 with and without its BOM, an empty
file, a header alone, and a file over the entry point's stated limit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from openpyxl import Workbook

from demo.partnerships import WIRRAL
from ledger.files.cost_returns import MAX_FILE_BYTES as RETURN_MAX_BYTES
from ledger.files.cost_returns import template_csv
from ledger.files.kpi_results import MAX_BYTES as KPI_MAX_BYTES
from tests.integration.activity_setup import visit
from tests.integration.returns_setup import filing

COUNCIL = "accountant@wirral.example"
PREMIER = "finance@premiercare.example"
ACCENTED = "Café £"  # é is 0xE9 in latin-1, £ 0xA3


def _visits() -> str:
    rows = [visit("BAD-1", "premier-care", "CH41 2AB", "2020-04-02", 60, 60),
            visit("BAD-2", "premier-care", "CH41 2AB", "2020-04-03", 30, 25)]  # fmt: skip
    header = "visit_id,provider,client_ref,postcode,service,planned_start,planned_minutes,actual_start," \
             "actual_minutes,carer_ref,rate_band,lot"  # fmt: skip
    return "\n".join([header, *(",".join(row) for row in rows)]) + "\n"


def _return() -> str:
    return template_csv(filing(hours=2500)).replace("\r\ncontact_pay,21800.00,,", f"\r\ncontact_pay,21800.00,{ACCENTED},")


def _kpis() -> str:
    return (f"provider,period,kpi,value,evidence\npremier-care,2020-21-Q1,missed-visits,0.3,ECM report {ACCENTED}\n"
            "premier-care,2020-21-Q1,starts-within-48h,97,brokerage\n")  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """A command that reads a file: its arguments after the file, who runs it, a good file, the line its header
    is on (a cost return opens with instruction lines), its size limit and its wording for a row too wide."""

    command: tuple[str, ...]
    args: tuple[str, ...]
    user: str
    good: Callable[[], str]
    header_line: int
    limit_bytes: int
    too_wide: str
    env: tuple[tuple[str, str], ...] = ()


ENTRIES = {
    "activity import": Entry(("activity", "import"), ("--agreement", WIRRAL, "--effective", "2020-05-01"), COUNCIL,
                             _visits, 1, 1024 * 1024, r"row 3, column \(row\): has 23 cells; the header has 12",
                             (("OPENBOOK_MAX_IMPORT_MB", "1"),)),
    "returns import": Entry(("returns", "import"), ("--agreement", WIRRAL, "--provider", "premier-care", "--period",
                                                    "2020-21-Q2", "--effective", "2020-10-05"), PREMIER,
                            _return, 4, RETURN_MAX_BYTES, r"row 6, column O \(no heading\): .* is beyond the table's 4"),
    "kpis import": Entry(("kpis", "import"), ("--agreement", WIRRAL, "--effective", "2020-07-01"), COUNCIL, _kpis,
                         1, KPI_MAX_BYTES, r"row 3: 16 cells, but the header has 5 columns"),
}  # fmt: skip


def _xlsx(text: str) -> bytes:
    book = Workbook()
    for row in csv.reader(io.StringIO(text)):
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").split("\n")


def bad_file(case: str, entry: Entry) -> tuple[str, bytes]:
    """(file name, bytes) of the bad file ``case`` made from the entry's good file."""
    text = entry.good()
    lines, h = _lines(text), entry.header_line  # lines[h] is the first row after the header
    if case == "unclosed-quote":
        return "quote.csv", "\n".join([*lines[:h], '"' + lines[h], *lines[h + 1:]]).encode()
    if case == "row-too-wide":
        wide = lines[h + 1] + ",x" * 11
        return "wide.csv", "\n".join([*lines[: h + 1], wide, *lines[h + 2:]]).encode()
    if case == "not-a-workbook":
        return "fake.xlsx", text.encode()
    if case == "truncated-workbook":
        return "cut.xlsx", _xlsx(text)[:2000]
    if case == "latin-1":
        return "latin.csv", text.replace("BAD-1", "BAD-é").encode("latin-1")
    if case == "utf-16-bom":
        return "utf16.csv", text.encode("utf-16")
    if case == "utf-16-no-bom":
        return "utf16le.csv", text.encode("utf-16-le")
    if case == "empty":
        return "empty.csv", b""
    if case == "header-only":
        return "header.csv", ("\n".join(lines[:h]) + "\n").encode()
    if case == "over-the-limit":
        padding = ("#" + "x" * 99 + "\n") * (entry.limit_bytes // 100 + 10)
        return "huge.csv", (text + padding).encode()
    raise AssertionError(case)


#: What each bad file's refusal says, after the file's name (a pattern; ``{too_wide}`` is the entry's wording).
BAD = {
    "unclosed-quote": r"line \d+: not readable as CSV",
    "row-too-wide": "{too_wide}",
    "not-a-workbook": r"(is named \.xlsx but is not an Excel workbook|is not an XLSX workbook|read from a CSV file)",
    "truncated-workbook": r"(not a readable Excel workbook|is not an XLSX workbook|read from a CSV file)",
    "latin-1": r"line \d+, byte \d+: 0xE9 is not UTF-8 .*'CSV UTF-8'",
    "utf-16-bom": r"is UTF-16 text .*'CSV UTF-8'",
    "utf-16-no-bom": r"is UTF-16 text .*'CSV UTF-8'",
    "empty": r"the file is empty",
    "header-only": r"(has a header but no|no visits)",
    "over-the-limit": r"the file is larger than",
}
