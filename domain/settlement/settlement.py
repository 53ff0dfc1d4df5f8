"""A settlement as recorded: drafted, reviewed, approved by each commissioner, issued — then never changed.

The arithmetic is ``domain.settlement.statement``; this is the record accountants sign.
A ``Drafted`` event keeps everything the statement was computed from, by
value *and* by reference (the versions and event positions of the pool,
agreement, rate card, activity read model, payments and cost returns read),
and the whole statement, so an auditor can check it without re-running the
software and can find every input in the history.

Settlements of one agreement and year are numbered 1, 2, 3 ... Drafting
again before issue withdraws the open draft (it is superseded); after issue,
a late correction is settled by a **re-settlement**: a new number that names
the issued settlement it replaces and shows, for every provider and
commissioner, the previous figures, the new ones and the difference.

The rules (who may act is the application's authorisation):

* a draft is **reviewed** once, by someone other than who drafted it (the
  operator's own ``system`` hand excepted);
* it is then **approved** by each commissioner of the pool, once each;
* it is **issued** only when every commissioner has approved;
* an issued settlement refuses every command: it never changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.aggregate import LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.checks import check_financial_year, check_reason
from domain.envelope import SYSTEM, Envelope
from domain.errors import InvalidInput, RuleBroken
from domain.settlement.statement import SettlementInputs, SettlementStatement, compare

__all__ = ["Settlement", "SettlementStatus", "Signature", "awaiting_approval", "settlement_status"]


class SettlementStatus(StrEnum):
    DRAFT = "draft"
    REVIEWED = "reviewed"  # reviewed, awaiting one or more commissioners' approval
    APPROVED = "approved"  # every commissioner has approved: ready to issue
    ISSUED = "issued"
    WITHDRAWN = "withdrawn"  # superseded by a later draft before issue


def awaiting_approval(commissioners: Iterable[str], approved: Iterable[str]) -> tuple[str, ...]:
    """The commissioners yet to approve, in the pool's order."""
    done = set(approved)
    return tuple(c for c in commissioners if c not in done)


def settlement_status(*, reviewed: bool, awaiting: Iterable[str], issued: bool, withdrawn: bool) -> SettlementStatus:
    """Where a settlement stands after its steps so far: the one rule, for the aggregate and its read model.

    Issued and withdrawn are final; before review it is a draft; after review
    it is approved once no commissioner is awaited, else reviewed.
    """
    if issued:
        return SettlementStatus.ISSUED
    if withdrawn:
        return SettlementStatus.WITHDRAWN
    if not reviewed:
        return SettlementStatus.DRAFT
    return SettlementStatus.REVIEWED if tuple(awaiting) else SettlementStatus.APPROVED


@dataclass(frozen=True)
class Signature:
    """Who did a step, for which organisation, on what date, and any note."""

    user: str
    organisation: str | None
    on: date
    note: str | None = None

    @classmethod
    def of(cls, event: LedgerEvent, note: str | None = None) -> Signature:
        actor = event.envelope.actor
        return cls(actor.user, actor.organisation, event.envelope.effective_date, note or event.envelope.reason)


class Settlement(LedgerAggregate):
    """One numbered settlement of an agreement's pooled budget for a financial year."""

    TOPIC = "openbook:settlement"

    class Drafted(LedgerCreated):
        TOPIC = "openbook:settlement.drafted"
        agreement: str
        financial_year: str
        sequence: int
        previous: int | None  # the issued settlement this one re-settles
        commissioners: list[str]
        inputs: dict[str, Any]
        references: dict[str, Any]
        statement: dict[str, Any]
        comparison: dict[str, Any] | None

    class Reviewed(LedgerEvent):
        TOPIC = "openbook:settlement.reviewed"
        note: str | None

        def apply(self, aggregate: Settlement) -> None:
            aggregate.reviewed = Signature.of(self, self.note)

    class Approved(LedgerEvent):
        TOPIC = "openbook:settlement.approved"
        commissioner: str

        def apply(self, aggregate: Settlement) -> None:
            aggregate.approvals[self.commissioner] = Signature.of(self)

    class Issued(LedgerEvent):
        TOPIC = "openbook:settlement.issued"

        def apply(self, aggregate: Settlement) -> None:
            aggregate.issued = Signature.of(self)

    class Withdrawn(LedgerEvent):
        TOPIC = "openbook:settlement.withdrawn"
        superseded_by: int | None

        def apply(self, aggregate: Settlement) -> None:
            aggregate.withdrawn = Signature.of(self)
            aggregate.superseded_by = self.superseded_by

    @staticmethod
    def create_id(agreement: str, financial_year: str, sequence: int) -> UUID:
        return natural_id("settlement", agreement, check_financial_year(financial_year), str(sequence))

    def __init__(
        self,
        envelope: Envelope,
        agreement: str,
        financial_year: str,
        sequence: int,
        previous: int | None,
        commissioners: list[str],
        inputs: dict[str, Any],
        references: dict[str, Any],
        statement: dict[str, Any],
        comparison: dict[str, Any] | None,
    ):
        self.agreement = agreement
        self.financial_year = financial_year
        self.sequence = sequence
        self.previous = previous
        self.commissioners = tuple(commissioners)
        self.inputs = inputs
        self.references = references
        self.statement = statement
        self.comparison = comparison
        self.drafted = Signature(envelope.actor.user, envelope.actor.organisation, envelope.effective_date,
                                 envelope.reason)  # fmt: skip
        self.reviewed: Signature | None = None
        self.approvals: dict[str, Signature] = {}
        self.issued: Signature | None = None
        self.withdrawn: Signature | None = None
        self.superseded_by: int | None = None

    @property
    def natural_key(self) -> str:
        return f"{self.agreement} {self.financial_year} no. {self.sequence}"

    def describe(self) -> str:
        kind = "re-settlement" if self.previous else "settlement"
        return f"{kind} {self.sequence} of {self.agreement} {self.financial_year}"

    # -- commands --------------------------------------------------------------------------------

    @classmethod
    def draft(
        cls,
        envelope: Envelope,
        *,
        inputs: SettlementInputs,
        statement: SettlementStatement,
        sequence: int,
        references: dict[str, Any],
        previous: Settlement | None = None,
    ) -> Settlement:
        """Record a computed statement as a draft; with ``previous`` (issued), as its re-settlement."""
        if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
            raise InvalidInput(f"sequence: {sequence!r} is not a settlement number (1, 2, ...)")
        comparison = None
        if previous is not None:
            if previous.status is not SettlementStatus.ISSUED:
                raise RuleBroken(f"{previous.describe()} is {previous.status}; only an issued settlement is re-settled")
            comparison = compare(previous.parties, statement.parties())
        return cls._create(
            cls.Drafted,
            id=cls.create_id(inputs.agreement, inputs.financial_year, sequence),
            envelope=envelope,
            agreement=inputs.agreement,
            financial_year=inputs.financial_year,
            sequence=sequence,
            previous=None if previous is None else previous.sequence,
            commissioners=sorted(inputs.contributions),
            inputs=inputs.to_data(),
            references=references,
            statement=statement.to_data(),
            comparison=comparison,
        )

    def review(self, envelope: Envelope, note: str | None = None) -> None:
        self._check_open("be reviewed")
        if self.reviewed is not None:
            raise RuleBroken(f"{self.describe()} was already reviewed by {self.reviewed.user} on {self.reviewed.on}")
        drafter = self.drafted.user
        if envelope.actor != SYSTEM and drafter != SYSTEM.user and envelope.actor.user == drafter:
            raise RuleBroken(f"{self.describe()} was drafted by {drafter}; someone else must review it")
        self.trigger_event(self.Reviewed, envelope=envelope, note=note)

    def approve(self, envelope: Envelope, commissioner: str) -> None:
        """Approval on behalf of one commissioner (the application checks the approver is its accountant)."""
        self._check_open("be approved")
        if self.reviewed is None:
            raise RuleBroken(f"{self.describe()} has not been reviewed yet; it is approved after review")
        if commissioner not in self.commissioners:
            raise RuleBroken(
                f"commissioner: {commissioner} is not a commissioner of this pool ({', '.join(self.commissioners)})"
            )
        if commissioner in self.approvals:
            earlier = self.approvals[commissioner]
            raise RuleBroken(f"{self.describe()} was already approved for {commissioner} by {earlier.user}")
        self.trigger_event(self.Approved, envelope=envelope, commissioner=commissioner)

    def issue(self, envelope: Envelope) -> None:
        self._check_open("be issued")
        if self.reviewed is None:
            raise RuleBroken(f"{self.describe()} has not been reviewed; it cannot be issued")
        if self.awaiting:
            raise RuleBroken(
                f"{self.describe()} cannot be issued: awaiting approval by {', '.join(self.awaiting)}"
            )
        self.trigger_event(self.Issued, envelope=envelope)

    def withdraw(self, envelope: Envelope, superseded_by: int | None = None) -> None:
        """Withdraw a draft that will not be issued (e.g. superseded by a newer draft), with the reason."""
        self._check_open("be withdrawn")
        check_reason(envelope, "withdrawing a settlement")
        self.trigger_event(self.Withdrawn, envelope=envelope, superseded_by=superseded_by)

    def _check_open(self, what: str) -> None:
        if self.issued is not None:
            raise RuleBroken(
                f"{self.describe()} was issued on {self.issued.on.isoformat()} and never changes, so it cannot "
                f"{what}: record the correction and draft a re-settlement"
            )
        if self.withdrawn is not None:
            raise RuleBroken(f"{self.describe()} was withdrawn on {self.withdrawn.on.isoformat()}; it cannot {what}")

    # -- questions -------------------------------------------------------------------------------

    @property
    def awaiting(self) -> tuple[str, ...]:
        """Commissioners yet to approve."""
        return awaiting_approval(self.commissioners, self.approvals)

    @property
    def status(self) -> SettlementStatus:
        return settlement_status(
            reviewed=self.reviewed is not None, awaiting=self.awaiting, issued=self.issued is not None,
            withdrawn=self.withdrawn is not None,
        )  # fmt: skip

    @property
    def parties(self) -> dict[str, Any]:
        return {"providers": self.statement["providers"], "commissioners": self.statement["commissioners"]}

    def input_values(self) -> SettlementInputs:
        return SettlementInputs.from_data(self.inputs)
