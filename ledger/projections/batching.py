"""A replay's writes gathered: each projection's one-row inserts held back and written by one ``executemany`` a table.

A replay (``ProjectionRunner.replay``: a rebuild, the read-model check) applies
a batch of events to a projection in one savepoint. Its handlers insert a row
or two per event (and ``VersionedWrites`` a history row for each), and one
statement run by SQLAlchemy costs far more than the database spends writing
its row: most of a rebuild's time. ``BatchedWrites`` is the connection the
handlers get there instead: an insert of plain values into a table whose key
it gives is held back, and everything held back is written before anything
else reaches the database (any other statement, a read, any other use of the
connection), and at the end of the batch. So a handler reads what it and the
handlers before it wrote, as ever; only the moment each row is sent changes.

What cannot be the same is when an insert fails (a duplicate key): at the
flush, not in the handler of its event. The runner therefore treats any failure
in a gathered batch as "not applied here": it rolls the savepoint back and
leaves the projection to the ordinary catch-up, which applies the same events
one statement at a time, and so stops at, and records, the very event that fails.
Rows held back for different tables are written table by table (no read-model
table has a foreign key or a trigger, so their order does not matter); rows of
one table keep their order.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.sql.dml import Insert

from ledger.projections.versions import plain_insert, plain_values


class BatchedWrites:
    """A connection whose plain inserts wait for ``flush`` (see the module); anything else flushes them first.

    ``memo`` is for a projection's own state for the rest of the batch (one
    transaction, under the projection's lock, events in order): what it would
    otherwise read back from rows it has just written.
    """

    def __init__(self, conn: Connection):
        self._conn = conn
        self._held: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = {}
        self.memo: dict[str, Any] = {}

    def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        rows = _held_rows(statement, parameters) if not kwargs else None
        if rows is None:
            self.flush()
            return self._conn.execute(statement, parameters, **kwargs)
        table = statement.table
        for row in rows:
            self._held.setdefault((table, tuple(row)), []).append(row)
        return _Held(rows, table)

    def exec_driver_sql(self, statement: str, parameters: Any = None, **kwargs: Any) -> Any:
        self.flush()
        return self._conn.exec_driver_sql(statement, parameters, **kwargs)

    def __getattr__(self, name: str) -> Any:  # any other use of the connection sees every row written so far
        self.flush()
        return getattr(self._conn, name)

    def flush(self) -> None:
        """Write every row held back: one ``executemany`` per table (and set of columns given)."""
        held, self._held = self._held, {}
        dialect = self._conn.dialect
        for (table, columns), rows in held.items():
            if dialect.name != "sqlite":
                self._conn.execute(plain_insert(table), rows)
                continue
            statement, processors = _sqlite_insert(table, columns, dialect)
            converted = [
                tuple(v if f is None or v is None else f(v) for f, v in zip(processors, row.values(), strict=True))
                for row in rows
            ]
            self._conn.exec_driver_sql(statement, converted)


def _sqlite_insert(table: Table, columns: tuple[str, ...], dialect: Dialect) -> tuple[str, tuple[Any, ...]]:
    """The insert of these columns as SQLite's driver takes it, and each column's value conversion, made once.

    On SQLite SQLAlchemy spends more converting each row of an ``executemany``
    than SQLite spends writing it. Its per-row work is the columns' own bind
    processors (a date or time as text, a boolean as 0 or 1), which are applied
    here, to the same effect (SQLAlchemy passes None through to NULL too),
    and the rows go straight to the driver. PostgreSQL's driver takes the
    values as they are, and SQLAlchemy batches them itself.
    """
    key = (table, columns, type(dialect))
    found = _SQLITE_INSERTS.get(key)
    if found is None:
        quote = dialect.identifier_preparer.quote
        statement = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        processors = tuple(table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns)
        found = _SQLITE_INSERTS[key] = (statement, processors)
    return found


_SQLITE_INSERTS: dict[tuple[Table, tuple[str, ...], type], tuple[str, tuple[Any, ...]]] = {}


class _Held:
    """What a held-back insert returns: its rows counted and, for one row, its key (all a handler reads of it)."""

    def __init__(self, rows: list[dict[str, Any]], table: Table):
        self.rowcount = len(rows)
        if len(rows) == 1:
            self.inserted_primary_key = tuple(rows[0][key] for key in _key_names(table))


def _held_rows(statement: Any, parameters: Any) -> list[dict[str, Any]] | None:
    """The rows an insert writes when it may be held back (plain values, every key column given); else None.

    Run for every statement a replay's handlers send, so checked cheapest first.
    """
    if statement.__class__ is not Insert or statement.table.__class__ is not Table:  # not ON CONFLICT and the like
        return None
    table = statement.table
    if parameters is None or parameters.__class__ is dict:
        rows = [plain_values(table, statement, parameters)]
    elif parameters.__class__ is list and parameters:  # an executemany
        rows = [plain_values(table, statement, row) if isinstance(row, Mapping) else None for row in parameters]
    else:
        return None
    keys = _key_names(table)
    for row in rows:
        if row is None or not keys:
            return None
        for key in keys:
            if row.get(key) is None:  # an autoincremented key: the handler may read it back
                return None
    return rows  # type: ignore[return-value]


@functools.cache
def _key_names(table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.primary_key.columns)
