"""Read models as known at a past position of the log: the bitemporal side of every query.

``--on DATE`` asks about an effective date; ``--as-at`` asks what the ledger
*knew*: the read models as they stood once the events recorded up to a log
position (or a time) were applied, whatever was recorded since. Each read
model keeps every version of its rows (``ledger/projections/versions.py``), so
this is a filter on those versions, not a replay.

``table_at(table, as_at)`` is the one primitive: the live table for None,
else its versions current at the position, as a selectable with the table's
column names. ``known_at(engine, as_at)`` applies it to every statement run
through the engine it returns, so any query in ``ledger/queries/`` answers
"as at" unchanged, with the same code that gives the live figures: a query
(or a whole report) is simply handed that engine. Every statement is checked
first: a read model that has not yet applied the events up to the position,
or a table whose versions are not kept (the visits), cannot answer, and says
so instead of giving a figure the ledger never showed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Column, Engine, FromClause, Table, event, func, select
from sqlalchemy.sql import visitors
from sqlalchemy.sql.selectable import Select

from domain.errors import InvalidInput, Unavailable
from ledger.persistence.history import in_utc
from ledger.projections.base import owner_of
from ledger.projections.event_index import EventIndexProjection, event_index
from ledger.projections.tracking import positions
from ledger.projections.versions import known_at as versions_known_at
from ledger.projections.versions import live_columns

#: The execution option an engine from ``known_at`` carries: the position its statements read as at.
AS_AT_OPTION = "openbook_as_at"


@dataclass(frozen=True)
class AsAt:
    """A log position to read the read models as known at, and when the event there was recorded.

    ``asked`` is what the user wrote (a position, or a time), kept for the banner and ``--json``.
    ``recorded_at`` is None only for position 0 (before the first event).
    """

    position: int
    recorded_at: datetime | None
    asked: str

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "recorded_at": None if self.recorded_at is None else self.recorded_at.isoformat(),
            "asked": self.asked,
        }

    def banner(self) -> str:
        """The line a view prints above figures that are not the live ones."""
        when = "before the first event" if self.recorded_at is None else f"recorded {_when(self.recorded_at)}"
        return f"as known at position {self.position:,} ({when}; asked: {self.asked})"


def resolve_as_at(recorder: Any, mapper: Any, read_engine: Engine, asked: str) -> AsAt:
    """``--as-at POSITION|TIME`` as an ``AsAt``: a position as given, a time as the longest prefix recorded by then.

    A date alone means the end of that day (UTC): "as at 2020-03-01" is what
    the ledger knew once everything recorded on 1 March was in. Times without
    a zone are UTC. "As at T" is every event up to the first one recorded
    after T, exclusive (``_last_recorded_by``): an event's timestamp is taken
    when its command builds it, before the write lock, so timestamps need not
    rise with positions, and a later position stamped before T is not "known
    at T" while an earlier one stamped after T is still to come.
    """
    text = asked.strip()
    head = _head(recorder)
    if text.isdigit():
        position = int(text)
        if position > head:
            raise InvalidInput(f"--as-at: position {position:,} is after the last event recorded ({head:,})")
        return AsAt(position, _recorded_at(recorder, mapper, position), text)
    position = _last_recorded_by(recorder, mapper, read_engine, in_utc(_moment(text)), head)
    return AsAt(position, _recorded_at(recorder, mapper, position), text)


def _last_recorded_by(recorder: Any, mapper: Any, read_engine: Engine, moment: datetime, head: int) -> int:
    """The last position of the longest prefix of the log whose every event was recorded at or before ``moment``.

    The event index keeps, per position, the latest timestamp up to it
    (``latest_recorded_at``, which never falls), so the first position past the
    prefix is one search of that column's index, however long the log. Events
    the index has not applied yet (normally none: it catches up after every
    command) are read from the store, in order, after it.
    """
    c = event_index.c
    with read_engine.connect() as conn:
        reached = select(positions.c.position).where(positions.c.name == EventIndexProjection.name)
        indexed = conn.execute(reached).scalar() or 0
        first_after = conn.execute(
            select(c.position)
            .where(c.latest_recorded_at > moment, c.position <= indexed)
            .order_by(c.latest_recorded_at, c.position)
            .limit(1)
        ).scalar()
        if first_after is not None:
            return conn.execute(select(func.max(c.position)).where(c.position < first_after)).scalar() or 0
    last = indexed
    while last < head:
        found = recorder.select_notifications(start=last + 1, limit=100, stop=head)
        for notification in found:
            if in_utc(mapper.to_domain_event(notification).timestamp) > moment:
                return last
            last = notification.id
        if not found:
            break
    return last


def table_at(table: Table, as_at: AsAt | None) -> FromClause:
    """``table`` as known at ``as_at``: the table itself when None, else its versions then, named like the table."""
    if as_at is None:
        return table
    owner = owner_of(table)
    if owner is None or table not in owner.histories:
        raise InvalidInput(
            f"--as-at: {table.name} is not kept as known at past positions (docs/as-at.md says what is); "
            "ask without --as-at"
        )
    history = owner.histories[table]
    return select(*live_columns(history)).where(versions_known_at(history, as_at.position)).subquery(table.name)


def known_at(engine: Engine, as_at: AsAt | None) -> Engine:
    """``engine`` itself when ``as_at`` is None, else an engine whose every query reads as known at ``as_at``.

    Make one per command or page: which read models have reached the
    position is checked once per read model for the engine's life (as a live
    read during a rebuild, a read during one would see what the rebuild has done so far).
    """
    if as_at is None:
        return engine
    if not event.contains(engine, "before_execute", _as_at):
        event.listen(engine, "before_execute", _as_at, retval=True)
    return engine.execution_options(**{AS_AT_OPTION: _Reader(as_at)})


class _Reader:
    """What an engine from ``known_at`` reads as at: the position, each table's versions then, the read models checked."""

    def __init__(self, as_at: AsAt):
        self.as_at = as_at
        self.tables: dict[Table, FromClause] = {}
        self.reached: set[str] = set()

    def table(self, table: Table) -> FromClause:
        found = self.tables.get(table)
        if found is None:
            found = self.tables[table] = table_at(table, self.as_at)
        return found


def _as_at(conn: Any, statement: Any, multiparams: Any, params: Any, options: Any) -> Any:
    """Rewrite a query run through ``known_at``'s engine so it reads each read model as at the position."""
    reader = options.get(AS_AT_OPTION) or conn.get_execution_options().get(AS_AT_OPTION)
    if reader is None:
        return statement, multiparams, params
    if not isinstance(statement, Select):
        raise TypeError(f"a reader as known at a past position only reads: {type(statement).__name__} refused")
    read: set[Table] = set()

    def replace(element: Any) -> Any:
        if isinstance(element, Table) and owner_of(element) is not None:
            read.add(element)
            return reader.table(element)
        if isinstance(element, Column) and isinstance(element.table, Table) and owner_of(element.table) is not None:
            read.add(element.table)
            return reader.table(element.table).c[element.name]
        return None

    rewritten = visitors.replacement_traverse(statement, {}, replace)
    _check_reached(conn, reader, read)
    return rewritten, multiparams, params


def _check_reached(conn: Any, reader: _Reader, tables: set[Table]) -> None:
    """Refuse when a read model read has not applied every event up to the position (it would show too little)."""
    names = sorted({owner_of(t).name for t in tables} - reader.reached)  # type: ignore[union-attr]
    if not names:
        return
    query = select(positions.c.name, positions.c.position).where(positions.c.name.in_(names))
    reached = dict(conn.execute(query.execution_options(**{AS_AT_OPTION: None})).all())
    position = reader.as_at.position
    for name in names:
        if reached.get(name, 0) < position:
            raise Unavailable(
                f"the {name} read model has applied the events up to position {reached.get(name, 0):,} only, so it "
                f"cannot show what was known at position {position:,}; see `openbook projections status`"
            )
    reader.reached.update(names)


def _moment(text: str) -> datetime:
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text) + timedelta(days=1), time()) - timedelta(microseconds=1)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"--as-at: {text!r} is neither a position (a whole number) nor a time (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _head(recorder: Any) -> int:
    return recorder.max_notification_id() or 0


def _recorded_at(recorder: Any, mapper: Any, position: int) -> datetime | None:
    """When the last event at or before ``position`` was recorded (None before the first).

    PostgreSQL's positions may skip; a skipped position reads the same as the event before it.
    """
    if position <= 0:
        return None
    found = recorder.select_notifications(start=max(position - 99, 1), limit=100, stop=position)
    return mapper.to_domain_event(found[-1]).timestamp if found else None


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
