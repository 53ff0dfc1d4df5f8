"""Rate reviews: how a year's new rates are proposed, argued over, decided and dated.

A review belongs to one agreement and one financial year. It is opened with a
reason, receives one or more proposals (new rates, their basis and the uplift
arithmetic), comments from providers, and then exactly one decision:
accepted (the latest proposal's rates), amended (the decider's own rates) or
rejected (with a reason). An accepted or amended decision takes effect from
``effective_from``, which may be before the decision was made: a *backdated*
review, on which arrears are owed for hours already paid at the old rate.
The decided rates reach the rate card as ``RatePublished`` events (the ledger
publishes them); a review never prices anything itself.

The uplift calculator shows its arithmetic line by line so a provider can
check every figure with a calculator: the pay-related share of the median
cost per hour rises with the wage floor, the rest with an inflation index
the user gives. Working figures are kept to 4 decimal places (half up, like
blended rates) and each line uses the rounded figures shown above it; only
the proposed rate is rounded to the penny (``round_rate``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.aggregate import LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.agreements.agreement import Agreement
from domain.agreements.terms import ServiceType, check_service
from domain.checks import (
    check_choice,
    check_date,
    check_day,
    check_hourly_rate,
    check_text,
    check_year,
)
from domain.envelope import Envelope
from domain.errors import InvalidInput, RuleBroken
from domain.money import format_gbp
from domain.organisations.organisation import check_code
from domain.periods import FinancialYear, parse_financial_year
from domain.rates.rate_card import RateCard
from domain.rates.uplift import Outcome, UpliftLine, UpliftProposal

__all__ = [
    "Comment",
    "Decision",
    "Proposal",
    "ProposedRate",
    "RateReview",
    "is_backdated",
    "review_status",
]


def review_status(outcome: str | None, proposals: int) -> str:
    """Open, proposed, or the decision's outcome: how a review stands, for the aggregate and the read model."""
    if outcome is not None:
        return str(outcome)
    return "proposed" if proposals else "open"


def is_backdated(effective_from: date | None, decided_on: date) -> bool:
    """Whether decided rates take effect before ``decided_on``: then arrears are owed on hours already paid."""
    return effective_from is not None and effective_from < decided_on


@dataclass(frozen=True)
class ProposedRate:
    service: ServiceType
    zone: str
    band: str | None
    hourly_rate: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "service", check_service(self.service))

    def as_row(self) -> dict[str, Any]:
        return {"service": self.service.value, "zone": self.zone, "band": self.band, "hourly_rate": self.hourly_rate}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ProposedRate:
        return cls(ServiceType(row["service"]), row["zone"], row["band"], row["hourly_rate"])


@dataclass(frozen=True)
class Proposal:
    rates: tuple[ProposedRate, ...]
    basis: str
    uplift_lines: tuple[UpliftLine, ...]
    proposed_on: date
    proposed_by: str


@dataclass(frozen=True)
class Comment:
    provider: str
    comment: str
    on: date
    recorded_by: str


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    rates: tuple[ProposedRate, ...]
    reasons: str
    decided_by: str
    decided_on: date
    effective_from: date | None


def _rates(rates: Iterable[Any]) -> list[dict[str, Any]]:
    """Proposed rates as stored rows, from ProposedRates or dicts; each key at most once."""
    if isinstance(rates, (str, bytes, dict)) or not isinstance(rates, Iterable):
        raise InvalidInput("rates: give a list of rates")
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str | None]] = set()
    for index, rate in enumerate(rates):
        row = rate.as_row() if isinstance(rate, ProposedRate) else dict(rate)
        service = check_service(row.get("service"), f"rates[{index}].service").value
        zone = check_code(row.get("zone") or "", f"rates[{index}].zone")
        band = row.get("band")
        band = None if band is None else check_code(band, f"rates[{index}].band")
        hourly = check_hourly_rate(row.get("hourly_rate"), f"rates[{index}].hourly_rate")
        if (service, zone, band) in seen:
            raise InvalidInput(f"rates[{index}]: {service} in zone {zone} band {band} is listed twice")
        seen.add((service, zone, band))
        rows.append({"service": service, "zone": zone, "band": band, "hourly_rate": hourly})
    if not rows:
        raise InvalidInput("rates: at least one rate is needed")
    return rows


class RateReview(LedgerAggregate):
    """One agreement's rate review for one financial year."""

    TOPIC = "openbook:rate-review"

    class Opened(LedgerCreated):
        TOPIC = "openbook:rate-review.opened"
        agreement: str
        financial_year: str
        reason: str

    class Proposed(LedgerEvent):
        TOPIC = "openbook:rate-review.proposed"
        rates: list[dict[str, Any]]
        basis: str
        uplift_lines: list[list[Any]]

        def apply(self, aggregate: RateReview) -> None:
            aggregate._proposals.append(
                Proposal(
                    tuple(ProposedRate.from_row(r) for r in self.rates),
                    self.basis,
                    tuple(UpliftLine(*line) for line in self.uplift_lines),
                    self.envelope.effective_date,
                    str(self.envelope.actor),
                )
            )

    class Commented(LedgerEvent):
        TOPIC = "openbook:rate-review.commented"
        provider: str
        comment: str

        def apply(self, aggregate: RateReview) -> None:
            aggregate._comments.append(
                Comment(self.provider, self.comment, self.envelope.effective_date, str(self.envelope.actor))
            )

    class Decided(LedgerEvent):
        TOPIC = "openbook:rate-review.decided"
        outcome: str
        rates: list[dict[str, Any]]
        reasons: str
        decided_by: str
        effective_from: date | None

        def apply(self, aggregate: RateReview) -> None:
            aggregate.decision = Decision(
                Outcome(self.outcome),
                tuple(ProposedRate.from_row(r) for r in self.rates),
                self.reasons,
                self.decided_by,
                self.envelope.effective_date,
                self.effective_from,
            )

    @staticmethod
    def create_id(agreement: str, financial_year: str) -> UUID:
        return natural_id("rate-review", agreement, financial_year)

    def __init__(self, envelope: Envelope, agreement: str, financial_year: str, reason: str):
        self.agreement = agreement
        self.financial_year: FinancialYear = parse_financial_year(financial_year)
        self.reason = reason
        self._proposals: list[Proposal] = []
        self._comments: list[Comment] = []
        self.decision: Decision | None = None

    # -- commands ---------------------------------------------------------------------------

    @classmethod
    def open(cls, envelope: Envelope, agreement: str, financial_year: FinancialYear | str, reason: str) -> RateReview:
        check_code(agreement, "agreement")
        year = check_year(financial_year)
        return cls._create(
            cls.Opened,
            id=cls.create_id(agreement, year),
            envelope=envelope,
            agreement=agreement,
            financial_year=year,
            reason=check_text(reason, "reason"),
        )

    def _check_undecided(self, what: str) -> None:
        if self.decision is not None:
            raise RuleBroken(
                f"the {self.financial_year} rate review of {self.agreement} was {self.decision.outcome} "
                f"on {self.decision.decided_on.isoformat()}; it cannot {what} now"
            )

    def propose(
        self, envelope: Envelope, rates: Iterable[Any], basis: str, uplift: UpliftProposal | None = None
    ) -> None:
        """Propose new rates with their basis (and the uplift arithmetic behind them, if any)."""
        self._check_undecided("take a proposal")
        rows = _rates(rates)
        lines = [] if uplift is None else [[line.label, line.formula, line.amount] for line in uplift.lines]
        self.trigger_event(
            self.Proposed, envelope=envelope, rates=rows, basis=check_text(basis, "basis"), uplift_lines=lines
        )

    def comment(self, envelope: Envelope, provider: str, comment: str) -> None:
        """A provider's comment on the review, before it is decided."""
        self._check_undecided("take comments")
        check_code(provider, "provider")
        self.trigger_event(self.Commented, envelope=envelope, provider=provider, comment=check_text(comment, "comment"))

    def decide(
        self,
        envelope: Envelope,
        outcome: Outcome | str,
        reasons: str,
        decided_by: str,
        effective_from: date | None = None,
        rates: Iterable[Any] | None = None,
    ) -> None:
        """Decide the review; the envelope's effective date is the day the decision was made.

        Accepted takes the latest proposal's rates; amended states its own;
        both need ``effective_from`` inside the review's financial year (it may
        be before the decision: backdated). Rejected and amended need reasons.
        """
        self._check_undecided("be decided again")
        chosen = check_choice(Outcome, outcome, "outcome")
        if not self._proposals:
            raise RuleBroken(f"the {self.financial_year} rate review of {self.agreement} has no proposal to decide on")
        who = check_text(decided_by, "decided_by")
        why = check_text(reasons, "reasons") if isinstance(reasons, str) and reasons.strip() else ""
        if chosen is not Outcome.ACCEPTED and not why:
            raise InvalidInput(f"reasons: a review decided as {chosen} needs its reasons")
        rows: list[dict[str, Any]] = []
        if chosen is Outcome.REJECTED:
            if rates is not None or effective_from is not None:
                raise InvalidInput("rates: a rejected review decides no rates and no effective_from")
        else:
            if chosen is Outcome.ACCEPTED:
                if rates is not None:
                    raise InvalidInput(
                        "rates: an accepted review takes the proposal's rates; decide 'amended' to change them"
                    )
                rows = [rate.as_row() for rate in self._proposals[-1].rates]
            else:
                if rates is None:
                    raise InvalidInput("rates: an amended decision states its own rates")
                rows = _rates(rates)
            check_day(effective_from, "effective_from")
            if not self.financial_year.contains(effective_from):
                raise InvalidInput(
                    f"effective_from: {effective_from.isoformat()} is outside the review's financial year "
                    f"{self.financial_year}"
                )
        self.trigger_event(
            self.Decided,
            envelope=envelope,
            outcome=chosen.value,
            rates=rows,
            reasons=why,
            decided_by=who,
            effective_from=effective_from,
        )

    # -- questions --------------------------------------------------------------------------

    @property
    def proposals(self) -> tuple[Proposal, ...]:
        return tuple(self._proposals)

    @property
    def comments(self) -> tuple[Comment, ...]:
        return tuple(self._comments)

    @property
    def status(self) -> str:
        return review_status(None if self.decision is None else self.decision.outcome.value, len(self._proposals))

    @property
    def decided_rates(self) -> tuple[ProposedRate, ...]:
        """The rates to publish on the rate card (empty unless accepted or amended)."""
        return () if self.decision is None else self.decision.rates

    def is_backdated(self, decided_on: date | None = None) -> bool:
        """Whether the decided rates take effect before ``decided_on`` (default: the decision's date).

        A backdated review means arrears are owed on hours already paid at the old rate.
        """
        if self.decision is None:
            raise RuleBroken(f"the {self.financial_year} rate review of {self.agreement} is not decided yet")
        when = self.decision.decided_on if decided_on is None else check_date(decided_on, "decided_on")
        return is_backdated(self.decision.effective_from, when)

    def publish_to(self, card: RateCard, envelope: Envelope, agreement: Agreement | None = None) -> None:
        """Publish the decided rates on the agreement's rate card from ``effective_from``.

        The ledger saves the card and the review together; republishing is harmless
        (a rate already in force from that date records nothing).
        """
        if self.decision is None or self.decision.effective_from is None:
            raise RuleBroken(
                f"the {self.financial_year} rate review of {self.agreement} has no decided rates to publish"
            )
        if card.agreement != self.agreement:
            raise RuleBroken(f"agreement: the rate card is for {card.agreement}, the review for {self.agreement}")
        why = f"{self.financial_year} rate review {self.decision.outcome} by {self.decision.decided_by}"
        for rate in self.decision.rates:
            card.publish_rate(
                envelope,
                rate.service,
                rate.zone,
                self.decision.effective_from,
                why,
                hourly_rate=rate.hourly_rate,
                band=rate.band,
                agreement=agreement,
            )

    def summary(self) -> str:
        """One line for people: which review, its status and, once decided, from when."""
        text = f"{self.agreement} rate review {self.financial_year}: {self.status}"
        if self.decision and self.decision.effective_from:
            rates = ", ".join(f"{r.service} {r.zone} {format_gbp(r.hourly_rate)}" for r in self.decision.rates)
            text += f" from {self.decision.effective_from.isoformat()} ({rates})"
        return text
