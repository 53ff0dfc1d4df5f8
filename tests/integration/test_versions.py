"""The history ``VersionedWrites`` keeps: as at every position, exactly the table as it stood then.

A property over random sequences of events, each a few inserts (one row or
many at once), updates (of one row, or of every row) and deletes on a table
with a two-column key, on both databases: after each event the live table is
remembered; then the history read as at each position must equal it.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, insert, literal, select, update

from ledger.projections.versions import VersionedWrites, history_of, known_at, live_columns

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("kind", String(10), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("value", Integer, nullable=False),
)
history = history_of(things)

keys = st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 3))
operation = st.one_of(
    st.tuples(st.just("put"), keys, st.integers(0, 99)),
    st.tuples(st.just("many"), st.lists(keys, max_size=4, unique=True), st.integers(0, 99)),
    st.tuples(st.just("bump"), st.sampled_from(["a", "b", None]), st.integers(1, 5)),
    st.tuples(st.just("drop"), keys, st.just(0)),
)
events = st.lists(st.lists(operation, min_size=1, max_size=4), min_size=1, max_size=8)


def _apply(conn: Any, op: tuple[str, Any, int]) -> None:
    verb, key, value = op
    present = {tuple(r) for r in conn.execute(select(things.c.kind, things.c.number))}
    if verb == "put":
        if key in present:
            where = (things.c.kind == key[0]) & (things.c.number == key[1])
            conn.execute(update(things).where(where).values(value=value))
        elif value % 3 == 0:  # one row as parameters: the same fast path as plain values
            conn.execute(insert(things), {"kind": key[0], "number": key[1], "value": value})
        elif value % 3 == 1:  # a value that is SQL, not plain: its version is copied back out of the table
            conn.execute(insert(things).values(kind=key[0], number=key[1], value=literal(value) + 0))
        else:
            conn.execute(insert(things).values(kind=key[0], number=key[1], value=value))
    elif verb == "many":
        new = [{"kind": k, "number": n, "value": value} for k, n in key if (k, n) not in present]
        if new:
            conn.execute(insert(things), new)
    elif verb == "bump":  # an update of many rows (or none), or of every row
        statement = update(things).values(value=things.c.value + value)
        conn.execute(statement if key is None else statement.where(things.c.kind == key))
    else:
        conn.execute(delete(things).where((things.c.kind == key[0]) & (things.c.number == key[1])))


def _rows(conn: Any, selectable: Any) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in conn.execute(select(selectable)))


def test_the_history_as_at_each_position_is_the_table_as_it_stood_then(database):
    engine, reader = database.create_engines()
    metadata.create_all(engine)

    @settings(max_examples=25, deadline=None)
    @given(plan=events)
    def check(plan: list[list[tuple[str, Any, int]]]) -> None:
        with engine.begin() as conn:
            conn.execute(delete(history))
            conn.execute(delete(things))
        snapshots = [[]]
        for position, ops in enumerate(plan, start=1):
            with engine.begin() as conn:
                writes = VersionedWrites(conn, {things: history}, position)
                for op in ops:
                    _apply(writes, op)
                snapshots.append(_rows(conn, things))
        with engine.connect() as conn:
            for position, expected in enumerate(snapshots):
                at = select(*live_columns(history)).where(known_at(history, position)).subquery()
                assert _rows(conn, at) == expected, position
            current = _rows(conn, select(*live_columns(history)).where(history.c.superseded_at.is_(None)).subquery())
            assert current == snapshots[-1]

    try:
        check()
    finally:
        engine.dispose()
        reader.dispose()
