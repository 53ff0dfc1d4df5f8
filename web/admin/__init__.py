"""Admin pages: organisations, users and their passwords, agreement set-up, wage floors, the security log."""

from __future__ import annotations

from flask import Blueprint

from domain.organisations.user import Role
from web import navigation

bp = Blueprint("admin", __name__, url_prefix="/admin")
#: The admin's menu, in this order (each page lives in its own module below).
MENU = (
    ("Admin", "admin.home"),
    ("Users", "admin.users"),
    ("Agreements", "admin.agreements"),
    ("Wage floors", "admin.wage_floors"),
    ("Security log", "admin.security_log"),
)
for label, endpoint in MENU:
    bp.record_once(lambda state, label=label, endpoint=endpoint: navigation.add(state.app, label, endpoint, Role.ADMIN))

# One import line per area, so each area's line merges on its own; each module adds its pages to bp.
from web.admin import home  # noqa: E402,F401,I001
from web.admin import organisations, users  # noqa: E402,F401  (organisations, users, first-login links)
from web.admin import agreements  # noqa: E402,F401  (agreement set-up)
from web.admin import security_log, wage_floors  # noqa: E402,F401  (reference data and the security log)
