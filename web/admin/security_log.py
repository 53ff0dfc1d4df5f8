"""The security log for admins: logins, failed and locked attempts, first-login links, password changes.

It is kept apart from the event history (``ledger.security.store``): who
logged in is not a fact about the partnership. Newest first; ``?user=`` for
one user's entries.
"""

from __future__ import annotations

from flask import render_template, request

from domain.organisations.user import Role
from ledger.authorisation import users_seen_by
from ledger.queries.organisations import list_users
from web.access import allow, current_actor
from web.admin import bp
from web.services import book_of
from web.tables import Column, table

LIMIT = 200


@bp.get("/security-log")
@allow(Role.ADMIN)
def security_log() -> str:
    username = (request.args.get("user") or "").strip().lower() or None
    # times are UTC; shown and exported without a zone (a spreadsheet cell holds none)
    book = book_of()
    seen = users_seen_by(book.records, current_actor())  # an admin reads their own organisation's users' entries
    # whose entries the admin may see is decided on the live users, never as at a past position
    among = None if seen is None else {u["username"] for u in list_users(book.read_engine, seen)}
    rows = [{**r, "at": r["at"].replace(tzinfo=None)} for r in book.security.recent(LIMIT, username, among)]
    columns = [Column("at", "When (UTC)", "date"), Column("kind", "What"), Column("username", "User"),
               Column("address", "From"), Column("detail", "Detail")]  # fmt: skip
    caption = f"The latest {LIMIT} entries" + (f" for {username}" if username else "") + ", newest first"
    return render_template("admin/security/log.html", log=table("security-log", caption, columns, rows), user=username)
