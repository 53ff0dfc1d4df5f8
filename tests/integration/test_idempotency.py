"""Idempotency keys on SQLite and PostgreSQL: a retried command returns its first result, records nothing.

Proven here: a retry (same key, same payload) records nothing, also after a
restart and from two OS processes at once; a key reused for something else is
refused; a retry that races its original still gets the first result.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from domain.envelope import SYSTEM, Envelope
from domain.errors import Conflict, IdempotencyMismatch
from domain.organisations.organisation import Organisation
from ledger.projections.organisations import organisations
from ledger.queries.organisations import list_organisations

ROOT = Path(__file__).resolve().parents[2]


def env(key: str | None = None, reason: str = "test") -> Envelope:
    return Envelope(SYSTEM, date(2024, 4, 1), reason, key)


def head(book) -> int:
    return book.ledger.recorder.max_notification_id() or 0


def test_a_retry_returns_the_first_result_and_records_nothing(book):
    first = book.organisations.register_organisation(env("reg-acme"), "acme", "Acme Care", "provider")
    assert first == "acme" and head(book) == 1

    again = book.organisations.register_organisation(env("reg-acme"), "acme", "Acme Care", "provider")

    assert again == first
    assert head(book) == 1
    assert book.ledger.recorder.find_idempotency("reg-acme").result == json.dumps("acme")
    assert [o["name"] for o in list_organisations(book.read_engine)] == ["Acme Care"]
    with pytest.raises(Conflict, match="already registered"):  # without the key it is a new command
        book.organisations.register_organisation(env(), "acme", "Acme Care", "provider")
    assert head(book) == 1


def test_a_retried_rename_does_not_undo_a_later_rename(book):
    book.organisations.register_organisation(env(), "acme", "Acme Care", "provider")
    book.organisations.rename_organisation(env("rename-1"), "acme", "Acme Care Ltd")
    book.organisations.rename_organisation(env("rename-2"), "acme", "Acme Homecare")

    assert book.organisations.rename_organisation(env("rename-1"), "acme", "Acme Care Ltd") == "acme"

    assert head(book) == 3
    assert book.records.organisation("acme").name == "Acme Homecare"


@pytest.mark.parametrize(
    "reuse",
    [
        pytest.param(lambda l: l.organisations.register_organisation(env("k1"), "acme", "Acme Care Ltd", "provider"), id="other-name"),
        pytest.param(lambda l: l.organisations.register_organisation(env("k1"), "other", "Acme Care", "provider"), id="other-code"),
        pytest.param(lambda l: l.organisations.register_organisation(env("k1", "typo"), "acme", "Acme Care", "provider"), id="reason"),
        pytest.param(lambda l: l.organisations.rename_organisation(env("k1"), "acme", "Renamed"), id="other-command"),
    ],
)
def test_a_key_reused_for_something_else_is_refused_and_records_nothing(book, reuse):
    book.organisations.register_organisation(env("k1"), "acme", "Acme Care", "provider")

    with pytest.raises(IdempotencyMismatch) as refused:
        reuse(book)

    message = str(refused.value)
    assert "'k1'" in message and "different command or payload" in message and "nothing was recorded" in message
    assert head(book) == 1
    assert book.records.organisation("acme").name == "Acme Care"
    assert Organisation.create_id("other") not in book.ledger.repository


def test_a_key_used_by_a_command_that_changed_nothing_is_still_bound_to_it(book):
    """A retry must never record what its first attempt did not.

    Renaming to the current name records no event; if the key is not claimed,
    a retry after someone else's rename would rename the organisation back.
    """
    book.organisations.register_organisation(env(), "acme", "Acme Care", "provider")
    assert book.organisations.rename_organisation(env("same-name"), "acme", "Acme Care") == "acme"
    assert head(book) == 1
    book.organisations.rename_organisation(env(), "acme", "Acme Homecare")  # someone else, meanwhile

    assert book.organisations.rename_organisation(env("same-name"), "acme", "Acme Care") == "acme"  # the retry

    assert head(book) == 2
    assert book.records.organisation("acme").name == "Acme Homecare"


def test_the_first_result_survives_a_restart(open_book):
    before = open_book()
    before.organisations.register_organisation(env(), "council", "Wirral Council", "council")
    first = before.organisations.register_user(env("reg-ann"), "Ann@Council.example", "Ann", "council", ["accountant"])
    assert first == "ann@council.example"
    before.close()

    after = open_book()
    assert after.organisations.register_user(env("reg-ann"), "Ann@Council.example", "Ann", "council", ["accountant"]) == first
    assert head(after) == 2
    with pytest.raises(IdempotencyMismatch):
        after.organisations.register_user(env("reg-ann"), "Ann@Council.example", "Ann", "council", ["admin"])
    assert head(after) == 2


def test_a_retry_racing_its_original_gets_the_first_result(open_book, monkeypatch):
    """The original commits just after the retry looked for the key: the retry must still return its result.

    The interleaving is forced: the retry's key lookup finds nothing, then the
    original (another ledger instance, e.g. another web worker) commits.
    """
    original, retry = open_book(), open_book()
    lookup = retry.ledger.recorder.find_idempotency
    raced = []

    def lookup_then_let_the_original_commit(key: str):
        found = lookup(key)
        if not raced:
            raced.append(original.organisations.register_organisation(env("reg-acme"), "acme", "Acme Care", "provider"))
        return found

    monkeypatch.setattr(retry.ledger.recorder, "find_idempotency", lookup_then_let_the_original_commit)

    result = retry.organisations.register_organisation(env("reg-acme"), "acme", "Acme Care", "provider")

    assert raced == ["acme"]  # the original really did commit in between
    assert result == "acme"
    assert head(original) == 1


CHILD = textwrap.dedent(
    """
    import json, sys
    from datetime import date
    from domain.envelope import Actor, Envelope
    from ledger.bootstrap import open_openbook
    from ledger.persistence.database import Database

    book = open_openbook(Database.from_url(sys.argv[1]))
    print("ready", flush=True)
    sys.stdin.readline()  # the barrier: the parent releases both processes together
    envelope = Envelope(Actor("system"), date(2024, 4, 1), "retry", "reg-acme")  # the operator, as env() in the parent
    result = book.organisations.register_organisation(envelope, "acme", "Acme Care", "provider")
    print(json.dumps(result), flush=True)
    book.close()
    """
)


def test_two_processes_sending_the_same_command_record_it_once(book, database_url, open_book):
    """Two OS processes (two web workers, say) send the same keyed command at the same moment.

    The parent's ledger has created the tables. Each child opens its ledger in
    turn (opening at the same moment is tested in test_concurrency.py), then
    both are released together.
    """
    children = []
    for _ in range(2):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, database_url],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        children.append(child)
        ready = child.stdout.readline().strip()
        if ready != "ready":
            _, err = child.communicate(timeout=30)
            pytest.fail(f"child did not start: {ready!r} {err}")
    for child in children:
        child.stdin.write("go\n")
    for child in children:
        child.stdin.flush()

    outputs = [child.communicate(timeout=60) for child in children]

    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
        assert json.loads(out) == "acme"
    assert head(book) == 1
    assert [n.topic for n in book.ledger.recorder.select_notifications(start=None, limit=10)] == [
        Organisation.Registered.TOPIC
    ]
    assert book.ledger.recorder.find_idempotency("reg-acme").result == json.dumps("acme")
    reader = open_book()
    reader.projections.catch_up()
    with reader.read_engine.connect() as conn:
        assert conn.execute(organisations.select()).all()[0].code == "acme"
