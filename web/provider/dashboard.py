"""The provider's dashboard: its agreements and where its returns stand."""

from __future__ import annotations

from flask import render_template

from domain.organisations.user import Role
from web.access import allow
from web.provider import bp
from web.scope import my_agreements


@bp.get("/")
@allow(Role.PROVIDER)
def dashboard() -> str:
    return render_template("provider/dashboard.html", agreements=[row for row, _ in my_agreements()])
