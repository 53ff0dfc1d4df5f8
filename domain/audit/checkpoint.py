"""A checkpoint recorded in the history: the chain head attested at a moment (docs/audit.md).

``openbook checkpoint`` records one as an event of its own, so the history
shows when heads were attested and by whom. Its fields are those of the
``openbook-checkpoint/1`` JSON, kept exactly as signed (``recorded_at`` as the
signed text), so the stored event can be handed to any verifier unchanged.

The checkpoint event is then itself the newest event: a checkpoint attests the
head *before* it, never the event that records it (which cannot hash itself).
Each attested position is checkpointed at most once: the aggregate's id is
that of the position (two checkpoints of one head would say nothing new).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.aggregate import LedgerAggregate, LedgerCreated, natural_id
from domain.envelope import Envelope
from domain.errors import InvalidInput

FORMAT = "openbook-checkpoint/1"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_KEY_ID = re.compile(r"^[0-9a-f]{16}$")
_SIGNATURE = re.compile(r"^[0-9a-f]{128}$")


class Checkpoint(LedgerAggregate):
    TOPIC = "openbook:checkpoint"

    class Recorded(LedgerCreated):
        TOPIC = "openbook:checkpoint.recorded"
        format: str
        position: int
        hash: str
        recorded_at: str
        events: int
        key_id: str | None
        signature: str | None

    @staticmethod
    def create_id(position: int) -> UUID:
        return natural_id("checkpoint", str(position))

    def __init__(
        self,
        envelope: Envelope,
        format: str,
        position: int,
        hash: str,
        recorded_at: str,
        events: int,
        key_id: str | None,
        signature: str | None,
    ):
        self.format = format
        self.position = position
        self.hash = hash
        self.recorded_at = recorded_at
        self.events = events
        self.key_id = key_id
        self.signature = signature

    @property
    def natural_key(self) -> str:
        return f"checkpoint of position {self.position}"

    @classmethod
    def record(cls, envelope: Envelope, checkpoint: dict[str, Any]) -> Checkpoint:
        """Record ``checkpoint`` (as ``ledger.audit.signing.make_checkpoint`` makes it), refusing a malformed one."""
        fields = check_checkpoint(checkpoint)
        return cls._create(cls.Recorded, id=cls.create_id(fields["position"]), envelope=envelope, **fields)

    def as_json(self) -> dict[str, Any]:
        """The ``openbook-checkpoint/1`` JSON, keys in the documented order."""
        return {
            "format": self.format,
            "position": self.position,
            "hash": self.hash,
            "recorded_at": self.recorded_at,
            "events": self.events,
            "key_id": self.key_id,
            "signature": self.signature,
        }


def check_checkpoint(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint's fields, each checked against its documented form (every problem named)."""
    c = checkpoint
    problems = []
    if c.get("format") != FORMAT:
        problems.append(f"format: {c.get('format')!r} is not {FORMAT!r}")
    for name in ("position", "events"):
        if type(c.get(name)) is not int or c[name] < 1:
            problems.append(f"{name}: {c.get(name)!r} must be a positive whole number")
    if not (type(c.get("position")) is int and type(c.get("events")) is int and c["events"] <= c["position"]):
        problems.append("events: more events than positions up to the head")
    if not _HEX64.match(str(c.get("hash"))):
        problems.append("hash: must be 64 lower-case hex characters")
    if not _has_offset(c.get("recorded_at")):
        problems.append("recorded_at: must be an ISO 8601 time with its UTC offset")
    signed = (c.get("key_id"), c.get("signature"))
    if signed != (None, None) and not (_KEY_ID.match(str(signed[0])) and _SIGNATURE.match(str(signed[1]))):
        problems.append("key_id, signature: both null, or 16 and 128 lower-case hex characters")
    if problems:
        raise InvalidInput(problems)
    return {name: c[name] for name in ("format", "position", "hash", "recorded_at", "events", "key_id", "signature")}


def _has_offset(text: object) -> bool:
    try:
        return isinstance(text, str) and datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False
