"""Backup and restore as the README says, on SQLite and PostgreSQL, verified against a checkpoint taken before.

A history is recorded, a signing key made and a signed checkpoint taken as
an auditor would keep one (``openbook keys generate``, ``openbook checkpoint
--out FILE``); more is recorded (signed), then the backup is taken while a
ledger is open (SQLite's online backup API; ``pg_dump --format=custom``), and
restored into a fresh database (a new file; ``pg_restore`` into a new
database). ``openbook verify --database --since FILE --public-key KEY`` on the
restored copy shows its log extends the checkpoint — the event at its position
has its hash, the chain and every signature verify, exactly as many events lie
up to it — and it holds everything recorded before the backup; its read models
equal a replay, and it records further commands on the same chain. The same
check refuses a checkpoint the restored log does not extend.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import uuid
from dataclasses import dataclass

import psycopg
from psycopg.sql import SQL, Identifier

from ledger.audit.read_models import read_model_differences
from ledger.bootstrap import Openbook, open_openbook
from ledger.persistence.database import Database
from tests.integration.audit_setup import run
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


def test_a_restored_backup_verifies_against_a_checkpoint_taken_before_it_and_carries_on(book, database, tmp_path):
    record_history(book)
    key, kept = tmp_path / "signing.pem", tmp_path / "checkpoint.json"
    assert run(database, "keys", "generate", "--out", str(key)).exit_code == 0
    taken = run(database, "checkpoint", "--out", str(kept), signing_key=key)
    assert taken.exit_code == 0, taken.stderr
    checkpoint = json.loads(kept.read_text())
    assert (checkpoint["position"], checkpoint["events"]) == (6, 6) and checkpoint["signature"]
    registered = run(database, "organisations", "register", "delta-care", "Delta Care", "--kind", "provider",
                     signing_key=key)  # fmt: skip
    assert registered.exit_code == 0, registered.stderr
    before_backup = head_of(book)
    assert before_backup.events == 8  # the history, the checkpoint's own event, Delta Care

    restored = back_up_and_restore(database, tmp_path)  # the ledger is open (and idle) meanwhile: an online backup
    book.organisations.register_organisation(env(), "epsilon-care", "Epsilon Care", "provider")  # not in the backup
    copy = open_openbook(restored)
    try:
        verified = run(restored, "verify", "--database", "--since", str(kept), "--public-key", f"{key}.pub", "--json")
        assert verified.exit_code == 0, verified.stdout
        report = json.loads(verified.stdout)
        assert report["since"]["position"] == checkpoint["position"] and report["since"]["hash"] == checkpoint["hash"]
        assert report["signatures"] == {"unsigned": 6, "signed": 2, "first_signed": 7, "checked": True}
        assert head_of(copy) == before_backup  # all that was recorded before the backup, nothing after it
        assert {row["name"]: row["lag"] for row in copy.projections.status()} == {
            name: 0 for name in copy.projections.projections
        }
        assert read_model_differences(copy) == []
        assert copy.records.organisation("delta-care").name == "Delta Care"

        rewritten = tmp_path / "rewritten.json"  # a checkpoint of another history at the same position
        rewritten.write_text(json.dumps({**checkpoint, "hash": "0" * 64, "key_id": None, "signature": None}))
        refused = run(restored, "verify", "--database", "--since", str(rewritten), "--json")
        assert refused.exit_code == 1
        assert json.loads(refused.stdout)["failure"]["position"] == checkpoint["position"]

        carried_on = run(restored, "organisations", "register", "zeta-care", "Zeta Care", "--kind", "provider",
                         signing_key=key)  # fmt: skip
        assert carried_on.exit_code == 0, carried_on.stderr
        assert extends(copy, before_backup) and head_of(copy).events == before_backup.events + 1
        again = run(restored, "verify", "--database", "--since", str(kept), "--public-key", f"{key}.pub", "--json")
        assert again.exit_code == 0, again.stdout  # the same chain, signed on
        assert json.loads(again.stdout)["signatures"]["signed"] == 3
    finally:
        copy.close()
        drop(restored, database)
