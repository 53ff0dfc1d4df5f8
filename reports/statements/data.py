"""A statement's figures as one CSV file: every table and list of facts it shows, in order, for a spreadsheet.

The PDF is what a board reads; the CSV is what a finance officer pastes into a
working paper. Both come from the same ``Statement``, so they cannot disagree.
Each block is written by ``reports.tables.to_csv`` — the one CSV writer, so
money is plain fixed-point text with its own places (``1234.50``), dates are
ISO, and text a spreadsheet would run as a formula is escaped, exactly as in
every other export. One file holds tables with different columns, so each
block opens with a line naming its section and caption and ends with an empty
line; the file opens with what the statement is and the head it was built at,
so a copy can be traced back to the verified history like the PDF.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from reports.statements.frame import Facts, Statement, Table
from reports.tables import Column, escaped, to_csv

__all__ = ["statement_csv"]

_FACTS = (Column("item", "Item"), Column("value", "Value"))


def _line(cells: Sequence[object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([escaped(str(cell)) for cell in cells])
    return out.getvalue()


def _blocks(statement: Statement) -> Iterable[tuple[str, str, str]]:
    """(section, caption, CSV body) for each table and each list of facts, in the statement's order."""
    for section in statement.sections:
        for block in section.blocks:
            if isinstance(block, Table):
                yield section.heading, block.caption, to_csv(block.columns, block.rows)
            elif isinstance(block, Facts):
                rows = [{"item": label, "value": value} for label, value, _ in block.items]
                yield section.heading, "", to_csv(_FACTS, rows)


def statement_csv(statement: Statement) -> str:
    """The statement's tables and facts as one CSV text (see the module docstring for its layout)."""
    p = statement.provenance
    parts = [
        _line(["statement", statement.title]),
        _line(["agreement", f"{statement.agreement_name} ({statement.agreement_code})"]),
        _line(["period", statement.period]),
        _line(["generated", p.generated_at.isoformat()]),
        _line(["head", p.head["position"], p.head["hash"]]),
        "\r\n",
    ]
    for heading, caption, body in _blocks(statement):
        parts += [_line([heading, caption] if caption else [heading]), body, "\r\n"]
    return "".join(parts)
