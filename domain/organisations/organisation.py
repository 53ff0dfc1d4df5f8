"""Organisations: the councils, CCGs/ICBs, providers and audit bodies in a partnership."""

from __future__ import annotations

import re
from enum import StrEnum
from uuid import UUID

from domain.aggregate import LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.checks import check_name
from domain.envelope import Envelope
from domain.errors import InvalidInput

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class OrganisationKind(StrEnum):
    PROVIDER = "provider"
    COUNCIL = "council"
    ICB = "icb"  # a CCG before July 2022, an ICB since
    AUDIT_BODY = "audit-body"


def check_code(code: str, field: str = "code") -> str:
    """Codes are short, lower-case and stable: they are natural keys in ids and the history."""
    if not CODE_PATTERN.match(code or ""):
        raise InvalidInput(
            f"{field}: {code!r} must be 2-63 characters of a-z, 0-9 and '-', starting with a letter or digit"
        )
    return code


class Organisation(LedgerAggregate):
    TOPIC = "openbook:organisation"

    class Registered(LedgerCreated):
        TOPIC = "openbook:organisation.registered"
        code: str
        name: str
        kind: str
        member_of: str | None

    class Renamed(LedgerEvent):
        TOPIC = "openbook:organisation.renamed"
        name: str

        def apply(self, aggregate: Organisation) -> None:
            aggregate.name = self.name

    @staticmethod
    def create_id(code: str) -> UUID:
        return natural_id("organisation", code)

    def __init__(self, envelope: Envelope, code: str, name: str, kind: str, member_of: str | None):
        self.code = code
        self.name = name
        self.kind = OrganisationKind(kind)
        self.member_of = member_of

    @classmethod
    def register(
        cls,
        envelope: Envelope,
        code: str,
        name: str,
        kind: OrganisationKind,
        member_of: str | None = None,
    ) -> Organisation:
        check_code(code)
        if member_of is not None:
            check_code(member_of, "member_of")
        name = check_name(name)
        return cls._create(
            cls.Registered,
            id=cls.create_id(code),
            envelope=envelope,
            code=code,
            name=name,
            kind=OrganisationKind(kind).value,
            member_of=member_of,
        )

    def rename(self, envelope: Envelope, name: str) -> None:
        name = check_name(name)
        if name != self.name:
            self.trigger_event(self.Renamed, envelope=envelope, name=name)
