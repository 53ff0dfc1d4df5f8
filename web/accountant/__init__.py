"""The accountants' workspace: reviewing returns, rates, activity, incentives, the pool and settlements."""

from __future__ import annotations

from flask import Blueprint

from domain.organisations.user import Role
from web import navigation

bp = Blueprint("accountant", __name__, url_prefix="/accountant")
bp.record_once(lambda state: navigation.add(state.app, "Returns", "accountant.inbox", Role.ACCOUNTANT))

from web.accountant import inbox  # noqa: E402,F401  (each module adds its pages to bp)
