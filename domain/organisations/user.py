"""Users: people who record and read facts, each in one organisation, with roles.

Passwords are not facts about the partnership and never enter the event
history; credentials are kept apart by the web layer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from uuid import UUID

from domain.aggregate import LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.checks import check_name
from domain.envelope import Envelope
from domain.errors import InvalidInput, RuleBroken
from domain.organisations.organisation import OrganisationKind

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@+-]{1,127}$")


class Role(StrEnum):
    PROVIDER = "provider"
    ACCOUNTANT = "accountant"
    AUDITOR = "auditor"
    ADMIN = "admin"


#: Which roles a user of each kind of organisation may hold. A provider's staff
#: can never be accountants; an audit body's staff are auditors.
ROLES_BY_KIND: dict[OrganisationKind, frozenset[Role]] = {
    OrganisationKind.PROVIDER: frozenset({Role.PROVIDER}),
    OrganisationKind.COUNCIL: frozenset({Role.ACCOUNTANT, Role.AUDITOR, Role.ADMIN}),
    OrganisationKind.ICB: frozenset({Role.ACCOUNTANT, Role.AUDITOR, Role.ADMIN}),
    OrganisationKind.AUDIT_BODY: frozenset({Role.AUDITOR}),
}


def check_roles(kind: OrganisationKind, roles: Iterable[str]) -> tuple[str, ...]:
    """Roles as sorted strings, refusing unknown roles and roles the organisation may not hold."""
    chosen = tuple(sorted(set(roles)))
    if not chosen:
        raise InvalidInput("roles: at least one role is needed")
    unknown = [r for r in chosen if r not in Role.__members__.values()]
    if unknown:
        raise InvalidInput(f"roles: unknown role(s) {', '.join(unknown)}; choose from {', '.join(Role)}")
    refused = [r for r in chosen if Role(r) not in ROLES_BY_KIND[kind]]
    if refused:
        raise RuleBroken(f"roles: a user of a {kind.value} organisation cannot be {', '.join(refused)}")
    return chosen


class User(LedgerAggregate):
    TOPIC = "openbook:user"

    class Registered(LedgerCreated):
        TOPIC = "openbook:user.registered"
        username: str
        display_name: str
        organisation: str
        roles: list[str]

    class RolesChanged(LedgerEvent):
        TOPIC = "openbook:user.roles-changed"
        roles: list[str]

        def apply(self, aggregate: User) -> None:
            aggregate.roles = tuple(self.roles)

    class Deactivated(LedgerEvent):
        TOPIC = "openbook:user.deactivated"

        def apply(self, aggregate: User) -> None:
            aggregate.active = False

    @staticmethod
    def create_id(username: str) -> UUID:
        return natural_id("user", username)

    def __init__(self, envelope: Envelope, username: str, display_name: str, organisation: str, roles: list[str]):
        self.username = username
        self.display_name = display_name
        self.organisation = organisation
        self.roles = tuple(roles)
        self.active = True

    @classmethod
    def register(
        cls,
        envelope: Envelope,
        username: str,
        display_name: str,
        organisation: str,
        organisation_kind: OrganisationKind,
        roles: Iterable[str],
    ) -> User:
        username = username.strip().lower()
        if not USERNAME_PATTERN.match(username):
            raise InvalidInput(f"username: {username!r} is not a valid username (e.g. an email address)")
        display_name = check_name(display_name, "display_name")
        return cls._create(
            cls.Registered,
            id=cls.create_id(username),
            envelope=envelope,
            username=username,
            display_name=display_name,
            organisation=organisation,
            roles=list(check_roles(organisation_kind, roles)),
        )

    def change_roles(self, envelope: Envelope, organisation_kind: OrganisationKind, roles: Iterable[str]) -> None:
        chosen = check_roles(organisation_kind, roles)
        if chosen != self.roles:
            self.trigger_event(self.RolesChanged, envelope=envelope, roles=list(chosen))

    def deactivate(self, envelope: Envelope) -> None:
        if not self.active:
            raise RuleBroken(f"user {self.username} is already deactivated")
        self.trigger_event(self.Deactivated, envelope=envelope)
