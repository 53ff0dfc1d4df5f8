"""Only the read models' commits skip waiting for the disk; the event store and every other store still wait.

The read models are derived from the store and rebuilt from it, so their
commits may be lost to a power cut (``Database.create_read_model_engine``);
documents, users, jobs and the events themselves may not. This checks each
engine's setting as the ledger opens them, on both databases.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine


def _waits_for_disk(engine: Engine) -> bool:
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            return conn.exec_driver_sql("PRAGMA synchronous").scalar() >= 2  # FULL (2) or EXTRA (3)
        return conn.exec_driver_sql("SHOW synchronous_commit").scalar() != "off"


def test_only_the_read_models_commit_without_waiting_for_the_disk(book: Any) -> None:
    ledger = book.ledger
    assert ledger.projections.engine is ledger.read_model_engine
    assert not _waits_for_disk(ledger.read_model_engine)
    assert _waits_for_disk(ledger.write_engine)  # documents, chunks, jobs, users
    assert _waits_for_disk(ledger.read_engine)
    with ledger.recorder.datastore.transaction(commit=False) as c:  # the event store's own connection
        if ledger.database.is_sqlite:
            c.execute("PRAGMA synchronous")
            assert c.fetchone()[0] >= 2
        else:
            c.execute("SHOW synchronous_commit")
            assert c.fetchone()["synchronous_commit"] != "off"
