"""Readers never wait for writers, and never see half an import, on SQLite and PostgreSQL.

Proven with a barrier, not timings: the runner's ``before_commit`` hook runs
while a write transaction is open (its changes written, not yet committed),
and the reads run inside it. The writer cannot go on until they return, so a
read that waited for its lock would wait in vain: with a one-second busy
timeout it fails instead. Here:
- a ledger opens, catches up and reads while another connection holds a
  write transaction (the CLI's ``openbook events`` too);
- an import of 100,000 visits is applied 40,000 visits per transaction;
  between its steps a second ledger opens and reads at once, and sees the
  totals, visits and imports as they were before the import, none of it;
- a crash between steps loses only the open step, and the next catch-up
  finishes the import: every visit counted exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import Connection, func, select, update

from demo.visits import visit_rows, write_visits
from domain.envelope import SYSTEM
from domain.errors import NotFound
from ledger.audit.activity_totals import recompute_totals_from_history
from ledger.authorisation import access_for
from ledger.bootstrap import Openbook
from ledger.persistence import database as database_module
from ledger.persistence.history import read_events
from ledger.projections import activity as activity_projection
from ledger.projections.activity import activity_applying, visits
from ledger.projections.runner import positions
from ledger.queries import activity as views
from ledger.queries.every_provider import totals_by_key
from tests.integration.activity_setup import HAND_VISITS, WIRRAL, imported_on, write_csv
from tests.integration.agreement_setup import wirral

YEAR = (date(2019, 4, 1), date(2020, 3, 31))


@pytest.fixture
def book(open_book: Callable[[], Openbook]) -> Openbook:
    found = open_book()
    wirral(found)
    return found


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ledgers opened from now on wait at most a second for a lock (SQLite's busy timeout)."""
    monkeypatch.setattr(database_module, "LOCK_TIMEOUT_SECONDS", 1)


def by_provider(book: Openbook) -> dict[str, tuple[int, D]]:
    rows = views.totals(book.read_engine, access_for(book.records, SYSTEM, WIRRAL), ("provider",))
    return {r["provider"]: (r["visits"], r["spend"]) for r in rows}


def applying(conn: Connection) -> tuple[int, int] | None:
    """(chunks, visits) an import being applied has reached, as this transaction sees it; None if none is."""
    row = conn.execute(select(activity_applying.c.chunks_done, activity_applying.c.visits_done)).first()
    return None if row is None else (row[0], row[1])


def test_a_ledger_opens_and_reads_while_another_connection_holds_a_write_transaction(
    book, open_book, openbook, tmp_path, impatient
):
    book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, write_csv(tmp_path / "hand.csv", HAND_VISITS))
    head = book.projections.head()
    with book.ledger.write_engine.begin() as held:  # SQLite: BEGIN IMMEDIATE, the write lock; PostgreSQL: row locks
        held.execute(update(positions).values(position=positions.c.position))
        other = open_book()
        assert other.projections.catch_up() == 0  # nothing behind: no write lock asked for
        assert set(other.projections.positions().values()) == {head}
        assert by_provider(other)["premier-care"] == (2, D("19.50"))  # H1 £7.80 + H2 £11.70
        assert len(read_events(other.ledger.recorder, other.ledger.mapper, limit=head)) == head
        shown = openbook("events", "--limit", "1")
    assert shown.exit_code == 0, shown.output + shown.stderr


def test_a_large_import_is_applied_in_short_steps_and_readers_see_none_of_it_until_it_ends(
    book, open_book, tmp_path, impatient
):
    book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, write_csv(tmp_path / "hand.csv", HAND_VISITS))
    before = by_provider(book)
    assert sum(n for n, _spend in before.values()) == 5
    agreement = book.records.agreement(WIRRAL)
    path = write_visits(tmp_path / "year.csv", visit_rows(agreement, 100_000, *YEAR, id_prefix="G"))
    reached: list[tuple[int, int]] = []
    seen: list[object] = []

    def read_between_steps(conn: Connection) -> None:
        step = applying(conn)
        if step is None:
            return
        reached.append(step)
        if len(reached) == 2:  # the import's write transaction is open, its second step written
            reader = open_book()
            access = access_for(reader.records, SYSTEM, WIRRAL)
            seen.append(by_provider(reader))
            seen.append([i["file_name"] for i in views.imports(reader.read_engine, access)])
            with pytest.raises(NotFound):
                views.visit(reader.read_engine, access, "G00000001")
            seen.append(views.visit(reader.read_engine, access, "H1")["price_pence"])

    book.projections.before_commit = read_between_steps
    summary = book.activity.import_activity(imported_on(date(2020, 4, 6)), WIRRAL, path)

    # 10 chunks of 10,000 visits, four chunks a step: two steps commit with more to do, the third ends the import
    assert reached == [(4, 40_000), (8, 80_000)]
    assert seen == [before, ["hand.csv"], 780]  # as before the import: H1 is still £7.80, nothing of G
    assert summary.visits == 100_000
    after = by_provider(book)
    assert sum(n for n, _spend in after.values()) == 100_005
    assert sum(spend for _n, spend in after.values()) == summary.spend + D("49.40")  # the hand visits' £49.40
    assert views.visit(book.read_engine, access_for(book.records, SYSTEM, WIRRAL), "G00000001")["visit_id"]
    assert recompute_totals_from_history(book) == totals_by_key(book.read_engine)
    with book.read_engine.connect() as conn:
        assert applying(conn) is None


def test_a_crash_between_steps_loses_only_the_open_step_and_the_next_catch_up_finishes_the_import(
    book, tmp_path, monkeypatch
):
    monkeypatch.setattr(activity_projection, "STEP_VISITS", 1000)  # 3,000 visits in chunks of 500: three steps
    agreement = book.records.agreement(WIRRAL)
    path = write_visits(tmp_path / "year.csv", visit_rows(agreement, 3000, *YEAR, id_prefix="G"))

    def crash_in_the_second_step(conn: Connection) -> None:
        if applying(conn) == (4, 2000):
            raise RuntimeError("killed between the write and the commit")

    book.projections.before_commit = crash_in_the_second_step
    summary = book.activity.import_activity(imported_on(date(2020, 4, 6)), WIRRAL, path, chunk_rows=500)
    assert summary.recorded and summary.spend is None  # recorded; applying it stopped, so no spend is claimed
    with book.read_engine.connect() as conn:
        assert applying(conn) == (2, 1000)  # the first step committed, the second rolled back
        assert conn.execute(select(func.count()).select_from(visits)).scalar_one() == 1000
    assert by_provider(book) == {}  # its totals are not shown yet

    book.projections.before_commit = lambda conn: None
    book.projections.catch_up()
    assert sum(n for n, _spend in by_provider(book).values()) == 3000
    with book.read_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(visits)).scalar_one() == 3000
        assert applying(conn) is None
    assert recompute_totals_from_history(book) == totals_by_key(book.read_engine)
