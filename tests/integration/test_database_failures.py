"""``classify`` on real errors from the real drivers: unreachable is UNAVAILABLE, transactions in each other's way
CONFLICT, and a missing table or a syntax error a BUG, however many layers wrap them."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import eventsourcing.persistence
import psycopg
import pytest
import sqlalchemy
import sqlalchemy.exc

from ledger.persistence.failures import BUG, CONFLICT, UNAVAILABLE, classify


def raised(action) -> BaseException:  # noqa: ANN001 - any callable that fails
    with pytest.raises(Exception) as caught:
        action()
    return caught.value


def wrapped_by_the_library(error: BaseException) -> BaseException:
    """As the eventsourcing library re-raises a driver's error (``raise OperationalError(str(e)) from e``)."""
    try:
        raise eventsourcing.persistence.OperationalError(str(error)) from error
    except eventsourcing.persistence.OperationalError as wrapper:
        return wrapper


def test_sqlite_errors(tmp_path: Path):
    path = tmp_path / "ledger.sqlite"
    missing = raised(lambda: sqlite3.connect(path).execute("SELECT * FROM no_such_table"))
    assert isinstance(missing, sqlite3.OperationalError) and "no such table" in str(missing)
    assert classify(missing) == BUG
    assert classify(wrapped_by_the_library(missing)) == BUG
    assert classify(raised(lambda: sqlite3.connect(path).execute("SELEC 1"))) == BUG

    through_sqlalchemy = raised(
        lambda: sqlalchemy.create_engine(f"sqlite:///{path}").connect().execute(sqlalchemy.text("SELECT * FROM gone"))
    )
    assert isinstance(through_sqlalchemy, sqlalchemy.exc.OperationalError)
    assert classify(through_sqlalchemy) == BUG

    unopenable = raised(lambda: sqlite3.connect(tmp_path / "no-such-folder" / "ledger.sqlite"))
    assert "unable to open database file" in str(unopenable)
    assert classify(unopenable) == UNAVAILABLE

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        locked = raised(lambda: sqlite3.connect(path, timeout=0, isolation_level=None).execute("BEGIN IMMEDIATE"))
    finally:
        holder.execute("ROLLBACK")
    assert "database is locked" in str(locked)
    assert classify(locked) == UNAVAILABLE
    assert classify(wrapped_by_the_library(locked)) == UNAVAILABLE


def test_a_refused_postgres_connection_is_unavailable():
    with socket.socket() as probe:  # a port nothing listens on: bound, then closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    refused = raised(lambda: psycopg.connect(host="127.0.0.1", port=port, dbname="x", connect_timeout=2))
    assert isinstance(refused, psycopg.OperationalError) and "refused" in str(refused)
    assert classify(refused) == UNAVAILABLE
    assert classify(wrapped_by_the_library(refused)) == UNAVAILABLE
    assert classify(ValueError("not a database error")) == BUG


@pytest.fixture
def postgres(postgres_server_url: str) -> Iterator[str]:
    """A conninfo on the run's PostgreSQL database, with a table ``failures_t`` of one row, dropped afterwards."""
    conninfo = sqlalchemy.make_url(postgres_server_url).render_as_string(hide_password=False)
    conninfo = conninfo.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute("CREATE TABLE failures_t (id int PRIMARY KEY, n int)")
        admin.execute("INSERT INTO failures_t VALUES (1, 0)")
    try:
        yield conninfo
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute("DROP TABLE failures_t")


def test_postgres_errors(postgres: str):
    with psycopg.connect(postgres) as first, psycopg.connect(postgres, autocommit=True) as second:
        assert classify(raised(lambda: first.execute("SELECT * FROM no_such_table"))) == BUG
        first.rollback()
        assert classify(raised(lambda: first.execute("SELEC 1"))) == BUG
        first.rollback()

        first.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        first.execute("SELECT n FROM failures_t")
        second.execute("UPDATE failures_t SET n = n + 1")
        serialization = raised(lambda: first.execute("UPDATE failures_t SET n = n + 1"))
        assert serialization.sqlstate == "40001"
        assert classify(serialization) == CONFLICT
        assert classify(wrapped_by_the_library(serialization)) == CONFLICT
        first.rollback()

        pid = first.info.backend_pid
        second.execute("SELECT pg_terminate_backend(%s)", (pid,))
        terminated = raised(lambda: first.execute("SELECT 1"))
        assert isinstance(terminated, psycopg.OperationalError)
        assert classify(terminated) == UNAVAILABLE
