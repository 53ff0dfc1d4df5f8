"""Statements that leave the system: one data structure (``frame``), rendered as HTML and PDF (``render``).

Each builder reads ``ledger/queries`` with the reader's access and returns a
``Statement``; ``render_html`` and ``render_pdf`` draw any statement with the
one template (``reports/templates/statement.html``), and ``statement_csv`` writes
its tables and facts as one CSV (``data``). See docs/statements.md.
"""

from reports.statements.data import statement_csv
from reports.statements.frame import Facts, Figure, Note, Party, Provenance, Section, Statement, Table, provenance
from reports.statements.render import render_html, render_pdf

__all__ = [
    "Facts", "Figure", "Note", "Party", "Provenance", "Section", "Statement", "Table", "provenance", "render_html",
    "render_pdf", "statement_csv",
]  # fmt: skip
