"""Keys, event signatures and checkpoints follow docs/audit.md to the byte, checked by rules written out here.

The key of RFC 8032's first Ed25519 test vector makes the figures fixed: its
public key, key id and signatures are the same on every machine, so a change
to a message string or the key-id rule fails here, not at an auditor's desk.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.audit.checkpoint import Checkpoint, check_checkpoint
from domain.envelope import SYSTEM, Envelope
from domain.errors import Conflict, InvalidInput, SettingsError
from ledger.audit.signing import (
    SigningKey,
    checkpoint_json,
    generate_key_files,
    key_id,
    load_signing_key,
    make_checkpoint,
    public_key_line,
    sign_event_hash,
)
from ledger.bootstrap import bootstrap
from ledger.settings import Settings
from tests.support import replay

#: RFC 8032, section 7.1, TEST 1.
RFC_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
HASH = "3f8bbb4468b04d96546bb885d833c71a5045c3f1478c08e3555b0db3521431b8"
AT = datetime(2026, 11, 30, 9, 41, 7, 123456, tzinfo=timezone.utc)


@pytest.fixture
def rfc_key() -> SigningKey:
    return SigningKey.of(Ed25519PrivateKey.from_private_bytes(RFC_SECRET))


def test_the_key_id_is_the_first_16_hex_of_the_sha256_of_the_raw_public_key(rfc_key):
    assert rfc_key.key_id == key_id(rfc_key.public) == hashlib.sha256(RFC_PUBLIC).hexdigest()[:16]
    assert len(rfc_key.key_id) == 16 and rfc_key.key_id == rfc_key.key_id.lower()


def test_the_public_line_is_ed25519_and_the_padded_base64_of_the_raw_key(rfc_key):
    line = public_key_line(rfc_key.public)
    assert line == "ed25519:" + base64.b64encode(RFC_PUBLIC).decode() == rfc_key.public_line
    assert line == "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="


def test_an_event_signature_signs_the_documented_message_and_verifies_with_the_public_line_alone(rfc_key):
    signature = sign_event_hash(rfc_key, HASH)
    assert len(signature) == 128 and signature == signature.lower()
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(rfc_key.public_line.removeprefix("ed25519:")))
    public.verify(bytes.fromhex(signature), b"openbook-event/1|" + HASH.encode("ascii"))
    with pytest.raises(InvalidSignature):  # the bare hash, or another hash, is not what was signed
        public.verify(bytes.fromhex(signature), HASH.encode("ascii"))
    # Ed25519 is deterministic: the same key and hash give the same signature, everywhere.
    assert signature == sign_event_hash(rfc_key, HASH)


def test_a_signed_checkpoint_has_the_documented_fields_and_message(rfc_key):
    checkpoint = make_checkpoint(230, HASH, 228, AT, rfc_key)
    assert list(checkpoint) == ["format", "position", "hash", "recorded_at", "events", "key_id", "signature"]
    assert checkpoint["recorded_at"] == "2026-11-30T09:41:07.123456+00:00"
    message = f"openbook-checkpoint/1|230|{HASH}|2026-11-30T09:41:07.123456+00:00|228|{rfc_key.key_id}"
    rfc_key.public.verify(bytes.fromhex(checkpoint["signature"]), message.encode("ascii"))
    # A changed field no longer verifies: the signature covers each of them.
    for field, value in (("position", 231), ("events", 230), ("hash", "0" * 64)):
        changed = {**checkpoint, field: value}
        text = "openbook-checkpoint/1|{position}|{hash}|{recorded_at}|{events}|{key_id}".format(**changed)
        with pytest.raises(InvalidSignature):
            rfc_key.public.verify(bytes.fromhex(checkpoint["signature"]), text.encode("ascii"))
    assert json.loads(checkpoint_json(checkpoint)) == checkpoint and "\n" not in checkpoint_json(checkpoint)


def test_a_checkpoint_without_a_key_is_unsigned_and_its_time_is_written_in_utc():
    in_london_summer = datetime(2026, 7, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    checkpoint = make_checkpoint(5, HASH, 5, in_london_summer, None)
    assert (checkpoint["key_id"], checkpoint["signature"]) == (None, None)
    assert checkpoint["recorded_at"] == "2026-07-01T09:00:00.000000+00:00"
    with pytest.raises(ValueError, match="UTC offset"):
        make_checkpoint(5, HASH, 5, datetime(2026, 7, 1, 10, 0), None)


def test_the_checkpoint_record_keeps_the_signed_fields_exactly_and_replays(rfc_key):
    checkpoint = make_checkpoint(230, HASH, 228, AT, rfc_key)
    recorded = Checkpoint.record(Envelope(SYSTEM, AT.date(), "audit"), checkpoint)
    assert recorded.id == Checkpoint.create_id(230)
    [event] = recorded.pending_events
    assert event.TOPIC == "openbook:checkpoint.recorded" and Checkpoint.TOPIC == "openbook:checkpoint"
    assert replay(recorded).as_json() == checkpoint


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"format": "openbook-checkpoint/2"}, "format: 'openbook-checkpoint/2' is not"),
        ({"position": 0}, "position: 0 must be a positive whole number"),
        ({"events": 231}, "events: more events than positions"),
        ({"hash": "ABC"}, "hash: must be 64 lower-case hex"),
        ({"recorded_at": "2026-11-30T09:41:07"}, "recorded_at: must be an ISO 8601 time with its UTC offset"),
        ({"signature": None}, "key_id, signature: both null, or"),
    ],
)
def test_a_malformed_checkpoint_is_refused_naming_the_field(rfc_key, change, problem):
    with pytest.raises(InvalidInput) as refused:
        check_checkpoint({**make_checkpoint(230, HASH, 228, AT, rfc_key), **change})
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems


# -- key files ---------------------------------------------------------------------------------------------------


def test_generate_writes_a_private_key_readable_by_its_owner_only_and_the_public_line_beside_it(tmp_path):
    out = tmp_path / "signing.pem"
    key = generate_key_files(out)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert out.read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted
    lines = [ln for ln in (tmp_path / "signing.pem.pub").read_text().splitlines() if ln and not ln.startswith("#")]
    assert lines == [key.public_line]
    loaded = load_signing_key(out)
    assert (loaded.key_id, loaded.public_line) == (key.key_id, key.public_line)


@pytest.mark.parametrize("existing", ["signing.pem", "signing.pem.pub"])
def test_generate_never_overwrites_a_key_file(tmp_path, existing):
    (tmp_path / existing).write_text("keep me\n")
    with pytest.raises(Conflict, match="already exists"):
        generate_key_files(tmp_path / "signing.pem")
    assert (tmp_path / existing).read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing]


def _pem(private: object, encryption: serialization.KeySerializationEncryption | None = None) -> bytes:
    return private.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption or serialization.NoEncryption()
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot read it (No such file or directory)"),
        (b"ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n", "not a usable key (Unable to load PEM file)"),
        (_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)), "an RSA key (2048 bits), not Ed25519"),
        (_pem(ec.generate_private_key(ec.SECP256R1())), "an EC key (secp256r1), not Ed25519"),
        (_pem(Ed25519PrivateKey.generate(), serialization.BestAvailableEncryption(b"secret")), "not a usable key (Password was not given"),
    ],
    ids=["missing", "a-public-line", "rsa", "ecdsa", "encrypted"],
)
def test_an_unusable_key_file_stops_openbook_naming_the_file(tmp_path, content, reason):
    path = tmp_path / "signing.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SettingsError) as refused:
        load_signing_key(path)
    message = str(refused.value)
    assert message.startswith(f"signing key {path} (OPENBOOK_SIGNING_KEY): ") and reason in message, message
    assert "openbook keys generate" in message


def test_bootstrap_refuses_a_bad_key_before_opening_the_database(tmp_path):
    database = tmp_path / "never-made.sqlite"
    settings = Settings(database_url=f"sqlite:///{database}", signing_key_path=str(tmp_path / "missing.pem"))
    with pytest.raises(SettingsError, match="missing.pem"):
        bootstrap(settings)
    assert not database.exists()
