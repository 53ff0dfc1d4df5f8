"""The returns inbox: every return under the agreements the accountant's organisation commissions."""

from __future__ import annotations

from flask import render_template

from domain.organisations.user import Role
from web.access import allow
from web.accountant import bp
from web.scope import my_agreements


@bp.get("/")
@allow(Role.ACCOUNTANT)
def inbox() -> str:
    return render_template("accountant/inbox.html", agreements=[row for row, _ in my_agreements(every_provider=True)])
