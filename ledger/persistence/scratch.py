"""Scratch read-model tables beside the live ones: a temporary SQLite file, or a scratch schema on PostgreSQL.

Two things replay the history into tables the live read models never see:
the read-model check (``ledger.audit.read_models``, which compares and drops
them) and a rebuild (``ProjectionRunner.rebuild``, which builds there while
readers keep reading the old tables, then switches in one transaction). The
projections write unqualified table names (some in plain SQL), so the scratch
place is chosen by the connection, never by the statements: on SQLite its own
file, on PostgreSQL a ``search_path`` naming only the scratch schema, so an
unqualified name can never reach a live table. Both are removed afterwards,
whatever happened.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Engine, text

from ledger.persistence.database import CONNECT_TIMEOUT_SECONDS, LOCK_TIMEOUT_SECONDS, Database


@dataclass(frozen=True)
class Scratch:
    """Where the scratch tables are: an engine on them, and the file (SQLite) or schema (PostgreSQL) they are in."""

    engine: Engine
    sqlite_path: Path | None = None
    schema: str | None = None


@contextmanager
def scratch_beside(live: Engine, prefix: str) -> Iterator[Scratch]:
    """A scratch place for read-model tables beside the database of ``live``; removed on leaving.

    ``prefix`` names it (``openbook_replay``, ``openbook_rebuild``) so an
    operator who finds one left by a killed process knows what made it.
    """
    if live.dialect.name == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as folder:
            path = Path(folder) / "scratch.sqlite"
            readers, writers = Database.from_url(f"sqlite:///{path}").create_engines()
            sqlalchemy.event.listen(writers, "connect", _no_sync)
            try:
                yield Scratch(writers, sqlite_path=path)
            finally:
                readers.dispose()
                writers.dispose()
        return
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with live.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = sqlalchemy.create_engine(
        live.url,
        connect_args={
            # Only the scratch schema: an unqualified name must never reach a live table.
            "options": f"-c search_path={schema} -c lock_timeout={LOCK_TIMEOUT_SECONDS * 1000}",
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        },
    )
    try:
        yield Scratch(engine, schema=schema)
    finally:
        engine.dispose()
        with live.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def _no_sync(dbapi_connection: Any, _record: object) -> None:
    """No sync to disk at each commit of the scratch file: it is never read after a crash (nor kept after use), so
    durability buys nothing there, and a replay commits a batch at a time."""
    dbapi_connection.execute("PRAGMA synchronous = OFF")
