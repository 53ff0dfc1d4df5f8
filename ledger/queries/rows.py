"""Rows as plain dicts: the one way the query modules read a table.

A query hands its callers dicts (not SQLAlchemy rows), so a view, the CLI's
``--json`` and a statement can use the result without knowing the database.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine


def fetch_rows(conn: Connection, query: Any) -> list[dict[str, Any]]:
    """Every row of ``query`` on an open connection (several queries, one snapshot)."""
    return [dict(row._mapping) for row in conn.execute(query)]


def read_rows(engine: Engine, query: Any) -> list[dict[str, Any]]:
    """Every row of ``query``, on a connection of its own."""
    with engine.connect() as conn:
        return fetch_rows(conn, query)
