"""The hash chain: each stored event's hash covers the one before it.

hash(n) = sha256(hash(n-1) | position | topic | aggregate id | version | stored bytes)

The first event chains from GENESIS. Any edit, deletion, insertion or
renumbering of a stored event changes every hash after it, so an auditor who
kept one recent hash can tell whether the history before it was altered. The
hash is written in the same transaction as the event (see the recorders).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from uuid import UUID

GENESIS = "0" * 64


def event_hash(previous: str, position: int, topic: str, originator_id: UUID | str, version: int, state: bytes) -> str:
    """The chain hash of one stored event, as 64 hex characters."""
    digest = hashlib.sha256()
    header = f"{previous}|{position}|{topic}|{UUID(str(originator_id))}|{version}|"
    digest.update(header.encode("utf-8"))
    digest.update(bytes(state))
    return digest.hexdigest()


def first_break(events: Iterable[tuple[int, str, UUID | str, int, bytes]], hashes: Iterable[tuple[int, str]]) -> int | None:
    """The first position whose stored hash does not match the recomputed chain, else None.

    ``events`` are (position, topic, aggregate id, version, stored bytes) in
    position order; ``hashes`` are (position, stored hash) in position order.
    A missing or extra row on either side is a break at that position.
    """
    previous = GENESIS
    hash_iter = iter(hashes)
    for position, topic, originator_id, version, state in events:
        stored = next(hash_iter, None)
        if stored is None or stored[0] != position:
            return position if stored is None else min(position, stored[0])
        previous = event_hash(previous, position, topic, originator_id, version, state)
        if stored[1] != previous:
            return position
    extra = next(hash_iter, None)
    return extra[0] if extra is not None else None
