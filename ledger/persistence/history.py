"""The recorded history itself, event by event: position, topic, envelope, payload.

Read straight from the event store (through the recorder), not from a read
model: commands use it to find what they must never lose (the chunks an
import names, the rate card before a decision), and auditors to read the
history. It shows every provider's raw figures, so a reader asks
``ledger.authorisation.history_access`` first (and shows only what it holds).

``STORED_AGGREGATES`` lists every aggregate the ledger stores: the event
index reads all their topics, and ``openbook events history`` names a record
by its kind (the aggregate's topic without ``openbook:``) and natural key.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic
from sqlalchemy import Engine, bindparam, text

from domain.activity.activity_import import ActivityImport
from domain.activity.arrears import Arrears
from domain.aggregate import LedgerAggregate
from domain.agreements.agreement import Agreement
from domain.audit.checkpoint import Checkpoint
from domain.bounds import MAX_POSITION
from domain.incentives.incentive_assessment import IncentiveAssessment
from domain.incentives.incentive_scheme import IncentiveScheme
from domain.incentives.kpi_results import KpiResults
from domain.organisations.organisation import Organisation
from domain.organisations.user import User
from domain.rates.rate_card import RateCard
from domain.rates.rate_review import RateReview
from domain.returns.cost_return import CostReturn
from domain.returns.wage_floors import WageFloors
from domain.settlement.payment_ledger import PaymentLedger
from domain.settlement.pooled_budget import PooledBudget
from domain.settlement.settlement import Settlement
from domain.settlement.year_end import YearEnd
from domain.statements.issued_statement import IssuedStatement
from ledger.jsonable import json_ready
from ledger.persistence import EVENTS_TABLE

#: Every aggregate the ledger stores (tests/integration/test_stored_format.py checks none is missing).
STORED_AGGREGATES: tuple[type[LedgerAggregate], ...] = (
    Organisation, User, Agreement, RateCard, RateReview, CostReturn, WageFloors, ActivityImport, Arrears,
    KpiResults, IncentiveScheme, IncentiveAssessment, PooledBudget, PaymentLedger, Settlement, YearEnd,
    Checkpoint, IssuedStatement,
)  # fmt: skip


def in_utc(moment: datetime) -> datetime:
    """A recorded-at moment in UTC (SQLite's read models keep it without its zone, which is always UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def aggregate_kind(topic: str) -> str:
    """The kind of record an event topic is about: "openbook:cost-return.amended" -> "cost-return"."""
    return topic.removeprefix("openbook:").split(".", 1)[0]


def created_under(event: Any) -> str | None:
    """The agreement a record's first event creates it under: its ``agreement`` (a cost return's, a settlement's),
    or an agreement's own ``code``; None for a record under no agreement (an organisation, a user, a checkpoint, the
    wage floors) or an event that is not a record's first. A record never moves to another agreement, so its first
    event says which agreement every later one is under (what auditors' access is narrowed by)."""
    if getattr(event, "originator_version", None) != 1:
        return None
    named = getattr(event, "agreement", None)
    if named is None and aggregate_kind(get_topic(type(event))) == "agreement":
        named = getattr(event, "code", None)
    return named if isinstance(named, str) else None

_BASE_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic", "envelope"}


@dataclass(frozen=True)
class EventRecord:
    position: int
    topic: str
    aggregate_id: UUID
    version: int
    recorded_at: datetime
    actor: str
    organisation: str | None
    effective_date: date
    reason: str | None
    idempotency_key: str | None
    payload: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "topic": self.topic,
            "aggregate_id": str(self.aggregate_id),
            "version": self.version,
            "recorded_at": self.recorded_at.isoformat(),
            "actor": self.actor,
            "organisation": self.organisation,
            "effective_date": self.effective_date.isoformat(),
            "reason": self.reason,
            "idempotency_key": self.idempotency_key,
            "payload": json_ready(self.payload),
        }


def read_events(
    recorder: Any,
    mapper: Mapper,
    *,
    after: int = 0,
    limit: int = 100,
    topics: Sequence[str] = (),
    aggregate_id: UUID | None = None,
) -> list[EventRecord]:
    """Up to ``limit`` events after position ``after``, optionally filtered."""
    found: list[EventRecord] = []
    for record in _scan(recorder, mapper, after, topics):
        if aggregate_id is None or record.aggregate_id == aggregate_id:
            found.append(record)
            if len(found) >= limit:
                break
    return found


def _scan(recorder: Any, mapper: Mapper, after: int, topics: Sequence[str]) -> Iterator[EventRecord]:
    while True:
        batch = recorder.select_notifications(start=after, limit=500, topics=list(topics), inclusive_of_start=False)
        for n in batch:
            yield event_record(n.id, n.topic, mapper.to_domain_event(n))
        if len(batch) < 500:
            return
        after = batch[-1].id


def event_record(position: int, topic: str, event: Any) -> EventRecord:
    """One recorded event as auditors read it: its place in the log, its envelope and its payload."""
    env = event.envelope
    return EventRecord(
        position=position,
        topic=topic,
        aggregate_id=UUID(str(event.originator_id)),
        version=event.originator_version,
        recorded_at=event.timestamp,
        actor=env.actor.user,
        organisation=env.actor.organisation,
        effective_date=env.effective_date,
        reason=env.reason,
        idempotency_key=env.idempotency_key,
        payload={k: v for k, v in vars(event).items() if k not in _BASE_FIELDS},
    )


_COLUMNS = "notification_id, originator_id, originator_version, topic, state"


def events_at(engine: Engine, mapper: Mapper, positions: Sequence[int]) -> list[EventRecord]:
    """The events at these positions (a page the event index found), in position order.

    One statement by the primary key, however far apart the positions are.
    """
    if not positions:
        return []
    statement = text(f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} WHERE notification_id IN :positions").bindparams(
        bindparam("positions", expanding=True)
    )
    with engine.connect() as conn:
        rows = conn.execute(statement, {"positions": sorted(set(positions))}).all()
    return [event_record(row[0], row[3], _domain_event(mapper, row)) for row in sorted(rows, key=lambda r: r[0])]


def aggregate_events(
    engine: Engine, mapper: Mapper, aggregate_id: UUID, up_to: int | None = None
) -> list[tuple[int, Any]]:
    """Every event of one aggregate as (position, domain event), in the aggregate's order (its versions).

    ``up_to``: only those at or before that position (the record as known then, for ``--as-at``).
    """
    statement = text(
        f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} WHERE originator_id = :id AND notification_id <= :up_to "
        "ORDER BY originator_version"
    )
    key: Any = aggregate_id.hex if engine.dialect.name == "sqlite" else aggregate_id  # as each recorder stores it
    with engine.connect() as conn:
        rows = conn.execute(statement, {"id": key, "up_to": MAX_POSITION if up_to is None else up_to}).all()
    return [(row[0], _domain_event(mapper, row)) for row in rows]


def _domain_event(mapper: Mapper, row: Any) -> Any:
    _position, originator_id, version, topic, state = row
    return mapper.to_domain_event(StoredEvent(UUID(str(originator_id)), version, topic, bytes(state)))
