"""The admin's start page: the partnership's organisations."""

from __future__ import annotations

from itertools import groupby

from flask import render_template

from domain.organisations.user import Role
from ledger.authorisation import users_seen_by
from ledger.queries import organisations as views
from web import as_at
from web.access import allow, current_actor
from web.admin import bp
from web.services import book_of

KIND_TITLES = {
    "council": "Councils",
    "icb": "CCGs and ICBs",
    "provider": "Providers",
    "audit-body": "Audit bodies",
}


@bp.get("/")
@allow(Role.ADMIN)
def home() -> str:
    rows = views.list_organisations(as_at.read_engine())
    groups = [(KIND_TITLES.get(kind, kind), list(items)) for kind, items in groupby(rows, key=lambda r: r["kind"])]
    seen = users_seen_by(book_of().records, current_actor())  # None: the operator sees every organisation's users
    return render_template("admin/home.html", groups=groups, total=len(rows), users_of=seen)
