"""Tampering with the stored history, as a database administrator could, is caught at its exact position.

Each test alters a copy of the demo's store directly — bypassing the
append-only triggers (dropped on SQLite, disabled on PostgreSQL) — then
exports it with ``openbook export`` and checks the export with
``ledger/audit/verify.py``. The chain alone catches edits, deletions, swaps
and insertions; a deleted tail and a rewrite with every later hash recomputed
leave a valid chain and are caught only through a checkpoint taken before
(``--since``); a forged event appended with a correctly computed hash is
caught only through the event signatures.
"""

from __future__ import annotations

import base64
import json
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.audit import verify
from ledger.audit.export import canonical
from tests.integration.audit_setup import DemoSource, as_dba, demo_source, export_file, run, sql
from tests.support import DEMO_CHECKPOINT, DEMO_EVENTS


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    yield from demo_source(request, tmp_path_factory)


@pytest.fixture
def db(source: DemoSource, tmp_path: Path) -> Any:
    return source.copy(tmp_path)


def _position(db: Any, topic: str, nth: int = 0) -> int:
    rows = sql(db, "SELECT notification_id FROM stored_events WHERE topic = ? ORDER BY notification_id", (topic,))
    return rows[nth][0]


def _event(db: Any, position: int) -> tuple[str, Any, int, bytes]:
    [(topic, originator, version, state)] = sql(
        db, "SELECT topic, originator_id, originator_version, state FROM stored_events WHERE notification_id = ?",
        (position,),
    )
    return topic, originator, version, bytes(state)


def _hash(db: Any, position: int) -> str:
    return sql(db, "SELECT hash FROM event_hashes WHERE notification_id = ?", (position,))[0][0]


def _head(db: Any) -> int:
    return sql(db, "SELECT max(notification_id) FROM stored_events")[0][0]


def _id(db: Any, originator: Any) -> str:
    """The aggregate id in canonical form, whichever way the database holds it."""
    return str(uuid.UUID(str(originator)))


def _stored_id(db: Any, aggregate_id: uuid.UUID) -> Any:
    return aggregate_id.hex if db.is_sqlite else aggregate_id


def _check(path: Path, **options: Any) -> verify.Report:
    return verify.verify_file(str(path), **options)


def _broken_at(report: verify.Report, position: int, reason: str) -> None:
    assert report.status == "broken", report.lines()
    assert (report.failure["position"], report.failure["reason"]) == (position, reason), report.failure


def _export(db: Any, tmp_path: Path, name: str = "export.jsonl", *options: str) -> Path:
    path = tmp_path / name
    export_file(db, path, *options)
    return path


def _checkpoint(path: Path, tmp_path: Path, name: str = "checkpoint.json") -> Path:
    """The export's final line, kept as a checkpoint file (what ``openbook checkpoint --out`` writes)."""
    last = json.loads(path.read_text().splitlines()[-1])
    assert last["kind"] == "checkpoint"
    kept = tmp_path / name
    kept.write_text(json.dumps({k: v for k, v in last.items() if k != "kind"}))
    return kept


def _recomputed_rows(db: Any, start: int, previous: str) -> list[tuple[str, list[Any]]]:
    """UPDATEs giving every event from ``start`` on the hash the chain rule gives it (what a forger recomputes)."""
    rows = sql(
        db, "SELECT notification_id, topic, originator_id, originator_version, state FROM stored_events "
        "WHERE notification_id >= ? ORDER BY notification_id", (start,),
    )
    updates = []
    for position, topic, originator, version, state in rows:
        previous = verify.chain_hash(previous, position, topic, _id(db, originator), version, bytes(state))
        updates.append(("UPDATE event_hashes SET hash = ? WHERE notification_id = ?", [previous, position]))
    return updates


def _forge_the_demos_checkpoint(db: Any, attested_before: str) -> None:
    """Rewrite the demo's own recorded checkpoint (unsigned, at ``DEMO_EVENTS``) to attest the recomputed hash at
    ``DEMO_CHECKPOINT`` instead of ``attested_before``, and recompute every hash after it, as a thorough forger would
    (an unsigned checkpoint in the history guards nothing against someone who can write to it)."""
    recorded = _event(db, DEMO_EVENTS)[3]
    forged = recorded.replace(attested_before.encode(), _hash(db, DEMO_CHECKPOINT).encode())
    assert forged != recorded
    as_dba(db, [("UPDATE stored_events SET state = ? WHERE notification_id = ?", [forged, DEMO_EVENTS])])
    as_dba(db, _recomputed_rows(db, DEMO_EVENTS, _hash(db, DEMO_CHECKPOINT)))


def test_the_untouched_demo_verifies(db: Any, tmp_path: Path) -> None:
    report = _check(_export(db, tmp_path))
    assert report.status == "verified" and report.events == _head(db) == DEMO_EVENTS
    assert report.head == {"position": DEMO_EVENTS, "hash": _hash(db, DEMO_EVENTS)}


def test_a_changed_payload_byte_is_caught_at_its_position(db: Any, tmp_path: Path) -> None:
    position = _position(db, "openbook:cost-return.accepted")
    state = _event(db, position)[3]
    changed = state.replace(b'"accepted"', b'"acceptee"', 1) if b'"accepted"' in state else None
    if changed is None:  # one byte of the reason, whatever it says
        changed = state.replace(b'"reason":"', b'"reason":"X', 1)
    assert changed != state
    as_dba(db, [("UPDATE stored_events SET state = ? WHERE notification_id = ?", [changed, position])])
    _broken_at(_check(_export(db, tmp_path)), position, "hash mismatch")


def test_a_changed_recorded_at_is_caught_at_its_position(db: Any, tmp_path: Path) -> None:
    position = _position(db, "openbook:rate-card.rate-published", 3)
    state = _event(db, position)[3]
    stamp = json.loads(state)["timestamp"]["_data_"]
    earlier = stamp.replace(stamp[:4], str(int(stamp[:4]) - 1), 1)
    as_dba(db, [("UPDATE stored_events SET state = ? WHERE notification_id = ?",
                 [state.replace(stamp.encode(), earlier.encode()), position])])
    _broken_at(_check(_export(db, tmp_path)), position, "hash mismatch")


def test_a_deleted_event_is_caught_at_the_first_position_after_it(db: Any, tmp_path: Path) -> None:
    position = _position(db, "openbook:cost-return.queried")
    as_dba(db, [
        ("DELETE FROM stored_events WHERE notification_id = ?", [position]),
        ("DELETE FROM event_hashes WHERE notification_id = ?", [position]),
    ])
    _broken_at(_check(_export(db, tmp_path)), position + 1, "hash mismatch")


def test_two_swapped_events_are_caught_at_the_first(db: Any, tmp_path: Path) -> None:
    first, second = _position(db, "openbook:cost-return.drafted", 1), _position(db, "openbook:cost-return.drafted", 4)
    a, b = _event(db, first), _event(db, second)
    put = "UPDATE stored_events SET topic = ?, originator_id = ?, originator_version = ?, state = ? WHERE notification_id = ?"
    as_dba(db, [
        ("UPDATE stored_events SET originator_version = -1 WHERE notification_id = ?", [second]),
        (put, [*b, first]),
        (put, [*a, second]),
    ])
    _broken_at(_check(_export(db, tmp_path)), first, "hash mismatch")


def test_an_inserted_event_is_caught_at_the_first_position_after_it(db: Any, tmp_path: Path) -> None:
    """The forger moves every later event up one and computes the inserted event's hash correctly: the event after it
    (moved, its stored hash made for its old position and predecessor) is where the chain breaks."""
    position = _position(db, "openbook:cost-return.accepted")
    topic, originator, version, state = _event(db, position)
    forged_id = uuid.uuid4()
    forged = verify.chain_hash(_hash(db, position - 1), position, topic, str(forged_id), 1, state)
    shift = [
        (f"UPDATE {table} SET notification_id = -notification_id - 1 WHERE notification_id >= ?", [position])
        for table in ("stored_events", "event_hashes")
    ] + [
        (f"UPDATE {table} SET notification_id = -notification_id WHERE notification_id < 0", [])
        for table in ("stored_events", "event_hashes")
    ]
    as_dba(db, [
        *shift,
        ("INSERT INTO stored_events (notification_id, originator_id, originator_version, topic, state) "
         "VALUES (?, ?, ?, ?, ?)", [position, _stored_id(db, forged_id), 1, topic, state]),
        ("INSERT INTO event_hashes VALUES (?, ?)", [position, forged]),
    ])
    _broken_at(_check(_export(db, tmp_path)), position + 1, "hash mismatch")


def test_a_changed_chunk_is_caught_at_the_event_that_names_it(db: Any, tmp_path: Path) -> None:
    position = _position(db, "openbook:activity-import.imported", 1)
    digest = json.loads(_event(db, position)[3])["chunks"][1]
    [(body,)] = sql(db, "SELECT body FROM activity_chunks WHERE digest = ?", (digest,))
    text = zlib.decompress(bytes(body))
    altered = text.replace(b"\t60\t", b"\t75\t", 1)  # one visit's planned minutes
    assert altered != text
    sql(db, "UPDATE activity_chunks SET body = ? WHERE digest = ?", (zlib.compress(altered), digest))
    _broken_at(_check(_export(db, tmp_path)), position, "chunk digest mismatch")


def test_a_deleted_chunk_is_caught_at_the_event_that_names_it(db: Any, tmp_path: Path) -> None:
    position = _position(db, "openbook:activity-import.imported")
    digest = json.loads(_event(db, position)[3])["chunks"][0]
    sql(db, "DELETE FROM activity_chunks WHERE digest = ?", (digest,))
    _broken_at(_check(_export(db, tmp_path)), position, "missing chunk")


def test_the_last_event_deleted_is_caught_only_through_a_checkpoint_taken_before(db: Any, tmp_path: Path) -> None:
    kept = _checkpoint(_export(db, tmp_path, "before.jsonl"), tmp_path)
    last = _head(db)
    as_dba(db, [
        ("DELETE FROM stored_events WHERE notification_id = ?", [last]),
        ("DELETE FROM event_hashes WHERE notification_id = ?", [last]),
    ])
    after = _export(db, tmp_path, "after.jsonl")
    assert _check(after).status == "verified"  # a shorter chain is still a chain
    report = _check(after, since=verify.load_checkpoint(str(kept)))
    _broken_at(report, last, "checkpoint not extended")
    assert "deleted" in report.failure["detail"]


def test_a_rewrite_with_every_later_hash_recomputed_is_caught_through_an_earlier_checkpoint(
    db: Any, tmp_path: Path
) -> None:
    accepted = _position(db, "openbook:cost-return.accepted", 2)
    attested = accepted + 20
    kept = _checkpoint(_export(db, tmp_path, "to-attested.jsonl", "--to", str(attested)), tmp_path)
    state = _event(db, accepted)[3]
    changed = state.replace(b'"reason":"', b'"reason":"(rewritten) ', 1)
    assert changed != state
    demo_attested = _hash(db, DEMO_CHECKPOINT)
    as_dba(db, [("UPDATE stored_events SET state = ? WHERE notification_id = ?", [changed, accepted])])
    as_dba(db, _recomputed_rows(db, accepted, _hash(db, accepted - 1)))
    # the demo's own checkpoint, recorded in the history at its head, still attests the old hash: it catches this
    _broken_at(_check(_export(db, tmp_path, "naive.jsonl")), DEMO_EVENTS, "recorded checkpoint not matching")
    _forge_the_demos_checkpoint(db, demo_attested)  # so the forger rewrites that unsigned checkpoint too
    after = _export(db, tmp_path, "after.jsonl")
    assert _check(after).status == "verified"  # the chain alone looks valid
    _broken_at(_check(after, since=verify.load_checkpoint(str(kept))), attested, "checkpoint not extended")
    # a checkpoint from before the rewritten event is still extended: the history up to it is intact
    early = _checkpoint(_export(db, tmp_path, "early.jsonl", "--to", str(accepted - 1)), tmp_path, "early.json")
    assert _check(after, since=verify.load_checkpoint(str(early))).status == "verified"


# -- a forged event appended with a correctly computed hash: caught by the event signatures ---------------------


def _key() -> tuple[Ed25519PrivateKey, str]:
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, "ed25519:" + base64.b64encode(raw).decode()


def _signed(path: Path, private: Ed25519PrivateKey, public: str, upto: int, target: Path) -> Path:
    """The export with each event up to ``upto`` signed as the application would (openbook-event/1)."""
    kid = verify.key_id(verify.parse_public_key(public))
    lines = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record["kind"] == "event" and record["position"] <= upto:
            record["key_id"] = kid
            record["signature"] = private.sign(verify.event_message(record["hash"])).hex()
        lines.append(canonical(record))
    target.write_text("\n".join(lines) + "\n")
    return target


def _forge(db: Any) -> int:
    """Append a copy of a cost return's acceptance to another aggregate, its hash computed by the chain rule."""
    head = _head(db)
    topic, _originator, _version, state = _event(db, _position(db, "openbook:cost-return.accepted"))
    forged_id, position = uuid.uuid4(), head + 1
    forged = verify.chain_hash(_hash(db, head), position, topic, str(forged_id), 1, state)
    as_dba(db, [
        ("INSERT INTO stored_events (notification_id, originator_id, originator_version, topic, state) "
         "VALUES (?, ?, ?, ?, ?)", [position, _stored_id(db, forged_id), 1, topic, state]),
        ("INSERT INTO event_hashes VALUES (?, ?)", [position, forged]),
    ])
    return position


def test_a_forged_event_with_a_correct_hash_is_caught_only_by_the_signatures(db: Any, tmp_path: Path) -> None:
    genuine = _head(db)
    forged = _forge(db)
    exported = _export(db, tmp_path)
    assert _check(exported).status == "verified"  # without signatures, whoever can write can recompute the chain
    private, public = _key()
    keys = verify.public_keys([public])

    unsigned = _signed(exported, private, public, genuine, tmp_path / "signed.jsonl")
    report = _check(unsigned, keys=keys)
    _broken_at(report, forged, "bad signature")
    assert "unsigned, after the first signed event (position 1)" in report.failure["detail"]

    other, other_public = _key()  # signed, but by a key the auditor does not trust
    lines = unsigned.read_text().splitlines()
    last_event = json.loads(lines[-2])
    assert last_event["position"] == forged
    last_event["key_id"] = verify.key_id(verify.parse_public_key(other_public))
    last_event["signature"] = other.sign(verify.event_message(last_event["hash"])).hex()
    (tmp_path / "c.jsonl").write_text("\n".join([*lines[:-2], canonical(last_event), lines[-1]]) + "\n")
    report = _check(tmp_path / "c.jsonl", keys=keys)
    _broken_at(report, forged, "bad signature")
    assert "not one of the trusted public keys" in report.failure["detail"]

    last_event["key_id"] = verify.key_id(verify.parse_public_key(public))  # the trusted key's id, a wrong signature
    (tmp_path / "d.jsonl").write_text("\n".join([*lines[:-2], canonical(last_event), lines[-1]]) + "\n")
    report = _check(tmp_path / "d.jsonl", keys=keys)
    _broken_at(report, forged, "bad signature")
    assert "does not verify" in report.failure["detail"]

    everything = _signed(exported, private, public, forged, tmp_path / "all.jsonl")  # had the forger the key ...
    assert _check(everything, keys=keys).status == "verified"


def test_verify_database_checks_the_live_store(db: Any, tmp_path: Path) -> None:
    result = run(db, "verify", "--database")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"OK: {DEMO_EVENTS} events verified")
    position = _position(db, "openbook:rate-review.decided")
    state = _event(db, position)[3]
    as_dba(db, [("UPDATE stored_events SET state = ? WHERE notification_id = ?",
                 [state.replace(b'"reason":"', b'"reason":"!', 1), position])])
    result = run(db, "verify", "--database", "--json")
    assert result.exit_code == 1
    failure = json.loads(result.stdout)["failure"]
    assert (failure["position"], failure["reason"]) == (position, "hash mismatch")


# -- signatures stripped after a rewrite: caught through a signed checkpoint, held or in the history -------------------


#: Where the signed checkpoint of the demo's head is recorded: the event after the demo's last.
CHECKPOINTED = DEMO_EVENTS + 1


def _signed_from_here(db: Any, tmp_path: Path) -> tuple[Path, Path, int]:
    """Configure a signing key on the demo: record a signed checkpoint (its event at ``DEMO_EVENTS + 1`` attests the
    demo's head, the file is what the auditor holds), then one more signed event. The key file, the held checkpoint, the later position."""
    key, kept = tmp_path / "signing.pem", tmp_path / "held.json"
    assert run(db, "keys", "generate", "--out", str(key)).exit_code == 0
    assert run(db, "checkpoint", "--out", str(kept), signing_key=key).exit_code == 0
    registered = run(db, "organisations", "register", "delta-care", "Delta Care", "--kind", "provider", signing_key=key)
    assert registered.exit_code == 0, registered.stderr
    return key, kept, _head(db)


def _verify(db: Any, *options: str) -> dict[str, Any]:
    return json.loads(run(db, "verify", "--database", "--json", *options).stdout)


def test_a_rewrite_with_signatures_stripped_is_caught_by_the_signed_checkpoint_in_the_history(
    db: Any, tmp_path: Path
) -> None:
    key, _kept, _last = _signed_from_here(db, tmp_path)
    assert _verify(db, "--public-key", f"{key}.pub")["status"] == "verified"
    state, demo_attested = _event(db, 49)[3], _hash(db, DEMO_CHECKPOINT)
    as_dba(db, [("UPDATE stored_events SET state = ? WHERE notification_id = ?",
                 [state.replace(b'"timestamp":{', b'"forged":1,"timestamp":{', 1), 49])])
    as_dba(db, [*_recomputed_rows(db, 49, _hash(db, 48)), ("DELETE FROM openbook_event_signatures", [])])
    _forge_the_demos_checkpoint(db, demo_attested)  # the demo's unsigned checkpoint rewritten too: the signed one holds
    failure = _verify(db, "--public-key", f"{key}.pub")["failure"]
    assert (failure["position"], failure["reason"]) == (CHECKPOINTED, "recorded checkpoint not matching"), failure
    assert f"attests position {DEMO_EVENTS}" in failure["detail"]


def test_signatures_stripped_after_a_signed_checkpoint_are_caught_at_the_first_unsigned_event(
    db: Any, tmp_path: Path
) -> None:
    """Rewriting only after the checkpoint leaves the chain up to it intact; the signatures were removed with the
    rewrite, but a signed checkpoint says the key was configured, so every later event must be signed."""
    key, kept, last = _signed_from_here(db, tmp_path)
    topic, originator, version, state = _event(db, last)
    as_dba(db, [("UPDATE stored_events SET state = ? WHERE notification_id = ?",
                 [state.replace(b"Delta Care", b"Delta Kare"), last])])
    as_dba(db, [*_recomputed_rows(db, last, _hash(db, last - 1)), ("DELETE FROM openbook_event_signatures", [])])
    held = _verify(db, "--public-key", f"{key}.pub", "--since", str(kept))["failure"]
    assert (held["position"], held["reason"]) == (CHECKPOINTED, "bad signature"), held
    assert f"the --since checkpoint (position {DEMO_EVENTS}) is signed" in held["detail"]
    # the recorded checkpoint event's own signature deleted, the event after it unsigned: the signed payload says so
    in_history = _verify(db, "--public-key", f"{key}.pub")["failure"]
    assert (in_history["position"], in_history["reason"]) == (last, "bad signature"), in_history
    assert f"the checkpoint recorded at position {CHECKPOINTED} is signed" in in_history["detail"]


def test_a_recorded_checkpoint_whose_payload_was_rewritten_fails_its_signature(db: Any, tmp_path: Path) -> None:
    """The forger rewrites the checkpoint event's payload (its chain recomputed, event signatures stripped): the
    checkpoint's own signature, kept in the payload, no longer covers what it says."""
    key, _kept, _last = _signed_from_here(db, tmp_path)
    [(state,)] = sql(db, "SELECT state FROM stored_events WHERE notification_id = ?", (CHECKPOINTED,))
    recorded = json.loads(bytes(state))
    changed = bytes(state).replace(recorded["recorded_at"].encode(), b"2020-01-01T00:00:00+00:00")
    assert changed != bytes(state)
    as_dba(db, [("UPDATE stored_events SET state = ? WHERE notification_id = ?", [changed, CHECKPOINTED])])
    as_dba(db, [*_recomputed_rows(db, CHECKPOINTED, _hash(db, DEMO_EVENTS)), ("DELETE FROM openbook_event_signatures", [])])
    failure = _verify(db, "--public-key", f"{key}.pub")["failure"]
    assert (failure["position"], failure["reason"]) == (CHECKPOINTED, "bad signature"), failure
    assert failure["detail"].startswith("the recorded checkpoint: the signature does not verify")
