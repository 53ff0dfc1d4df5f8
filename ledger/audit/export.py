"""The export: the recorded history as canonical JSON lines an auditor can check without openbook.

``docs/audit.md`` ("The export") states the format; ``ledger/audit/verify.py``
checks it. The export writes what the store holds, never what the ledger makes
of it: the stored bytes (base64, exactly as hashed), the stored chain hash and
signature of each event, and each activity chunk's text as stored — a chunk
that no longer matches its name is exported as it is (or with ``text`` null if
it cannot even be decompressed), for the verifier to catch, instead of the
export refusing. Readable fields (recorded-at, envelope, payload) are the
*plain form* of the stored bytes (``verify.plain_form``, the one rule).

Events stream in batches of ``BATCH`` positions, so memory stays bounded
whatever the history's length; the range is fixed when the export starts, so
events recorded meanwhile are left for the next one.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import IO, Any
from uuid import UUID

from sqlalchemy import Engine, select

from ledger.audit.head_check import checked_head
from ledger.audit.signing import SigningKey, make_checkpoint
from ledger.audit.verify import (
    CHAIN_FORMAT,
    CORRECTED,
    EXPORT_FORMAT,
    IMPORTED,
    plain_form,
    readable,
)
from ledger.files.chunks import activity_chunks
from ledger.persistence.database import reading

#: Events read per query.
BATCH = 2000


def canonical(record: dict[str, Any]) -> str:
    """One export line: sorted keys, no spaces, ASCII only (so the file's bytes are the same everywhere)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


# -- reading the store (the recorders' own methods, both databases) ------------------------------


def _hashes(recorder: Any, start: int, stop: int) -> dict[int, str]:
    """Stored chain hashes of positions ``start`` to ``stop``."""
    return {position: value for position, value in recorder.select_hashes(start, stop - start + 1) if position <= stop}


def _last_position(recorder: Any) -> int:
    return recorder.max_notification_id() or 0


def _chunk_text(engine: Engine, digest: str) -> str | None | bool:
    """A chunk's text as stored (unchecked: the verifier checks it); None if it cannot be read back; False if absent."""
    with reading(engine) as conn:
        body = conn.execute(select(activity_chunks.c.body).where(activity_chunks.c.digest == digest)).scalar()
    if body is None:
        return False
    try:
        return zlib.decompress(bytes(body)).decode("utf-8")
    except (zlib.error, UnicodeDecodeError):
        return None


# -- the export ---------------------------------------------------------------------------------


def head_checkpoint(position: int, chain_hash: str, events: int, key: SigningKey | None = None) -> dict[str, Any]:
    """The checkpoint attesting the export's last event (``openbook-checkpoint/1``), signed when a key is configured
    (``ledger.audit.signing.make_checkpoint``, the one maker of checkpoints)."""
    return make_checkpoint(position, chain_hash, events, datetime.now(timezone.utc), key)


def event_record(position: int, topic: str, aggregate_id: Any, version: int, stored: bytes, chain_hash: str | None,
                 signed: tuple[str, str] | None) -> dict[str, Any]:
    """One event's export record: its identity, readable fields (plain form), stored bytes, hash and signature."""
    recorded_at, envelope, payload = readable(plain_form(stored))
    return {
        "kind": "event",
        "position": position,
        "topic": topic,
        "aggregate_id": str(UUID(str(aggregate_id))),
        "version": version,
        "recorded_at": recorded_at,
        "envelope": envelope,
        "payload": payload,
        "stored": base64.b64encode(stored).decode("ascii"),
        "hash": chain_hash,
        "key_id": signed[0] if signed else None,
        "signature": signed[1] if signed else None,
    }


def export_records(
    recorder: Any,
    chunk_engine: Engine,
    start: int | None = None,
    stop: int | None = None,
    progress: Callable[[int], None] | None = None,
    key: SigningKey | None = None,
) -> Iterator[dict[str, Any]]:
    """The export's records in order: header, then each event (after the chunks it names first), then a checkpoint.

    The caller checks the reader may export the whole history
    (``ledger.authorisation.check_may_export_history``). ``progress`` is told
    how many positions each batch covered; ``key`` (the configured signing
    key) signs the final checkpoint.
    """
    first = max(start or 1, 1)
    last = _last_position(recorder)
    last = min(stop, last) if stop is not None else last
    head_position, previous, before = recorder.chain_before(first)
    yield {
        "kind": "header",
        "format": EXPORT_FORMAT,
        "chain": CHAIN_FORMAT,
        "from": first,
        "to": last,
        "previous": previous,
        "events_before": before,
        "exported_at": datetime.now(timezone.utc).isoformat(),
    }
    written: set[str] = set()
    count, head, after = 0, previous, first - 1
    while after < last:
        batch = recorder.select_notifications(start=after, limit=BATCH, stop=last, inclusive_of_start=False)
        if not batch:
            break
        low, high = batch[0].id, batch[-1].id
        hashes, signatures = _hashes(recorder, low, high), recorder.select_signatures(low, high)
        for n in batch:
            record = event_record(
                n.id, n.topic, n.originator_id, n.originator_version, bytes(n.state), hashes.get(n.id),
                signatures.get(n.id),
            )
            if n.topic in (IMPORTED, CORRECTED):
                for digest in record["payload"].get("chunks") or []:
                    if digest not in written:
                        written.add(digest)
                        text = _chunk_text(chunk_engine, digest)
                        if text is not False:  # an absent chunk has no line: the verifier says it is missing
                            yield {"kind": "chunk", "name": digest, "text": text}
            yield record
            count += 1
            head, head_position = record["hash"] or head, n.id
        if progress is not None:
            progress(high - after)
        after = high
    # Signing vouches for the head: with a key, the chain up to it is checked first (refused if it does not check).
    attested = checked_head(recorder, key, head_position) if key is not None else (head_position, head, before + count)
    yield {"kind": "checkpoint", **head_checkpoint(*attested, key)}


def write_export(
    out: IO[str],
    recorder: Any,
    chunk_engine: Engine,
    start: int | None = None,
    stop: int | None = None,
    progress: Callable[[int], None] | None = None,
    key: SigningKey | None = None,
) -> dict[str, Any]:
    """Write the export to ``out``; a summary of what it holds (events, chunks, range, the final checkpoint)."""
    events = chunks = 0
    header: dict[str, Any] = {}
    last: dict[str, Any] = {}
    for record in export_records(recorder, chunk_engine, start, stop, progress, key):
        out.write(canonical(record))
        out.write("\n")
        kind = record["kind"]
        if kind == "event":
            events += 1
        elif kind == "chunk":
            chunks += 1
        elif kind == "header":
            header = record
        else:
            last = record
    return {"events": events, "chunks": chunks, "from": header.get("from"), "to": header.get("to"), "checkpoint": last}


def export_range(recorder: Any) -> int:
    """The last recorded position (what an export without ``--to`` goes up to)."""
    return _last_position(recorder)
