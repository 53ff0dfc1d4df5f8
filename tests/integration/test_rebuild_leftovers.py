"""A rebuild killed before its switch leaves its scratch tables; the next rebuild or ``projections status`` removes
them, never those of a rebuild still running (``ledger/persistence/scratch.py``). On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from ledger.persistence.scratch import scratch_beside
from tests.integration.test_killed_writers import kill_at
from tests.integration.test_rebuild_switch import register

AN_HOUR_AGO = time.time() - 3600


def scratch_places(book, raw_sql) -> set[str]:
    """The rebuilds' scratch places there are: schemas of this database, or folders in TMPDIR (any ledger's)."""
    if book.database.is_sqlite:
        return {folder.name for folder in Path(tempfile.gettempdir()).glob("openbook_rebuild-*")}
    query = "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, 'openbook_rebuild_')"
    return {name for (name,) in raw_sql(query)}


def aged(name: str) -> None:
    """A SQLite scratch folder made to look an hour old: only its lock, not its youth, may keep it."""
    folder = Path(tempfile.gettempdir()) / name
    os.utime(folder, (AN_HOUR_AGO, AN_HOUR_AGO))


def until_released(book, raw_sql, held: int) -> None:
    """PostgreSQL ends a killed client's session (and lets its locks go) when it notices: wait for that."""
    if book.database.is_sqlite:
        return
    for _ in range(100):
        [(locks,)] = raw_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = x'6F627363'::int::oid "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        if locks == held:
            return
        time.sleep(0.1)
    raise AssertionError(f"{locks} scratch locks held, expected {held}")


def test_a_killed_rebuilds_scratch_is_removed_by_the_next_but_never_a_running_ones(
    book, database_url, raw_sql, openbook, tmp_path, monkeypatch
):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # SQLite's scratch folders: this test's alone, and its killed writers'
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    register(book, "kept", 3)
    before = scratch_places(book, raw_sql)
    kill_at(database_url, "projections-rebuild.before-switch", "rebuild", "organisations")  # one read model: quick
    [killed] = scratch_places(book, raw_sql) - before

    with scratch_beside(book.projections.engine, "openbook_rebuild") as running:
        [alive] = scratch_places(book, raw_sql) - before - {killed}
        if book.database.is_sqlite:
            aged(killed), aged(alive)
            assert running.sqlite_path.parent.name == alive
        until_released(book, raw_sql, held=1)  # only the running one's
        status = openbook("projections", "status")
        assert status.exit_code == 0, status.output
        assert f"removed {killed}: the scratch tables of a rebuild" in status.stderr
        assert killed not in scratch_places(book, raw_sql) and alive in scratch_places(book, raw_sql)
        assert alive not in status.stderr

    assert alive not in scratch_places(book, raw_sql)  # removed on leaving, as ever
    # another leftover, as a killed rebuild leaves one (its lock free): made by hand, as a second kill costs seconds
    if book.database.is_sqlite:
        folder = Path(tempfile.gettempdir()) / "openbook_rebuild-0123456789ab"
        folder.mkdir()
        (folder / "owner.lock").touch()
        aged(folder.name)
    else:
        raw_sql('CREATE SCHEMA "openbook_rebuild_0123456789ab"')
    register(book, "later", 2)
    book.projections.rebuild(["organisations"])  # removes the leftover first
    assert scratch_places(book, raw_sql) - before == set()
    registered = [code for (code,) in raw_sql("SELECT code FROM organisations") if code.startswith(("kept-", "later-"))]
    assert len(registered) == 5 and {row["lag"] for row in book.projections.status()} == {0}
