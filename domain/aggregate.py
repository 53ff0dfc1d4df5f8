"""The base of every openbook aggregate: explicit topics, the envelope, natural-key ids.

Stored topics are part of the data format, so every aggregate and event class
declares a ``TOPIC`` that does not depend on its module path: code can move or
be renamed and old events still replay. Aggregate ids are uuid5 of a natural
key (``natural_id("organisation", "premier-care")``), so the same thing can
never be created twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid5

from eventsourcing.domain import AggregateCreated, AggregateEvent, BaseAggregate

from domain.envelope import Envelope

#: Fixed namespace for openbook's deterministic ids. Never change it.
NAMESPACE = UUID("5f0c6b1e-2a57-4d8e-9a43-0b7e2c1d9f60")


def natural_id(kind: str, *key: str) -> UUID:
    """The aggregate id for a natural key, e.g. ``natural_id("user", "a@b.org")``."""
    return uuid5(NAMESPACE, ":".join((kind, *key)))


@dataclass(frozen=True)
class Change:
    """One line of a record's history as people read it: the date it applies, what, why, who."""

    effective_date: date
    what: str
    reason: str | None
    recorded_by: str

    @classmethod
    def of(cls, envelope: Envelope, what: str) -> Change:
        return cls(envelope.effective_date, what, envelope.reason, str(envelope.actor))


class LedgerAggregate(BaseAggregate[UUID]):
    """Base class: subclasses set ``TOPIC`` and define events subclassing ``LedgerEvent``."""

    class Event(AggregateEvent):
        envelope: Envelope

    @property
    def natural_key(self) -> str:
        """How people name this record in messages (a code, a username); the id by default."""
        for attribute in ("code", "username"):
            value = getattr(self, attribute, None)
            if isinstance(value, str):
                return repr(value)
        return str(self.id)

    def _log(self, event: AggregateEvent, what: str) -> None:
        """Add a line to the history people read, kept in ``_changes`` by aggregates that show one."""
        self.__dict__.setdefault("_changes", []).append(Change.of(event.envelope, what))


LedgerEvent = LedgerAggregate.Event


class LedgerCreated(LedgerEvent, AggregateCreated):
    """Base of every "created" event: it constructs the aggregate from its fields."""
