"""Every table on a page sorts and exports to CSV and XLSX the same way: ``table(...)`` in a view, one macro.

A view builds its rows and columns (``reports.tables.Column``) and calls
``table``: it reads ``?sort=KEY&dir=asc|desc`` for this table's name and
returns the sorted rows for the page, or - when ``?export=NAME&format=csv|xlsx``
asks for this table - a download made by ``reports.tables`` (formula-like
text escaped). The template shows it with ``macros/table.html``'s
``data_table``, whose headings are sort links (with ``aria-sort``) and whose
caption links to both exports. Pages work without JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Response, request

from reports.tables import Column, Row, sort_rows, to_csv, to_xlsx

__all__ = ["Column", "Table", "XLSX", "download", "export_response", "table"]

_NAME = re.compile(r"^[a-z0-9-]{1,40}$")


class ExportRequested(Exception):
    """Raised by ``table`` to hand a download back (caught by the app; see ``init_app``)."""

    def __init__(self, response: Response):
        self.response = response


@dataclass(frozen=True)
class Table:
    name: str
    caption: str
    columns: Sequence[Column]
    rows: list[Row]
    sort: str | None
    descending: bool

    def sort_link(self, key: str) -> dict[str, str]:
        """The query arguments that sort this table by ``key`` (flipping the order if it already is)."""
        descending = self.sort == key and not self.descending
        return {**request.args.to_dict(), f"{self.name}-sort": key, f"{self.name}-dir": "desc" if descending else "asc"}

    def export_link(self, fmt: str) -> dict[str, str]:
        return {**request.args.to_dict(), "export": self.name, "format": fmt}

    def aria_sort(self, key: str) -> str:
        if self.sort != key:
            return "none"
        return "descending" if self.descending else "ascending"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(body: bytes | str, name: str, mimetype: str) -> Response:
    """A file for the browser to save as ``name`` (a name the code chose: never one a user typed or uploaded)."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def export_response(name: str, columns: Sequence[Column], rows: Sequence[Row], fmt: str) -> Response:
    if fmt == "xlsx":
        return download(to_xlsx(columns, rows, sheet=name[:31]), f"{name}.xlsx", XLSX)
    return download(to_csv(columns, rows), f"{name}.csv", "text/csv")


def table(name: str, caption: str, columns: Sequence[Column], rows: Sequence[Row]) -> Table:
    """The table ``name`` as the request asks for it: sorted, or (raising ``ExportRequested``) exported."""
    if not _NAME.match(name):
        raise ValueError(f"table name {name!r}: lowercase letters, digits and hyphens")
    keys = {column.key for column in columns}
    sort = request.args.get(f"{name}-sort")
    sort = sort if sort in keys else None
    descending = request.args.get(f"{name}-dir") == "desc"
    ordered = sort_rows(rows, sort, descending=descending) if sort else list(rows)
    if request.args.get("export") == name:
        fmt = request.args.get("format")
        if fmt in ("csv", "xlsx"):
            raise ExportRequested(export_response(name, columns, ordered, fmt))
    return Table(name, caption, columns, ordered, sort, descending)


def init_app(app: Any) -> None:
    @app.errorhandler(ExportRequested)
    def _export(requested: ExportRequested) -> Response:
        return requested.response
