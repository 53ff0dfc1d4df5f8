"""Admin pages: organisations, users and their passwords, agreement set-up, wage floors, the security log."""

from __future__ import annotations

from flask import Blueprint

from domain.organisations.user import Role
from web import navigation

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.record_once(lambda state: navigation.add(state.app, "Admin", "admin.home", Role.ADMIN))

from web.admin import agreements, home, organisations, security_log, users, wage_floors  # noqa: E402,F401  (each module adds its pages to bp)
