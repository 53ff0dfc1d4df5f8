"""What a backdated rate review owes on visits already priced: read by the arrears command and the payment run.

Both ask the same question of the same figures, so they share this module:
the review's backdated window (its rates' effective date to the day before
its decision), the rate card as it stood before the decision (the old
prices) and as it stands now (the new), and the visits of the window from the
activity read model. Each visit is priced by both cards through the one
pricing path (``Pricer.price``) and owes the difference
(``domain.activity.arrears.visit_owed``), so the arrears the accountant
records and the arrears a payment run's adjustment pays are the same sum.

Only visits paid at the old rate owe arrears (``paid_at_old_rate``). Where
the year's payments are run by rate through openbook, those are the visits a
run recorded before the decision paid: dated up to the last such run's month
and first recorded (their import's event position) before that run. A visit
imported late, after that run, was never paid at the old price: its whole
price at the new rate is new activity, paid by the next run, not arrears.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.activity.arrears import ArrearsGroup, ArrearsLine, VisitPricing, arrears_lines
from domain.errors import NotFound, RuleBroken
from domain.rates.pricer import Pricer
from domain.rates.pricing import VisitPrice
from domain.rates.rate_card import RateCard
from domain.rates.rate_review import RateReview
from domain.settlement.payment_ledger import PaymentLedger, month_end
from domain.settlement.pooled_budget import PaymentMechanism, PooledBudget
from ledger.application import Ledger
from ledger.persistence.history import read_events
from ledger.queries import every_provider
from ledger.records import Records

__all__ = ["BackdatedReview", "PaidAtOld", "backdated_review", "decision_position", "owed", "paid_at_old_rate"]


@dataclass(frozen=True)
class BackdatedReview:
    """A decided, backdated review: its window (both days inclusive) and the cards before and after it."""

    review: RateReview
    window_start: date
    window_end: date
    old: Pricer
    new: Pricer

    @property
    def decided_on(self) -> date:
        return self.window_end + timedelta(days=1)


def decision_position(ledger: Ledger, review: RateReview) -> int:
    """Where the review's decision stands in the history: what was recorded before it was priced at the old rates.

    The activity read model re-prices backdated visits when the decision is
    recorded, so the old card and the payments made at the old prices are
    those recorded before this position, whatever dates they state.
    """
    events = read_events(ledger.recorder, ledger.mapper, topics=[RateReview.Decided.TOPIC], aggregate_id=review.id)
    return events[0].position


def _card_before(ledger: Ledger, records: Records, review: RateReview) -> RateCard | None:
    """The agreement's rate card as it stood just before the review's decision was recorded."""
    decided = decision_position(ledger, review)
    card_id = RateCard.create_id(review.agreement)
    topics = [RateCard.Created.TOPIC, RateCard.RatePublished.TOPIC, RateCard.RateWithdrawn.TOPIC]
    before = [
        r.version
        for r in read_events(ledger.recorder, ledger.mapper, topics=topics, aggregate_id=card_id, limit=10**6)
        if r.position < decided
    ]
    return records.at_version(card_id, max(before)) if before else None


def backdated_review(ledger: Ledger, records: Records, review: RateReview) -> BackdatedReview:
    """The review's window and old and new prices; refused (RuleBroken) when it owes no arrears."""
    year, agreement, decision = review.financial_year, review.agreement, review.decision
    if decision is None or decision.effective_from is None:
        raise RuleBroken(f"the {year} rate review of {agreement} has no decided rates, so no arrears")
    if not review.is_backdated():
        raise RuleBroken(
            f"the {year} rate review of {agreement} is not backdated: its rates apply from "
            f"{decision.effective_from.isoformat()}, on or after the decision on "
            f"{decision.decided_on.isoformat()}, so no arrears are owed"
        )
    found = records.agreement(agreement)
    old_card = _card_before(ledger, records, review)
    if old_card is None:
        raise RuleBroken(f"{agreement} had no rates before the {year} review, so nothing was paid at an old rate")
    new_card = records.get(RateCard.create_id(agreement), f"the rate card of {agreement!r}")
    start, end = decision.effective_from, decision.decided_on - timedelta(days=1)
    return BackdatedReview(review, start, end, Pricer(found, old_card), Pricer(found, new_card))


@dataclass(frozen=True)
class PaidAtOld:
    """The window's visits paid at the old rate: dated up to ``last_day`` and, unless ``before`` is None, first
    recorded before event position ``before``."""

    last_day: date
    before: int | None


def paid_at_old_rate(ledger: Ledger, records: Records, backdated: BackdatedReview) -> PaidAtOld | None:
    """Which of the window's visits were paid at the old rate; None when none were.

    With the year's pool paying by rate, a visit was paid at the old rate if a
    run recorded before the decision paid it: runs go in month order and each
    pays the year's priced activity up to its month less earlier payments, so
    that is a visit dated up to the last such run's month and first recorded
    before that run was (in recording order, whatever dates are stated). A
    visit imported after it — a late visit — was priced and paid at the new
    rate only, and owes no arrears. Without such a pool (payments made outside
    openbook, or capitated sums) the ledger does not know when a visit was
    paid, whenever its record was imported: every visit of the window owes.
    """
    review = backdated.review
    pool: PooledBudget | None = records.find(PooledBudget.create_id(review.agreement, review.financial_year))
    if pool is None or pool.terms.mechanism is not PaymentMechanism.RATE:
        return PaidAtOld(backdated.window_end, None)
    decided = decision_position(ledger, review)
    record: PaymentLedger | None = records.find(PaymentLedger.create_id(review.agreement, review.financial_year))
    if record is None:
        return None
    recorded = read_events(
        ledger.recorder, ledger.mapper, topics=[PaymentLedger.RunRecorded.TOPIC], aggregate_id=record.id, limit=10**6
    )
    at_old = [
        (run.month, event.position)
        for run, event in zip(record.runs, recorded, strict=True)
        if event.position < decided and run.mechanism == PaymentMechanism.RATE.value
    ]
    if not at_old:
        return None
    month, position = at_old[-1]
    return PaidAtOld(min(backdated.window_end, month_end(month)), position)


def owed(
    ledger: Ledger, backdated: BackdatedReview, paid: PaidAtOld | None
) -> tuple[list[ArrearsLine], list[ArrearsGroup], int]:
    """The arrears lines of the window's visits paid at the old rate (``paid_at_old_rate``), the groups of those
    visits left unpriced, and how many visits they are.

    Read from the activity read model as it stands: the caller brings it up to date.
    """
    if paid is None:
        return [], [], 0
    agreement, start = backdated.review.agreement, backdated.window_start
    groups = every_provider.arrears_groups(ledger.read_engine, agreement, start, paid.last_day, paid.before)
    lines, unpriced = arrears_lines(groups, _pricing(backdated.old), _pricing(backdated.new))
    return lines, unpriced, sum(g.visits for g in groups)


def _pricing(pricer: Pricer) -> VisitPricing:
    def price(service: str, zone: str, day: date, band: str, planned: int, actual: int) -> VisitPrice | None:
        try:
            return pricer.price(service, zone, day, planned, actual, band or None)
        except NotFound:
            return None

    return price
