"""Organisations: the partnership's parties by code, name and kind (no figures, so every role may list them)."""

from __future__ import annotations

from typing import Any

from flask import request
from pydantic import BaseModel

from domain.organisations.organisation import OrganisationKind
from ledger.jsonable import json_ready
from ledger.queries import organisations as views
from web.access import EVERY_ROLE, allow
from web.api import bp
from web.api.models import Open, Strict
from web.api.spec import answers, spec
from web.services import book_of


class OrganisationsQuery(Strict):
    kind: OrganisationKind | None = None


class Organisation(Open):
    code: str
    name: str
    kind: str


class Organisations(BaseModel):
    organisations: list[Organisation]


@bp.get("/organisations")
@allow(*EVERY_ROLE)
@spec.validate(query=OrganisationsQuery, resp=answers(Organisations), tags=["organisations"])
def organisations() -> dict[str, Any]:
    """Every organisation: code, name and kind (council, icb, provider, audit-body)."""
    rows = views.list_organisations(book_of().read_engine, kind=request.context.query.kind)
    return {"organisations": [json_ready(row) for row in rows]}
