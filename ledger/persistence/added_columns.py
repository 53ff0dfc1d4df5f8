"""Columns added to the ledger's own tables after those tables were first released, added where they are missing.

The read models need no such step: they are rebuilt from the history. But the
tables beside the history that no replay can rebuild (the security store's,
API tokens, jobs, documents, chunks) keep their rows across upgrades, and
``create_all`` only creates a table that is missing: it never adds a column to
one that is there. A database made before a column was added would then fail
on the first query naming it. So each such column is declared where its table
is (``AddedColumn``), with how the rows from before it get a value, and
``add_missing`` adds it when the ledger opens: on SQLite and PostgreSQL alike,
idempotently, and with a read first so that opening an up-to-date ledger takes
no write lock.

Two processes opening an old database at once do not both add a column: on
SQLite the writers' ``BEGIN IMMEDIATE`` serialises them, on PostgreSQL the
schema set-up's advisory lock does, and each looks again under the lock. A
column the table declares NOT NULL is added nullable, filled, then made NOT
NULL on PostgreSQL (SQLite cannot alter a column; the code always writes it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Table, inspect, text

from ledger.persistence import SCHEMA_LOCK_KEY
from ledger.persistence.database import reading


@dataclass(frozen=True)
class AddedColumn:
    """``table``'s column ``name``, added after the table's first release; ``fill`` gives the rows from before it
    a value (it runs in the transaction that adds the column, before any NOT NULL is set)."""

    table: Table
    name: str
    fill: Callable[[Connection], None]


def _missing(conn: Connection, added: Iterable[AddedColumn]) -> list[AddedColumn]:
    inspector = inspect(conn)
    present = set(inspector.get_table_names())
    columns: dict[str, set[str]] = {}
    missing = []
    for column in added:
        if column.table.name not in present:
            continue  # created whole by create_all, with every column
        if column.table.name not in columns:
            columns[column.table.name] = {c["name"] for c in inspector.get_columns(column.table.name)}
        if column.name not in columns[column.table.name]:
            missing.append(column)
    return missing


def add_missing(engine: Engine, added: Iterable[AddedColumn]) -> list[str]:
    """Add each of ``added`` that its (existing) table lacks, filled; returns them as ``table.column``."""
    added = list(added)
    with reading(engine) as conn:
        if not _missing(conn, added):
            return []
    done = []
    with engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
        quote = conn.dialect.identifier_preparer.quote
        for column in _missing(conn, added):  # looked at again under the lock: another process may have added it
            declared = column.table.c[column.name]
            table, name = quote(column.table.name), quote(column.name)
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {declared.type.compile(dialect=conn.dialect)}"))
            column.fill(conn)
            if postgres and not declared.nullable:
                conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN {name} SET NOT NULL"))
            done.append(f"{column.table.name}.{column.name}")
    return done
