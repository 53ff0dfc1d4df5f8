"""Delivered activity on SQLite and PostgreSQL: import, pricing, corrections, a kill mid-import, arrears.

Proven here, with Wirral's figures (£15.60 an hour, so a 30-minute visit is
£7.80; £16.34 from 1 April 2020 by a review decided on 15 June 2020):
- a file is checked in full and priced by the rate card; totals by provider,
  zone and service are the hand-computed ones;
- the same file again records nothing and says so; a later file that changes
  a visit records a ``Corrected`` event naming the visit and both values;
- a file with problems records nothing (head and referenced chunks unchanged);
- a process killed mid-import leaves nothing half-recorded, and a re-run works;
- the totals recomputed from events and chunks alone equal the projection's,
  also after corrections, rate changes and a rebuild;
- a backdated review's arrears per provider, and a new event (never an edit)
  when delivered hours are corrected; the arrears read model answers exactly
  as the aggregate does, after a calculation, a recalculation and a rebuild;
- a provider reads only its own totals, visits and arrears: another
  provider's are not found, and the files (every provider's visits) are
  not its to list.
"""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import func, select

from demo.visits import visit_rows, write_visits
from domain.activity.activity_import import ActivityImport
from domain.activity.arrears import Arrears
from domain.envelope import SYSTEM, Actor, Envelope
from domain.errors import InvalidInput, NotAllowed, NotFound, RuleBroken
from ledger.audit.activity_totals import recompute_totals_from_history
from ledger.authorisation import access_for
from ledger.bootstrap import Openbook
from ledger.files.chunks import ChunkStore, activity_chunks
from ledger.persistence.history import read_events
from ledger.queries import activity as views
from ledger.queries.every_provider import provider_activity, recorded_visits, totals_by_key
from ledger.usecases.activity import _arrears_json
from tests.integration.activity_setup import (
    HAND_VISITS,
    WIRRAL,
    imported_on,
    visit,
    write_csv,
)
from tests.integration.agreement_setup import on, wirral

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def book(open_book: Callable[[], Openbook]) -> Openbook:
    found = open_book()
    wirral(found)
    return found


def head(book: Openbook) -> int:
    return book.projections.head()


def chunk_count(book: Openbook) -> int:
    with book.read_engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(activity_chunks)).scalar_one()


def everyone(book: Openbook, agreement: str = WIRRAL):
    """What the operator reads: every provider's figures."""
    return access_for(book.records, SYSTEM, agreement)


def recorded_visit(book: Openbook, visit_id: str, agreement: str = WIRRAL) -> dict:
    return views.visit(book.read_engine, everyone(book, agreement), visit_id)


PREMIER_FINANCE = Actor("finance@premier.example", "premier-care")


def premier_reads(book: Openbook):
    """Premier Care's own access, as its finance officer (a provider user, registered here) gets it."""
    book.organisations.register_user(
        Envelope(SYSTEM, date(2019, 4, 1), "test set-up"), PREMIER_FINANCE.user, "Premier Finance", "premier-care",
        ["provider"],
    )  # fmt: skip
    return access_for(book.records, PREMIER_FINANCE, WIRRAL)


def by(book: Openbook, dimension: str) -> dict[str, tuple[int, D, D]]:
    """{provider/zone/service: (visits, hours, spend)} from the read model."""
    rows = views.totals(book.read_engine, everyone(book), (dimension,))
    return {r[dimension]: (r["visits"], r["hours"], r["spend"]) for r in rows}


def assert_recomputed_equals_projection(book: Openbook) -> None:
    assert recompute_totals_from_history(book) == totals_by_key(book.read_engine)


# -- a good file ----------------------------------------------------------------------------------


def test_a_file_is_priced_by_the_rate_card_and_totals_are_the_hand_computed_ones(book, tmp_path):
    path = write_csv(tmp_path / "april-july.csv", HAND_VISITS)
    summary = book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, path)

    assert summary.recorded and (summary.rows, summary.visits, summary.unchanged, summary.chunks) == (5, 5, 0, 1)
    assert summary.spend == D("49.40") and summary.unpriced_visits == 0  # 7.80 + 11.70 + 14.30 + 5.20 + 10.40
    assert summary.hours_by("provider") == {
        "carewatch": D("0.33"),  # 20 min
        "haven-care": D("0.92"),  # 55 min
        "premier-care": D("1.25"),  # 30 + 45 min
        "wirral-home-care-alliance": D("0.67"),  # 40 min
    }
    assert by(book, "provider") == {
        "carewatch": (1, D("0.33"), D("5.20")),
        "haven-care": (1, D("0.92"), D("14.30")),
        "premier-care": (2, D("1.25"), D("19.50")),
        "wirral-home-care-alliance": (1, D("0.67"), D("10.40")),
    }
    assert by(book, "zone") == {
        "zone-1": (1, D("0.50"), D("7.80")),
        "zone-2": (1, D("0.75"), D("11.70")),
        "zone-3": (2, D("1.25"), D("19.50")),
        "zone-4": (1, D("0.67"), D("10.40")),
    }
    assert by(book, "service") == {"standard": (5, D("3.17"), D("49.40"))}
    quarters = {r["quarter"]: r["spend"] for r in views.totals(book.read_engine, everyone(book), ("quarter",))}
    assert quarters == {"2019-20-Q1": D("39.00"), "2019-20-Q2": D("10.40")}
    paid = provider_activity(book.read_engine, WIRRAL, "premier-care", ["2019-20-Q1"])
    assert (paid.payable_minutes, paid.spend) == (75, D("19.50"))  # £19.50 for 1.25 h: £15.60 an hour
    h1 = recorded_visit(book, "H1")
    assert (h1["district"], h1["zone"], h1["payable_minutes"], h1["hourly_rate"], h1["price"]) == (
        "CH41", "zone-1", 30, D("15.60"), D("7.80"),
    )  # fmt: skip
    assert "postcode" not in h1  # only the district is kept, in the read model and in the chunk
    (digest,) = book.activity.referenced_chunks()
    chunk = ChunkStore(book.ledger.write_engine).read(digest)
    assert "\tCH41\tzone-1\t" in chunk and "2AB" not in chunk
    assert_recomputed_equals_projection(book)


def test_the_same_file_again_records_nothing_and_says_so(book, tmp_path):
    path = write_csv(tmp_path / "april.csv", HAND_VISITS)
    first = book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, path)
    before, chunks = head(book), chunk_count(book)

    again = book.activity.import_activity(imported_on(date(2019, 8, 6)), WIRRAL, path, file_name="renamed.csv")
    assert not again.recorded and again.import_id == first.import_id
    assert again.message.startswith("already imported: this file") and "'april.csv'" in again.message
    assert (head(book), chunk_count(book)) == (before, chunks)

    # A different file whose visits are all recorded already, unchanged: nothing new either.
    write_csv(tmp_path / "copy.csv", [*reversed(HAND_VISITS)])
    same_visits = book.activity.import_activity(imported_on(date(2019, 8, 7)), WIRRAL, tmp_path / "copy.csv")
    assert not same_visits.recorded and same_visits.unchanged == 5
    assert same_visits.message == "nothing new: all 5 visits in copy.csv are already recorded as they are"
    assert head(book) == before


def test_a_generated_year_imports_in_chunks_with_progress(book, tmp_path):
    agreement = book.records.agreement(WIRRAL)
    rows = visit_rows(agreement, 3000, date(2019, 4, 1), date(2020, 3, 31), id_prefix="G")
    path = write_visits(tmp_path / "year.csv", rows)
    seen: list[tuple[str, int, int]] = []
    summary = book.activity.import_activity(
        imported_on(date(2020, 4, 6)), WIRRAL, path, chunk_rows=700, progress=lambda *p: seen.append(p)
    )
    assert (summary.visits, summary.chunks) == (3000, 5)
    checking = [done for stage, done, _ in seen if stage == "checking"]
    pricing = [done for stage, done, _ in seen if stage == "pricing"]
    assert checking == [700, 1400, 2100, 2800, 3000] and pricing[-1] == 3000
    assert sum(r["visits"] for r in views.totals(book.read_engine, everyone(book), ("month",))) == 3000
    years = views.totals(book.read_engine, everyone(book), ("financial_year",))
    assert {r["financial_year"] for r in years} == {"2019-20"}
    assert_recomputed_equals_projection(book)
    # What the next import compares its rows with: every id asked about, across batches of 900 queries (the
    # last one short), found as recorded; an id never recorded is not.
    with open(path, newline="") as f:
        written = {row["visit_id"]: row for row in csv.DictReader(f)}
    found = recorded_visits(book.read_engine, WIRRAL, ["G-none", *written])
    assert set(found) == set(written)
    assert all(
        (v.provider, v.planned_minutes, v.actual_minutes, v.carer_ref) == (
            written[i]["provider"], int(written[i]["planned_minutes"]), int(written[i]["actual_minutes"]),
            written[i]["carer_ref"],
        )
        for i, v in found.items()
    )  # fmt: skip


def test_an_xlsx_file_imports_like_a_csv(book, tmp_path):
    path = write_visits(tmp_path / "visits.xlsx", iter(HAND_VISITS), fmt="xlsx")
    summary = book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, path)
    assert summary.visits == 5 and summary.spend == D("49.40")
    assert views.imports(book.read_engine, everyone(book))[0]["file_format"] == "xlsx"


# -- corrections ------------------------------------------------------------------------------------


def test_a_later_file_that_changes_a_visit_records_a_correction_naming_both_values(book, tmp_path):
    book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, write_csv(tmp_path / "first.csv", HAND_VISITS))
    later = [
        visit("H1", "premier-care", "CH41 2AB", "2019-04-01", 30, 60),  # actual 30 -> 60 minutes
        *HAND_VISITS[1:4],  # unchanged
        visit("H5", "haven-care", "CH47 5RT", "2019-07-01", 45, 40),  # another provider
        visit("H6", "premier-care", "CH43 9ZZ", "2019-07-02", 30, 30),  # new: £7.80
    ]
    summary = book.activity.import_activity(imported_on(date(2019, 8, 20)), WIRRAL, write_csv(tmp_path / "second.csv", later))
    assert (summary.visits, summary.unchanged, summary.corrected_visits, summary.changes) == (1, 3, 2, 2)

    events = read_events(book.ledger.recorder, book.ledger.mapper, topics=[ActivityImport.Corrected.TOPIC])
    assert len(events) == 1
    assert events[0].payload["corrections"] == [
        ["H1", "actual_minutes", "30", "60"],
        ["H5", "provider", "wirral-home-care-alliance", "haven-care"],
    ]
    # Totals moved by the difference: H1 is now £15.60, H5 is Haven Care's, H6 is new.
    assert by(book, "provider") == {
        "carewatch": (1, D("0.33"), D("5.20")),
        "haven-care": (2, D("1.58"), D("24.70")),
        "premier-care": (3, D("2.25"), D("35.10")),
    }
    assert recorded_visit(book, "H1")["price"] == D("15.60")
    assert_recomputed_equals_projection(book)


# -- problems: nothing recorded ---------------------------------------------------------------------


def test_a_file_with_problems_records_nothing_and_names_row_and_column(book, tmp_path):
    book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, write_csv(tmp_path / "good.csv", HAND_VISITS[:2]))
    before, referenced = head(book), book.activity.referenced_chunks()
    bad = [
        visit("B1", "premier-care", "CH41 2AB", "2019-04-03", 30, 30),
        visit("B2", "acme-care", "CH41 2AB", "2019-04-03", 30, 30),  # unknown provider
        visit("B3", "premier-care", "CH99 1AA", "2019-04-03", 30, 30),  # postcode outside the zones
        visit("B4", "premier-care", "CH41 2AB", "2019-04-03", 30, -10),  # negative minutes
        visit("B5", "premier-care", "CH41 2AB", "2019-04-03", 30, 1500),  # absurd minutes
        visit("B1", "premier-care", "CH41 2AB", "2019-04-04", 30, 30),  # duplicate visit id
        visit("B7", "premier-care", "CH41 2AB", "2024-04-01", 30, 30),  # after the term
        visit("B8", "haven-care", "CH41 2AB", "2019-04-03", 30, 30),  # no award in zone-1
        visit("B9", "premier-care", "CH41 2AB", "2019-04-03", 30, 30, client="Jane Smith"),  # a name
    ]
    with pytest.raises(InvalidInput) as refused:
        path = write_csv(tmp_path / "bad.csv", bad)
        book.activity.import_activity(imported_on(date(2019, 8, 6)), WIRRAL, path, chunk_rows=1)
    problems = refused.value.problems
    assert problems[0] == "bad.csv: 8 problem(s); nothing was recorded"
    columns = [p.split(":")[0] for p in problems[1:]]
    assert columns == [
        "row 3, column provider",
        "row 4, column postcode",
        "row 5, column actual_minutes",
        "row 6, column actual_minutes",
        "row 7, column visit_id",
        "row 8, column planned_start",
        "row 9, column provider",
        "row 10, column client_ref",
    ]
    assert "Jane Smith" not in str(refused.value)
    assert head(book) == before and book.activity.referenced_chunks() == referenced
    assert views.imports(book.read_engine, everyone(book))[-1]["file_name"] == "good.csv"
    # The one good row was staged before the first problem: unreferenced, and swept after the grace period.
    assert chunk_count(book) == len(referenced) + 1
    assert book.activity.sweep_activity_chunks(SYSTEM, timedelta(hours=1)) == 0
    assert book.activity.sweep_activity_chunks(SYSTEM, timedelta(0)) == 1
    assert chunk_count(book) == len(referenced)
    assert_recomputed_equals_projection(book)


def test_an_unknown_agreement_or_a_missing_file_is_refused(book, tmp_path):
    path = write_csv(tmp_path / "v.csv", HAND_VISITS)
    with pytest.raises(Exception, match="agreement 'nowhere' is not registered"):
        book.activity.import_activity(imported_on(date(2019, 8, 5)), "nowhere", path)
    with pytest.raises(InvalidInput, match="cannot read"):
        book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, tmp_path / "missing.csv")


# -- killed mid-import --------------------------------------------------------------------------------

KILLER = """
import os, signal, sys, time
from datetime import date
from ledger.bootstrap import open_openbook
from ledger.files.chunks import ChunkStore
from ledger.persistence.database import Database
from tests.integration.activity_setup import imported_on

url, path = sys.argv[1], sys.argv[2]
book = open_openbook(Database.from_url(url))
store = ChunkStore(book.ledger.write_engine)
before = len(store.digests())

def progress(stage, done, total):
    if stage == "checking" and done >= 1500:
        deadline = time.time() + 30
        while len(store.digests()) - before < 3 and time.time() < deadline:
            time.sleep(0.02)
        print("staged", len(store.digests()) - before, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

book.activity.import_activity(imported_on(date(2020, 4, 6)), "wirral-homecare", path, chunk_rows=500, progress=progress)
print("finished", flush=True)
"""


def test_a_process_killed_mid_import_records_nothing_and_a_rerun_succeeds(book, tmp_path, database_url):
    agreement = book.records.agreement(WIRRAL)
    path = write_visits(tmp_path / "year.csv", visit_rows(agreement, 4000, date(2019, 4, 1), date(2020, 3, 31)))
    before, chunks_before = head(book), chunk_count(book)

    killed = subprocess.run(
        [sys.executable, "-c", KILLER, database_url, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert killed.stdout.startswith("staged") and "finished" not in killed.stdout
    staged = chunk_count(book) - chunks_before
    assert staged >= 3  # chunks were written before the kill ...
    assert head(book) == before  # ... but no event references them
    assert views.imports(book.read_engine, everyone(book)) == [] and book.activity.referenced_chunks() == set()

    summary = book.activity.import_activity(imported_on(date(2020, 4, 6)), WIRRAL, path, chunk_rows=500)
    assert summary.recorded and summary.visits == 4000 and summary.chunks == 8
    assert chunk_count(book) == chunks_before + 8  # the staged chunks were the same content: reused
    assert_recomputed_equals_projection(book)


# -- the record, checked independently --------------------------------------------------------------


def test_recomputed_totals_match_the_projection_after_rates_change_and_a_rebuild(book, tmp_path):
    agreement = book.records.agreement(WIRRAL)
    path = write_visits(tmp_path / "year.csv", visit_rows(agreement, 1200, date(2019, 4, 1), date(2020, 3, 31), seed=7))
    book.activity.import_activity(imported_on(date(2020, 4, 6)), WIRRAL, path, chunk_rows=400)
    before = totals_by_key(book.read_engine)

    # A rate published later, from 1 October 2019 in zone 1: the visits it covers are priced again.
    book.rates.publish_rate(on(date(2019, 11, 1), "zone 1 supplement"), WIRRAL, "standard", "zone-1",
                        hourly_rate=D("16.00"), effective_from=date(2019, 10, 1))  # fmt: skip
    after = totals_by_key(book.read_engine)
    zone_1 = [k for k in after if k[2] == "zone-1"]
    assert all(after[k].spend > before[k].spend for k in zone_1)
    assert all(after[k] == before[k] for k in after if k[2] != "zone-1")
    assert_recomputed_equals_projection(book)

    tables = totals_by_key(book.read_engine)
    book.projections.rebuild(["activity"])
    assert totals_by_key(book.read_engine) == tables


def test_a_tampered_chunk_is_caught_by_its_digest(book, tmp_path, raw_sql):
    book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, write_csv(tmp_path / "v.csv", HAND_VISITS))
    (digest,) = book.activity.referenced_chunks()
    import zlib

    text = ChunkStore(book.ledger.write_engine).read(digest)
    text = text.replace("\t30\t2019-04-01T08:30\t30\n", "\t30\t2019-04-01T08:30\t90\n")  # H1: 30 -> 90 minutes
    raw_sql("UPDATE activity_chunks SET body = ? WHERE digest = ?", (zlib.compress(text.encode()), digest))
    with pytest.raises(Exception, match="does not match its digest"):
        recompute_totals_from_history(book)


# -- arrears of a backdated review -------------------------------------------------------------------


def decide_backdated_review(book: Openbook) -> None:
    """Wirral's 2020-21 review: £16.34 in every zone from 1 April 2020, decided on 15 June 2020."""
    book.reviews.open_rate_review(on(date(2020, 2, 3), "annual review"), WIRRAL, "2020-21")
    zones = ("zone-1", "zone-2", "zone-3", "zone-4")
    rates = [{"service": "standard", "zone": z, "band": None, "hourly_rate": "16.34"} for z in zones]
    book.reviews.propose_rates(on(date(2020, 3, 2), "uplift"), WIRRAL, "2020-21", rates, "the National Living Wage rise")
    book.reviews.decide_rate_review(
        on(date(2020, 6, 15), "panel"), WIRRAL, "2020-21", "accepted", reasons="backdated to 1 April",
        decided_by="joint commissioning panel", effective_from=date(2020, 4, 1),
    )  # fmt: skip


SPRING_2020 = [
    visit("A1", "premier-care", "CH41 2AB", "2020-04-15", 30, 30),
    visit("A2", "premier-care", "CH41 2AB", "2020-05-20", 60, 60),
    visit("A3", "haven-care", "CH60 3XY", "2020-06-14", 45, 45),  # the day before the decision
    visit("A4", "haven-care", "CH60 3XY", "2020-06-15", 45, 45),  # decided that day: paid at the new rate
    visit("A5", "premier-care", "CH44 1AA", "2020-03-31", 30, 30),  # before the new rates
]


def test_a_backdated_review_shows_arrears_per_provider_and_a_correction_adds_an_event(book, tmp_path):
    book.activity.import_activity(imported_on(date(2020, 6, 1)), WIRRAL, write_csv(tmp_path / "spring.csv", SPRING_2020))
    assert recorded_visit(book, "A1")["price"] == D("7.80")  # £15.60 when it was imported
    with pytest.raises(Exception, match="2020-21 rate review"):
        book.activity.calculate_arrears(on(date(2020, 6, 1), "too early"), WIRRAL, "2020-21")

    decide_backdated_review(book)
    assert recorded_visit(book, "A1")["price"] == D("8.17")  # priced again: 30 min at £16.34
    assert recorded_visit(book, "A5")["price"] == D("7.80")

    first = book.activity.calculate_arrears(on(date(2020, 6, 20), "arrears for the backdated review"), WIRRAL, "2020-21")
    assert (first["window_start"], first["window_end"]) == ("2020-04-01", "2020-06-14")
    assert first["providers"] == {"haven-care": "0.56", "premier-care": "1.11"} and first["total"] == "1.67"
    premier = next(line for line in first["lines"] if line["provider"] == "premier-care")
    assert premier["working"] == (  # A1 £8.17 − £7.80 and A2 £16.34 − £15.60, visit by visit
        "1.50 h (90 min, 2 visits) priced visit by visit at £16.34 = £24.51, less at £15.60 = £23.40: owed £1.11"
    )

    # The same calculation again records nothing.
    positions = head(book)
    again = book.activity.calculate_arrears(on(date(2020, 6, 21), "again"), WIRRAL, "2020-21")
    assert again["recorded"] is False and head(book) == positions

    # A later file corrects A1's hours: a new calculation, with the difference, never an edit.
    corrected = [visit("A1", "premier-care", "CH41 2AB", "2020-04-15", 30, 90)]
    book.activity.import_activity(imported_on(date(2020, 7, 1)), WIRRAL, write_csv(tmp_path / "fix.csv", corrected))
    second = book.activity.calculate_arrears(on(date(2020, 7, 2), "hours corrected"), WIRRAL, "2020-21")
    assert second["calculations"] == 2 and second["providers"]["premier-care"] == "1.85"  # 150 min × £0.74 ÷ 60
    events = read_events(book.ledger.recorder, book.ledger.mapper, topics=[Arrears.Calculated.TOPIC, Arrears.Recalculated.TOPIC])
    assert [e.topic for e in events] == [Arrears.Calculated.TOPIC, Arrears.Recalculated.TOPIC]
    assert events[1].payload["difference"] == {"haven-care": D("0.00"), "premier-care": D("0.74")}
    assert events[1].payload["previous"] == {"haven-care": D("0.56"), "premier-care": D("1.11")}
    assert views.arrears(book.read_engine, everyone(book), "2020-21")["total"] == "2.41"
    assert_recomputed_equals_projection(book)


def arrears_as_recorded(book: Openbook) -> dict:
    """What the Arrears aggregate says: the command's own JSON of its last calculation."""
    return _arrears_json(book.records.get(Arrears.create_id(WIRRAL, "2020-21"), "arrears"))


def test_the_arrears_read_model_answers_as_the_aggregate_and_a_provider_sees_only_its_own(book, tmp_path):
    book.activity.import_activity(imported_on(date(2020, 6, 1)), WIRRAL, write_csv(tmp_path / "spring.csv", SPRING_2020))
    decide_backdated_review(book)
    with pytest.raises(NotFound, match="arrears of the 2020-21 review of 'wirral-homecare' is not registered"):
        views.arrears(book.read_engine, everyone(book), "2020-21")

    first = book.activity.calculate_arrears(on(date(2020, 6, 20), "arrears"), WIRRAL, "2020-21")
    shown = views.arrears(book.read_engine, everyone(book), "2020-21")
    assert shown == arrears_as_recorded(book) == {k: v for k, v in first.items() if k != "unpriced_groups"}
    assert list(shown) == list(arrears_as_recorded(book))  # the same order, so --json prints the same text

    corrected = [visit("A1", "premier-care", "CH41 2AB", "2020-04-15", 30, 90)]
    book.activity.import_activity(imported_on(date(2020, 7, 1)), WIRRAL, write_csv(tmp_path / "fix.csv", corrected))
    book.activity.calculate_arrears(on(date(2020, 7, 2), "hours corrected"), WIRRAL, "2020-21")
    shown = views.arrears(book.read_engine, everyone(book), "2020-21")
    assert shown == arrears_as_recorded(book) and shown["calculations"] == 2 and shown["total"] == "2.41"

    # Premier Care sees its own lines, and its own total (£1.85: 150 min × £0.74 ÷ 60) as the total.
    own = views.arrears(book.read_engine, premier_reads(book), "2020-21")
    assert {line["provider"] for line in own["lines"]} == {"premier-care"}
    assert (own["providers"], own["total"]) == ({"premier-care": "1.85"}, "1.85")
    assert own["lines"] == [line for line in shown["lines"] if line["provider"] == "premier-care"]
    # ... and its own visits in the basis, never the count of every provider's.
    own_visits = sum(line["visits"] for line in own["lines"])
    assert shown["basis"].startswith(f"{sum(line['visits'] for line in shown['lines']):,} visits recorded from 2020-04-01")
    assert own["basis"] == (
        f"{own_visits:,} visits of premier-care recorded from 2020-04-01 to 2020-06-14; "
        "old rates: the card before the decision; new rates: the card now"
    )

    book.projections.rebuild(["activity"])
    assert views.arrears(book.read_engine, everyone(book), "2020-21") == arrears_as_recorded(book)


def test_a_provider_reads_only_its_own_activity(book, tmp_path):
    book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, write_csv(tmp_path / "v.csv", HAND_VISITS))
    premier = premier_reads(book)
    own = views.totals(book.read_engine, premier, ("zone",))
    assert [(r["zone"], r["visits"], r["spend"]) for r in own] == [("zone-1", 1, D("7.80")), ("zone-2", 1, D("11.70"))]
    assert views.totals(book.read_engine, premier, provider="premier-care")[0]["spend"] == D("19.50")
    with pytest.raises(NotFound, match="haven-care's activity under wirral-homecare is not found"):
        views.totals(book.read_engine, premier, provider="haven-care")

    assert views.visit(book.read_engine, premier, "H1")["price"] == D("7.80")
    with pytest.raises(NotFound, match="visit 'H3' is not recorded under wirral-homecare"):
        views.visit(book.read_engine, premier, "H3")  # Haven Care's: as if it did not exist
    with pytest.raises(NotFound, match="visit 'H9' is not recorded under wirral-homecare"):
        recorded_visit(book, "H9")
    with pytest.raises(NotAllowed, match="may not see every provider's figures under wirral-homecare"):  # a file holds them all
        views.imports(book.read_engine, premier)


def test_a_review_that_is_not_backdated_owes_no_arrears(book):
    book.reviews.open_rate_review(on(date(2020, 2, 3), "annual review"), WIRRAL, "2020-21")
    rates = [{"service": "standard", "zone": "zone-1", "band": None, "hourly_rate": "16.34"}]
    book.reviews.propose_rates(on(date(2020, 3, 2), "uplift"), WIRRAL, "2020-21", rates, "wage floor")
    book.reviews.decide_rate_review(
        on(date(2020, 3, 20), "panel"), WIRRAL, "2020-21", "accepted", effective_from=date(2020, 4, 1)
    )
    with pytest.raises(RuleBroken, match="not backdated"):
        book.activity.calculate_arrears(on(date(2020, 6, 20), "arrears"), WIRRAL, "2020-21")


# -- lots and bands (the demo's Herefordshire), and two imports racing --------------------------------


@pytest.mark.demo
def test_lot_visits_and_banded_packages_are_priced_as_the_card_says(open_book, tmp_path):
    from demo.partnerships import HEREFORDSHIRE, HEREFORDSHIRE_ACCOUNTANT

    book = open_book()
    rows = [
        # Provider C holds the complex-north lot (covering zone A): the visit is the lot's, at the blended rate.
        visit("D1", "hfd-provider-c", "HR6 8AB", "2017-09-01", 60, 60, service="complex"),  # £13.70
        # A rural package after the bands were withdrawn (July 2017): the flat £15.80 applies.
        visit("O1", "hfd-provider-a", "HR5 3CD", "2017-09-01", 30, 30, band="rural"),  # £7.90
        visit("O2", "hfd-provider-b", "HR1 2EF", "2017-09-02", 20, 20),  # zone C: 20 min at £15.80 = £5.27
    ]
    herefordshire_file = Envelope(HEREFORDSHIRE_ACCOUNTANT, date(2017, 10, 2), "monthly ECM file")
    summary = book.activity.import_activity(herefordshire_file, HEREFORDSHIRE, write_csv(tmp_path / "h.csv", rows))
    assert summary.spend == D("26.87") and summary.unpriced_visits == 0
    d1 = recorded_visit(book, "D1", HEREFORDSHIRE)
    assert (d1["zone"], d1["hourly_rate"], d1["price"]) == ("complex-north", D("13.7000"), D("13.70"))
    assert recorded_visit(book, "O1", HEREFORDSHIRE)["band"] == "rural"

    # Before the framework's awards (1 July 2017) no provider may deliver: refused by row and column.
    early = [visit("E1", "hfd-provider-a", "HR5 3CD", "2017-05-01", 30, 30, band="urban")]
    with pytest.raises(InvalidInput, match="row 2, column provider: hfd-provider-a holds no award for zone zone-a"):
        book.activity.import_activity(herefordshire_file, HEREFORDSHIRE, write_csv(tmp_path / "e.csv", early))
    assert_recomputed_equals_projection(book)


def test_two_imports_racing_with_the_same_visit_end_with_the_later_record(book, tmp_path, monkeypatch):
    import ledger.usecases.activity as usecases

    book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, write_csv(tmp_path / "a.csv", HAND_VISITS[:2]))
    # The second import checks its visits before the first is recorded (as if both ran at once) ...
    monkeypatch.setattr(usecases.recorded_activity, "has_visits", lambda engine, agreement: False)
    changed = [visit("H1", "premier-care", "CH41 2AB", "2019-04-01", 30, 60), HAND_VISITS[2]]
    summary = book.activity.import_activity(imported_on(date(2019, 8, 6)), WIRRAL, write_csv(tmp_path / "b.csv", changed))
    assert summary.visits == 2  # ... so it records H1 as new: the later record wins, totals move by the difference
    assert recorded_visit(book, "H1")["price"] == D("15.60")
    assert by(book, "provider")["premier-care"] == (2, D("1.75"), D("27.30"))  # H1 60 min + H2 45 min
    assert_recomputed_equals_projection(book)


def test_many_corrections_go_to_chunks_the_event_lists(book, tmp_path, monkeypatch):
    import ledger.files.activity_staging as importer

    monkeypatch.setattr(importer, "INLINE_CORRECTIONS", 1)  # as if more than 1,000 fields had changed
    book.activity.import_activity(imported_on(date(2019, 8, 5)), WIRRAL, write_csv(tmp_path / "first.csv", HAND_VISITS))
    later = [visit("H1", "premier-care", "CH41 2AB", "2019-04-01", 30, 60, carer="K00077"), *HAND_VISITS[1:]]
    summary = book.activity.import_activity(imported_on(date(2019, 8, 20)), WIRRAL, write_csv(tmp_path / "second.csv", later))
    assert (summary.corrected_visits, summary.changes, summary.visits) == (1, 2, 0)

    (event,) = read_events(book.ledger.recorder, book.ledger.mapper, topics=[ActivityImport.Corrected.TOPIC])
    assert event.payload["corrections"] == [] and len(event.payload["chunks"]) == 1
    chunk = ChunkStore(book.ledger.write_engine).read(event.payload["chunks"][0])
    assert chunk.splitlines()[1:] == ["H1\tcarer_ref\tK00042\tK00077", "H1\tactual_minutes\t30\t60"]
    assert recorded_visit(book, "H1")["carer_ref"] == "K00077"
    assert event.payload["chunks"][0] in book.activity.referenced_chunks()
    assert_recomputed_equals_projection(book)
