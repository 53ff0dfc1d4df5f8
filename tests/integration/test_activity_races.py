"""An import racing the chunk sweep, a chunk changed under it, and two imports of the same visits at once.

Proven here, on SQLite and PostgreSQL, with Wirral's £15.60 an hour (a
30-minute visit is £7.80, a 60-minute one £15.60):
- a sweep (``--older-than-hours 0``) run while an import is paused between
  staging and recording removes only a failed import's leftover chunk: the
  running import's chunks are leased, even one it reused from that failed
  import, and it records with the hand-computed totals;
- a chunk deleted or altered before the commit, or swept once its lease has
  expired, refuses the import: nothing is recorded and the ledger goes on;
- two imports sharing 2,000 visit ids, both staged before either records: the
  first records them as new, the second sees them and records only its new
  visits and its corrections; the import records and the totals agree with
  the true figures;
- an import never compares with a read model behind the history (a catch-up
  that did not finish): it refuses, rather than record visits again as new.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from domain.envelope import SYSTEM
from domain.errors import InvalidInput, Unavailable
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
    book.activity.before_recording = lambda: swept.append(book.activity.sweep_activity_chunks(SYSTEM, timedelta(0)))

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
    assert book.activity.sweep_activity_chunks(SYSTEM, timedelta(0)) == 0 and chunk_count(book) == 3


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
            lambda book, raw_sql: (expire_leases(raw_sql), book.activity.sweep_activity_chunks(SYSTEM, timedelta(0))),
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


# -- two imports of the same visits at once --------------------------------------------------------------

SHARED = 2000
CHANGED = 100  # of the shared visits, the second file has these at 60 minutes instead of 30
EXTRA = 500  # visits only the second file has


def monthly_file(path, changed: int = 0, extra: int = 0):
    """Visits V00000...: 30 minutes each (£7.80), except the first ``changed`` at 60 (£15.60)."""
    rows = [
        visit(f"V{n:05d}", "premier-care", "CH41 2AB", (date(2019, 4, 1) + timedelta(n % 300)).isoformat(), 30,
              60 if n < changed else 30)
        for n in range(SHARED + extra)
    ]  # fmt: skip
    return write_csv(path, rows)


def test_two_imports_of_the_same_visits_at_once_record_each_visit_once(open_book, tmp_path):
    one, two = open_book(), open_book()
    wirral(one)
    files = {"one": monthly_file(tmp_path / "one.csv"), "two": monthly_file(tmp_path / "two.csv", CHANGED, EXTRA)}
    both_staged = threading.Barrier(2, timeout=120)
    summaries, errors = {}, []

    def run(name: str, book: Openbook) -> None:
        waited: list[bool] = []

        def wait_for_the_other_once() -> None:  # both compare with the same visits (none) before either records
            if not waited:
                waited.append(True)
                both_staged.wait()

        book.activity.before_recording = wait_for_the_other_once
        try:
            summaries[name] = book.activity.import_activity(imported_on(date(2020, 4, 6)), WIRRAL, files[name])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=args) for args in (("one", one), ("two", two))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == [] and all(s.recorded for s in summaries.values())

    # Whichever recorded first found nothing recorded; the second saw its visits.
    first = next(name for name, s in summaries.items() if (s.unchanged, s.corrected_visits) == (0, 0))
    second = "two" if first == "one" else "one"
    counts = {name: (s.visits, s.corrected_visits, s.unchanged) for name, s in summaries.items()}
    if first == "one":
        # two: 500 new, 100 changed (30 -> 60 min), 1,900 the same. Final: 2,400 × £7.80 + 100 × £15.60.
        assert counts == {"one": (2000, 0, 0), "two": (500, 100, 1900)}
        hours, spend = D("1300.00"), D("20280.00")  # (2,400 × 30 + 100 × 60) min = 78,000 min
    else:
        # one: nothing new, 100 changed back (60 -> 30 min), 1,900 the same. Final: 2,500 × £7.80.
        assert counts == {"two": (2500, 0, 0), "one": (0, 100, 1900)}
        hours, spend = D("1250.00"), D("19500.00")  # 2,500 × 30 min = 75,000 min
    assert summaries[second].message.endswith("corrected 100, 1,900 already recorded (skipped)")

    book = open_book()
    recorded = views.imports(book.read_engine, everyone(book))
    assert sum(r["visits"] for r in recorded) == SHARED + EXTRA == 2500
    assert sum(r["corrected_visits"] for r in recorded) == CHANGED
    assert by(book, "provider") == {"premier-care": (2500, hours, spend)}
    assert recompute_totals_from_history(book) == totals_by_key(book.read_engine)


def test_an_import_refuses_to_compare_with_a_read_model_behind_the_history(book, tmp_path, monkeypatch):
    # as if catch-ups failed: neither the path after a command (a few events, every read model in one transaction)
    # nor the ordinary one applies anything
    monkeypatch.setattr(book.projections, "_catch_up_together", lambda behind, reached, head, progress: (0, []))
    monkeypatch.setattr(book.projections, "_catch_up", lambda projection, head, progress: 0)
    first = book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, write_csv(tmp_path / "a.csv", HAND_VISITS))
    assert first.recorded and first.visits == 5  # recorded, not yet applied to the read model
    before = head(book)

    again = write_csv(tmp_path / "b.csv", [*HAND_VISITS, visit("H6", "premier-care", "CH43 9ZZ", "2019-07-02", 30, 30)])
    with pytest.raises(Unavailable, match=r"^importing b.csv: the activity read model is stopped at position"):
        book.activity.import_activity(imported_on(date(2019, 8, 6)), WIRRAL, again)
    assert head(book) == before

    monkeypatch.undo()
    summary = book.activity.import_activity(imported_on(date(2019, 8, 6)), WIRRAL, again)
    assert (summary.visits, summary.unchanged, summary.spend) == (1, 5, D("7.80"))
    assert by(book, "service") == {"standard": (6, D("3.67"), D("57.20"))}  # 49.40 + 7.80; 190 + 30 min
