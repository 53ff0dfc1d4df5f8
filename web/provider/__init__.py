"""The provider portal: a provider's own returns, rates, activity, incentives and payments (and nobody else's)."""

from __future__ import annotations

from flask import Blueprint

from domain.organisations.user import Role
from web import navigation

bp = Blueprint("provider", __name__, url_prefix="/provider")
bp.record_once(lambda state: navigation.add(state.app, "Dashboard", "provider.dashboard", Role.PROVIDER))

from web.provider import (
    dashboard,  # noqa: E402,F401  (each module adds its pages to bp)
    returns,  # noqa: E402,F401
)
