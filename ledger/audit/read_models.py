"""Are the read models what the history says? Replay it into scratch tables and list every row that differs.

Read models carry no chain: a row edited in the database (a settlement's
figure, a cost return's total) would show a forged figure with nothing to say
so. ``read_model_differences`` replays the whole history with the projections'
own code (``ledger.bootstrap.read_models``, fresh instances, the same runner)
into scratch tables — on SQLite a temporary file, on PostgreSQL a scratch
schema in the same database, dropped afterwards — each projection exactly as far
as its live position, and compares the two sets of tables row by row in the
database (``EXCEPT`` both ways, so memory holds only the rows that differ).
Every stored table is compared, the ``__history`` tables that ``--as-at``
reads included (keyed by the live key and ``recorded_from``): an edited past
version would otherwise change an as-at figure unseen.

The live tables are read in one snapshot together with their positions; if a
live read model moved on during the replay, the replay catches up to it and the
comparison runs again. What this proves is that the projection code, applied to
the history, gives the live rows; it trusts that code (the as-at tests check it
against independent replays) and the history (the one verifier, ``ledger.audit.verify``, checks that).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, text

from domain.errors import Unavailable
from ledger.bootstrap import Openbook, read_models
from ledger.files.chunks import LiveChunks
from ledger.persistence.database import LOCK_TIMEOUT_SECONDS
from ledger.persistence.scratch import scratch_beside
from ledger.projections.runner import Progress, ProjectionRunner
from ledger.projections.runner import positions as positions_table

#: How many times the comparison is retried when a live read model moved on while the replay ran.
ATTEMPTS = 5

Rows = Callable[[str], list[tuple[Any, ...]]]


@dataclass(frozen=True)
class Difference:
    """One way a live read-model row differs from the replay.

    ``key`` is the row's primary key (column -> value). ``column`` names the
    differing column, with its ``live`` and ``replayed`` values as stored; a
    row on one side only has ``column`` None and that side's whole row (a dict)
    as its value, None on the other side.
    """

    table: str
    key: dict[str, Any]
    column: str | None
    live: Any
    replayed: Any


def read_model_differences(book: Openbook, progress: Progress | None = None) -> list[Difference]:
    """Replay the history into scratch read models; every live row that differs, in table and key order.

    ``progress(projection name, position reached, position it replays to)``
    is called as the replay goes, as the runner's catch-up calls it. Nothing is
    written to the live read models.
    """
    projections = read_models(book.records, LiveChunks(book.ledger.write_engine))
    tables = [table for p in projections for table in p.stored_tables]  # the histories as-at reads too
    with _scratch(book) as (engine, compare):
        runner = ProjectionRunner(engine, book.ledger.recorder, book.ledger.mapper, projections)
        runner.create_tables()
        for _attempt in range(ATTEMPTS):
            runner.catch_up_to(_live_positions(book, runner), progress)
            found = compare(tables, runner.positions())
            if found is not None:
                return found
    raise Unavailable(
        f"the live read models kept moving while they were compared ({ATTEMPTS} tries, or one is being rebuilt); "
        "try again when they are quieter"
    )


def _live_positions(book: Openbook, runner: ProjectionRunner) -> dict[str, int]:
    live = book.projections.positions()
    return {name: live.get(name, 0) for name in runner.projections}


#: The differences found, or None when the live read models were not where the replay stopped.
Found = list[Difference] | None
Compare = Callable[[Sequence[Table], dict[str, int]], Found]


@contextmanager
def _scratch(book: Openbook) -> Iterator[tuple[Engine, Compare]]:
    """An engine on scratch tables, and the comparison of live with scratch; removed afterwards."""
    with scratch_beside(book.read_engine, "openbook_replay") as scratch:
        if scratch.sqlite_path is not None:
            live, path = book.database.sqlite_path, scratch.sqlite_path
            yield scratch.engine, lambda tables, reached: _compare_sqlite(live, path, tables, reached)
        else:
            schema = scratch.schema or ""
            yield scratch.engine, lambda tables, reached: _compare_postgres(book.read_engine, schema, tables, reached)


def _compare_sqlite(live: Path, scratch: Path, tables: Sequence[Table], reached: dict[str, int]) -> Found:
    conn = sqlite3.connect(live, isolation_level=None, timeout=LOCK_TIMEOUT_SECONDS)
    try:
        conn.execute("ATTACH DATABASE ? AS replay", (str(scratch),))
        conn.execute("BEGIN")  # one snapshot of the live tables and their positions (WAL: no lock taken)
        try:
            return _compare(lambda sql: conn.execute(sql).fetchall(), '"main"', '"replay"', tables, reached)
        finally:
            conn.execute("ROLLBACK")
    finally:
        conn.close()


def _compare_postgres(live: Engine, schema: str, tables: Sequence[Table], reached: dict[str, int]) -> Found:
    with live.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        current = conn.execute(text("SELECT current_schema()")).scalar_one()

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(row) for row in conn.execute(text(sql))]

        return _compare(rows, f'"{current}"', f'"{schema}"', tables, reached)


def _compare(rows: Rows, live: str, scratch: str, tables: Sequence[Table], reached: dict[str, int]) -> Found:
    """The differences, or None when the snapshot's live positions are not those the replay reached."""
    name, position = positions_table.c.name.name, positions_table.c.position.name
    snapshot = dict(rows(f"SELECT {name}, {position} FROM {live}.{positions_table.name}"))
    if any(snapshot.get(projection, 0) != at for projection, at in reached.items()):
        return None
    found: list[Difference] = []
    for table in tables:
        columns = [c.name for c in table.columns]
        keys = [c.name for c in table.primary_key.columns] or columns
        live_rows = _only_in(rows, live, scratch, table, keys)
        replayed_rows = _only_in(rows, scratch, live, table, keys)
        for key in sorted(live_rows.keys() | replayed_rows.keys(), key=_sortable):
            named = dict(zip(keys, key, strict=True))
            mine, theirs = live_rows.get(key), replayed_rows.get(key)
            if mine is None or theirs is None:
                found.append(Difference(table.name, named, None, mine, theirs))
                continue
            found.extend(
                Difference(table.name, named, column, mine[column], theirs[column])
                for column in columns
                if mine[column] != theirs[column]
            )
    return found


def _only_in(rows: Rows, one: str, other: str, table: Table, keys: list[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The rows of ``table`` in schema ``one`` that are not, exactly, in ``other``, by primary key."""
    columns = [c.name for c in table.columns]
    listed = ", ".join(f'"{c}"' for c in columns)
    found = rows(f'SELECT {listed} FROM {one}."{table.name}" EXCEPT SELECT {listed} FROM {other}."{table.name}"')
    by_column = (dict(zip(columns, row, strict=True)) for row in found)
    return {tuple(row[k] for k in keys): row for row in by_column}


def _sortable(key: tuple[Any, ...]) -> tuple[tuple[bool, str], ...]:
    """A key in a stable order whatever its values' types (None first)."""
    return tuple((value is not None, str(value)) for value in key)

