"""The accountants' workspace: reviewing returns, rates, activity, incentives, the pool and settlements."""

from __future__ import annotations

from flask import Blueprint

from domain.organisations.user import Role
from web import navigation

bp = Blueprint("accountant", __name__, url_prefix="/accountant")
bp.record_once(lambda state: navigation.add(state.app, "Returns", "accountant.inbox", Role.ACCOUNTANT))

# One import line per area, so each area's line merges on its own; each module adds its pages to bp.
from web.accountant import inbox  # noqa: E402,F401,I001
from web.accountant import market, returns  # noqa: E402,F401  (the returns workspace)
from web.accountant import payments, pool, reconcile, settlements  # noqa: E402,F401  (the money pages)
from web.accountant import agreements, rates, reviews  # noqa: E402,F401  (agreements, rate cards, rate reviews)
from web.accountant import activity, incentives, kpis  # noqa: E402,F401  (activity, KPIs and incentives)
