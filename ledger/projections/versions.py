"""Every version of every read-model row, so a read model can answer "as known at" a past log position.

A versioned table ``T`` has a companion ``T__history``: the same columns (no
uniqueness but the key) plus ``recorded_from``, the position of the event
that wrote that version, and ``superseded_at``, the position of the event
that replaced or deleted it (NULL while it is current). Its primary key is
``T``'s key and ``recorded_from``, which is also the index an "as at P" read
uses: the rows with ``recorded_from <= P`` and ``superseded_at`` NULL or
``> P`` are exactly ``T`` as it was once the events up to P were applied.

Handlers do not know about any of this. ``Projection.apply`` hands them a
``VersionedWrites`` in place of their connection: reads and writes to other
tables pass straight through, and each insert, update or delete of a
versioned table is run on the live table as before (same statement, same
result, so ``rowcount`` and ``inserted_primary_key`` still work) and then
mirrored into the history. The live tables, and every live query, are
untouched; the cost is paid once, on the write.

Two writes of one row by the same event leave one version (the last): no
reader can ask "as at" a point inside an event.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Integer, Table, and_, delete, insert, literal, or_, select, tuple_, update
from sqlalchemy.sql.dml import Delete, Insert, Update
from sqlalchemy.sql.elements import BindParameter

HISTORY_SUFFIX = "__history"
RECORDED_FROM = "recorded_from"
SUPERSEDED_AT = "superseded_at"
#: Keys per ``IN`` list when mirroring a write that touched many rows.
KEYS_PER_STATEMENT = 500


def history_of(table: Table) -> Table:
    """The history table of ``table``, defined (once) on the same ``MetaData``; creating it is the runner's job."""
    name = table.name + HISTORY_SUFFIX
    found = table.metadata.tables.get(name)
    if found is not None:
        return found
    columns = [
        Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable, autoincrement=False)
        for c in table.columns
    ]
    return Table(
        name,
        table.metadata,
        *columns,
        Column(RECORDED_FROM, Integer, primary_key=True, autoincrement=False),
        Column(SUPERSEDED_AT, Integer),
    )


def live_columns(history: Table) -> list[Column[Any]]:
    """The history's columns that the live table has too, in the live table's order."""
    return [c for c in history.columns if c.name not in (RECORDED_FROM, SUPERSEDED_AT)]


def known_at(history: Table, position: int) -> Any:
    """The condition picking, from ``history``, the versions current once the events up to ``position`` applied."""
    h = history.c
    return and_(h[RECORDED_FROM] <= position, or_(h[SUPERSEDED_AT].is_(None), h[SUPERSEDED_AT] > position))


class VersionedWrites:
    """A projection handler's connection that also keeps the history of each versioned table it writes.

    Anything else (reads, other tables, ``exec_driver_sql`` on unversioned
    tables) goes to the wrapped connection unchanged.
    """

    def __init__(self, conn: Connection, histories: Mapping[Table, Table], position: int):
        self._conn = conn
        self._histories = histories
        self._position = position

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        table = getattr(statement, "table", None)
        history = self._histories.get(table) if isinstance(statement, (Insert, Update, Delete)) else None
        if history is None or not isinstance(table, Table):
            return self._conn.execute(statement, parameters, **kwargs)
        if isinstance(statement, Insert):
            return self._insert(table, history, statement, parameters, kwargs)
        if parameters is not None:  # an executemany update or delete: no handler writes one; refuse rather than guess
            raise TypeError(f"{table.name} is versioned: update or delete it one statement at a time")
        if isinstance(statement, Update):
            _refuse_key_change(table, statement)
        where = statement.whereclause
        keyed = select(*table.primary_key.columns)
        keys = [tuple(row) for row in self._conn.execute(keyed if where is None else keyed.where(where))]
        result = self._conn.execute(statement, **kwargs)
        if keys:
            self._supersede(table, history, keys)
            if isinstance(statement, Update):
                self._copy(table, history, keys)
        return result

    def exec_driver_sql(self, statement: str, parameters: Any = None, **kwargs: Any) -> Any:
        for table in self._histories:  # plain SQL would change a versioned table behind its history's back
            if f" {table.name} " in f" {statement} ".replace("(", " ").replace(",", " "):
                raise TypeError(f"{table.name} is versioned: write it with SQLAlchemy statements, not plain SQL")
        return self._conn.exec_driver_sql(statement, parameters, **kwargs)

    def _insert(self, table: Table, history: Table, statement: Insert, parameters: Any, kwargs: Any) -> Any:
        plain = plain_values(table, statement, parameters) if not kwargs else None
        if plain is not None:  # one row of plain values: written with the table's one insert, and its version so
            result = self._conn.execute(plain_insert(table), plain)
            key = dict(zip((c.name for c in table.primary_key.columns), result.inserted_primary_key, strict=True))
            self._conn.execute(plain_insert(history), {**plain, **key, RECORDED_FROM: self._position})
            return result
        result = self._conn.execute(statement, parameters, **kwargs)
        if isinstance(parameters, Sequence) and not isinstance(parameters, Mapping):  # executemany: stays batched
            if parameters:
                rows = [{**_by_name(row), RECORDED_FROM: self._position} for row in parameters]
                self._conn.execute(insert(history), rows)
            return result
        self._copy(table, history, [tuple(result.inserted_primary_key)])
        return result

    def _supersede(self, table: Table, history: Table, keys: list[tuple[Any, ...]]) -> None:
        """Close the current versions of these rows at this position (one written by this same event is dropped)."""
        h = history.c
        for chosen in _in_batches(history, table, keys):
            self._conn.execute(delete(history).where(chosen & (h[RECORDED_FROM] == self._position)))
            self._conn.execute(
                update(history).where(chosen & h[SUPERSEDED_AT].is_(None)).values({SUPERSEDED_AT: self._position})
            )

    def _copy(self, table: Table, history: Table, keys: list[tuple[Any, ...]]) -> None:
        """Write the live rows with these keys into the history as versions recorded at this position."""
        names = [c.name for c in table.columns]
        for chosen in _in_batches(table, table, keys):
            rows = select(*table.columns, literal(self._position, Integer)).where(chosen)
            self._conn.execute(insert(history).from_select([*names, RECORDED_FROM], rows))


def plain_values(table: Table, statement: Insert, parameters: Any) -> dict[str, Any] | None:
    """The one row an ``insert(table).values(...)`` (or ``insert(table)`` with one row of ``parameters``) writes,
    when its values are all plain (None otherwise).

    Such a statement, built afresh by a handler for each event, costs more in
    SQLAlchemy (its cache key, then its history copied back out with a SELECT
    built and compiled per event) than the database spends writing it: the
    largest cost of a rebuild. Its values are run instead through one insert
    per table (compiled once) and written to the history as given: the same
    row, when nothing else fills a column in (no column default of either kind,
    which no read-model table has; a column not given is NULL in both).
    """
    if (
        statement._multi_values  # noqa: SLF001
        or statement._returning  # noqa: SLF001
        or statement._post_values_clause is not None  # noqa: SLF001 - ON CONFLICT and the like
        or statement._select_names  # noqa: SLF001 - INSERT ... FROM SELECT
        or not _fills_nothing_in(table)
    ):
        return None
    given = statement._values  # noqa: SLF001 - the statement's VALUES: plain values or SQL expressions
    if parameters is not None:
        return dict(parameters) if not given and isinstance(parameters, Mapping) else None
    if not given or any(type(v) is not BindParameter for v in given.values()):
        return None
    return {getattr(k, "key", k): v.value for k, v in given.items()}


@functools.cache
def _fills_nothing_in(table: Table) -> bool:
    """Whether every column of ``table`` holds just what an insert gives it (no default) under its own name."""
    return all(c.default is None and c.server_default is None and c.key == c.name for c in table.columns)


@functools.cache
def plain_insert(table: Table) -> Insert:
    """One insert statement per table, built once: its compiled form is cached by SQLAlchemy under one key."""
    return insert(table)


def _by_name(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {getattr(key, "name", key): value for key, value in row.items()}


def _refuse_key_change(table: Table, statement: Update) -> None:
    """An update that changed a key would lose the link between a row's versions: no handler does, so refuse it."""
    changed = {getattr(key, "name", key) for key in statement._values or {}}  # noqa: SLF001 - the statement's SET
    moved = changed & {c.name for c in table.primary_key.columns}
    if moved:
        raise TypeError(f"{table.name} is versioned: an update may not change its key ({', '.join(sorted(moved))})")


def _in_batches(where_of: Table, table: Table, keys: Iterable[tuple[Any, ...]]) -> Iterable[Any]:
    """``key IN (...)`` conditions on ``where_of`` (the live table or its history) for ``table``'s key, bounded."""
    names = [c.name for c in table.primary_key.columns]
    columns = [where_of.c[name] for name in names]
    keys = list(keys)
    for start in range(0, len(keys), KEYS_PER_STATEMENT):
        batch = keys[start : start + KEYS_PER_STATEMENT]
        if len(columns) == 1:
            yield columns[0].in_([k[0] for k in batch])
        else:
            yield tuple_(*columns).in_(batch)
