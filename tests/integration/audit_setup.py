"""The demo history, copied once per test module on each database, and copied again for each test that alters it.

Loading the demo takes seconds; copying it takes a fraction of one (a SQLite
backup, or PostgreSQL's ``CREATE DATABASE ... TEMPLATE``: ``tests.support.DemoSource``),
so the audit tests can each tamper with their own copy as a database administrator could.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from ledger.persistence.database import Database
from tests.support import DemoSource, demo_copy, drop_database


def demo_source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSource]:
    """Body of a module fixture parametrised ``sqlite``/``postgres``: the module's own copy of the loaded demo, which
    its tests read and copy again (``DemoSource.copy``) to tamper with."""
    database = demo_copy(request, request.param, tmp_path_factory.mktemp("demo"))
    yield DemoSource(request.param, database.url.render_as_string(hide_password=False))
    drop_database(database)


def run(database: Database, *args: str, signing_key: Path | None = None) -> Result:
    """``openbook --database <database> ARGS...`` through the real entry point, as the system (with a signing key)."""
    env = {"OPENBOOK_USER": None, "OPENBOOK_SIGNING_KEY": str(signing_key) if signing_key else None}
    return CliRunner().invoke(cli, ["--database", database.url.render_as_string(hide_password=False), *args], env=env)


def sql(database: Database, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """One statement (``?`` placeholders) as a plain client of the database; its rows."""
    if database.is_sqlite:
        conn = sqlite3.connect(database.sqlite_path, isolation_level=None)
        try:
            return conn.execute(statement, tuple(params)).fetchall()
        finally:
            conn.close()
    with psycopg.connect(database.psycopg_conninfo(), autocommit=True) as conn:
        cursor = conn.execute(statement.replace("?", "%s"), tuple(params))
        return cursor.fetchall() if cursor.description else []


def as_dba(database: Database, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
    """Run statements with the append-only guards lifted, in one transaction, as a database administrator could.

    SQLite: the guard triggers are dropped (as anyone who can edit the file
    can) and put back afterwards; PostgreSQL: ``DISABLE TRIGGER ALL`` on the
    event, hash and idempotency tables, enabled again before commit.
    """
    tables = ("stored_events", "event_hashes", "idempotency_keys", "openbook_event_signatures")
    if database.is_sqlite:
        conn = sqlite3.connect(database.sqlite_path, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            marks = ",".join("?" * len(tables))
            triggers = conn.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks})", tables
            ).fetchall()
            for name, _sql in triggers:
                conn.execute(f"DROP TRIGGER {name}")
            for statement, params in statements:
                conn.execute(statement, tuple(params))
            for _name, create in triggers:
                conn.execute(create)
            conn.execute("COMMIT")
        finally:
            conn.close()
        return
    with psycopg.connect(database.psycopg_conninfo()) as conn:
        for table in tables:
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
        for statement, params in statements:
            conn.execute(statement.replace("?", "%s"), tuple(params))
        for table in tables:
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER ALL")


def export_file(database: Database, path: Path, *options: str) -> list[dict[str, Any]]:
    """Export through ``openbook export``; the file's records, parsed."""
    result = run(database, "export", "--out", str(path), *options)
    assert result.exit_code == 0, result.stderr or result.output
    return [json.loads(line) for line in path.read_text().splitlines()]


def recomputed_hashes(database: Database, start: int) -> list[tuple[str, Sequence[Any]]]:
    """UPDATEs giving every event from ``start`` on the hash the chain rule gives it, as a forger recomputes them
    after changing an event (run them with ``as_dba``)."""
    from ledger.persistence.chain import GENESIS, event_hash

    before = sql(database, "SELECT hash FROM event_hashes WHERE notification_id < ? ORDER BY notification_id DESC "
                           "LIMIT 1", (start,))
    previous = before[0][0] if before else GENESIS
    rows = sql(database, "SELECT notification_id, topic, originator_id, originator_version, state FROM stored_events "
                         "WHERE notification_id >= ? ORDER BY notification_id", (start,))
    updates: list[tuple[str, Sequence[Any]]] = []
    for position, topic, originator, version, state in rows:
        previous = event_hash(previous, position, topic, uuid.UUID(str(originator)), version, bytes(state))
        updates.append(("UPDATE event_hashes SET hash = ? WHERE notification_id = ?", [previous, position]))
    return updates
