"""Pages anyone may see: the partnership's organisations."""

from __future__ import annotations

from itertools import groupby

from flask import Blueprint, render_template

from ledger.queries import organisations as views
from web.services import book_of

bp = Blueprint("public", __name__)

KIND_TITLES = {
    "council": "Councils",
    "icb": "CCGs and ICBs",
    "provider": "Providers",
    "audit-body": "Audit bodies",
}


@bp.get("/")
def home() -> str:
    book = book_of()
    rows = views.list_organisations(book.read_engine)
    groups = [(KIND_TITLES.get(kind, kind), list(items)) for kind, items in groupby(rows, key=lambda r: r["kind"])]
    return render_template("home.html", groups=groups, total=len(rows), database=str(book.database))
