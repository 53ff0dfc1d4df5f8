"""Backup and restore as the README says, on SQLite and PostgreSQL, checked against the head noted before.

A history is recorded and its chain head (position, hash, events up to it)
noted, as a checkpoint states it; more is recorded, then the backup is taken
while a ledger is open (SQLite's online backup API; ``pg_dump --format=custom``),
and restored into a fresh database (a new file; ``pg_restore`` into a new
database). The restored log extends the noted head — the event at its position
has its hash, the chain verifies, exactly as many events lie up to it — and
holds everything recorded before the backup; its read models equal a replay,
and it records further commands on the same chain. The same check refuses a
head the restored log does not extend.
"""

from __future__ import annotations

import sqlite3
import subprocess
import uuid
from dataclasses import dataclass

import psycopg
from psycopg.sql import SQL, Identifier

from ledger.audit.read_models import read_model_differences
from ledger.bootstrap import Openbook, open_openbook
from ledger.persistence.database import Database
from tests.integration.test_event_store import chain_break, env, record_history, stored_chain


@dataclass(frozen=True)
class Head:
    """The chain head as a checkpoint states it (``docs/audit.md``, ``openbook-checkpoint/1``), unsigned."""

    position: int
    hash: str
    events: int


def head_of(book: Openbook) -> Head:
    events, hashes = stored_chain(book)
    position, digest = hashes[-1]
    return Head(position, digest, sum(1 for e in events if e[0] <= position))


def extends(book: Openbook, head: Head) -> bool:
    """docs/audit.md: the event at the head's position exists with its hash, the chain verifies, and the count holds."""
    events, hashes = stored_chain(book)
    return (
        chain_break(book) is None
        and (head.position, head.hash) in hashes
        and any(e[0] == head.position for e in events)
        and sum(1 for e in events if e[0] <= head.position) == head.events
    )


def back_up_and_restore(database: Database, tmp_path) -> Database:
    """The README's procedure: an online backup of the running database, restored into a fresh one."""
    if database.is_sqlite:
        backup = tmp_path / "backup.sqlite"
        source, target = sqlite3.connect(database.sqlite_path), sqlite3.connect(backup)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        restored = tmp_path / "restored" / "openbook.sqlite"
        restored.parent.mkdir()
        restored.write_bytes(backup.read_bytes())
        return Database.from_url(f"sqlite:///{restored}")
    dump = tmp_path / "openbook.dump"
    plain = database.url.set(drivername="postgresql")
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={dump}", plain.render_as_string(hide_password=False)],
        check=True, capture_output=True, timeout=120,
    )
    name = f"openbook_restored_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database.psycopg_conninfo(), autocommit=True) as admin:
        admin.execute(SQL("CREATE DATABASE {}").format(Identifier(name)))
    restored = plain.set(database=name)
    subprocess.run(
        ["pg_restore", "--exit-on-error", f"--dbname={restored.render_as_string(hide_password=False)}", str(dump)],
        check=True, capture_output=True, timeout=120,
    )
    return Database.from_url(restored.render_as_string(hide_password=False))


def drop(restored: Database, database: Database) -> None:
    """Remove the restored PostgreSQL database (a SQLite copy goes with tmp_path)."""
    if not restored.is_sqlite:
        with psycopg.connect(database.psycopg_conninfo(), autocommit=True) as conn:
            conn.execute(SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(Identifier(restored.url.database)))


def test_a_restored_backup_extends_the_head_noted_before_it_and_carries_on(book, database, tmp_path):
    record_history(book)
    noted = head_of(book)
    book.organisations.register_organisation(env("after-the-note"), "delta-care", "Delta Care", "provider")
    before_backup = head_of(book)

    restored = back_up_and_restore(database, tmp_path)  # the ledger is open (and idle) meanwhile: an online backup
    book.organisations.register_organisation(env(), "epsilon-care", "Epsilon Care", "provider")  # not in the backup
    copy = open_openbook(restored)
    try:
        assert extends(copy, noted) and extends(copy, before_backup)
        assert head_of(copy) == before_backup
        assert {row["name"]: row["lag"] for row in copy.projections.status()} == {
            name: 0 for name in copy.projections.projections
        }
        assert read_model_differences(copy) == []
        assert copy.records.organisation("delta-care").name == "Delta Care"

        copy.organisations.register_organisation(env(), "zeta-care", "Zeta Care", "provider")
        assert extends(copy, before_backup) and head_of(copy).events == before_backup.events + 1

        rewritten = Head(noted.position, "0" * 64, noted.events)
        assert not extends(copy, rewritten)
        assert not extends(copy, Head(noted.position, noted.hash, noted.events + 1))
    finally:
        copy.close()
        drop(restored, database)
