"""Signing keys, event signatures and checkpoints, in the formats docs/audit.md fixes.

Without a key, anyone who can write to the database can append an event with a
correctly computed chain hash, or rewrite the chain from some point on. With
the Ed25519 key named by ``OPENBOOK_SIGNING_KEY`` (kept outside the database
and its backups) the recorders sign each event's chain hash as they store it
(``openbook-event/1``), and a checkpoint (``openbook-checkpoint/1``) attests
the chain head at a moment, so an auditor holding only the published public
keys can tell a forged or rewritten history from the one openbook recorded.

Everything here follows docs/audit.md byte for byte: the signed messages, the
key id rule, the public-key line and the checkpoint's JSON. A verifier written
from that document alone (``ledger/audit/verify.py``) must agree with it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.audit.checkpoint import FORMAT as CHECKPOINT_FORMAT
from domain.errors import Conflict, SettingsError
from ledger.queries.checkpoints import latest_recorded_checkpoint

__all__ = [
    "CHECKPOINT_FORMAT",
    "EVENT_FORMAT",
    "SigningKey",
    "checkpoint_json",
    "checkpoint_message",
    "event_message",
    "generate_key_files",
    "key_id",
    "latest_recorded_checkpoint",
    "load_signing_key",
    "make_checkpoint",
    "public_key_line",
    "sign_event_hash",
]

EVENT_FORMAT = "openbook-event/1"
PUBLIC_KEY_PREFIX = "ed25519:"


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """The first 16 lower-case hex characters of the SHA-256 of the 32-byte raw public key."""
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


def public_key_line(public: Ed25519PublicKey) -> str:
    """The public key as published: ``ed25519:`` and the standard base64 (padded) of the raw 32 bytes."""
    return PUBLIC_KEY_PREFIX + base64.b64encode(_raw(public)).decode("ascii")


def event_message(chain_hash: str) -> bytes:
    """What an event signature signs: ``openbook-event/1|`` and the event's 64-character chain hash."""
    return f"{EVENT_FORMAT}|{chain_hash}".encode("ascii")


def checkpoint_message(checkpoint: dict[str, Any]) -> bytes:
    """What a checkpoint signature signs: ``openbook-checkpoint/1|position|hash|recorded_at|events|key_id``."""
    c = checkpoint
    return f"{CHECKPOINT_FORMAT}|{c['position']}|{c['hash']}|{c['recorded_at']}|{c['events']}|{c['key_id']}".encode(
        "ascii"
    )


@dataclass(frozen=True)
class SigningKey:
    """A loaded private key and its id: what the recorders sign events with and checkpoints are signed by.

    ``key_id`` is worked out once, not per event: signing is on every append.
    """

    private: Ed25519PrivateKey
    key_id: str

    @classmethod
    def of(cls, private: Ed25519PrivateKey) -> SigningKey:
        return cls(private, key_id(private.public_key()))

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def public_line(self) -> str:
        return public_key_line(self.public)

    def sign(self, message: bytes) -> str:
        """The 64-byte Ed25519 signature of ``message`` as 128 lower-case hex characters."""
        return self.private.sign(message).hex()

    def sign_event_hash(self, chain_hash: str) -> str:
        return sign_event_hash(self, chain_hash)


def sign_event_hash(key: SigningKey, chain_hash: str) -> str:
    """The ``openbook-event/1`` signature of one event's chain hash (128 hex)."""
    return key.sign(event_message(chain_hash))


def load_signing_key(path: str | os.PathLike[str]) -> SigningKey:
    """The private key in the file ``OPENBOOK_SIGNING_KEY`` names: PEM, PKCS#8, unencrypted, Ed25519.

    Any other file stops openbook with one line naming the file and what it
    should be, rather than recording unsigned events the operator believes signed.
    """
    shown = str(path)
    expected = "it must be an unencrypted PEM PKCS#8 Ed25519 private key, as made by `openbook keys generate --out FILE`"
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise SettingsError(
            f"signing key {shown} (OPENBOOK_SIGNING_KEY): cannot read it ({e.strerror or e}); {expected}"
        ) from None
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        reason = str(e).split(". See ")[0].splitlines()[0] if str(e) else type(e).__name__  # not the FAQ's address
        raise SettingsError(f"signing key {shown} (OPENBOOK_SIGNING_KEY): not a usable key ({reason}); {expected}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise SettingsError(f"signing key {shown} (OPENBOOK_SIGNING_KEY): {_kind(private)}, not Ed25519; {expected}")
    return SigningKey.of(private)


def _kind(private: object) -> str:
    """What kind of key a file holds, in the words ``openssl`` uses."""
    if isinstance(private, rsa.RSAPrivateKey):
        return f"an RSA key ({private.key_size} bits)"
    if isinstance(private, ec.EllipticCurvePrivateKey):
        return f"an EC key ({private.curve.name})"
    return f"a {type(private).__name__.removeprefix('_')}"


def generate_key_files(out: str | os.PathLike[str]) -> SigningKey:
    """A new key pair: the private key to ``out`` (PEM PKCS#8, mode 0600) and its public line to ``out.pub``.

    Never overwrites: a key file replaced by mistake would leave signatures no
    published key verifies (or, worse, a key nobody kept). Both files are
    checked before either is written.
    """
    private_path, public_path = Path(out), Path(f"{out}.pub")
    for path in (private_path, public_path):
        if path.exists():
            raise Conflict(f"key file {path} already exists; a key file is never overwritten: choose another name")
    key = SigningKey.of(Ed25519PrivateKey.generate())
    pem = key.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as f:
            f.write(pem)
        os.chmod(private_path, 0o600)  # whatever the umask
        with open(public_path, "x", encoding="ascii") as f:
            f.write(f"# openbook signing key {key.key_id}\n{key.public_line}\n")
    except FileExistsError as e:
        raise Conflict(f"key file {e.filename} already exists; a key file is never overwritten") from None
    except OSError as e:
        raise SettingsError(f"key file: cannot write {e.filename or private_path}: {e.strerror or e}") from None
    return key


def make_checkpoint(
    position: int, chain_hash: str, events: int, recorded_at: datetime, key: SigningKey | None
) -> dict[str, Any]:
    """An ``openbook-checkpoint/1`` of the chain head, signed when a key is given (else key_id and signature null).

    The keys are in the order docs/audit.md shows them; ``recorded_at`` is
    written in UTC with microseconds, the exact text that is signed.
    """
    if recorded_at.tzinfo is None:
        raise ValueError("recorded_at: a checkpoint's time needs its UTC offset")
    checkpoint: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "position": position,
        "hash": chain_hash,
        "recorded_at": recorded_at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
        "events": events,
        "key_id": key.key_id if key else None,
        "signature": None,
    }
    if key is not None:
        checkpoint["signature"] = key.sign(checkpoint_message(checkpoint))
    return checkpoint


def checkpoint_json(checkpoint: dict[str, Any]) -> str:
    """A checkpoint as one line of JSON, as ``openbook checkpoint --out`` writes it (the keys in their order)."""
    return json.dumps(checkpoint, ensure_ascii=True)
