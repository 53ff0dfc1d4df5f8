"""An import racing the chunk sweep, and a chunk changed under it.

Proven here, on SQLite and PostgreSQL, with Wirral's £15.60 an hour (a
30-minute visit is £7.80, a 60-minute one £15.60):
- a sweep (``--older-than-hours 0``) run while an import is paused between
  staging and recording removes only a failed import's leftover chunk: the
  running import's chunks are leased, even one it reused from that failed
  import, and it records with the hand-computed totals;
- a chunk deleted or altered before the commit, or swept once its lease has
  expired, refuses the import: nothing is recorded and the ledger goes on.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from domain.errors import InvalidInput
from ledger.audit.activity_totals import recompute_totals_from_history
from ledger.bootstrap import Openbook
from ledger.files.chunks import ChunkIntegrityError
from ledger.queries import activity as views
from ledger.queries.every_provider import totals_by_key
from tests.integration.activity_setup import HAND_VISITS, WIRRAL, imported_on, visit, write_csv
from tests.integration.agreement_setup import wirral
from tests.integration.test_activity_import import by, chunk_count, everyone, head


@pytest.fixture
def book(open_book: Callable[[], Openbook]) -> Openbook:
    found = open_book()
    wirral(found)
    return found


def leave_a_failed_import(book: Openbook, path, rows) -> None:
    """An import refused for its last row, after its first chunk (two rows) was staged."""
    bad = [*rows, visit("B1", "acme-care", "CH41 2AB", "2019-04-03", 30, 30)]  # unknown provider
    with pytest.raises(InvalidInput):
        book.activity.import_activity(imported_on(date(2019, 8, 1)), WIRRAL, write_csv(path, bad), chunk_rows=2)


# -- the sweep and a running import -------------------------------------------------------------------


def test_a_sweep_while_an_import_runs_leaves_its_chunks_and_the_import_records(book, tmp_path):
    stale = [visit(f"Z{n}", "premier-care", "CH41 2AB", "2019-04-02", 30, 30) for n in (1, 2)]
    leave_a_failed_import(book, tmp_path / "stale.csv", stale)
    leave_a_failed_import(book, tmp_path / "early.csv", HAND_VISITS[:2])  # the same first chunk as the file below
    assert chunk_count(book) == 2  # {Z1, Z2} and {H1, H2}, unreferenced and unleased
    swept: list[int] = []
    book.activity.before_recording = lambda: swept.append(book.activity.sweep_activity_chunks(timedelta(0)))

    summary = book.activity.import_activity(
        imported_on(date(2019, 8, 5)), WIRRAL, write_csv(tmp_path / "april-july.csv", HAND_VISITS), chunk_rows=2
    )

    # The sweep ran with the import's chunks {H1, H2} (reused), {H3, H4} and {H5} staged: it took only {Z1, Z2}.
    assert swept == [1]
    assert summary.recorded and (summary.visits, summary.chunks) == (5, 3)
    assert summary.spend == D("49.40")  # 7.80 + 11.70 + 14.30 + 5.20 + 10.40
    assert by(book, "service") == {"standard": (5, D("3.17"), D("49.40"))}
    assert recompute_totals_from_history(book) == totals_by_key(book.read_engine)
    # Done and recorded: its lease is released, the event keeps its chunks.
    assert book.activity.sweep_activity_chunks(timedelta(0)) == 0 and chunk_count(book) == 3


def expire_leases(raw_sql) -> None:
    raw_sql("UPDATE chunk_leases SET expires_at = ?", ("2000-01-01 00:00:00.000000",))


def body_of_other_rows(raw_sql) -> None:
    raw_sql("UPDATE activity_chunks SET body = ?", (zlib.compress(b"visits\nX1\tsomeone else's rows\n"),))


@pytest.mark.parametrize(
    "meddle",
    [
        pytest.param(lambda book, raw_sql: raw_sql("DELETE FROM activity_chunks"), id="deleted"),
        pytest.param(lambda book, raw_sql: body_of_other_rows(raw_sql), id="altered"),
        pytest.param(
            lambda book, raw_sql: (expire_leases(raw_sql), book.activity.sweep_activity_chunks(timedelta(0))),
            id="swept-after-its-lease-expired",
        ),
    ],
)
def test_a_chunk_lost_or_changed_before_the_commit_refuses_the_import(book, tmp_path, raw_sql, meddle):
    path = write_csv(tmp_path / "april-july.csv", HAND_VISITS)
    before = head(book)
    book.activity.before_recording = lambda: meddle(book, raw_sql)

    with pytest.raises(ChunkIntegrityError) as refused:
        book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, path)

    message = str(refused.value)
    assert message.startswith("april-july.csv: activity chunk ") and "nothing was recorded" in message
    assert head(book) == before and book.activity.referenced_chunks() == set()
    assert views.imports(book.read_engine, everyone(book)) == []
    # Nothing is stuck: the next catch-up has nothing to fail on, and the file imports again.
    book.projections.catch_up()
    book.activity.before_recording = lambda: None
    raw_sql("DELETE FROM activity_chunks")
    summary = book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, path)
    assert summary.recorded and summary.spend == D("49.40")
