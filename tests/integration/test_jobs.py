"""Background jobs on SQLite and PostgreSQL: an activity import run by a worker, with its progress recorded.

Proven here, with Wirral's figures (five hand-priced visits, £49.40 at £15.60 an hour):
- a queued import runs in a worker: its progress is in the database while it runs, and when done the visits are
  recorded and priced, and the job's result is the import's summary;
- a bad file fails the job with the import's problems by row and column, and records nothing;
- two workers claiming at once never get the same job;
- a job whose worker died (its lease expired) runs again and records once; a kind that may not run again is
  failed instead, saying nothing was recorded; the dead worker can no longer write to the job;
- a provider's users see only their organisation's jobs; another's is not found.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from domain.envelope import SYSTEM, Actor, Envelope
from domain.errors import NotFound
from ledger.authorisation import access_for
from ledger.jobs import activity_import as import_job
from ledger.jobs.kinds import JobKind
from ledger.jobs.queue import JobQueue
from ledger.jobs.worker import Worker, start_worker_thread
from ledger.queries import activity as views
from tests.integration.activity_setup import ECM, HAND_VISITS, WIRRAL, visit, write_csv
from tests.integration.agreement_setup import wirral

SPEND = D("49.40")  # 7.80 + 11.70 + 14.30 + 5.20 + 10.40


@pytest.fixture
def book(open_book):
    found = open_book()
    wirral(found)
    return found


def spend_and_visits(book) -> tuple[D, int]:
    rows = views.totals(book.read_engine, access_for(book.records, SYSTEM, WIRRAL), ("service",))
    return sum((r["spend"] for r in rows), D("0")), sum(r["visits"] for r in rows)


def queue_import(book, path, actor=ECM, **extra) -> str:
    args = import_job.arguments(WIRRAL, path, path.name, reason="monthly ECM file", effective=date(2019, 8, 5), **extra)
    return book.jobs.enqueue(import_job.NAME, actor, args)


def test_a_queued_import_runs_in_a_worker_with_its_progress_recorded(book, tmp_path):
    rows = [*HAND_VISITS, *(visit(f"P{n}", "premier-care", "CH41 2AB", "2019-05-01", 30, 30) for n in range(195))]
    job_id = queue_import(book, write_csv(tmp_path / "april.csv", rows))
    queued = book.jobs.get(ECM, job_id)
    assert (queued.state, queued.title, queued.actor) == ("queued", f"import april.csv into {WIRRAL}", ECM)

    seen_while_running = []

    def look() -> None:  # staged, not yet recorded: what a progress bar reads now, from the database
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            job = book.jobs.store.get(job_id)
            if job.message == "checking rows" and job.done == len(rows):
                break
            time.sleep(0.02)
        seen_while_running.append(job)

    book.activity.before_recording = look
    ran = Worker(book, beat=0.01).run_once()

    during = seen_while_running[0]
    assert (during.state, during.done, during.message) == ("running", 200, "checking rows")
    assert ran.id == job_id and ran.state == "done" and ran.error is None and ran.percent == 100
    assert ran.result["recorded"] is True and ran.result["visits"] == 200 and ran.result["file_name"] == "april.csv"
    assert D(ran.result["spend"]) == SPEND + 195 * D("7.80")
    assert spend_and_visits(book) == (SPEND + 195 * D("7.80"), 200)
    assert ran.attempts == 1 and ran.started_at <= ran.finished_at and ran.lease_owner is None
    assert Worker(book).run_once() is None  # nothing else queued


def test_a_bad_file_fails_the_job_with_the_rows_and_records_nothing(book, tmp_path):
    before = book.projections.head()
    bad = [HAND_VISITS[0], visit("B2", "acme-care", "CH41 2AB", "2019-04-03", 30, 30), visit(
        "B3", "premier-care", "CH99 1AA", "2019-04-03", 30, 30)]  # fmt: skip
    path = write_csv(tmp_path / "bad.csv", bad)
    job_id = queue_import(book, path)

    failed = Worker(book, beat=0.01).run_once()

    assert failed.id == job_id and failed.state == "failed" and failed.result is None
    assert failed.error["kind"] == "invalid-input"
    assert failed.error["problems"][0] == "bad.csv: 2 problem(s); nothing was recorded"
    assert [p.split(":")[0] for p in failed.error["problems"][1:]] == ["row 3, column provider", "row 4, column postcode"]
    assert book.projections.head() == before and spend_and_visits(book) == (D("0"), 0)
    assert path.exists()  # not an upload the job owns: left where it was


def test_an_uploaded_copy_is_removed_when_its_job_ends(book, tmp_path):
    with write_csv(tmp_path / "april.csv", HAND_VISITS).open("rb") as stream:  # as the web hands on an upload
        kept = import_job.keep_upload(stream, "../../april.csv", tmp_path / "uploads")
    assert kept.parent.parent == tmp_path / "uploads" and kept.name == "upload.csv"
    queue_import(book, kept, uploaded=True)
    assert Worker(book).run_once().state == "done"
    assert not kept.exists() and list((tmp_path / "uploads").iterdir()) == []


def test_an_upload_is_kept_under_its_own_name_whatever_it_was_called(tmp_path):
    for sent, kept in (("..", "upload"), ("/", "upload"), ("a/B.XLSX", "upload.xlsx"), ("x.exe", "upload")):
        copy = import_job.keep_upload(io.BytesIO(b"visit_id\n"), sent, tmp_path / "uploads")
        assert copy.name == kept and copy.parent.parent == tmp_path / "uploads" and copy.read_bytes() == b"visit_id\n"


def test_two_workers_claiming_at_once_never_get_the_same_job(book, open_book, tmp_path):
    path = write_csv(tmp_path / "april.csv", HAND_VISITS)
    queued = {queue_import(book, path) for _ in range(24)}
    claimed: dict[str, list[str]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def claim_all(name: str) -> None:
        other = open_book()  # a process of its own, as two `openbook worker`s are
        start.wait()
        while (job := other.jobs.store.claim(f"worker-{name}", timedelta(minutes=5))) is not None:
            claimed[name].append(job.id)

    threads = [threading.Thread(target=claim_all, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert set(claimed["a"]).isdisjoint(claimed["b"])
    assert sorted(claimed["a"] + claimed["b"]) == sorted(queued)
    for name, ids in claimed.items():
        assert {book.jobs.store.get(i).lease_owner for i in ids} <= {f"worker-{name}"}
    assert all(book.jobs.store.get(i).state == "running" for i in queued)


def test_a_job_whose_worker_died_runs_again_and_records_once(book, tmp_path):
    job_id = queue_import(book, write_csv(tmp_path / "april.csv", HAND_VISITS))
    job = book.jobs.store.claim("dead", timedelta(seconds=1))
    assert Worker(book, worker_id="live").recover() == []  # its lease has not yet run out
    # It recorded the import, then died before it could say so.
    book.jobs.kinds[job.kind].run(book, job, lambda *_: None)
    assert spend_and_visits(book) == (SPEND, 5)
    time.sleep(max(0.0, (job.lease_expires - datetime.now(timezone.utc)).total_seconds()) + 0.1)

    resumed = Worker(book, worker_id="live").run_once()

    assert resumed.id == job_id and resumed.state == "done" and resumed.attempts == 2
    assert resumed.result["recorded"] is False and resumed.result["message"].startswith("already imported")
    assert resumed.result["earlier"]["visits"] == 5
    assert spend_and_visits(book) == (SPEND, 5)  # once
    assert book.jobs.store.finish(job_id, "dead", {"late": True}) is False  # the dead worker's word no longer counts
    assert book.jobs.store.get(job_id).result == resumed.result


def test_a_job_that_may_not_run_again_is_failed_when_its_worker_died(book):
    ran = []
    once = JobKind("once", check=lambda *_: "a job that must not run twice", run=lambda *_: ran.append(1),
                   resumable=False)  # fmt: skip
    jobs = JobQueue(book.jobs.store, book.records, {"once": once})
    with_once = dataclasses.replace(book, jobs=jobs)
    job_id = jobs.enqueue("once", SYSTEM, {})
    book.jobs.store.claim("dead", timedelta(milliseconds=100))
    time.sleep(0.2)

    assert Worker(with_once).run_once() is None  # failed, not queued again: nothing to run

    failed = jobs.get(SYSTEM, job_id)
    assert failed.state == "failed" and ran == []
    assert failed.error == {"kind": "unavailable", "message": "interrupted by a restart; nothing was recorded",
                            "problems": ["interrupted by a restart; nothing was recorded"]}  # fmt: skip


def test_a_provider_sees_only_its_own_organisations_jobs(book, tmp_path):
    premier = Actor("finance@premier.example", "premier-care")
    book.organisations.register_user(
        Envelope(SYSTEM, date(2019, 4, 1), "test set-up"), premier.user, "Premier Finance", "premier-care", ["provider"]
    )
    council_job = queue_import(book, write_csv(tmp_path / "april.csv", HAND_VISITS))
    own_job = book.jobs.store.enqueue(import_job.NAME, premier, {}, "import premier.csv into wirral-homecare")

    assert [j.id for j in book.jobs.list_for(premier)] == [own_job]
    assert book.jobs.get(premier, own_job).actor == premier
    with pytest.raises(NotFound):
        book.jobs.get(premier, council_job)
    assert [j.id for j in book.jobs.list_for(ECM)] == [council_job]
    assert {j.id for j in book.jobs.list_for(SYSTEM)} == {council_job, own_job}


def test_the_worker_thread_of_openbook_serve_runs_what_is_queued_until_stopped(book, tmp_path):
    thread, stop = start_worker_thread(book, poll=0.05)
    try:
        job_id = queue_import(book, write_csv(tmp_path / "april.csv", HAND_VISITS))
        deadline = time.monotonic() + 60
        while not book.jobs.store.get(job_id).finished and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert book.jobs.store.get(job_id).state == "done" and spend_and_visits(book) == (SPEND, 5)


def test_a_worker_stopped_mid_job_hands_it_on_at_once(book, tmp_path):
    job_id = queue_import(book, write_csv(tmp_path / "april.csv", HAND_VISITS))

    def stopped() -> None:  # Ctrl+C (or SIGTERM) while the file is staged, before it is recorded
        raise KeyboardInterrupt

    book.activity.before_recording = stopped
    with pytest.raises(KeyboardInterrupt):
        Worker(book, worker_id="stopping").run_once()

    queued = book.jobs.store.get(job_id)
    assert (queued.state, queued.lease_owner, queued.attempts) == ("queued", None, 1)
    assert spend_and_visits(book) == (D("0"), 0)
    book.activity.before_recording = lambda: None
    assert Worker(book).run_once().state == "done" and spend_and_visits(book) == (SPEND, 5)
