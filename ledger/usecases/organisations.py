"""Use cases: registering organisations and users, renaming, changing roles, deactivating a user."""

from __future__ import annotations

from collections.abc import Iterable

from domain.aggregate import LedgerAggregate
from domain.envelope import Envelope
from domain.errors import Conflict
from domain.organisations.organisation import Organisation, OrganisationKind
from domain.organisations.user import User
from ledger.application import Ledger
from ledger.authorisation import authorise
from ledger.records import Records
from ledger.security.tokens import ApiTokens


class OrganisationUseCases:
    def __init__(self, ledger: Ledger, records: Records, tokens: ApiTokens | None = None):
        """``tokens``: the API tokens a deactivation revokes (None where the ledger is opened without them)."""
        self.ledger = ledger
        self.records = records
        self.tokens = tokens

    def register_organisation(
        self, envelope: Envelope, code: str, name: str, kind: OrganisationKind | str, member_of: str | None = None
    ) -> str:
        authorise(self.records, envelope.actor, "register_organisation")
        kind = OrganisationKind(kind)
        payload = {"code": code, "name": name, "kind": kind.value, "member_of": member_of}

        def build() -> tuple[list[LedgerAggregate], str]:
            if self.records.exists(Organisation.create_id(code)):
                raise Conflict(f"organisation {code!r} is already registered")
            if member_of is not None:
                alliance = self.records.organisation(member_of)
                if alliance.kind is not OrganisationKind.PROVIDER or alliance.member_of is not None:
                    raise Conflict(f"member_of: {member_of!r} is not a provider alliance")
            org = Organisation.register(envelope, code, name, kind, member_of)
            return [org], code

        return self.ledger._execute("register_organisation", payload, envelope, build)

    def rename_organisation(self, envelope: Envelope, code: str, name: str) -> str:
        authorise(self.records, envelope.actor, "rename_organisation", organisation=code)

        def build() -> tuple[list[LedgerAggregate], str]:
            org = self.records.organisation(code)
            org.rename(envelope, name)
            return [org], code

        return self.ledger._execute("rename_organisation", {"code": code, "name": name}, envelope, build)

    def register_user(
        self, envelope: Envelope, username: str, display_name: str, organisation: str, roles: Iterable[str]
    ) -> str:
        authorise(self.records, envelope.actor, "register_user", organisation=organisation)
        roles = sorted(set(roles))
        username = username.strip().lower()
        payload = {"username": username, "display_name": display_name, "organisation": organisation, "roles": roles}

        def build() -> tuple[list[LedgerAggregate], str]:
            if self.records.exists(User.create_id(username)):
                raise Conflict(f"user {username!r} is already registered")
            org = self.records.organisation(organisation)
            user = User.register(envelope, username, display_name, org.code, org.kind, roles)
            return [user], username

        return self.ledger._execute("register_user", payload, envelope, build)

    def change_user_roles(self, envelope: Envelope, username: str, roles: Iterable[str]) -> str:
        authorise(self.records, envelope.actor, "change_user_roles", organisation=self.records.user(username).organisation)
        roles = sorted(set(roles))

        def build() -> tuple[list[LedgerAggregate], str]:
            user = self.records.user(username)
            user.change_roles(envelope, self.records.organisation(user.organisation).kind, roles)
            return [user], user.username

        return self.ledger._execute("change_user_roles", {"username": username, "roles": roles}, envelope, build)

    def deactivate_user(self, envelope: Envelope, username: str) -> str:
        """The user may no longer log in or record anything, and their API tokens are revoked; what they recorded
        stays, with their name on it."""
        authorise(self.records, envelope.actor, "deactivate_user", organisation=self.records.user(username).organisation)

        def build() -> tuple[list[LedgerAggregate], str]:
            user = self.records.user(username)
            user.deactivate(envelope)
            return [user], user.username

        done = self.ledger._execute("deactivate_user", {"username": username}, envelope, build)
        if self.tokens is not None:  # revoked, not just refused while inactive: a reactivation must not revive them
            self.tokens.revoke_user(done)
        return done
