"""Fixtures for the integration tests: raw access to the test database, and fresh ledgers.

``raw_sql`` and ``tamper`` talk to the database as a plain client, outside the
ledger, the way an operator (or an attacker) with database access would. SQL is
written with ``?`` placeholders; they become ``%s`` on PostgreSQL.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from ledger.bootstrap import Openbook, open_openbook
from ledger.persistence.database import Database
from tests.support import demo_copy, drop_database

RawSQL = Callable[..., list[tuple[Any, ...]]]


def _pg(statement: str) -> str:
    return statement.replace("?", "%s")


@pytest.fixture
def raw_sql(database: Database) -> RawSQL:
    """Run one statement on the test database in autocommit mode; returns its rows (if any).

    The driver's error is raised unchanged, so tests can read what the database said.
    """

    def run(statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if database.is_sqlite:
            conn = sqlite3.connect(database.sqlite_path, isolation_level=None, timeout=10)
            try:
                cursor = conn.execute(statement, params)
                return cursor.fetchall()
            finally:
                conn.close()
        with psycopg.connect(database.psycopg_conninfo(), autocommit=True) as conn:
            cursor = conn.execute(_pg(statement), params)
            return cursor.fetchall() if cursor.description else []

    return run


@pytest.fixture
def tamper(database: Database) -> Callable[[str, str, tuple[Any, ...]], None]:
    """Run one statement on ``table`` with its append-only guards lifted, as the table owner could.

    SQLite: drop the table's guard triggers, run the statement, re-create them.
    PostgreSQL: ``ALTER TABLE ... DISABLE TRIGGER ALL``, run, ``ENABLE TRIGGER ALL``.
    All in one transaction, so the guards are back for whatever the test does next.
    """

    def run(table: str, statement: str, params: tuple[Any, ...] = ()) -> None:
        if database.is_sqlite:
            conn = sqlite3.connect(database.sqlite_path, isolation_level=None, timeout=10)
            try:
                conn.execute("BEGIN IMMEDIATE")
                triggers = conn.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)
                ).fetchall()
                assert triggers, f"expected append-only triggers on {table}"
                for name, _sql in triggers:
                    conn.execute(f"DROP TRIGGER {name}")
                conn.execute(statement, params)
                for _name, sql in triggers:
                    conn.execute(sql)
                conn.execute("COMMIT")
            finally:
                conn.close()
            return
        with psycopg.connect(database.psycopg_conninfo()) as conn:  # one transaction, committed on exit
            conn.execute("SET LOCAL lock_timeout = '10s'")
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
            conn.execute(_pg(statement), params)
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER ALL")

    return run


@pytest.fixture
def fresh_book(request: pytest.FixtureRequest, database: Database, tmp_path: Any) -> Iterator[Callable[[], Openbook]]:
    """Each call closes the previous ledger and opens one on a new copy of an empty ledger (``demo_copy``).

    For property tests, whose every example needs a ledger with nothing recorded; the copies are dropped after the
    test.
    """
    opened: list[Openbook] = []
    copies: list[Database] = []
    numbers = itertools.count()
    kind = "sqlite" if database.is_sqlite else "postgres"

    def _open() -> Openbook:
        while opened:
            opened.pop().close()
        copies.append(demo_copy(request, kind, tmp_path, "empty", file_name=f"fresh-{next(numbers)}.sqlite"))
        book = open_openbook(copies[-1])
        opened.append(book)
        return book

    yield _open
    while opened:
        opened.pop().close()
    for copy in copies:
        drop_database(copy)
