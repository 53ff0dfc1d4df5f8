"""The JSON API: the same read models the pages use."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from ledger.jsonable import json_ready
from ledger.queries import organisations as views
from web import as_at
from web.access import EVERY_ROLE, allow

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/organisations")
@allow(*EVERY_ROLE)
def organisations() -> dict[str, Any]:
    rows = views.list_organisations(as_at.read_engine(), kind=request.args.get("kind"))
    return {"organisations": [json_ready(row) for row in rows]}
