"""Rate cards and rate reviews as tables: what was published, from when, and why.

Each published rate (or withdrawal) is one row, never overwritten, in the
order recorded (``position``). Which row applies on a day is the card's own
rule (``domain.dated.in_force``: the latest effective by then, a later
correction winning a tie), applied by ``ledger.queries.rates`` to the rows of
a key; nothing here decides it, so a rate published out of order (a
backdated one) needs no re-dating of its neighbours.

A rate review is a row of ``rate_reviews`` (its status and decision) with its
proposals, their rates and uplift arithmetic, its comments and the decided
rates in the tables beside it: everything ``openbook rates review show``
prints, so ``ledger.queries.rates.rate_review`` never loads the aggregate. The
status and "backdated" rules are the review's own (``review_status``,
``is_backdated``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from domain.rates.pricing import recorded_rate
from domain.rates.rate_card import RateCard
from domain.rates.rate_review import RateReview, is_backdated, review_status
from ledger.projections.base import Projection, handles
from ledger.projections.columns import ExactDecimal

metadata = MetaData()

rate_cards = Table(
    "rate_cards",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("agreement", String(63), nullable=False, unique=True),
)

rate_entries = Table(
    "rate_entries",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("agreement", String(63), nullable=False, index=True),
    Column("service", String(20), nullable=False),
    Column("zone", String(63), nullable=False),
    Column("band", String(63)),  # None: the rate without a band
    Column("effective_from", Date, nullable=False),
    Column("hourly_rate", ExactDecimal),  # None for a withdrawal
    Column("blend", Text, nullable=False),  # "0.7@12.80 0.3@15.80"; empty for a plain rate
    Column("withdrawn", Boolean, nullable=False),  # this row withdraws the key's rate from its date
    Column("reason", Text, nullable=False),
    Column("recorded_by", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

rate_reviews = Table(
    "rate_reviews",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("financial_year", String(7), primary_key=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("reason", Text, nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("status", String(20), nullable=False),  # open, proposed, accepted, amended, rejected
    Column("proposals", Integer, nullable=False),
    Column("comments", Integer, nullable=False),
    Column("latest_proposal", Text),  # "standard zone-1 16.34, ..."
    Column("outcome", String(20)),
    Column("reasons", Text),
    Column("decided_by", Text),
    Column("decided_on", Date),
    Column("effective_from", Date),
    Column("backdated", Boolean),  # effective before the decision: arrears are owed
    Column("position", Integer, nullable=False),
)

#: Each proposal of a review, in the order made (its position).
rate_review_proposals = Table(
    "rate_review_proposals",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("agreement", String(63), nullable=False),
    Column("financial_year", String(7), nullable=False),
    Column("proposed_on", Date, nullable=False),
    Column("proposed_by", Text, nullable=False),
    Column("basis", Text, nullable=False),
    Index("ix_rate_review_proposals_review", "agreement", "financial_year"),
)

#: The rates of each proposal and of the decision, in the order stated: ``position`` is the event's.
rate_review_rates = Table(
    "rate_review_rates",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("agreement", String(63), nullable=False),
    Column("financial_year", String(7), nullable=False),
    Column("decided", Boolean, nullable=False),  # False: a proposal's rate; True: the decision's
    Column("service", String(20), nullable=False),
    Column("zone", String(63), nullable=False),
    Column("band", String(63)),
    Column("hourly_rate", ExactDecimal, nullable=False),
    Index("ix_rate_review_rates_review", "agreement", "financial_year"),
)

#: The uplift calculator's arithmetic behind a proposal, line by line (none for stated rates).
rate_review_uplift_lines = Table(
    "rate_review_uplift_lines",
    metadata,
    Column("position", Integer, primary_key=True),  # the proposal's
    Column("line", Integer, primary_key=True),
    Column("agreement", String(63), nullable=False),
    Column("financial_year", String(7), nullable=False),
    Column("label", Text, nullable=False),
    Column("formula", Text, nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Index("ix_rate_review_uplift_lines_review", "agreement", "financial_year"),
)

rate_review_comments = Table(
    "rate_review_comments",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("agreement", String(63), nullable=False),
    Column("financial_year", String(7), nullable=False),
    Column("provider", String(63), nullable=False),
    Column("comment", Text, nullable=False),
    Column("commented_on", Date, nullable=False),
    Column("recorded_by", Text, nullable=False),
    Index("ix_rate_review_comments_review", "agreement", "financial_year"),
)


def _rates_text(rows: list[dict[str, Any]]) -> str:
    return ", ".join(
        f"{r['service']} {r['zone']}{' ' + r['band'] if r['band'] else ''} {r['hourly_rate']}" for r in rows
    )


class RatesProjection(Projection):
    name = "rates"
    tables = (
        rate_cards,
        rate_entries,
        rate_reviews,
        rate_review_proposals,
        rate_review_rates,
        rate_review_uplift_lines,
        rate_review_comments,
    )

    # -- rate cards ------------------------------------------------------------------------

    @handles(RateCard.Created)
    def card_created(self, conn: Connection, e: RateCard.Created, position: int) -> None:
        conn.execute(insert(rate_cards).values(id=str(e.originator_id), agreement=e.agreement))

    def _entry(self, conn: Connection, e: Any, position: int, hourly_rate: Any, blend: str) -> None:
        agreement = conn.execute(
            select(rate_cards.c.agreement).where(rate_cards.c.id == str(e.originator_id))
        ).scalar_one()
        conn.execute(
            insert(rate_entries).values(
                position=position,
                agreement=agreement,
                service=e.service,
                zone=e.zone,
                band=e.band,
                effective_from=e.effective_from,
                hourly_rate=hourly_rate,
                blend=blend,
                withdrawn=hourly_rate is None,
                reason=e.reason,
                recorded_by=str(e.envelope.actor),
                recorded_at=e.timestamp,
            )
        )

    @handles(RateCard.RatePublished)
    def rate_published(self, conn: Connection, e: RateCard.RatePublished, position: int) -> None:
        blend = " ".join(f"{row['weight']}@{row['rate']}" for row in e.blend or ())
        self._entry(conn, e, position, recorded_rate(e.hourly_rate, e.blend), blend)

    @handles(RateCard.RateWithdrawn)
    def rate_withdrawn(self, conn: Connection, e: RateCard.RateWithdrawn, position: int) -> None:
        self._entry(conn, e, position, None, "")

    # -- rate reviews ------------------------------------------------------------------------

    def _review(self, conn: Connection, e: Any, position: int, **values: Any) -> None:
        conn.execute(
            update(rate_reviews).where(rate_reviews.c.id == str(e.originator_id)).values(position=position, **values)
        )

    def _key(self, conn: Connection, e: Any) -> dict[str, str]:
        """The review's agreement and financial year, which every table of a review is keyed by."""
        c = rate_reviews.c
        row = conn.execute(select(c.agreement, c.financial_year).where(c.id == str(e.originator_id))).one()
        return {"agreement": row.agreement, "financial_year": row.financial_year}

    def _count(self, conn: Connection, e: Any, column: Any) -> int:
        return conn.execute(select(column).where(rate_reviews.c.id == str(e.originator_id))).scalar_one()

    def _rates(self, conn: Connection, key: dict[str, str], position: int, rates: Any, decided: bool) -> None:
        for line, rate in enumerate(rates):
            conn.execute(
                insert(rate_review_rates).values(
                    position=position,
                    line=line,
                    **key,
                    decided=decided,
                    service=rate["service"],
                    zone=rate["zone"],
                    band=rate["band"],
                    hourly_rate=rate["hourly_rate"],
                )
            )

    @handles(RateReview.Opened)
    def review_opened(self, conn: Connection, e: RateReview.Opened, position: int) -> None:
        conn.execute(
            insert(rate_reviews).values(
                agreement=e.agreement,
                financial_year=e.financial_year,
                id=str(e.originator_id),
                reason=e.reason,
                opened_on=e.envelope.effective_date,
                status=review_status(None, 0),
                proposals=0,
                comments=0,
                position=position,
            )
        )

    @handles(RateReview.Proposed)
    def review_proposed(self, conn: Connection, e: RateReview.Proposed, position: int) -> None:
        count = self._count(conn, e, rate_reviews.c.proposals) + 1
        status = review_status(None, count)
        self._review(conn, e, position, status=status, proposals=count, latest_proposal=_rates_text(e.rates))
        key = self._key(conn, e)
        conn.execute(
            insert(rate_review_proposals).values(
                position=position,
                **key,
                proposed_on=e.envelope.effective_date,
                proposed_by=str(e.envelope.actor),
                basis=e.basis,
            )
        )
        self._rates(conn, key, position, e.rates, decided=False)
        for line, (label, formula, amount) in enumerate(e.uplift_lines):
            conn.execute(
                insert(rate_review_uplift_lines).values(
                    position=position, line=line, **key, label=label, formula=formula, amount=amount
                )
            )

    @handles(RateReview.Commented)
    def review_commented(self, conn: Connection, e: RateReview.Commented, position: int) -> None:
        self._review(conn, e, position, comments=self._count(conn, e, rate_reviews.c.comments) + 1)
        conn.execute(
            insert(rate_review_comments).values(
                position=position,
                **self._key(conn, e),
                provider=e.provider,
                comment=e.comment,
                commented_on=e.envelope.effective_date,
                recorded_by=str(e.envelope.actor),
            )
        )

    @handles(RateReview.Decided)
    def review_decided(self, conn: Connection, e: RateReview.Decided, position: int) -> None:
        decided_on = e.envelope.effective_date
        proposals = self._count(conn, e, rate_reviews.c.proposals)
        self._review(
            conn,
            e,
            position,
            status=review_status(e.outcome, proposals),
            outcome=e.outcome,
            reasons=e.reasons,
            decided_by=e.decided_by,
            decided_on=decided_on,
            effective_from=e.effective_from,
            backdated=is_backdated(e.effective_from, decided_on),
        )
        self._rates(conn, self._key(conn, e), position, e.rates, decided=True)
