"""A rebuild's switch: the live read-model rows replaced by the rebuilt ones, inside the caller's one transaction.

Rows are copied, not tables renamed: a ``DELETE`` and an ``INSERT ... SELECT``
per table are transactional on both databases and never block a reader
(PostgreSQL's MVCC; SQLite's WAL), so a reader reads the old rows until the
commit and the new ones after it — where a rename would need PostgreSQL's
``ACCESS EXCLUSIVE`` lock, and SQLite cannot move a table between files. The
cost is one more write of every row, inside the switch.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, text


def replace_rows(conn: Connection, live: str, built: str, tables: Sequence[Table]) -> None:
    """Make each table in schema ``live`` hold exactly the rows of its namesake in ``built`` (quoted schema names).

    ``tables`` in creation order; they are emptied in reverse. On PostgreSQL
    each serial key's sequence is moved past the rows copied, so the next row
    a live catch-up inserts gets a new key.
    """
    for table in reversed(tables):
        conn.execute(text(f'DELETE FROM {live}."{table.name}"'))
    for table in tables:
        listed = ", ".join(f'"{c.name}"' for c in table.columns)
        conn.execute(text(f'INSERT INTO {live}."{table.name}" ({listed}) SELECT {listed} FROM {built}."{table.name}"'))
        serial = table.autoincrement_column
        if conn.dialect.name == "postgresql" and serial is not None:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                    f'COALESCE((SELECT MAX("{serial.name}") FROM {live}."{table.name}"), 0) + 1, false)'
                ),
                {"table": f'{live}."{table.name}"', "column": serial.name},
            )
