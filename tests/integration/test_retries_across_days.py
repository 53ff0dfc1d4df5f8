"""A retried command (same ``--key``) is the same command on any day, and says it recorded nothing.

The idempotency digest covers the command as sent: its fields, actor,
reason, and its effective date only if one was given. A date left to default
to today is not part of what was sent, so the same retry the next day returns
the first result ("replayed": true) instead of being refused as a different
payload; another payload under the key is still refused. Digests of commands
with a stated date are what they were before this rule, so stored claims
still match.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from domain.envelope import SYSTEM, Envelope
from domain.errors import IdempotencyMismatch
from ledger.queries.organisations import list_organisations

FIRST_DAY = date(2024, 4, 1)


def head(book) -> int:
    return book.ledger.recorder.max_notification_id() or 0


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch):
    """Set the CLI's today: ``today(day)`` makes ``date.today()`` in ``cli.context`` return ``day``."""

    def set_today(day: date) -> None:
        class Day(date):
            @classmethod
            def today(cls) -> date:
                return day

        monkeypatch.setattr("cli.context.date", Day)

    return set_today


def register(openbook, name: str, *extra: str):
    return openbook("organisations", "register", "acme", name, "--kind", "provider", "--key", "reg-acme", *extra)


def test_the_same_retry_the_next_day_returns_the_first_result_and_records_nothing(openbook, open_book, today):
    today(FIRST_DAY)
    first = register(openbook, "Acme Care", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {"registered": "acme"}  # a first run is not a replay
    book = open_book()
    recorded = head(book)
    assert recorded == 1 and [o["effective_date"] for o in list_organisations(book.read_engine)] == [FIRST_DAY]

    today(date(2024, 4, 2))
    again = register(openbook, "Acme Care")
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [
        "registered organisation acme",
        "already recorded (key 'reg-acme'): the result above is the first one; nothing new recorded",
    ]
    as_json = register(openbook, "Acme Care", "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == {"registered": "acme", "replayed": True}
    assert head(book) == recorded

    other = register(openbook, "Acme Care Ltd", "--json")  # another payload under the key: refused, nothing recorded
    assert other.exit_code == 1 and json.loads(other.stderr)["error"]["kind"] == "idempotency-mismatch"
    stated = register(openbook, "Acme Care", "--effective", "2024-04-02")  # a stated date is part of what was sent
    assert stated.exit_code == 1 and "was already used for a different command or payload" in stated.stderr
    assert head(book) == recorded


def test_a_stated_effective_date_keeps_its_digest_so_claims_recorded_before_still_match(book):
    """The digest of register_organisation("acme", "Acme Care") by the system on 2024-04-01, reason "test", as
    the ledger stored it before the date stopped counting when left to default."""
    stated = Envelope(SYSTEM, FIRST_DAY, "test", "reg-acme")
    assert book.organisations.register_organisation(stated, "acme", "Acme Care", "provider") == "acme"
    claim = book.ledger.recorder.find_idempotency("reg-acme")
    assert claim.digest == "594d97660538c86218e97742161b9d45226efcaf74a35e275e14b49a0398bcba"
    assert book.ledger.replayed == []
    # Before the change a defaulted date was digested like a stated one: the same retry that day still matches.
    defaulted = Envelope(SYSTEM, FIRST_DAY, "test", "reg-acme", date_stated=False)
    assert book.organisations.register_organisation(defaulted, "acme", "Acme Care", "provider") == "acme"
    assert book.ledger.replayed == ["reg-acme"] and head(book) == 1
    with pytest.raises(IdempotencyMismatch, match="'reg-acme' was already used for a different command"):
        book.organisations.register_organisation(
            Envelope(SYSTEM, date(2024, 4, 2), "test", "reg-acme"), "acme", "Acme Care", "provider"
        )
    assert head(book) == 1


def test_the_date_left_to_default_is_not_stored_and_plays_no_part_in_equality(book):
    defaulted = Envelope(SYSTEM, FIRST_DAY, "test", "reg-acme", date_stated=False)
    book.organisations.register_organisation(defaulted, "acme", "Acme Care", "provider")
    [event] = book.ledger.recorder.select_events(book.records.organisation("acme").id)
    assert "date_stated" not in event.state.decode("utf-8")
    assert defaulted == Envelope(SYSTEM, FIRST_DAY, "test", "reg-acme")
