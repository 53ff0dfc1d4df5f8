"""Helpers shared by the tests."""

from __future__ import annotations

from typing import TypeVar

from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import Mapper

from ledger.persistence.transcoding import stored_transcoder

A = TypeVar("A", bound=BaseAggregate)


def replay(aggregate: A) -> A:
    """Store an aggregate's pending events the way the ledger does, read them back, rebuild it."""
    mapper = Mapper(transcoder=stored_transcoder())
    copy = None
    for event in aggregate.collect_events():
        copy = mapper.to_domain_event(mapper.to_stored_event(event)).mutate(copy)
    return copy
