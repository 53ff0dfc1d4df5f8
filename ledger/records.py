"""Aggregates by natural key: what the use cases load, change and check commands against.

The write side's one way to read the event store: an aggregate by its
deterministic id (``natural_id``), a "not registered" error that names it in
words, or None where absence is an answer. The lookups every area needs
(organisations, users, agreements) are here too, so ``ledger.authorisation``
and each use case take this one narrow collaborator rather than each other.

Pages, the CLI and the API never come here: they read the read models
through ``ledger/queries/``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository

from domain.agreements.agreement import Agreement
from domain.errors import NotFound, RuleBroken
from domain.organisations.organisation import Organisation, OrganisationKind
from domain.organisations.user import User


class Records:
    def __init__(self, repository: Repository[UUID]):
        self.repository = repository

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    def find(self, aggregate_id: UUID) -> Any | None:
        """The aggregate, or None if nothing was ever recorded under that id."""
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def get(self, aggregate_id: UUID, what: str) -> Any:
        """The aggregate, or ``NotFound`` naming ``what`` ("agreement 'wirral-homecare' is not registered")."""
        found = self.find(aggregate_id)
        if found is None:
            raise NotFound(f"{what} is not registered")
        return found

    def at_version(self, aggregate_id: UUID, version: int) -> Any:
        """The aggregate as it stood after its ``version``-th event."""
        return self.repository.get(aggregate_id, version=version)

    def version(self, aggregate_id: UUID) -> int | None:
        found = self.find(aggregate_id)
        return None if found is None else found.version

    # -- what every area looks up ----------------------------------------------------------

    def organisation(self, code: str) -> Organisation:
        return self.get(Organisation.create_id(code), f"organisation {code!r}")

    def user(self, username: str) -> User:
        username = username.strip().lower()
        return self.get(User.create_id(username), f"user {username!r}")

    def agreement(self, code: str) -> Agreement:
        return self.get(Agreement.create_id(code), f"agreement {code!r}")

    def registered_organisation(self, code: str, kinds: Iterable[OrganisationKind], as_what: str) -> Organisation:
        """The organisation ``code``, refused unless it is one of ``kinds`` (named ``as_what`` in the message)."""
        org = self.organisation(code)
        allowed = tuple(kinds)
        if org.kind not in allowed:
            names = " or ".join(_a(k.value) for k in allowed)
            raise RuleBroken(f"{as_what}: {code} is {_a(org.kind.value)}, not {names}")
        return org


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"
