"""Organisations: the partnership's parties by code, name and kind (no figures, so every role may list them).

Each caller lists only the organisations their agreements make known to them
(``ledger.queries.organisations.organisations_seen``), as the pages scope
agreements (``web.scope.my_agreements``): a token is no wider a view of who
works with whom than its user's pages.
"""

from __future__ import annotations

from typing import Any

from flask import request
from pydantic import BaseModel

from domain.organisations.organisation import OrganisationKind
from ledger.jsonable import json_ready
from ledger.queries import organisations as views
from web import scope
from web.access import EVERY_ROLE, allow, current_actor
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
    """Your organisation and the parties to your agreements: code, name and kind (council, icb, provider,
    audit-body). A provider sees the commissioners and itself, never another provider."""
    accesses = [granted for _row, granted in scope.my_agreements()]
    own = current_actor().organisation
    rows = views.organisations_seen(book_of().read_engine, own, accesses, kind=request.context.query.kind)
    return {"organisations": [json_ready(row) for row in rows]}
