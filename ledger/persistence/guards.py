"""Guards: a command's preconditions, checked inside the transaction that records its events.

A check made before recording can be stale by the time the events commit
(another process recorded, or swept, meanwhile). A guard runs in the recording
transaction itself, before the events are written, and raising records
nothing. On SQLite that transaction holds the database write lock from its
start (``BEGIN IMMEDIATE``), so nothing else can commit while the guard looks;
on PostgreSQL a guard takes the advisory locks its check needs (``hold``),
held until the events commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from ledger.persistence import EVENTS_TABLE, LOCK_FUNCTION


@dataclass(frozen=True)
class InTransaction:
    """The recording transaction as a guard sees it: which database, and a way to query inside it."""

    dialect: str  # "sqlite" or "postgresql"
    #: Run one statement (``?`` placeholders) in the recording transaction; returns its rows as tuples.
    query: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


#: Checks what must still hold when a command's events commit; raises to record nothing.
Guard = Callable[[InTransaction], None]


def lock_key(name: str) -> int:
    """A PostgreSQL advisory lock key (signed 64-bit) for a named thing, e.g. ``activity-import:wirral``."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


def hold(tx: InTransaction, key: int, *, shared: bool = False) -> None:
    """PostgreSQL: wait for the advisory lock ``key`` and hold it until the transaction ends.

    SQLite needs nothing: the recording transaction already excludes every other writer.
    """
    if tx.dialect == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        tx.query(f"SELECT {function}(?)", (key,))


def exclude_writers(tx: InTransaction) -> None:
    """Let no other command record until this transaction ends: what a guard reads of the head stays the head.

    SQLite needs nothing (``BEGIN IMMEDIATE``). On PostgreSQL this takes, now,
    the EXCLUSIVE lock on the events table that the recorder would take just
    before inserting (readers are not blocked), through the owner's lock
    function as the recorder does (the application's role may not lock the
    table itself in the deployment of docs/deployment.md).
    """
    if tx.dialect == "postgresql":
        tx.query(f"SELECT {LOCK_FUNCTION}()", ())


def events_after(tx: InTransaction, mapper: Mapper, position: int, topic: str) -> list[Any]:
    """The domain events of one topic recorded after ``position``, read inside the transaction."""
    rows = tx.query(
        f"SELECT originator_id, originator_version, topic, state FROM {EVENTS_TABLE} "
        "WHERE notification_id > ? AND topic = ? ORDER BY notification_id",
        (position, topic),
    )
    return [mapper.to_domain_event(StoredEvent(UUID(str(oid)), version, t, bytes(state))) for oid, version, t, state in rows]
