"""Read-side queries over the read models (never over the event store)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, select

from ledger.authorisation import Access, only_provider
from ledger.projections.agreements import agreement_awards, agreement_commissioners
from ledger.projections.organisations import organisations, users
from ledger.queries.rows import read_rows


def list_organisations(engine: Engine, kind: str | None = None) -> list[dict[str, Any]]:
    query = select(organisations).order_by(organisations.c.kind, organisations.c.name)
    if kind:
        query = query.where(organisations.c.kind == kind)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def organisations_seen(
    engine: Engine, own: str, accesses: Iterable[Access], kind: str | None = None
) -> list[dict[str, Any]]:
    """The organisations a reader with ``accesses`` (one per agreement they have a part in) may know of: their
    own (``own``), each agreement's commissioners, and the providers awarded work under it where they see every
    provider's figures. Under a provider's access only that provider: another provider's name is not a
    provider's to see (docs/access.md)."""
    seen = {own}
    commissioners, awards = agreement_commissioners.c, agreement_awards.c
    for access in accesses:
        named = select(commissioners.commissioner).where(commissioners.agreement == access.agreement)
        seen |= {row["commissioner"] for row in read_rows(engine, named)}
        provider = only_provider(access)
        if provider is None:
            awarded = select(awards.provider).where(awards.agreement == access.agreement)
            seen |= {row["provider"] for row in read_rows(engine, awarded)}
        else:
            seen.add(provider)
    return [row for row in list_organisations(engine, kind) if row["code"] in seen]


def list_users(engine: Engine, organisation: str | None = None) -> list[dict[str, Any]]:
    query = select(users).order_by(users.c.organisation, users.c.username)
    if organisation:
        query = query.where(users.c.organisation == organisation)
    with engine.connect() as conn:
        return [{**row._mapping, "roles": row.roles.split()} for row in conn.execute(query)]
