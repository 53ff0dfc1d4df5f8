"""The event store on SQLite and PostgreSQL: exact values, the hash chain, append-only, positions.

Proven here, on both databases:
- values come back from the stored bytes exactly (a Decimal keeps its exponent);
- every event's chain hash is written in the event's own transaction, and the
  recomputed chain finds the first edited or removed event;
- plain UPDATE/DELETE/TRUNCATE of the ledger's tables is refused by the database;
- a position is never reused or renumbered.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.domain import AggregateCreated, AggregateEvent, BaseAggregate

from domain.envelope import SYSTEM, Actor, Envelope
from domain.errors import ConcurrencyConflict, Conflict, IdempotencyMismatch
from domain.organisations.organisation import Organisation
from ledger.audit.export import export_records
from ledger.audit.verify import verify_records
from ledger.bootstrap import Openbook
from ledger.persistence import EVENTS_TABLE, HASHES_TABLE, IDEMPOTENCY_TABLE
from ledger.persistence.chain import GENESIS, event_hash


def env(key: str | None = None) -> Envelope:
    return Envelope(SYSTEM, date(2024, 4, 1), "test", key)


class Payment(BaseAggregate[UUID]):
    """A test-only aggregate (not a LedgerAggregate, so not part of the domain's stored format)
    whose one event carries every type the ledger must store exactly."""

    TOPIC = "openbook-tests:payment"

    class Event(AggregateEvent):
        envelope: Envelope

    class Recorded(Event, AggregateCreated):
        TOPIC = "openbook-tests:payment.recorded"
        amount: Decimal
        rate: Decimal
        due_at: datetime
        reference: UUID

    def __init__(self, envelope: Envelope, amount: Decimal, rate: Decimal, due_at: datetime, reference: UUID):
        self.envelope = envelope
        self.amount = amount
        self.rate = rate
        self.due_at = due_at
        self.reference = reference

    @classmethod
    def record(cls, envelope: Envelope, amount: Decimal, rate: Decimal, due_at: datetime, reference: UUID) -> Payment:
        return cls._create(
            cls.Recorded,
            id=reference,
            envelope=envelope,
            amount=amount,
            rate=rate,
            due_at=due_at,
            reference=reference,
        )


def stored_chain(book: Openbook) -> tuple[list[tuple[int, str, Any, int, bytes]], list[tuple[int, str]]]:
    """Every stored event as (position, topic, id, version, bytes), and every stored chain hash."""
    events = [
        (n.id, n.topic, n.originator_id, n.originator_version, n.state)
        for n in book.ledger.recorder.select_notifications(start=None, limit=10_000)
    ]
    return events, book.ledger.recorder.select_hashes(0, 10_000)


def chain_break(book: Openbook) -> int | None:
    """The first position the one verifier (``ledger/audit/verify.py``) finds broken in the live store, else None;
    fed as ``openbook verify --database`` feeds it."""
    report = verify_records(export_records(book.ledger.recorder, book.ledger.write_engine))
    assert report.status != "unusable", report.lines()
    return report.failure["position"] if report.status == "broken" else None


def record_history(book: Openbook) -> None:
    """Six events at positions 1..6: three organisations, a rename, a user, a change of roles."""
    book.organisations.register_organisation(env(), "council", "Wirral Council", "council")
    book.organisations.register_organisation(env(), "beta-care", "Beta Care", "provider")
    book.organisations.register_organisation(env(), "gamma-care", "Gamma Care", "provider")
    book.organisations.rename_organisation(env(), "beta-care", "Beta Care Ltd")
    book.organisations.register_user(env("user-1"), "ann@council.example", "Ann", "council", ["accountant"])
    book.organisations.change_user_roles(env(), "ann@council.example", ["accountant", "auditor"])


# --- exact values through the real store --------------------------------------


def test_decimals_dates_datetimes_and_uuids_come_back_exactly_from_the_store(open_book):
    writer = open_book()
    envelope = Envelope(Actor("clerk@council.example", "council"), date(2024, 2, 29), "leap day", "pay-1")
    due_at = datetime(2024, 3, 31, 23, 59, 59, 120000, tzinfo=timezone(timedelta(hours=1)))
    reference = UUID("0b7e2c1d-9f60-4d8e-9a43-5f0c6b1e2a57")
    payment = Payment.record(envelope, Decimal("15.80"), Decimal("0.0500"), due_at, reference)
    writer.ledger.save(payment)

    # A second ledger has nothing cached: everything below is decoded from the stored bytes.
    reader = open_book()
    [notification] = reader.ledger.recorder.select_notifications(start=None, limit=10)
    assert b'"15.80"' in notification.state and b'"0.0500"' in notification.state
    event = reader.ledger.mapper.to_domain_event(notification)
    copy = reader.ledger.repository.get(reference)

    for loaded in (event, copy):
        for field, expected in [
            ("amount", Decimal("15.80")),
            ("rate", Decimal("0.0500")),
            ("due_at", due_at),
            ("reference", reference),
        ]:
            value = getattr(loaded, field)
            assert value == expected and type(value) is type(expected), field
            assert str(value) == str(expected), field  # "15.80" not "15.8"; the +01:00 offset kept
    assert str(copy.amount) == "15.80" and str(copy.rate) == "0.0500"
    assert event.envelope == envelope and type(event.envelope.effective_date) is date
    assert str(event.envelope.effective_date) == "2024-02-29"
    assert event.timestamp == payment.created_on and event.timestamp.utcoffset() == timedelta(0)
    assert str(event.timestamp) == str(payment.created_on)
    assert event.originator_id == reference and copy.id == reference


def test_an_organisation_event_keeps_its_envelope_timestamp_and_id(book, open_book):
    book.organisations.register_organisation(env("org-1"), "council", "Wirral Council", "council")
    recorded = book.records.organisation("council")

    reader = open_book()
    [notification] = reader.ledger.recorder.select_notifications(start=None, limit=10)
    event = reader.ledger.mapper.to_domain_event(notification)
    assert isinstance(event, Organisation.Registered)
    assert event.envelope == env("org-1")
    assert event.originator_id == Organisation.create_id("council") == recorded.id
    assert event.timestamp == recorded.created_on and str(event.timestamp) == str(recorded.created_on)


# --- the hash chain -------------------------------------------------------------


def test_the_recomputed_chain_matches_the_stored_hashes(book):
    record_history(book)

    events, hashes = stored_chain(book)
    assert [e[0] for e in events] == [1, 2, 3, 4, 5, 6]
    assert [h[0] for h in hashes] == [1, 2, 3, 4, 5, 6]
    assert chain_break(book) is None
    # The first hash chains from GENESIS and each later one from its predecessor.
    position, topic, originator_id, version, state = events[0]
    assert hashes[0][1] == event_hash(GENESIS, position, topic, originator_id, version, state)
    assert len({h for _, h in hashes}) == 6


def test_failed_commands_record_neither_events_nor_hashes(book, open_book, monkeypatch):
    record_history(book)
    head = book.ledger.recorder.max_notification_id()

    # Refused before anything is written.
    with pytest.raises(Conflict, match="already registered"):
        book.organisations.register_organisation(env(), "beta-care", "Beta Again", "provider")
    with pytest.raises(IdempotencyMismatch):
        book.organisations.register_user(env("user-1"), "bob@council.example", "Bob", "council", ["accountant"])

    # Refused by the database after the event insert was attempted: the whole transaction is rolled back.
    other = open_book()
    load = other.records.organisation

    def load_then_lose_the_race(code: str) -> Organisation:
        loaded = load(code)
        book.organisations.rename_organisation(env(), code, "Gamma Care (renamed first)")
        return loaded

    monkeypatch.setattr(other.records, "organisation", load_then_lose_the_race)
    with pytest.raises(ConcurrencyConflict):
        other.organisations.rename_organisation(env(), "gamma-care", "Gamma Care (renamed second)")
    assert book.ledger.recorder.max_notification_id() == head + 1  # only the winner's rename

    events, hashes = stored_chain(book)
    assert len(events) == len(hashes) == head + 1
    assert chain_break(book) is None
    # The chain carries on unbroken after the failures (a sequence gap on PostgreSQL is fine).
    book.organisations.register_organisation(env(), "delta-care", "Delta Care", "provider")
    events, hashes = stored_chain(book)
    assert len(events) == len(hashes) == head + 2
    assert [e[0] for e in events] == [h[0] for h in hashes]
    assert chain_break(book) is None


def test_an_event_whose_hash_cannot_be_written_is_not_recorded(book, raw_sql):
    """The event and its hash share one transaction: if the hash insert fails, the event is rolled back.

    A squatter row takes the hash slot of the next position. The command then
    fails (or, on PostgreSQL, the library may retry it at a later position);
    either way no event may sit at the squatted position.
    """
    record_history(book)
    head = book.ledger.recorder.max_notification_id()
    raw_sql(f"INSERT INTO {HASHES_TABLE} (notification_id, hash) VALUES (?, ?)", (head + 1, "squatter"))

    try:
        book.organisations.register_organisation(env(), "delta-care", "Delta Care", "provider")
    except Exception:  # noqa: BLE001 - the outcome that matters is what is stored
        pass

    positions = [n.id for n in book.ledger.recorder.select_notifications(start=None, limit=100)]
    assert head + 1 not in positions
    assert raw_sql(f"SELECT hash FROM {HASHES_TABLE} WHERE notification_id = ?", (head + 1,)) == [("squatter",)]


def test_editing_a_stored_event_breaks_the_chain_at_that_position(book, tamper):
    record_history(book)
    events, _ = stored_chain(book)
    position, _, _, _, state = events[1]
    assert b"Beta Care" in state

    tamper(EVENTS_TABLE, f"UPDATE {EVENTS_TABLE} SET state = ? WHERE notification_id = ?",
           (state.replace(b"Beta Care", b"Beta Cure"), position))

    assert chain_break(book) == position == 2


def test_rewriting_the_edited_events_hash_too_breaks_the_chain_at_the_next_position(book, tamper):
    record_history(book)
    events, hashes = stored_chain(book)
    position, topic, originator_id, version, state = events[1]
    forged = state.replace(b"Beta Care", b"Beta Cure")
    forged_hash = event_hash(hashes[0][1], position, topic, originator_id, version, forged)

    tamper(EVENTS_TABLE, f"UPDATE {EVENTS_TABLE} SET state = ? WHERE notification_id = ?", (forged, position))
    tamper(HASHES_TABLE, f"UPDATE {HASHES_TABLE} SET hash = ? WHERE notification_id = ?", (forged_hash, position))

    assert chain_break(book) == 3  # event 3's stored hash was computed from the original hash of 2


def test_deleting_a_stored_event_breaks_the_chain_at_the_position_after_it(book, tamper):
    """docs/audit.md (Gaps): the event after a deleted one no longer chains from its stored predecessor."""
    record_history(book)

    tamper(EVENTS_TABLE, f"DELETE FROM {EVENTS_TABLE} WHERE notification_id = ?", (2,))

    assert chain_break(book) == 3


def test_deleting_the_last_event_is_caught_only_against_a_checkpoint_taken_before(book, tamper):
    record_history(book)
    position, head, events = book.ledger.recorder.chain_head()
    kept = {"format": "openbook-checkpoint/1", "position": position, "hash": head, "recorded_at": "2026-11-30T09:00:00",
            "events": events, "key_id": None, "signature": None}

    tamper(EVENTS_TABLE, f"DELETE FROM {EVENTS_TABLE} WHERE notification_id = ?", (6,))

    assert chain_break(book) is None  # a shorter chain is still a chain
    report = verify_records(export_records(book.ledger.recorder, book.ledger.write_engine), since=kept)
    assert (report.failure["position"], report.failure["reason"]) == (6, "checkpoint not extended")


# --- append-only guards ---------------------------------------------------------


def _refusal(raw_sql, statement: str) -> str:
    with pytest.raises((sqlite3.DatabaseError, psycopg.Error)) as refused:
        raw_sql(statement)
    return str(refused.value)


@pytest.mark.parametrize("table", [EVENTS_TABLE, HASHES_TABLE, IDEMPOTENCY_TABLE])
def test_plain_update_delete_and_truncate_are_refused(book, database, raw_sql, table):
    record_history(book)  # includes one idempotency claim ("user-1")
    before = raw_sql(f"SELECT * FROM {table} ORDER BY 1")
    assert before, f"{table} should have rows for the guards to act on"
    column = {EVENTS_TABLE: "topic", HASHES_TABLE: "hash", IDEMPOTENCY_TABLE: "digest"}[table]

    statements = [f"UPDATE {table} SET {column} = {column} || 'x'", f"DELETE FROM {table}"]
    if not database.is_sqlite:
        statements.append(f"TRUNCATE {table}")
    for statement in statements:
        message = _refusal(raw_sql, statement)
        assert "append-only" in message and table in message, statement

    assert raw_sql(f"SELECT * FROM {table} ORDER BY 1") == before
    assert chain_break(book) is None


# --- positions ------------------------------------------------------------------


def test_positions_are_never_reused_nor_renumbered(book, database, tamper, raw_sql):
    book.organisations.register_organisation(env(), "alpha-care", "Alpha Care", "provider")
    book.organisations.register_organisation(env(), "beta-care", "Beta Care", "provider")
    book.organisations.register_organisation(env(), "gamma-care", "Gamma Care", "provider")

    # Even with the guards dropped and the last row deleted, position 3 is never issued again.
    tamper(EVENTS_TABLE, f"DELETE FROM {EVENTS_TABLE} WHERE notification_id = ?", (3,))
    book.organisations.register_organisation(env(), "delta-care", "Delta Care", "provider")
    assert [n.id for n in book.ledger.recorder.select_notifications(start=None, limit=10)] == [1, 2, 4]
    assert book.ledger.recorder.max_notification_id() == 4

    # Compacting the database keeps every position (SQLite's VACUUM renumbers implicit rowids).
    tamper(EVENTS_TABLE, f"DELETE FROM {EVENTS_TABLE} WHERE notification_id = ?", (1,))
    raw_sql("VACUUM" if database.is_sqlite else f"VACUUM FULL {EVENTS_TABLE}")
    notifications = book.ledger.recorder.select_notifications(start=None, limit=10)
    assert [n.id for n in notifications] == [2, 4]
    assert [book.ledger.mapper.to_domain_event(n).code for n in notifications] == ["beta-care", "delta-care"]
    book.organisations.register_organisation(env(), "epsilon-care", "Epsilon Care", "provider")
    assert book.ledger.recorder.max_notification_id() == 5
