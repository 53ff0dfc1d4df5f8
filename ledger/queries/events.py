"""The event browser's query: a page of the history's envelopes, filtered, in position order.

Reads the event index (``ledger/projections/event_index.py``), never the event
store: each filter has an index ending in ``position``, and a page is
``position > after ORDER BY position LIMIT n`` (keyset, never OFFSET), so the
next page costs what the first did at any depth of a 1,000,000-event history.
The history shows every provider's raw figures, so the query takes a
``HistoryAccess`` (``ledger.authorisation.history_access``) and shows only the
events it holds: an auditor's, those of records under the agreements their
audit body is appointed to (the index's ``agreement`` column) and of the shared
kinds (organisations, wage floors, checkpoints); the operator's, all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Engine, and_, or_, select

from domain.bounds import MAX_POSITION
from ledger.authorisation import SHARED_KINDS, HistoryAccess
from ledger.persistence.history import events_at, in_utc
from ledger.projections.event_index import event_index
from ledger.queries.rows import read_rows


@dataclass(frozen=True)
class EventFilter:
    """What a page of the history is narrowed to; every part is optional and they combine (AND).

    ``topics`` and ``kinds`` each match any of theirs (a topic is an event
    type, "openbook:cost-return.amended"; a kind every event of a kind of
    record, "cost-return"). Date ranges include both ends; recorded-at
    moments are compared in UTC.
    """

    aggregate_id: str | None = None
    topics: Sequence[str] = ()
    kinds: Sequence[str] = ()
    actor: str | None = None
    organisation: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None


def recorded_days(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """A range of UTC days as the moments ``EventFilter`` compares: from the first day's start to the last day's
    end, both days included (the browser's form and the API take days)."""
    return (None if first is None else datetime.combine(first, time.min),
            None if last is None else datetime.combine(last, time.max))  # fmt: skip


def event_page(
    engine: Engine,
    access: HistoryAccess,
    where: EventFilter = EventFilter(),
    *,
    after: int = 0,
    up_to: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Up to ``limit`` events after position ``after`` (and at most ``up_to``) that match ``where``: their
    envelopes, by position.

    The next page starts after the last position shown. With ``before``, the ``limit`` events just before that
    position instead (still in position order): the previous page, read backwards on the same index.
    """
    if not isinstance(access, HistoryAccess):
        raise TypeError(f"the event history needs a HistoryAccess from ledger.authorisation, not {type(access).__name__}")
    c = event_index.c
    query = select(event_index).where(c.position > after)
    if up_to is not None:
        query = query.where(c.position <= up_to)
    if before is not None:
        query = query.where(c.position < before)
    if access.agreements is not None:
        query = query.where(
            or_(c.agreement.in_(sorted(access.agreements)), and_(c.agreement.is_(None), c.aggregate_kind.in_(SHARED_KINDS)))
        )
    if where.aggregate_id is not None:
        query = query.where(c.aggregate_id == where.aggregate_id)
    if where.topics:
        query = query.where(c.topic.in_(list(where.topics)))
    if where.kinds:
        query = query.where(c.aggregate_kind.in_(list(where.kinds)))
    if where.actor is not None:
        query = query.where(c.actor == where.actor)
    if where.organisation is not None:
        query = query.where(c.organisation == where.organisation)
    if where.effective_from is not None:
        query = query.where(c.effective_date >= where.effective_from)
    if where.effective_to is not None:
        query = query.where(c.effective_date <= where.effective_to)
    if where.recorded_from is not None:
        query = query.where(c.recorded_at >= in_utc(where.recorded_from))
    if where.recorded_to is not None:
        query = query.where(c.recorded_at <= in_utc(where.recorded_to))
    order = c.position.desc() if before is not None else c.position
    rows = read_rows(engine, query.order_by(order).limit(limit))
    if before is not None:
        rows.reverse()
    return [{**row, "recorded_at": in_utc(row["recorded_at"])} for row in rows]


def event_at(book: Any, access: HistoryAccess, position: int, *, up_to: int | None = None) -> dict[str, Any] | None:
    """One event whole, as the event browser's page and ``/api/v1/events/<position>`` show it: its index row (the
    kind and agreement of its record), its envelope, its payload and its chain hash (the stored hash that links it
    to the one before). None if ``access`` does not hold it, or it is after ``up_to`` (as known at a past
    position), or no event is recorded there.

    The access is checked on the event index first (``event_page`` at exactly that position), so an event the
    reader may not see is never read from the store. A recorded event never changes, so the event as at P is the
    event as it is now.
    """
    if not 1 <= position <= (MAX_POSITION if up_to is None else up_to):
        return None
    held = event_page(book.read_engine, access, after=position - 1, up_to=position, limit=1)
    if not held:
        return None
    found = events_at(book.read_engine, book.ledger.mapper, [position])
    if not found:
        return None
    stored = book.ledger.recorder.select_hashes(position, 1)
    chain_hash = stored[0][1] if stored and stored[0][0] == position else None
    return {**held[0], **found[0].as_json(), "chain_hash": chain_hash}
