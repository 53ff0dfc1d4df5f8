"""An issued statement: the record that a statement left the system, and exactly which bytes did.

A statement built from the ledger (``reports.statements``) is a document like
any other until it is *issued*: then this event records its kind, agreement,
party, period and title, the head position it was built at, and the SHA-256
digest and size of its bytes, which the ledger keeps content-addressed beside
the history (``ledger/files/documents.py``). Anyone holding a copy can then be
told whether it is the document that was issued, and which one.

The aggregate's id is that of the digest: the very same bytes issued again
are the same issue (nothing new is recorded), while a statement rebuilt after
a re-settlement has new figures, new bytes and so a new issue. The same bytes
cannot be two different issues: claiming another kind, party or period for a
document already issued is a ``Conflict``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.aggregate import LedgerAggregate, LedgerCreated, natural_id
from domain.bounds import MAX_DOCUMENT_BYTES, MAX_POSITION
from domain.checks import check_choice, check_name, check_year
from domain.envelope import Envelope
from domain.errors import Conflict, InvalidInput
from domain.organisations.organisation import check_code
from domain.periods import PeriodFormatError, parse_quarter
from domain.settlement.payment_ledger import check_month

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class StatementKind(StrEnum):
    SETTLEMENT = "settlement"
    COST = "cost"
    PAYMENT = "payment"
    INCENTIVE = "incentive"
    RATE_NOTICE = "rate-notice"


#: The form of each kind's period: a settlement, incentive statement and rate notice are per financial year
#: (2019-20), a cost statement per return's quarter (2019-20-Q1), a payment statement per month (2019-05).
PERIOD_FORMS = {
    StatementKind.SETTLEMENT: "year",
    StatementKind.INCENTIVE: "year",
    StatementKind.RATE_NOTICE: "year",
    StatementKind.COST: "quarter",
    StatementKind.PAYMENT: "month",
}
#: Kinds that are always one provider's: the party must be named. The others may be the whole partnership's.
ONE_PROVIDERS = frozenset({StatementKind.COST, StatementKind.PAYMENT, StatementKind.RATE_NOTICE})


def check_digest(value: object, field: str = "digest") -> str:
    """A SHA-256 digest as 64 lower-case hex characters (upper case is read as lower)."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if not _HEX64.match(text):
        raise InvalidInput(f"{field}: {value!r} is not a SHA-256 digest (64 hex characters)")
    return text


def check_period_of(kind: StatementKind, period: object) -> str:
    """The canonical period of a statement of ``kind``, in that kind's form, within the ledger's dates."""
    form = PERIOD_FORMS[kind]
    if form == "year":
        return check_year(str(period), "period")
    if form == "month":
        return check_month(period, field="period")
    try:
        quarter = parse_quarter(str(period))
    except PeriodFormatError as error:
        raise InvalidInput(f"period: {error}") from None
    check_year(str(quarter.year), "period")
    return str(quarter)


def check_issue(
    kind: object, agreement: object, party: object, period: object, title: object, digest: object, size: object,
    head_position: object,
) -> dict[str, Any]:
    """An issue's fields, each checked against its bound (every problem named)."""
    problems: list[str] = []
    fields: dict[str, Any] = {}

    def take(name: str, check: Any) -> None:
        try:
            fields[name] = check()
        except InvalidInput as error:
            problems.extend(error.problems or [str(error)])

    take("kind", lambda: check_choice(StatementKind, kind, "kind"))
    take("agreement", lambda: check_code(str(agreement or ""), "agreement"))
    take("party", lambda: None if party in (None, "") else check_code(str(party), "party"))
    if "kind" in fields:
        take("period", lambda: check_period_of(fields["kind"], period))
        if fields["kind"] in ONE_PROVIDERS and "party" in fields and fields["party"] is None:
            problems.append(f"party: a {fields['kind']} statement is one provider's: name the provider")
    take("title", lambda: check_name(title, "title"))
    take("digest", lambda: check_digest(digest))
    if type(size) is not int or not 0 < size <= MAX_DOCUMENT_BYTES:
        problems.append(f"size: {size!r} must be a whole number of bytes from 1 to {MAX_DOCUMENT_BYTES:,}")
    if type(head_position) is not int or not 0 < head_position <= MAX_POSITION:
        problems.append(f"head_position: {head_position!r} must be a position in the history (1 or more)")
    if problems:
        raise InvalidInput(problems)
    return {**fields, "kind": str(fields["kind"]), "size": size, "head_position": head_position}


class IssuedStatement(LedgerAggregate):
    TOPIC = "openbook:issued-statement"

    class Issued(LedgerCreated):
        TOPIC = "openbook:issued-statement.issued"
        kind: str
        agreement: str
        party: str | None
        period: str
        title: str
        digest: str
        size: int
        head_position: int

    @staticmethod
    def create_id(digest: str) -> UUID:
        return natural_id("issued-statement", digest)

    def __init__(
        self, envelope: Envelope, kind: str, agreement: str, party: str | None, period: str, title: str, digest: str,
        size: int, head_position: int,
    ):  # fmt: skip
        self.kind = kind
        self.agreement = agreement
        self.party = party
        self.period = period
        self.title = title
        self.digest = digest
        self.size = size
        self.head_position = head_position
        self.issued_by = str(envelope.actor)

    @property
    def natural_key(self) -> str:
        return f"statement {self.digest}"

    @classmethod
    def issue(cls, envelope: Envelope, **claimed: Any) -> IssuedStatement:
        """Record that the document with ``digest`` was issued as the statement ``claimed`` describes."""
        fields = check_issue(**claimed)
        return cls._create(cls.Issued, id=cls.create_id(fields["digest"]), envelope=envelope, **fields)

    def check_same_issue(self, **claimed: Any) -> None:
        """The same bytes issued again are this issue; claimed as another statement they are a ``Conflict``."""
        fields = check_issue(**claimed)
        mine = {name: getattr(self, name) for name in ("kind", "agreement", "party", "period")}
        theirs = {name: fields[name] for name in mine}
        if mine != theirs:
            raise Conflict(
                f"issue statement: the document {self.digest} was already issued as the {self.kind} statement of "
                f"{self.agreement} for {self.party or 'the partnership'}, {self.period}; the same bytes cannot be "
                f"another statement"
            )
