"""The recorded history itself, event by event: position, topic, envelope, payload.

Read straight from the event store (through the recorder), not from a read
model: commands use it to find what they must never lose (the chunks an
import names, the rate card before a decision), and auditors to read the
history. It shows every provider's raw figures, so a reader asks
``ledger.authorisation.check_may_read_history`` first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper

from ledger.jsonable import json_ready

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
            event = mapper.to_domain_event(n)
            env = event.envelope
            yield EventRecord(
                position=n.id,
                topic=n.topic,
                aggregate_id=UUID(str(n.originator_id)),
                version=n.originator_version,
                recorded_at=event.timestamp,
                actor=env.actor.user,
                organisation=env.actor.organisation,
                effective_date=env.effective_date,
                reason=env.reason,
                idempotency_key=env.idempotency_key,
                payload={k: v for k, v in vars(event).items() if k not in _BASE_FIELDS},
            )
        if len(batch) < 500:
            return
        after = batch[-1].id
