"""A head is never signed for a forged history: checkpoints check the chain and signatures first (issue 13).

Someone with database access drops the guards, changes an event, recomputes
every later hash and deletes the signature rows: the chain alone looks valid.
``openbook checkpoint``, ``checkpoint --head`` and the export's final checkpoint
check the history from the last checkpoint the configured key signed (or from
genesis) before signing, and refuse — recording nothing — at the first position
that does not check. Both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.envelope import SYSTEM, Envelope
from domain.errors import IntegrityFailure
from ledger.audit.head_check import checked_head, current_head
from ledger.audit.signing import SigningKey
from ledger.bootstrap import Openbook, open_openbook
from ledger.persistence.database import Database
from tests.integration.audit_setup import DemoSource, as_dba, demo_source, recomputed_hashes, run, sql
from tests.support import DEMO_EVENTS, error_line, ok_json

ON = date(2020, 4, 1)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    yield from demo_source(request, tmp_path_factory)


@pytest.fixture
def db(source: DemoSource, tmp_path: Path) -> Database:
    return source.copy(tmp_path)


@pytest.fixture
def key_file(db: Database, tmp_path: Path) -> Path:
    path = tmp_path / "signing.pem"
    assert run(db, "keys", "generate", "--out", str(path)).exit_code == 0
    return path


def head(db: Database) -> int:
    return sql(db, "SELECT max(notification_id) FROM stored_events")[0][0]


def checkpoints_recorded(db: Database) -> int:
    return sql(db, "SELECT count(*) FROM stored_events WHERE topic = 'openbook:checkpoint.recorded'")[0][0]


def rewrite_rate(db: Database, position: int) -> None:
    """The review's forgery: change a rate at ``position``, recompute every later hash, delete the signature rows."""
    [(state,)] = sql(db, "SELECT state FROM stored_events WHERE notification_id = ?", (position,))
    state = bytes(state)
    marker = b'"decimal_str","_data_":"'
    assert marker in state.replace(b" ", b""), state  # an amount to change
    at = state.index(b'"_data_"', state.index(b"decimal_str")) + len(b'"_data_"')
    at = state.index(b'"', at) + 1  # the amount's first character
    forged = state[:at] + (b"9" if state[at:at + 1] != b"9" else b"8") + state[at + 1:]
    as_dba(db, [("UPDATE stored_events SET state = ? WHERE notification_id = ?", [forged, position])])
    as_dba(db, [*recomputed_hashes(db, position), ("DELETE FROM openbook_event_signatures", [])])


def test_the_reviewed_forgery_is_refused_by_checkpoint_head_and_export_with_nothing_recorded(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    kept = ok_json(run(db, "checkpoint", "--json", signing_key=key_file))["checkpoint"]
    assert kept["position"] == DEMO_EVENTS and kept["signature"] is not None
    rewrite_rate(db, 49)
    before = (head(db), checkpoints_recorded(db))
    refused = error_line(run(db, "checkpoint", "--out", str(tmp_path / "forged.json"), signing_key=key_file))
    # The rewrite is before the checkpoint: caught where its hash no longer matches.
    assert f"the history does not check at position {DEMO_EVENTS}" in refused and "rewritten" in refused
    assert "nothing was signed or recorded" in refused
    assert not (tmp_path / "forged.json").exists()
    assert f"position {DEMO_EVENTS}" in error_line(run(db, "checkpoint", "--head", signing_key=key_file))
    exported = run(db, "export", "--out", str(tmp_path / "x.jsonl"), signing_key=key_file)
    assert exported.exit_code == 1 and f"position {DEMO_EVENTS}" in exported.stderr.splitlines()[-1]  # after the progress bar
    assert not (tmp_path / "x.jsonl").exists() and not (tmp_path / "x.jsonl.partial").exists()
    assert (head(db), checkpoints_recorded(db)) == before


def test_a_forged_append_after_a_checkpoint_is_refused_at_its_position(db: Database, key_file: Path) -> None:
    ok_json(run(db, "checkpoint", "--json", signing_key=key_file))  # attests the demo's head, recorded (signed) after it
    # Anyone who can write to the database can record through openbook without the key: a correct hash, unsigned.
    ok_json(run(db, "organisations", "register", "forged", "Forged", "--kind", "provider", "--json"))
    forged = head(db)
    assert forged > DEMO_EVENTS + 1
    refused = error_line(run(db, "checkpoint", signing_key=key_file))
    assert f"position {forged}: it is unsigned after the first signed event" in refused
    assert head(db) == forged
    # A signature row made up for it under the configured key's id does not verify either.
    [(key_id,)] = sql(db, "SELECT key_id FROM openbook_event_signatures WHERE position = ?", (DEMO_EVENTS + 1,))
    as_dba(db, [("INSERT INTO openbook_event_signatures (position, key_id, signature) VALUES (?, ?, ?)",
                 [forged, key_id, "ab" * 64])])
    refused = error_line(run(db, "checkpoint", signing_key=key_file))
    assert f"position {forged}: its signature does not verify with the configured key" in refused
    assert head(db) == forged


def test_an_untampered_demo_checkpoints_with_and_without_a_key(db: Database, key_file: Path, tmp_path: Path) -> None:
    unsigned = ok_json(run(db, "checkpoint", "--json"))
    assert (unsigned["checkpoint"]["position"], unsigned["checkpoint"]["signature"]) == (DEMO_EVENTS, None)
    signed = ok_json(run(db, "checkpoint", "--json", signing_key=key_file))
    assert signed["checkpoint"]["position"] == unsigned["recorded_in"] == DEMO_EVENTS + 1 and signed["checkpoint"]["events"] == DEMO_EVENTS + 1
    again = ok_json(run(db, "checkpoint", "--json", signing_key=key_file))  # from the signed checkpoint on
    assert again["checkpoint"]["position"] == signed["recorded_in"] == DEMO_EVENTS + 2
    shown = ok_json(run(db, "checkpoint", "--head", "--json", signing_key=key_file))
    assert shown["checkpoint"]["position"] == again["recorded_in"] == DEMO_EVENTS + 3
    assert run(db, "export", "--out", str(tmp_path / "e.jsonl"), signing_key=key_file).exit_code == 0


# -- keys: a signed history, rotation ----------------------------------------------------------------------------


@pytest.fixture
def open_with(database: Database) -> Iterator[Callable[[SigningKey | None], Openbook]]:
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
        book.organisations.register_organisation(Envelope(SYSTEM, ON, "guard test"), code, code.title(), "provider")


def checkpoint(book: Openbook) -> dict[str, Any]:
    return book.checkpoints.record_checkpoint(Envelope(SYSTEM, ON, "guard test"))


def test_in_a_history_signed_from_the_start_a_rewrite_is_refused_at_the_rewritten_event(open_with, database):
    key = new_key()
    book = open_with(key)
    register(book, "one", "two", "three", "four")
    third = sorted(dict(book.ledger.recorder.select_hashes(0, 100)))[2]
    [(state,)] = sql(database, "SELECT state FROM stored_events WHERE notification_id = ?", (third,))
    as_dba(database, [("UPDATE stored_events SET state = ? WHERE notification_id = ?",
                       [bytes(state).replace(b"Three", b"Thr3e"), third])])
    as_dba(database, recomputed_hashes(database, third))
    # The recomputed hash no longer carries the signature made for the real one.
    with pytest.raises(IntegrityFailure, match=f"position {third}: its signature does not verify"):
        checkpoint(book)
    # With the signature rows from it on deleted as well, it is unsigned after the first signed event.
    as_dba(database, [("DELETE FROM openbook_event_signatures WHERE position >= ?", [third])])
    with pytest.raises(IntegrityFailure, match=f"position {third}: it is unsigned after the first signed event"):
        current_head(book)
    assert book.ledger.recorder.max_notification_id() == sorted(dict(book.ledger.recorder.select_hashes(0, 100)))[3]


def test_a_key_rotated_between_checkpoints_still_checkpoints(open_with):
    old, new = new_key(), new_key()
    under_old = open_with(old)
    register(under_old, "alpha", "beta")
    first = checkpoint(under_old)
    assert first["checkpoint"]["key_id"] == old.key_id
    under_new = open_with(new)
    register(under_new, "gamma")
    # No checkpoint verifies with the new key yet: checked from genesis, the old key's id known from the checkpoint.
    second = checkpoint(under_new)
    assert (second["checkpoint"]["key_id"], second["checkpoint"]["events"]) == (new.key_id, 4)
    register(under_new, "delta")
    third = checkpoint(under_new)  # checked from the second checkpoint on
    assert third["checkpoint"]["position"] == third["recorded_in"] - 1 and third["checkpoint"]["events"] == 6
    # A key no recorded checkpoint names is not accepted.
    register(open_with(new_key()), "stranger")
    with pytest.raises(IntegrityFailure, match="neither the configured key nor one a recorded checkpoint names"):
        checkpoint(under_new)


def test_an_export_up_to_an_earlier_position_checks_only_up_to_it(open_with):
    key = new_key()
    book = open_with(key)
    register(book, "alpha", "beta", "gamma")
    positions = sorted(dict(book.ledger.recorder.select_hashes(0, 100)))
    register(open_with(None), "forged")  # unsigned, after the exported range
    position, chain_hash, events = checked_head(book.ledger.recorder, key, positions[1])
    assert (position, events) == (positions[1], 2)
    with pytest.raises(IntegrityFailure, match="unsigned after the first signed event"):
        checked_head(book.ledger.recorder, key)


def test_a_head_found_good_is_checked_again_where_it_was_before_a_later_check_starts_from_it(open_with, database):
    """The process remembers the last head it found good, so a page citing the head again checks only what was
    recorded since; a rewrite before that head (every later hash recomputed) is still caught at it."""
    key = new_key()
    book = open_with(key)
    register(book, "one", "two", "three")
    good = current_head(book)
    second = sorted(dict(book.ledger.recorder.select_hashes(0, 100)))[1]
    [(state,)] = sql(database, "SELECT state FROM stored_events WHERE notification_id = ?", (second,))
    as_dba(database, [("UPDATE stored_events SET state = ? WHERE notification_id = ?",
                       [bytes(state).replace(b"Two", b"Tw0"), second])])
    as_dba(database, [*recomputed_hashes(database, second), ("DELETE FROM openbook_event_signatures", [])])
    with pytest.raises(IntegrityFailure, match=f"position {good['position']}: its stored chain hash is not the hash"):
        current_head(book)
