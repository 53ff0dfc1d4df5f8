"""Event signatures and checkpoints on SQLite and PostgreSQL, checked with the published public key alone.

With a key configured, every event recorded is signed in its own transaction
(``openbook_event_signatures``) and events from before it stay unsigned; keys
rotate, and each signature names its key. A checkpoint attests the head
before its own event, is recorded, written and shown; a reader's signed head
records nothing. Signatures are checked here from the ``ed25519:`` public line
only, as an auditor would, never with the private key.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cli.main import cli
from domain.envelope import SYSTEM, Envelope
from domain.errors import RuleBroken
from domain.organisations.organisation import Organisation
from ledger.audit.head_check import current_head
from ledger.audit.signing import SigningKey, generate_key_files
from ledger.bootstrap import Openbook, open_openbook
from ledger.persistence.database import Database
from ledger.queries.checkpoints import latest_recorded_checkpoint
from ledger.usecases import checkpoints
from tests.support import error_line, ok_json

ON = date(2020, 4, 1)


@pytest.fixture
def open_with(database: Database) -> Iterator[Callable[[SigningKey | None], Openbook]]:
    """Open openbook on the test database with a given signing key (or none); all closed at the end."""
    opened: list[Openbook] = []

    def _open(key: SigningKey | None) -> Openbook:
        book = open_openbook(database, signing_key=key)
        opened.append(book)
        return book

    yield _open
    for book in opened:
        book.close()


def new_key() -> SigningKey:
    return SigningKey.of(Ed25519PrivateKey.generate())


def register(book: Openbook, *codes: str) -> None:
    for code in codes:
        book.organisations.register_organisation(Envelope(SYSTEM, ON, "signing test"), code, code.title(), "provider")


def verifies(public_line: str, message: bytes, signature_hex: str) -> bool:
    """Whether ``signature_hex`` is a signature of ``message`` by the key published as ``public_line`` — nothing else."""
    assert public_line.startswith("ed25519:")
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_line.removeprefix("ed25519:"), validate=True))
    try:
        public.verify(bytes.fromhex(signature_hex), message)
    except InvalidSignature:
        return False
    return True


def event_message(chain_hash: str) -> bytes:
    return f"openbook-event/1|{chain_hash}".encode("ascii")


def checkpoint_message(c: dict) -> bytes:
    return f"openbook-checkpoint/1|{c['position']}|{c['hash']}|{c['recorded_at']}|{c['events']}|{c['key_id']}".encode()


def chain(book: Openbook) -> dict[int, str]:
    return dict(book.ledger.recorder.select_hashes(0, 10_000))


def signatures(book: Openbook) -> dict[int, tuple[str, str]]:
    return book.ledger.recorder.select_signatures(1, 10_000)


# -- event signatures --------------------------------------------------------------------------------------------


def test_every_event_recorded_with_a_key_is_signed_and_those_before_it_are_not(open_with):
    register(open_with(None), "before-one", "before-two")
    key = new_key()
    book = open_with(key)
    register(book, "after-one")
    envelope = Envelope(SYSTEM, ON, "two in one transaction")
    book.ledger.save(*(Organisation.register(envelope, code, code.title(), "provider") for code in ("two", "three")))
    hashes = chain(book)
    positions = sorted(hashes)
    assert len(positions) == 5
    signed = signatures(book)
    assert sorted(signed) == positions[2:]  # the two unsigned events stay unsigned
    for position, (key_id, signature) in signed.items():
        assert key_id == key.key_id
        assert verifies(key.public_line, event_message(hashes[position]), signature), position
    # A signature binds its own event's hash: moved to another event, it no longer verifies.
    third, fourth = positions[2], positions[3]
    assert not verifies(key.public_line, event_message(hashes[fourth]), signed[third][1])
    # And a ledger opened without the key again records unsigned events after the signed ones.
    register(open_with(None), "unsigned-again")
    assert max(chain(book)) not in signatures(book)


def test_keys_rotate_and_each_signature_names_the_key_that_made_it(open_with):
    old, new = new_key(), new_key()
    register(open_with(old), "under-old-one", "under-old-two")
    book = open_with(new)
    register(book, "under-new")
    hashes, signed = chain(book), signatures(book)
    positions = sorted(hashes)
    assert [signed[p][0] for p in positions] == [old.key_id, old.key_id, new.key_id]
    published = {old.key_id: old.public_line, new.key_id: new.public_line}
    for position in positions:
        key_id, signature = signed[position]
        assert verifies(published[key_id], event_message(hashes[position]), signature)
        other = new if key_id == old.key_id else old
        assert not verifies(other.public_line, event_message(hashes[position]), signature)


def test_a_signature_row_cannot_be_changed_or_removed(open_with, raw_sql):
    register(open_with(new_key()), "signed")
    for statement in (
        "UPDATE openbook_event_signatures SET signature = 'forged'",
        "DELETE FROM openbook_event_signatures",
    ):
        with pytest.raises(Exception, match="append-only"):
            raw_sql(statement)
    assert len(raw_sql("SELECT position FROM openbook_event_signatures")) == 1


# -- checkpoints -------------------------------------------------------------------------------------------------


def test_a_recorded_checkpoint_attests_the_head_before_its_own_event_and_is_shown(open_with):
    key = new_key()
    book = open_with(key)
    register(book, "alpha", "beta", "gamma")
    position, chain_hash, events = book.ledger.recorder.chain_head()
    assert events == 3
    result = book.checkpoints.record_checkpoint(Envelope(SYSTEM, ON, "year-end audit"))
    checkpoint = result["checkpoint"]
    assert (checkpoint["position"], checkpoint["hash"], checkpoint["events"]) == (position, chain_hash, 3)
    assert checkpoint["format"] == "openbook-checkpoint/1" and checkpoint["key_id"] == key.key_id
    assert verifies(key.public_line, checkpoint_message(checkpoint), checkpoint["signature"])
    # Its own event is the new head, after the head it attests, and is signed like any other.
    head = book.ledger.recorder.max_notification_id()
    assert result["recorded_in"] == head > position
    assert verifies(key.public_line, event_message(chain(book)[head]), signatures(book)[head][1])
    assert latest_recorded_checkpoint(book.read_engine) == result == {
        "checkpoint": checkpoint, "recorded_in": head, "recorded_by": "system",
    }  # fmt: skip
    # The next checkpoint attests the first one's event: the history shows when each head was attested.
    second = book.checkpoints.record_checkpoint(Envelope(SYSTEM, ON, "again"))
    assert (second["checkpoint"]["position"], second["checkpoint"]["events"]) == (head, 4)
    assert latest_recorded_checkpoint(book.read_engine)["checkpoint"] == second["checkpoint"]


def test_a_command_recorded_while_the_checkpoint_is_made_moves_what_it_attests(open_with, monkeypatch):
    """Another process records between reading the head and recording the checkpoint: the guard in the recording
    transaction sees the head moved, nothing is recorded, and the checkpoint is made again from the new head."""
    key = new_key()
    book, other = open_with(key), open_with(key)
    register(book, "alpha")
    real, calls = checkpoints.checkpoint_of_head, []

    def made_while_another_records(recorder, key):
        made = real(recorder, key)
        calls.append(made["position"])
        if len(calls) == 1:
            register(other, "meanwhile")  # recorded after the head was read, before the checkpoint
        return made

    monkeypatch.setattr(checkpoints, "checkpoint_of_head", made_while_another_records)
    result = book.checkpoints.record_checkpoint(Envelope(SYSTEM, ON, "busy"))
    meanwhile = sorted(chain(book))[1]
    assert calls == [sorted(chain(book))[0], meanwhile]
    assert (result["checkpoint"]["position"], result["checkpoint"]["events"]) == (meanwhile, 2)
    assert sorted(chain(book)) == [calls[0], meanwhile, result["recorded_in"]]  # one checkpoint event, after it


def test_a_retried_checkpoint_returns_the_first_and_records_nothing(open_with):
    book = open_with(new_key())
    register(book, "alpha")
    first = book.checkpoints.record_checkpoint(Envelope(SYSTEM, ON, "monthly", "checkpoint-2020-04"))
    head = book.ledger.recorder.max_notification_id()
    again = book.checkpoints.record_checkpoint(Envelope(SYSTEM, ON, "monthly", "checkpoint-2020-04"))
    assert again == first and book.ledger.recorder.max_notification_id() == head == first["recorded_in"]
    assert book.ledger.replayed == ["checkpoint-2020-04"]


def test_an_empty_history_has_no_head_to_checkpoint(open_with):
    book = open_with(new_key())
    with pytest.raises(RuleBroken, match="the history is empty"):
        book.checkpoints.record_checkpoint(Envelope(SYSTEM, ON, "too early"))
    assert book.ledger.recorder.max_notification_id() is None
    assert latest_recorded_checkpoint(book.read_engine) is None


def test_a_readers_signed_head_records_nothing(open_with):
    key = new_key()
    book = open_with(key)
    register(book, "alpha", "beta")
    before = (book.ledger.recorder.chain_head(), chain(book), signatures(book))
    head = current_head(book)
    assert (head["position"], head["hash"], head["events"]) == before[0]
    assert verifies(key.public_line, checkpoint_message(head), head["signature"])
    assert (book.ledger.recorder.chain_head(), chain(book), signatures(book)) == before
    assert latest_recorded_checkpoint(book.read_engine) is None
    # Without a key the same head is stated unsigned.
    unsigned = current_head(open_with(None))
    assert (unsigned["position"], unsigned["key_id"], unsigned["signature"]) == (head["position"], None, None)


# -- the command line --------------------------------------------------------------------------------------------


@pytest.fixture
def openbook_signed(database_url: str) -> Callable[..., Result]:
    """``openbook --database <test database> ARGS`` with OPENBOOK_SIGNING_KEY set to ``key`` (or unset)."""

    def run(*args: str, key: Path | str | None = None, as_user: str | None = None) -> Result:
        who = ["--as", as_user] if as_user else []
        env = {"OPENBOOK_USER": None, "OPENBOOK_SIGNING_KEY": str(key) if key else None}
        return CliRunner().invoke(cli, ["--database", database_url, *who, *args], env=env)

    return run


def test_keys_and_a_checkpoint_from_the_command_line(openbook_signed, tmp_path):
    key_file = tmp_path / "signing.pem"
    made = ok_json(openbook_signed("keys", "generate", "--out", str(key_file), "--json"))
    assert (tmp_path / "signing.pem.pub").read_text().splitlines()[-1] == made["public_key"]
    shown = ok_json(openbook_signed("keys", "show", "--json", key=key_file))
    assert (shown["key_id"], shown["public_key"]) == (made["key_id"], made["public_key"])
    ok_json(openbook_signed("organisations", "register", "alpha", "Alpha", "--kind", "provider", "--json", key=key_file))

    out = tmp_path / "checkpoint.json"
    result = ok_json(openbook_signed("checkpoint", "--out", str(out), "--reason", "audit", "--json", key=key_file))
    [line] = out.read_text().splitlines()
    written = json.loads(line)
    assert written == result["checkpoint"] and list(written)[0] == "format"
    assert (written["position"], written["events"], written["key_id"]) == (1, 1, made["key_id"])
    assert verifies(made["public_key"], checkpoint_message(written), written["signature"])
    assert result["recorded_in"] > written["position"]

    latest = ok_json(openbook_signed("checkpoint", "--latest", "--json"))
    assert latest["checkpoint"] == written and latest["recorded_in"] == result["recorded_in"]
    head = ok_json(openbook_signed("checkpoint", "--head", "--json", key=key_file))
    assert head["checkpoint"]["position"] == result["recorded_in"] and head["recorded_in"] is None

    # The file is evidence: a second checkpoint into it is refused before anything is recorded.
    again = openbook_signed("checkpoint", "--out", str(out), key=key_file)
    assert "already exists" in error_line(again)
    assert ok_json(openbook_signed("checkpoint", "--head", "--json"))["checkpoint"]["position"] == result["recorded_in"]
    assert out.read_text() == line + "\n"


def test_a_bad_key_file_stops_the_command_with_one_line_naming_it(openbook_signed, tmp_path):
    not_a_key = tmp_path / "signing.pem"
    generate_key_files(tmp_path / "real.pem")
    not_a_key.write_text((tmp_path / "real.pem.pub").read_text())  # the public file given by mistake
    refused = openbook_signed("organisations", "register", "alpha", "Alpha", "--kind", "provider", key=not_a_key)
    line = error_line(refused)
    assert f"signing key {not_a_key} (OPENBOOK_SIGNING_KEY): not a usable key" in line
    listed = ok_json(openbook_signed("organisations", "list", "--json"))
    assert listed == []  # nothing was recorded unsigned instead
    assert "no signing key configured" in error_line(openbook_signed("keys", "show"))
