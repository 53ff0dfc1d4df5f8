"""The auditor's start page: the history's head, the latest recorded checkpoint, and the agreements they audit."""

from __future__ import annotations

from flask import render_template

from domain.organisations.user import Role
from ledger.queries.checkpoints import latest_recorded_checkpoint
from web import scope
from web.access import allow
from web.auditor import bp
from web.services import book_of


@bp.get("/")
@allow(Role.AUDITOR)
def home() -> str:
    book = book_of()
    return render_template(
        "auditor/home.html", head=book.projections.head(), checkpoint=latest_recorded_checkpoint(book.read_engine),
        agreements=[row for row, _ in scope.my_agreements(every_provider=True)],
    )  # fmt: skip
