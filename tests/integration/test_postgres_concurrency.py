"""Several writer processes append at once on PostgreSQL while a projection tails the log.

The danger is the visibility gap: in a store whose positions come from a
sequence, a later position can commit before an earlier one, and a reader
that has passed the later one never goes back for the earlier (other event
stores have lost events so). Here writers serialise on the events table's
EXCLUSIVE lock (taken through ``openbook_lock_events()``), so positions are
issued in commit order. Real OS processes record as fast as they can while the
test process catches the organisations read model up in a tight loop; after
they finish, the read model holds every organisation registered, it applied
exactly as many events as were recorded, the event index holds one row per
position, no position is duplicated, every event has its hash, and the chain verifies.
"""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from datetime import date

import pytest

from domain.envelope import SYSTEM, Envelope
from domain.errors import ConcurrencyConflict
from ledger.application import Ledger
from ledger.persistence.database import Database
from ledger.projections.runner import ProjectionRunner
from ledger.queries.organisations import list_organisations
from ledger.records import Records
from ledger.usecases.organisations import OrganisationUseCases
from tests.integration.test_event_store import chain_break

WRITERS = 4
COMMANDS_EACH = 60


def _write(url: str, writer: int, start: multiprocessing.synchronize.Barrier, done: multiprocessing.Queue) -> None:
    """One writer process: register organisations as fast as it can (a ledger with no read models to catch up)."""
    ledger = Ledger(Database.from_url(url), create_tables=False)
    organisations = OrganisationUseCases(ledger, Records(ledger.repository))
    try:
        start.wait(timeout=60)
        for n in range(COMMANDS_EACH):
            envelope = Envelope(SYSTEM, date(2024, 4, 1), "load", None)
            organisations.register_organisation(envelope, f"writer-{writer}-{n}", f"Writer {writer} No {n}", "provider")
        done.put((writer, "ok"))
    except Exception as e:  # noqa: BLE001 - reported to the test, which fails on it
        done.put((writer, repr(e)))
    finally:
        ledger.close()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_writer_processes_and_a_tailing_projection_lose_and_duplicate_nothing(book, database_url, raw_sql):
    spawn = multiprocessing.get_context("spawn")
    start, done = spawn.Barrier(WRITERS + 1), spawn.Queue()
    writers = [spawn.Process(target=_write, args=(database_url, w, start, done)) for w in range(WRITERS)]
    for process in writers:
        process.start()
    start.wait(timeout=120)  # every writer has opened its ledger: all begin at once

    # The organisations read model alone tails the log (the others would only slow each look).
    organisations = book.projections.projections["organisations"]
    tailing = ProjectionRunner(
        book.ledger.write_engine, book.ledger.recorder, book.ledger.mapper, [organisations], reader=book.read_engine
    )
    applied, catch_ups = 0, 0
    while any(p.is_alive() for p in writers):
        applied += tailing.catch_up()  # tails the log while the writers append
        catch_ups += 1
    for process in writers:
        process.join(timeout=60)
    applied += tailing.catch_up()
    results = sorted(done.get(timeout=10) for _ in writers)

    assert results == [(w, "ok") for w in range(WRITERS)]
    total = WRITERS * COMMANDS_EACH
    head = book.projections.head()
    assert catch_ups > 10, "the projection should have tailed the log while it grew"
    assert not any(p.is_alive() for p in writers), "every writer finished (each joined within its bound)"
    assert head == total  # one event per command, no position skipped by a rollback here
    assert applied == total  # every event applied once, by the tailing runner alone
    book.projections.catch_up()  # the event index reads every event: one row per position, none lost or repeated
    assert raw_sql("SELECT count(*), min(position), max(position) FROM event_index") == [(total, 1, total)]
    codes = {o["code"] for o in list_organisations(book.read_engine)}
    assert codes == {f"writer-{w}-{n}" for w in range(WRITERS) for n in range(COMMANDS_EACH)}
    assert raw_sql("SELECT count(*), count(DISTINCT notification_id), min(notification_id), max(notification_id) "
                   "FROM stored_events") == [(total, total, 1, total)]
    assert raw_sql("SELECT count(*) FROM stored_events e JOIN event_hashes h USING (notification_id)") == [(total,)]
    assert chain_break(book) is None


# -- eight writers on overlapping records ------------------------------------------------------------------

OVERLAPPING_WRITERS = 8
SHARED = 3  # organisations every writer renames, in turn: most renames race another writer's
RENAMES_EACH = 8


def _rename(url: str, writer: int, start: multiprocessing.synchronize.Barrier, done: multiprocessing.Queue) -> None:
    """One writer process: rename the shared organisations in turn; report each rename accepted or refused."""
    ledger = Ledger(Database.from_url(url), create_tables=False)
    organisations = OrganisationUseCases(ledger, Records(ledger.repository))
    accepted, refused = [], []
    try:
        start.wait(timeout=60)
        for n in range(RENAMES_EACH):
            code, name = f"shared-{(writer + n) % SHARED}", f"Writer {writer} rename {n}"
            envelope = Envelope(SYSTEM, date(2024, 4, 1), "load", f"w{writer}-{n}")
            try:
                organisations.rename_organisation(envelope, code, name)
            except ConcurrencyConflict as e:
                refused.append((name, str(e)))
            else:
                accepted.append(name)
        done.put((writer, accepted, refused))
    except Exception as e:  # noqa: BLE001 - reported to the test, which fails on it
        done.put((writer, repr(e), []))
    finally:
        ledger.close()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_eight_writers_on_overlapping_records_record_each_accepted_command_once(book, database_url, raw_sql):
    """Every rename accepted is stored once, every one refused is a clear conflict that stored nothing, positions
    are issued once each without a gap, and a projection tailing the log meanwhile applies every event once."""
    for k in range(SHARED):
        book.organisations.register_organisation(Envelope(SYSTEM, date(2024, 4, 1), "set-up"), f"shared-{k}",
                                                 f"Shared {k}", "provider")  # fmt: skip
    registered = book.projections.head()
    spawn = multiprocessing.get_context("spawn")
    start, done = spawn.Barrier(OVERLAPPING_WRITERS + 1), spawn.Queue()
    writers = [spawn.Process(target=_rename, args=(database_url, w, start, done)) for w in range(OVERLAPPING_WRITERS)]
    for process in writers:
        process.start()
    start.wait(timeout=120)
    index = book.projections.projections["event-index"]
    tailing = ProjectionRunner(
        book.ledger.write_engine, book.ledger.recorder, book.ledger.mapper, [index], reader=book.read_engine
    )
    applied = tailing.catch_up()
    while any(p.is_alive() for p in writers):
        applied += tailing.catch_up()
    for process in writers:
        process.join(timeout=60)
    applied += tailing.catch_up()
    results = [done.get(timeout=10) for _ in writers]
    assert not any(p.is_alive() for p in writers), "every writer finished (each joined within its bound)"

    failures = [r for r in results if not isinstance(r[1], list)]
    assert failures == []
    accepted = [name for _w, names, _r in results for name in names]
    refused = [(name, message) for _w, _a, pairs in results for name, message in pairs]
    assert len(accepted) + len(refused) == OVERLAPPING_WRITERS * RENAMES_EACH
    assert accepted and refused, "the writers should have raced on the shared organisations"
    for name, message in refused:
        assert "was changed by someone else first; nothing was recorded" in message, message
    stored = raw_sql("SELECT state FROM stored_events WHERE topic = 'openbook:organisation.renamed'")
    stored_names = Counter(json.loads(bytes(state))["name"] for (state,) in stored)
    assert stored_names == Counter(accepted)  # each accepted once; none refused
    total = registered + len(accepted)
    assert raw_sql("SELECT count(*), count(DISTINCT notification_id) FROM stored_events") == [(total, total)]
    # positions: one each, in commit order (a refused rename's rolled-back insert leaves a gap, never a reuse)
    assert applied == total - registered  # the registrations were applied before it began: every later event once
    assert raw_sql("SELECT count(*) FROM event_index") == [(total,)]
    assert raw_sql("SELECT count(*) FROM stored_events e JOIN event_index i ON i.position = e.notification_id") == [
        (total,)
    ]
    assert chain_break(book) is None
