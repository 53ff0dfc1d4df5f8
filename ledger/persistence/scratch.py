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

Except when the process is killed (SIGKILL, the OOM killer, a power cut):
then nothing runs after it, and the scratch place stays — on PostgreSQL a
schema as large as the read models, on SQLite a folder in ``TMPDIR``. So
each scratch place is held, for as long as it is in use, by a lock that the
operating system or the database server lets go when its process dies, and
``clear_leftovers`` (run by the next rebuild and by ``projections status``)
removes every scratch place whose lock it can take: never one in use. On
PostgreSQL the lock is a session advisory lock keyed by the schema's name,
taken on a connection of its own *before* the schema is created (so there is
no moment a live schema is unlocked); on SQLite an ``flock`` on a file in the
folder, taken the instant after the folder is made — and a folder is only
removed once it is a minute old, which that instant never lasts.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Connection, Engine, text

from ledger.persistence.database import CONNECT_TIMEOUT_SECONDS, LOCK_TIMEOUT_SECONDS, Database

#: What names the scratch places: a rebuild's and the read-model check's replay (``scratch_beside``'s prefixes).
PREFIXES = ("openbook_rebuild", "openbook_replay")
#: The first of the two keys of every scratch schema's advisory lock (the second: the hash of its name).
_LOCK_SPACE = 0x6F627363  # "obsc"
#: The file in a SQLite scratch folder its process holds an ``flock`` on.
_OWNER = "owner.lock"
#: A SQLite scratch folder younger than this is never removed (its owner may be about to lock it).
_YOUNGEST_LEFTOVER_SECONDS = 60


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
    assert prefix in PREFIXES, prefix
    if live.dialect.name == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as folder:
            owner = os.open(Path(folder) / _OWNER, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(owner, fcntl.LOCK_EX)  # held until this process closes it, or dies
            path = Path(folder) / "scratch.sqlite"
            readers, writers = Database.from_url(f"sqlite:///{path}").create_engines()
            sqlalchemy.event.listen(writers, "connect", _no_sync)
            try:
                yield Scratch(writers, sqlite_path=path)
            finally:
                readers.dispose()
                writers.dispose()
                os.close(owner)
        return
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    holder = live.connect()  # its session holds the schema's lock; the server lets go if this process dies
    try:
        _lock(holder, schema, wait=True)
        try:
            with live.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            yield from _scratch_schema(live, schema)
        finally:
            _unlock(holder, schema)
    finally:
        holder.close()


def _scratch_schema(live: Engine, schema: str) -> Iterator[Scratch]:
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


def _lock(conn: Connection, schema: str, *, wait: bool) -> bool:
    """Take the session advisory lock of scratch schema ``schema`` (``wait=False``: only if free); whether taken."""
    function = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
    taken = conn.execute(
        text(f"SELECT {function}(:space, hashtext(:schema))"), {"space": _LOCK_SPACE, "schema": schema}
    ).scalar()
    conn.commit()  # the lock is the session's; end the transaction the query began
    return wait or bool(taken)


def _unlock(conn: Connection, schema: str) -> None:
    conn.execute(text("SELECT pg_advisory_unlock(:space, hashtext(:schema))"), {"space": _LOCK_SPACE, "schema": schema})
    conn.commit()


def clear_leftovers(live: Engine) -> list[str]:
    """Remove the scratch places that killed processes left beside ``live``'s database; the names removed.

    On PostgreSQL the ``openbook_rebuild_…`` and ``openbook_replay_…``
    schemas of this database whose lock is free (this role's own: another
    role's it could not drop); on SQLite the scratch folders in ``TMPDIR``
    whose ``flock`` is free (whichever ledger made them: a dead process's
    scratch is nobody's).
    """
    if live.dialect.name == "sqlite":
        return _clear_folders(Path(tempfile.gettempdir()))
    cleared = []
    with live.connect() as conn:
        patterns = [f"{prefix}\\_%" for prefix in PREFIXES]
        schemas = conn.execute(
            text(
                "SELECT nspname FROM pg_namespace WHERE (nspname LIKE :rebuild OR nspname LIKE :replay) "
                "AND pg_has_role(nspowner, 'USAGE') ORDER BY 1"
            ),
            {"rebuild": patterns[0], "replay": patterns[1]},
        ).scalars().all()
        conn.commit()
        for schema in schemas:
            if not _lock(conn, schema, wait=False):
                continue  # in use: its process is alive
            try:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                conn.commit()
                cleared.append(schema)
            finally:
                _unlock(conn, schema)
    return cleared


def _clear_folders(parent: Path) -> list[str]:
    cleared = []
    young = time.time() - _YOUNGEST_LEFTOVER_SECONDS
    for folder in sorted(parent.glob("openbook_re*-*")):
        if not folder.name.startswith(tuple(f"{prefix}-" for prefix in PREFIXES)) or not folder.is_dir():
            continue
        try:
            if folder.is_symlink() or folder.stat().st_mtime > young:
                continue
            owner = os.open(folder / _OWNER, os.O_RDWR)
        except OSError:  # gone meanwhile, or made before scratch places were locked: not ours to judge
            continue
        try:
            try:
                fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # in use: its process is alive
            shutil.rmtree(folder, ignore_errors=True)
            cleared.append(folder.name)
        finally:
            os.close(owner)
    return cleared


def _no_sync(dbapi_connection: Any, _record: object) -> None:
    """No sync to disk at each commit of the scratch file: it is never read after a crash (nor kept after use), so
    durability buys nothing there, and a replay commits a batch at a time."""
    dbapi_connection.execute("PRAGMA synchronous = OFF")
