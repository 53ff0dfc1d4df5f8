"""The hash chain: each stored event's hash covers the one before it.

hash(n) = sha256(hash(n-1) | position | topic | aggregate id | version | stored bytes)

The first event chains from GENESIS. Any edit, deletion, insertion or
renumbering of a stored event changes every hash after it, so an auditor who
kept one recent hash can tell whether the history before it was altered. The
hash is written in the same transaction as the event (see the recorders).

This module only makes hashes; checking a stored chain is the one verifier's
job (``ledger/audit/verify.py``, fed the store by ``openbook verify --database``).
"""

from __future__ import annotations

import hashlib
from uuid import UUID

GENESIS = "0" * 64


def event_hash(previous: str, position: int, topic: str, originator_id: UUID | str, version: int, state: bytes) -> str:
    """The chain hash of one stored event, as 64 hex characters."""
    digest = hashlib.sha256()
    header = f"{previous}|{position}|{topic}|{UUID(str(originator_id))}|{version}|"
    digest.update(header.encode("utf-8"))
    digest.update(bytes(state))
    return digest.hexdigest()
