"""The JSON API, ``/api/v1``: what machine clients do, over the same use cases, queries and rules as the pages.

A token per user (``openbook tokens create``) sent as ``Authorization:
Bearer …``; no cookies, so no CSRF. Inputs and answers are pydantic models
(``web/api/models.py``), checked by spectree, which also writes the OpenAPI
document (``/api/v1/openapi.json``). Every POST needs an ``Idempotency-Key``
(``web/api/calls.py``). Errors: ``web/api/errors.py``. One module per area.
docs/api.md is the client's guide.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from web.api import (  # noqa: E402,F401 - each adds its routes
    activity,
    agreements,
    document,
    history,
    incentives,
    money,
    organisations,
    returns,
)
