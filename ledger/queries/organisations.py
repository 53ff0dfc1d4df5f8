"""Read-side queries over the read models (never over the event store)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from ledger.projections.organisations import organisations, users


def list_organisations(engine: Engine, kind: str | None = None) -> list[dict[str, Any]]:
    query = select(organisations).order_by(organisations.c.kind, organisations.c.name)
    if kind:
        query = query.where(organisations.c.kind == kind)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def list_users(engine: Engine, organisation: str | None = None) -> list[dict[str, Any]]:
    query = select(users).order_by(users.c.organisation, users.c.username)
    if organisation:
        query = query.where(users.c.organisation == organisation)
    with engine.connect() as conn:
        return [{**row._mapping, "roles": row.roles.split()} for row in conn.execute(query)]
