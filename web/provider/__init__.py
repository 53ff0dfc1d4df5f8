"""The provider portal: a provider's own returns, rates, activity, incentives and payments (and nobody else's)."""

from __future__ import annotations

from flask import Blueprint

from domain.organisations.user import Role
from web import navigation

bp = Blueprint("provider", __name__, url_prefix="/provider")
bp.record_once(lambda state: navigation.add(state.app, "Dashboard", "provider.dashboard", Role.PROVIDER))

# One import line per area, so each area's line merges on its own; each module adds its pages (and menu entries).
from web.provider import dashboard  # noqa: E402,F401,I001
from web.provider import returns  # noqa: E402,F401  (cost returns)
from web.provider import activity, incentives, payments  # noqa: E402,F401  (the read-only portal pages)
from web.provider import activity_upload  # noqa: E402,F401  (uploading its own activity file)
