"""Organisations and users as tables, for lists, logins and access checks."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    update,
)

from domain.organisations.organisation import Organisation
from domain.organisations.user import User
from ledger.projections.base import Projection, handles

metadata = MetaData()

organisations = Table(
    "organisations",
    metadata,
    Column("code", String(63), primary_key=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("member_of", String(63)),
    Column("effective_date", Date, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("position", Integer, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("username", String(128), primary_key=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("organisation", String(63), nullable=False),
    Column("roles", Text, nullable=False),  # space-separated, sorted
    Column("active", Boolean, nullable=False),
    Column("position", Integer, nullable=False),
)


class OrganisationsProjection(Projection):
    name = "organisations"
    tables = (organisations, users)

    @handles(Organisation.Registered)
    def registered(self, conn: Connection, e: Organisation.Registered, position: int) -> None:
        conn.execute(
            insert(organisations),
            {
                "code": e.code,
                "id": str(e.originator_id),
                "name": e.name,
                "kind": e.kind,
                "member_of": e.member_of,
                "effective_date": e.envelope.effective_date,
                "registered_at": e.timestamp,
                "position": position,
            },
        )

    @handles(Organisation.Renamed)
    def renamed(self, conn: Connection, e: Organisation.Renamed, position: int) -> None:
        conn.execute(
            update(organisations)
            .where(organisations.c.id == str(e.originator_id))
            .values(name=e.name, position=position)
        )

    @handles(User.Registered)
    def user_registered(self, conn: Connection, e: User.Registered, position: int) -> None:
        conn.execute(
            insert(users),
            {
                "username": e.username,
                "id": str(e.originator_id),
                "display_name": e.display_name,
                "organisation": e.organisation,
                "roles": " ".join(e.roles),
                "active": True,
                "position": position,
            },
        )

    @handles(User.RolesChanged)
    def roles_changed(self, conn: Connection, e: User.RolesChanged, position: int) -> None:
        conn.execute(
            update(users).where(users.c.id == str(e.originator_id)).values(roles=" ".join(e.roles), position=position)
        )

    @handles(User.Deactivated)
    def deactivated(self, conn: Connection, e: User.Deactivated, position: int) -> None:
        conn.execute(update(users).where(users.c.id == str(e.originator_id)).values(active=False, position=position))
