"""The event index: every recorded event's envelope, one row per position, for the auditors' event browser.

The event store can only be read by position (and by topic); an auditor asks
"what did this user record in March", "every event of this cost return",
"every settlement event effective in 2019-20". Each filter here has an index
that ends in ``position``, so a page (``position > after ORDER BY position
LIMIT n``, never OFFSET) is a range scan of the index whatever the history's
size (``ledger/queries/events.py`` asks; ``bench/event_index.py`` measures).

Each row also names the agreement its record is under (``agreement``: from the
record's first event, ``ledger.persistence.history.created_under``; later events
inherit it from their record's first row; None for a record under no agreement),
so an auditor's browser is narrowed to the agreements their audit body is
appointed to (``ledger.authorisation.history_access``) by one indexed column.

Only the envelope is kept: payloads stay in the event store and the browser
reads the few it shows by position (``ledger.persistence.history.events_at``).
The index reads every topic of every aggregate the ledger stores, and an event
with an odd envelope (a field missing, a value of another type) is indexed
with what it has: this read model must never stop on an event the ledger accepted.

``latest_recorded_at`` is the latest ``recorded_at`` of every event at or
before the row's position: a running maximum, so it never falls as positions
rise, even where the events' own timestamps do (an event is stamped when its
command builds it, before the write lock: a slow import stamped first can be
stored after a quick command stamped later). "As at a time T"
(``ledger/queries/as_at.py``) is the longest prefix of the log recorded by T:
the last row whose ``latest_recorded_at`` is at or before T, one search of its
index whatever the log's length.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import (
    BigInteger,
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
    bindparam,
    insert,
    select,
)

from domain.aggregate import LedgerEvent
from ledger.persistence.history import STORED_AGGREGATES, aggregate_kind, created_under, in_utc
from ledger.projections.base import Projection

metadata = MetaData()
#: How many records' agreements the index keeps in memory (a few MB); past that it forgets them all and reads again.
REMEMBERED_RECORDS = 100_000

event_index = Table(
    "event_index",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("topic", Text, nullable=False),
    Column("aggregate_kind", Text, nullable=False),  # the topic's aggregate part: "cost-return", "settlement"
    Column("aggregate_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("actor", Text, nullable=False),  # the username
    Column("organisation", Text),  # the actor's organisation code (none for the system)
    Column("agreement", Text),  # the agreement the event's record is under; None for organisations, users, ...
    Column("effective_date", Date),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text),
    # The latest recorded_at at or before this position: never falls as positions rise (as at a time reads it).
    Column("latest_recorded_at", DateTime(timezone=True), nullable=False),
    # One index per filter, each ending in position: a filtered page is a range scan in position order.
    Index("event_index_by_aggregate", "aggregate_id", "position"),
    Index("event_index_by_topic", "topic", "position"),
    Index("event_index_by_kind", "aggregate_kind", "position"),
    Index("event_index_by_actor", "actor", "position"),
    Index("event_index_by_organisation", "organisation", "position"),
    Index("event_index_by_agreement", "agreement", "position"),
    Index("event_index_by_effective_date", "effective_date", "position"),
    Index("event_index_by_recorded_at", "recorded_at", "position"),
    Index("event_index_by_latest_recorded_at", "latest_recorded_at", "position"),
)


@functools.cache
def event_topics() -> tuple[str, ...]:
    """Every stored event topic of every aggregate the ledger stores (found once: the runner asks per catch-up)."""
    return tuple(
        sorted(
            {
                value.TOPIC
                for aggregate in STORED_AGGREGATES
                for value in vars(aggregate).values()
                if isinstance(value, type)
                and issubclass(value, LedgerEvent)
                and getattr(value, "TOPIC", "").startswith(aggregate.TOPIC + ".")
            }
        )
    )


class EventIndexProjection(Projection):
    name = "event-index"
    version = 2  # 2: each event's agreement
    tables = (event_index,)

    @property
    def topics(self) -> tuple[str, ...]:
        return event_topics()

    def __init__(self) -> None:
        #: Each record's agreement, as its first row has it: ``agreement_of``.
        self._agreements: dict[str, str | None] = {}

    def apply(self, conn: Connection, event: Any, position: int) -> bool:
        row = index_row(event, position)
        memo = getattr(conn, "memo", None)  # a replay's batch (``BatchedWrites``): the row it wrote last
        last = memo.get("latest") if memo is not None else None
        if last is not None and last[0] < position:
            before = last[1]
        else:
            found = conn.execute(_LATEST_BEFORE, {"position": position}).scalar()
            before = None if found is None else in_utc(found)
        row["latest_recorded_at"] = row["recorded_at"] if before is None else max(row["recorded_at"], before)
        if memo is not None:
            memo["latest"] = (position, row["latest_recorded_at"])
        if row["agreement"] is None and row["version"] > 1:  # a later event: under its record's agreement
            row["agreement"] = self.agreement_of(conn, row["aggregate_id"])
        elif row["version"] == 1:
            self._remember(row["aggregate_id"], row["agreement"])
        conn.execute(_INSERT, row)
        return False

    def agreement_of(self, conn: Connection, aggregate_id: str) -> str | None:
        """The agreement of a record's first row, remembered: it never changes, so it is read at most once.

        A record's first row is its first event's, and holds that event's
        agreement; the log is append-only, so whatever process or transaction
        wrote it, and if it is written again (a rebuild), it holds the same.
        Remembered from each first event applied and each row read, no later
        event of the record reads the database for it (in a replay, a read
        would send every insert held back so far).
        """
        if aggregate_id in self._agreements:
            return self._agreements[aggregate_id]
        agreement = conn.execute(_RECORD_AGREEMENT, {"aggregate_id": aggregate_id}).scalar()
        if agreement is not None:  # None may be a record not yet indexed here: read again next time
            self._remember(aggregate_id, agreement)
        return agreement

    def _remember(self, aggregate_id: str, agreement: str | None) -> None:
        if len(self._agreements) >= REMEMBERED_RECORDS:
            self._agreements.clear()
        self._agreements[aggregate_id] = agreement


#: The handler's statements, built once (SQLAlchemy caches their compiled form under one key; one built per event
#: cost more than running it): the latest recorded-at before a position, a record's agreement (its first row's),
#: and the insert of a row.
_LATEST_BEFORE = (
    select(event_index.c.latest_recorded_at)
    .where(event_index.c.position < bindparam("position"))
    .order_by(event_index.c.position.desc())
    .limit(1)
)
_RECORD_AGREEMENT = (
    select(event_index.c.agreement)
    .where(event_index.c.aggregate_id == bindparam("aggregate_id"))
    .order_by(event_index.c.position)
    .limit(1)
)
_INSERT = insert(event_index)


def index_row(event: Any, position: int) -> dict[str, Any]:
    """The envelope of ``event`` as the index keeps it; what an odd event lacks is left empty, never refused."""
    topic = get_topic(type(event))
    envelope = getattr(event, "envelope", None)
    actor = getattr(envelope, "actor", None)
    effective = getattr(envelope, "effective_date", None)
    reason = getattr(envelope, "reason", None)
    return {
        "position": position,
        "topic": topic,
        "aggregate_kind": aggregate_kind(topic),
        "aggregate_id": str(event.originator_id),
        "version": int(event.originator_version),
        "actor": str(getattr(actor, "user", None) or actor or ""),
        "organisation": _text(getattr(actor, "organisation", None)),
        "agreement": created_under(event),
        "effective_date": effective if isinstance(effective, date) and not isinstance(effective, datetime) else None,
        "recorded_at": in_utc(event.timestamp),
        "reason": _text(reason),
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
