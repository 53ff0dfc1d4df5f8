"""Concurrent writers on SQLite and PostgreSQL: the first save wins, the second is refused whole.

Proven here: two ledgers that loaded the same version of an organisation
cannot both rename it (optimistic concurrency on the aggregate version); the
loser gets a ConcurrencyConflict naming the record and records nothing; and
several ledgers can open on one database at the same moment.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest

from domain.envelope import SYSTEM, Actor, Envelope
from domain.errors import ConcurrencyConflict
from domain.organisations.organisation import Organisation
from ledger.bootstrap import open_openbook
from ledger.persistence.history import read_events
from ledger.queries.organisations import list_organisations


def env(who: str) -> Envelope:
    """An envelope of ``who``, an admin of the Acme council (the operator's set-up is ``system``)."""
    return Envelope(SYSTEM if who == "setup" else Actor(who, "acme"), date(2024, 4, 1), "test")


@pytest.fixture
def two_ledgers_racing(open_book, monkeypatch):
    """Ledgers ``first`` and ``second``; when ``second`` loads an organisation, ``first`` renames it just after.

    So both load version 1 and both rename it, and ``first`` saves first.
    """
    first, second = open_book(), open_book()
    first.organisations.register_organisation(env("setup"), "acme", "Acme Council", "council")
    for admin in ("ann@acme.example", "bob@acme.example"):
        first.organisations.register_user(env("setup"), admin, admin, "acme", ["admin"])
    load = second.records.organisation

    def load_then_first_renames(code: str) -> Organisation:
        loaded = load(code)
        monkeypatch.setattr(second.records, "organisation", load)  # race once only
        first.organisations.rename_organisation(env("ann@acme.example"), code, "Acme Council (Ann)")
        return loaded

    monkeypatch.setattr(second.records, "organisation", load_then_first_renames)
    return first, second


def test_the_second_of_two_concurrent_renames_is_refused(two_ledgers_racing):
    first, second = two_ledgers_racing
    org_id = Organisation.create_id("acme")

    with pytest.raises(ConcurrencyConflict) as refused:
        second.organisations.rename_organisation(env("bob@acme.example"), "acme", "Acme Council (Bob)")

    message = str(refused.value)
    assert "organisation 'acme'" in message  # named by its natural key, not its id
    assert "rename_organisation" in message and "nothing was recorded" in message
    history = read_events(first.ledger.recorder, first.ledger.mapper, aggregate_id=org_id)
    assert [e.topic for e in history] == [Organisation.Registered.TOPIC, Organisation.Renamed.TOPIC]
    assert history[1].payload == {"name": "Acme Council (Ann)"} and history[1].actor == "ann@acme.example"
    for book in (first, second):
        assert [o["name"] for o in list_organisations(book.read_engine)] == ["Acme Council (Ann)"]
        assert book.records.organisation("acme").name == "Acme Council (Ann)"


def test_the_loser_can_reload_and_try_again(two_ledgers_racing):
    first, second = two_ledgers_racing
    with pytest.raises(ConcurrencyConflict):
        second.organisations.rename_organisation(env("bob@acme.example"), "acme", "Acme Council (Bob)")

    second.organisations.rename_organisation(env("bob@acme.example"), "acme", "Acme Council (Bob)")

    assert second.records.organisation("acme").version == 3
    assert [o["name"] for o in list_organisations(first.read_engine)] == ["Acme Council (Bob)"]


def test_several_ledgers_can_open_on_one_database_at_the_same_moment(book, database):
    """Web workers and the CLI start together, each opening a Ledger (which makes sure the tables exist).

    Threads stand in for processes: each ledger has its own connections, so to
    the database they are separate clients. The first Ledger made the tables.
    """
    start = threading.Barrier(4)
    failures: list[str] = []

    def open_and_close() -> None:
        start.wait()
        try:
            open_openbook(database).close()
        except Exception as e:  # noqa: BLE001 - reported in the assertion
            failures.append(f"{type(e).__name__}: {str(e).splitlines()[0]}")

    threads = [threading.Thread(target=open_and_close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert failures == []
    book.organisations.register_organisation(env("setup"), "acme", "Acme Care", "provider")  # the store still works
    assert book.ledger.recorder.max_notification_id() == 1
