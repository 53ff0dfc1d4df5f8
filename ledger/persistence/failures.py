"""What a database error means for the request that met it: the database unreachable, a concurrency conflict, or a bug.

The drivers and the layers over them (SQLAlchemy for the read models, the
eventsourcing library for the events) put very different failures under one
class: ``sqlite3.OperationalError`` is both "database is locked" and "no such
table", ``psycopg.OperationalError`` both a refused connection and a deadlock.
Answering all of them "try again in a minute" would hide real bugs behind a
503, so ``classify`` looks through the wrappers to the driver's own error and
decides by its code:

- ``UNAVAILABLE``: the database cannot be reached or stopped answering - the
  connection refused or lost (PostgreSQL's SQLSTATE class 08, or a client-side
  connection failure, which carries no SQLSTATE), the server shutting down or
  starting (57P01-57P03), a lock wait that outlasted ``LOCK_TIMEOUT_SECONDS``
  (SQLite's "database is locked" after its wait, PostgreSQL's 55P03 under the
  ``lock_timeout`` the engines set), no pooled connection free in time, SQLite's
  "unable to open database file". Trying again later may well work.
- ``CONFLICT``: PostgreSQL gave up one of two transactions that got in each
  other's way (deadlock 40P01, serialization failure 40001): nothing of it was
  recorded and sending it again works, like a ``ConcurrencyConflict``.
- ``BUG``: anything else (a missing table, a syntax error, a constraint the
  code should have checked): trying again will not help; it must be logged
  with its traceback and fixed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Literal

import psycopg
import psycopg_pool
import sqlalchemy.exc

Failure = Literal["unavailable", "conflict", "bug"]
UNAVAILABLE: Failure = "unavailable"
CONFLICT: Failure = "conflict"
BUG: Failure = "bug"

#: PostgreSQL's SQLSTATEs for a server that is going away or not yet there (class 57P: operator intervention).
_SERVER_GONE = frozenset({"57P01", "57P02", "57P03"})  # admin_shutdown, crash_shutdown, cannot_connect_now
#: A lock wait that outlasted the ``lock_timeout`` the engines set (``ledger.persistence.database``).
_LOCK_TIMED_OUT = "55P03"
#: Transactions that got in each other's way: one was rolled back whole, and sending it again works.
_CONFLICTS = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure

#: SQLite's primary result codes (the low byte of an extended code) for a database busy past its wait or not openable.
_SQLITE_BUSY = 5
_SQLITE_CANTOPEN = 14
_SQLITE_UNAVAILABLE_MESSAGES = ("database is locked", "unable to open database file")


def classify(error: BaseException) -> Failure:
    """``UNAVAILABLE``, ``CONFLICT`` or ``BUG`` for a database error, whichever layer raised it (see the module)."""
    for cause in _causes(error):
        if isinstance(cause, psycopg_pool.PoolTimeout | sqlalchemy.exc.TimeoutError):
            return UNAVAILABLE
        if isinstance(cause, psycopg.Error):
            return _postgres(cause)
        if isinstance(cause, sqlite3.Error):
            return _sqlite(cause)
    return BUG


def _postgres(error: psycopg.Error) -> Failure:
    state = error.sqlstate
    if state is None:  # raised by the client, not sent by the server: the connection failed or was lost
        connection_failed = isinstance(error, psycopg.OperationalError) or "connection" in str(error).lower()
        return UNAVAILABLE if connection_failed else BUG
    if state.startswith("08") or state in _SERVER_GONE or state == _LOCK_TIMED_OUT:
        return UNAVAILABLE
    if state in _CONFLICTS:
        return CONFLICT
    return BUG


def _sqlite(error: sqlite3.Error) -> Failure:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return UNAVAILABLE if code & 0xFF in (_SQLITE_BUSY, _SQLITE_CANTOPEN) else BUG
    message = str(error).lower()
    return UNAVAILABLE if any(m in message for m in _SQLITE_UNAVAILABLE_MESSAGES) else BUG


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, then what it wraps: SQLAlchemy's ``orig``, the library's ``raise ... from``, in that order."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
