"""The head as the history proves it: checked before any head is signed or recorded (docs/audit.md).

A checkpoint signed with the real key vouches for whatever head it names. Someone
with database access (triggers dropped, an event changed, every later hash
recomputed, the signature rows deleted) leaves a chain that looks valid on its
own, and signing its head would make the key vouch for the forgery. So before a
head is signed, the history is checked from the last head the key already
vouched for: the latest recorded checkpoint whose signature verifies with the
configured key (without a key, the latest recorded checkpoint), or genesis.

- The stored hash at the checkpoint's position must be the checkpoint's hash
  (a rewrite before it, hashes recomputed, is caught there).
- From that hash the chain is recomputed forward to the head; every stored hash
  must match.
- With a key, after the first signed event every event must be signed by a known
  key: the configured key (its signature is verified) or a key id named by a
  recorded checkpoint (an older, rotated key: openbook holds only the configured
  private key, so an older key's signatures are accepted by id; the auditor's
  verifier checks them with the published public keys).

Only the events after the starting checkpoint are read, in batches of
``BATCH``, so the cost grows with what was recorded since the last checkpoint,
not with the history, and memory stays bounded. The head last found good by
this process is remembered as a further starting point (its stored hash is
checked like a checkpoint's), so a retried checkpoint or a page citing the head
again checks only what was recorded since. The configured key's signatures are
checked by signing again and comparing: Ed25519 signatures are deterministic
(RFC 8032), so the one openbook made is the only one that matches, and signing
costs about a third of verifying.
"""

from __future__ import annotations

import hmac
import json
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature

from domain.audit.checkpoint import Checkpoint
from domain.errors import IntegrityFailure
from ledger.audit.signing import SigningKey, checkpoint_message, event_message, make_checkpoint
from ledger.persistence.chain import GENESIS, event_hash

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook

__all__ = ["BATCH", "checked_head", "checkpoint_of_head", "current_head"]

#: Events (and checkpoint events) read per query.
BATCH = 1000


@dataclass(frozen=True)
class _Checked:
    """A head found good: where a later check may start (its stored hash is checked again first)."""

    position: int
    hash: str
    events: int
    signed_seen: bool
    known: frozenset[str]


#: Per recorder, per key id: the last head this process found good.
_last_good: weakref.WeakKeyDictionary[Any, dict[str | None, _Checked]] = weakref.WeakKeyDictionary()


def checked_head(recorder: Any, key: SigningKey | None, upto: int | None = None) -> tuple[int, str, int]:
    """The (position, chain hash, events) of the head — or of the last event at or before ``upto`` — once the
    history up to it checks from the last checkpoint the key vouched for; (0, GENESIS, 0) for an empty history.

    Raises ``IntegrityFailure`` naming the first failing position and why; nothing is read into memory whole.
    """
    start, known = _starting_checkpoint(recorder, key, upto)
    position, previous, events = start
    signed_seen = key is not None and position > 0 and bool(recorder.select_signatures(position, position))
    remembered = _remembered(recorder, key)
    if remembered is not None and position <= remembered.position <= (upto if upto is not None else remembered.position):
        position, previous, events = remembered.position, remembered.hash, remembered.events
        signed_seen, known = remembered.signed_seen, known | remembered.known
    if position:
        stored = dict(recorder.select_hashes(position, 1))
        if stored.get(position) != previous:
            raise _broken(position, "its stored chain hash is not the hash attested for it by the last checkpoint "
                                    "(the history up to it was rewritten)")
    last = recorder.max_notification_id() or 0
    last = min(last, upto) if upto is not None else last
    after = position
    while after < last:
        batch = recorder.select_notifications(start=after, limit=BATCH, stop=last, inclusive_of_start=False)
        if not batch:
            break
        low, high = batch[0].id, batch[-1].id
        # As many rows as positions in the range, up to twice a batch (gaps are few): memory stays bounded.
        hashes = {p: h for p, h in recorder.select_hashes(low, min(high - low + 1, 2 * BATCH)) if p <= high}
        signatures = recorder.select_signatures(low, high) if key is not None else {}
        for n in batch:
            previous = event_hash(previous, n.id, n.topic, n.originator_id, n.originator_version, bytes(n.state))
            if hashes.get(n.id) != previous:
                raise _broken(n.id, "its stored chain hash does not match the chain recomputed from the last "
                                    "checkpoint (an event at or before it was changed, inserted or deleted)")
            if key is not None:
                signed = signatures.get(n.id)
                if signed is not None:
                    signed_seen = True
                    _check_signature(n.id, previous, signed, key, known)
                elif signed_seen:
                    raise _broken(n.id, "it is unsigned after the first signed event")
            events += 1
        position, after = high, high
    _remember(recorder, key, _Checked(position, previous, events, signed_seen, frozenset(known)))
    return position, previous, events


def _remembered(recorder: Any, key: SigningKey | None) -> _Checked | None:
    try:
        return _last_good.get(recorder, {}).get(key.key_id if key else None)
    except TypeError:  # a recorder that cannot be weakly referenced: nothing remembered
        return None


def _remember(recorder: Any, key: SigningKey | None, checked: _Checked) -> None:
    try:
        _last_good.setdefault(recorder, {})[key.key_id if key else None] = checked
    except TypeError:
        pass


def checkpoint_of_head(recorder: Any, key: SigningKey | None, now: datetime | None = None) -> dict[str, Any]:
    """A checkpoint of the checked chain head now; an empty history's is position 0, GENESIS, 0 events."""
    position, chain_hash, events = checked_head(recorder, key)
    return make_checkpoint(position, chain_hash, events, now or datetime.now(timezone.utc), key)


def current_head(book: Openbook) -> dict[str, Any]:
    """The current head, checked and signed with the configured key, recording nothing: what a page or a statement
    cites.

    Beside it a reader cites ``latest_recorded_checkpoint(book.read_engine)``,
    the last head attested in the history itself.
    """
    return checkpoint_of_head(book.ledger.recorder, book.ledger.signing_key)


def _starting_checkpoint(
    recorder: Any, key: SigningKey | None, upto: int | None
) -> tuple[tuple[int, str, int], set[str]]:
    """Where the check starts — (position, hash, events) of the latest recorded checkpoint at or before ``upto`` that
    verifies with ``key`` (any, without a key), else genesis — and the key ids accepted on events.

    Read from the checkpoint events themselves, not the read model (which is not chained); there are few of them.
    """
    start: tuple[int, str, int] = (0, GENESIS, 0)
    known = {key.key_id} if key is not None else set()
    after = 0
    while batch := recorder.select_notifications(
        start=after, limit=BATCH, topics=[Checkpoint.Recorded.TOPIC], inclusive_of_start=False
    ):
        for n in batch:
            c = _fields(bytes(n.state))
            if c is None:
                continue
            if c["key_id"]:
                known.add(c["key_id"])
            if (upto is None or c["position"] <= upto) and c["position"] >= start[0] and _vouched(c, key):
                start = (c["position"], c["hash"], c["events"])
        after = batch[-1].id
    return start, known


def _fields(state: bytes) -> dict[str, Any] | None:
    """The checkpoint's signed fields from its stored event (plain JSON values), or None if they are not there."""
    try:
        stored = json.loads(state)
        c = {name: stored[name] for name in ("position", "hash", "recorded_at", "events", "key_id", "signature")}
    except (ValueError, KeyError, TypeError):
        return None
    ok = isinstance(c["position"], int) and isinstance(c["events"], int) and isinstance(c["hash"], str)
    return c if ok else None


def _vouched(c: dict[str, Any], key: SigningKey | None) -> bool:
    """Whether ``key`` signed this checkpoint (without a key, any recorded checkpoint is the starting point)."""
    if key is None:
        return True
    if c["key_id"] != key.key_id or not isinstance(c["signature"], str):
        return False
    try:
        key.public.verify(bytes.fromhex(c["signature"]), checkpoint_message(c))
    except (InvalidSignature, ValueError):
        return False
    return True


def _check_signature(position: int, chain_hash: str, signed: tuple[str, str], key: SigningKey, known: set[str]) -> None:
    key_id, signature = signed
    if key_id not in known:
        raise _broken(position, f"it is signed by key {key_id}, neither the configured key nor one a recorded "
                                "checkpoint names")
    if key_id != key.key_id:
        return  # an older key: only its id can be checked here
    if not hmac.compare_digest(key.sign(event_message(chain_hash)), str(signature)):  # deterministic: see above
        raise _broken(position, "its signature does not verify with the configured key")


def _broken(position: int, why: str) -> IntegrityFailure:
    return IntegrityFailure(
        f"checkpoint refused: the history does not check at position {position}: {why}; nothing was signed or recorded"
    )
