"""The auditors' views (issue 16 builds them out): history, integrity, figures as at a past moment."""

from __future__ import annotations

from flask import Blueprint

from domain.organisations.user import Role
from web import navigation

bp = Blueprint("auditor", __name__, url_prefix="/auditor")
bp.record_once(lambda state: navigation.add(state.app, "Audit", "auditor.home", Role.AUDITOR))

from web.auditor import (
    events,  # noqa: E402,F401
    history,  # noqa: E402,F401
    home,  # noqa: E402,F401  (each module adds its pages to bp)
    integrity,  # noqa: E402,F401
    settlements,  # noqa: E402,F401
)
