#!/usr/bin/env python3
"""openbook's independent verifier: checks an export (docs/audit.md) with the Python standard library alone.

An auditor must not have to trust openbook, its database or its administrator
to check the history, so this file stands alone: it imports nothing from
openbook (copy it anywhere and run ``python3 -I verify.py FILE``), uses only
the standard library, and imports ``cryptography`` only when it has an Ed25519
signature to check. It re-derives everything from the rules in docs/audit.md:

- the header's format versions (``openbook-export/1``, ``openbook-chain/1``);
- every line exactly the canonical serialisation of its object, with exactly
  its keys of the right types (so no two readings of one file can differ);
- positions strictly increasing, each event's chain hash recomputed from the
  one before it (``openbook-chain/1``);
- each event's readable fields (recorded-at, envelope, payload) equal to the
  *plain form* of its stored bytes, so what an auditor reads is what was hashed;
- event signatures (``openbook-event/1``): unsigned events only before the
  first signed one, then every event signed by a trusted key; and where
  signing started is not left to the data: after a signed ``--since``
  checkpoint, or a signed checkpoint recorded in the history, every event
  must be signed (a rewrite cannot pass by stripping the signatures);
- each ``openbook:checkpoint.recorded`` event against the chain recomputed
  before it (position, hash, count; its signature with the keys given);
- each activity chunk an event names is present (before it) and matches its
  name (the sha256 of its canonical text);
- the final checkpoint (``openbook-checkpoint/1``) attests the last event,
  and with ``--since`` the log extends a checkpoint kept from before.

It stops at the FIRST failure and names its position and why. It also
recomputes the visits and minutes per agreement, provider, zone, service and
month from the chunks (a visit counts as last recorded: its ``Imported`` row,
then each ``Corrected`` change in order), so they can be compared with the
statements; prices are not recomputed (pricing stays in one place, openbook).

Exit status: 0 verified, 1 broken (the first failure is printed), 2 unusable
input (not a file, not JSON lines, an unknown format version, a bad key or
checkpoint file).

``openbook verify FILE`` runs this same code; ``openbook verify --database``
feeds it the live store's events directly.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import sqlite3
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

EXPORT_FORMAT = "openbook-export/1"
CHAIN_FORMAT = "openbook-chain/1"
CHECKPOINT_FORMAT = "openbook-checkpoint/1"
EVENT_SIGNATURE_FORMAT = "openbook-event/1"
GENESIS = "0" * 64
#: Beyond every position (positions are 64-bit integers): "no bound yet", kept an int as positions are.
BEYOND = 2**63

EXIT_VERIFIED, EXIT_BROKEN, EXIT_UNUSABLE = 0, 1, 2

#: The topics whose payload names activity chunks (field ``chunks``), and what each holds.
IMPORTED = "openbook:activity-import.imported"
CORRECTED = "openbook:activity-import.corrected"
_NAMING_CHUNKS = frozenset((IMPORTED, CORRECTED))
#: The event that records a checkpoint in the history (its payload is the checkpoint's seven fields, as signed).
CHECKPOINT_RECORDED = "openbook:checkpoint.recorded"

#: The keys of each kind of line, exactly (docs/audit.md): any other key, or one missing, is a malformed line.
HEADER_KEYS = frozenset(("kind", "format", "chain", "from", "to", "previous", "events_before", "exported_at"))
EVENT_KEYS = frozenset(("kind", "position", "topic", "aggregate_id", "version", "recorded_at", "envelope", "payload",
                        "stored", "hash", "key_id", "signature"))
CHUNK_KEYS = frozenset(("kind", "name", "text"))
CHECKPOINT_KEYS = frozenset(("format", "position", "hash", "recorded_at", "events", "key_id", "signature"))

#: The columns of a visits chunk (``domain.activity.visits.FIELDS``; a test keeps the two equal).
VISIT_FIELDS = (
    "visit_id", "provider", "district", "zone", "service", "band", "client_ref", "carer_ref",
    "planned_start", "planned_minutes", "actual_start", "actual_minutes",
)  # fmt: skip
_INTEGER_FIELDS = ("planned_minutes", "actual_minutes")
CHUNK_HEADERS = {
    "visits": "openbook-visits/1\t" + "\t".join(VISIT_FIELDS),
    "corrections": "openbook-corrections/1\tvisit_id\tfield\tbefore\tafter",
}

#: The library's fields of every stored event that are not the event's own payload.
_RECORDED_AT, _ENVELOPE, _AGGREGATE_TOPIC = "timestamp", "envelope", "originator_topic"

_HEX = frozenset("0123456789abcdef")


class Unusable(Exception):
    """The input cannot be checked at all (exit 2): not a file, not JSON lines, an unknown format."""


class Broken(Exception):
    """The first failure found (exit 1): its position (None when not an event's), its line and why."""

    def __init__(self, position: int | None, reason: str, detail: str, line: int | None = None):
        super().__init__(f"{reason}: {detail}")
        self.position, self.reason, self.detail, self.line = position, reason, detail, line


# -- the rules of docs/audit.md ------------------------------------------------------------------


def chain_hash(previous: str, position: int, topic: str, aggregate_id: str, version: int, stored: bytes) -> str:
    """``openbook-chain/1``: sha256 of previous|position|topic|aggregate id|version|stored bytes, as hex."""
    digest = hashlib.sha256(f"{previous}|{position}|{topic}|{aggregate_id}|{version}|".encode())
    digest.update(stored)
    return digest.hexdigest()


def _untyped(obj: dict[str, Any]) -> Any:
    if "_type_" in obj and len(obj) == 2 and "_data_" in obj:
        return obj["_data_"]
    return obj


_PLAIN = json.JSONDecoder(object_hook=_untyped)
_LINE = json.JSONDecoder()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"the key {twice!r} appears twice")
    return found


#: Only on a line that failed the fast check: the strict parse that names a duplicate key.
_STRICT = json.JSONDecoder(object_pairs_hook=_no_duplicates)


def canonical_line(record: Any) -> str:
    """The one serialisation of an export line (docs/audit.md): sorted keys, no spaces, ASCII only."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _not_json(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _make_encoder() -> Any:
    """``canonical_line``'s encoder, made once (``json.dumps`` makes one per call, the hot path's main cost): the C
    encoder, called as ``encode(value, 0)`` for the text's parts; where the interpreter has none, ``json.dumps`` as
    one part. Both give the same text."""
    try:
        from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]

        encode = c_make_encoder(None, _not_json, encode_basestring_ascii, None, ":", ",", True, False, True)
    except (ImportError, TypeError):
        encode = None
    return encode or (lambda value, _level: (canonical_line(value),))


_encode, _join = _make_encoder(), "".join


def _dumps(value: Any) -> str:
    """``canonical_line(value)``, fast."""
    return _join(_encode(value, 0))


#: A JSON string as the canonical line writes it (TypeError if the value is not a string).
_text = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def plain_form(stored: bytes) -> Any:
    """The stored JSON with each ``{"_type_": T, "_data_": D}`` replaced by D, innermost first.

    That is how the eventsourcing library's JSON transcoder marks a typed value
    (a Decimal as ``{"_type_": "decimal_str", "_data_": "1.50"}``, a date, a
    UUID, an envelope); replacing it by its data gives the value as text.
    """
    return _PLAIN.decode(stored.decode("utf-8"))


def readable(plain: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]]:
    """(recorded_at, envelope, payload) of an event's plain form: its ``timestamp``, its ``envelope``, and the rest
    but the library's name of the aggregate's type (``originator_topic``). Takes the fields out of ``plain``."""
    plain.pop(_AGGREGATE_TOPIC, None)
    return plain.pop(_RECORDED_AT, None), plain.pop(_ENVELOPE, None), plain


#: The hot path's helpers, bound once: strict base64 (alphabet and padding checked; Python 3.11+), SHA-256,
#: and the plain-form parser.
_base64, _sha256, _plain = binascii.a2b_base64, hashlib.sha256, _PLAIN.decode


def event_message(chain_hash_hex: str) -> bytes:
    """What an event signature signs (``openbook-event/1``)."""
    return f"{EVENT_SIGNATURE_FORMAT}|{chain_hash_hex}".encode("ascii")


def checkpoint_message(checkpoint: dict[str, Any]) -> bytes:
    """What a checkpoint signature signs (``openbook-checkpoint/1``)."""
    c = checkpoint
    return f"{CHECKPOINT_FORMAT}|{c['position']}|{c['hash']}|{c['recorded_at']}|{c['events']}|{c['key_id']}".encode()


def key_id(raw_public_key: bytes) -> str:
    """The first 16 hex characters of the sha256 of the 32-byte raw public key."""
    return hashlib.sha256(raw_public_key).hexdigest()[:16]


def parse_public_key(text: str) -> bytes:
    """The 32 raw bytes of a published key, ``ed25519:`` and standard base64."""
    prefix, _, data = text.strip().partition(":")
    if prefix != "ed25519" or not data:
        raise Unusable(f"public key {text.strip()[:40]!r}: not 'ed25519:' followed by base64")
    try:
        raw = base64.b64decode(data, validate=True)
    except binascii.Error:
        raise Unusable(f"public key {text.strip()[:40]!r}: not valid base64") from None
    if len(raw) != 32:
        raise Unusable(f"public key {text.strip()[:40]!r}: {len(raw)} bytes, not the 32 of an Ed25519 key")
    return raw


def public_keys(values: Iterable[str]) -> dict[str, bytes]:
    """Trusted keys by key id, from ``--public-key`` values: each a key (``ed25519:...``) or a file of them."""
    keys: dict[str, bytes] = {}
    for value in values:
        if value.strip().startswith("ed25519:"):
            lines = [value]
        else:
            try:
                with open(value, encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except (OSError, UnicodeDecodeError) as e:
                raise Unusable(f"--public-key {value}: neither a key (ed25519:...) nor a readable key file ({e})")
        for line in lines:
            if line.strip() and not line.lstrip().startswith("#"):
                raw = parse_public_key(line)
                keys[key_id(raw)] = raw
    return keys


def load_checkpoint(path: str) -> dict[str, Any]:
    """A checkpoint as ``openbook checkpoint --out`` (or an export's last line) writes it."""
    try:
        with open(path, encoding="utf-8") as f:
            found = json.loads(f.read())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Unusable(f"--since {path}: not a readable checkpoint file ({e})") from None
    if not isinstance(found, dict) or found.get("format") != CHECKPOINT_FORMAT:
        raise Unusable(f"--since {path}: not an {CHECKPOINT_FORMAT} checkpoint")
    _checkpoint_fields(found, f"--since {path}")
    return found


def _checkpoint_fields(c: dict[str, Any], where: str) -> None:
    """The shape of an ``openbook-checkpoint/1`` (its seven fields, exactly); Unusable naming what is wrong."""
    position, events = c.get("position"), c.get("events")
    if not (_is_count(position) and _is_hash(c.get("hash")) and _is_count(events)):
        raise Unusable(f"{where}: a checkpoint needs a position, a 64-hex hash and a count of events (integers from "
                       "0)")
    if not isinstance(c.get("recorded_at"), str):
        raise Unusable(f"{where}: a checkpoint needs its recorded_at time")
    kid, signature = c.get("key_id"), c.get("signature")
    if not ((kid is None and signature is None) or (isinstance(kid, str) and isinstance(signature, str))):
        raise Unusable(f"{where}: a checkpoint's key_id and signature are both text or both null")
    if set(c) - {"kind"} != CHECKPOINT_KEYS:
        raise Unusable(f"{where}: a checkpoint has exactly the fields {', '.join(sorted(CHECKPOINT_KEYS))}")


def _is_count(value: Any) -> bool:
    """A non-negative integer (JSON true/false are not counts, though Python's bool is an int)."""
    return type(value) is int and value >= 0


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


# -- the check ----------------------------------------------------------------------------------


@dataclass
class Report:
    """What the verifier found: OK with the head, or the first failure; and the recomputed activity totals."""

    status: str = "verified"  # verified, broken, unusable
    events: int = 0
    first: int | None = None
    head: dict[str, Any] | None = None
    failure: dict[str, Any] | None = None
    signatures: dict[str, Any] = field(default_factory=dict)
    checkpoint: dict[str, Any] | None = None
    since: dict[str, Any] | None = None
    totals: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return {"verified": EXIT_VERIFIED, "broken": EXIT_BROKEN}.get(self.status, EXIT_UNUSABLE)

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "events": self.events,
            "first_position": self.first,
            "head": self.head,
            "failure": self.failure,
            "signatures": self.signatures,
            "checkpoint": self.checkpoint,
            "since": self.since,
            "activity_totals": self.totals,
            "notes": self.notes,
        }

    def lines(self) -> list[str]:
        """The report for people."""
        if self.status == "unusable":
            return [f"UNUSABLE: {self.failure['detail'] if self.failure else 'input cannot be checked'}"]
        if self.status == "broken":
            f = self.failure or {}
            where = f"position {f['position']}" if f.get("position") is not None else "the export"
            line = f" (line {f['line']})" if f.get("line") else ""
            out = [f"BROKEN at {where}{line}: {f.get('reason')} — {f.get('detail')}"]
            if self.head:
                out.append(f"verified before it: {self.events:,} events, up to position {self.head['position']}")
            return out
        head = self.head
        out = [
            f"OK: {self.events:,} events verified"
            + (f", positions {self.first} to {head['position']}, head {head['hash']}" if head else " (none)")
        ]
        s = self.signatures
        if s.get("signed"):
            checked = "checked" if s.get("checked") else "NOT checked (no --public-key given)"
            out.append(
                f"signatures: {s['unsigned']:,} unsigned events before the first signed one (position "
                f"{s['first_signed']}), then {s['signed']:,} signed, {checked}"
            )
        else:
            out.append(f"signatures: none ({s.get('unsigned', 0):,} events unsigned)")
        if self.checkpoint:
            c = self.checkpoint
            out.append(f"checkpoint: position {c['position']}, {c['events']:,} events, {c['signed']}")
        if self.since:
            out.append(f"extends the checkpoint at position {self.since['position']} ({self.since['events']:,} events)")
        out.extend(f"note: {note}" for note in self.notes)
        if self.totals:
            out.append("activity recomputed from the chunks (visits as last recorded):")
            out.append(
                f"  {'agreement':<22} {'provider':<28} {'zone':<12} {'service':<14} {'month':<7} "
                f"{'visits':>8} {'planned min':>12} {'actual min':>12}"
            )
            for t in self.totals:
                out.append(
                    f"  {t['agreement']:<22} {t['provider']:<28} {t['zone']:<12} {t['service']:<14} {t['month']:<7} "
                    f"{t['visits']:>8,} {t['planned_minutes']:>12,} {t['actual_minutes']:>12,}"
                )
        return out


class _Activity:
    """Each visit as last recorded, in a scratch SQLite file (bounded memory at a million visits)."""

    def __init__(self) -> None:
        handle, self.path = tempfile.mkstemp(prefix="openbook-verify-", suffix=".sqlite")
        os.close(handle)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        columns = ", ".join(f"{f} INTEGER" if f in _INTEGER_FIELDS else f"{f} TEXT" for f in VISIT_FIELDS)
        self.db.execute(f"CREATE TABLE v (agreement TEXT, {columns}, PRIMARY KEY (agreement, visit_id))")
        self.db.execute("CREATE TABLE chunk (name TEXT PRIMARY KEY, good INTEGER, text TEXT)")
        self.db.execute("BEGIN")
        self.agreements: dict[str, str] = {}
        self.incomplete = False

    def add_chunk(self, name: str, good: bool, text: str | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO chunk VALUES (?, ?, ?)", (name, int(good), text))

    def chunk(self, name: str) -> tuple[bool, str] | None:
        return self.db.execute("SELECT good, text FROM chunk WHERE name = ?", (name,)).fetchone()

    def imported(self, aggregate_id: str, agreement: str, rows: list[list[str]]) -> None:
        self.agreements[aggregate_id] = agreement
        marks = ", ".join("?" * (len(VISIT_FIELDS) + 1))
        self.db.executemany(f"INSERT OR REPLACE INTO v VALUES ({marks})", (
            [agreement, *row[:9], _minutes(row[9]), row[10], _minutes(row[11])] for row in rows
        ))

    def corrected(self, aggregate_id: str, changes: list[list[str]]) -> None:
        agreement = self.agreements.get(aggregate_id)
        if agreement is None:  # its import lies before the exported range
            self.incomplete = True
            return
        for visit_id, name, _before, after in changes:
            if name in VISIT_FIELDS[1:]:
                value: Any = _minutes(after) if name in _INTEGER_FIELDS else after
                self.db.execute(f"UPDATE v SET {name} = ? WHERE agreement = ? AND visit_id = ?", (value, agreement, visit_id))

    def totals(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT agreement, provider, zone, service, substr(planned_start, 1, 7), count(*), "
            "sum(planned_minutes), sum(actual_minutes) FROM v GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
        )
        names = ("agreement", "provider", "zone", "service", "month", "visits", "planned_minutes", "actual_minutes")
        return [dict(zip(names, row)) for row in rows]

    def close(self) -> None:
        self.db.close()
        os.unlink(self.path)


def _minutes(text: str) -> int:
    """Minutes are written as decimal integers (no sign, no spaces); ValueError naming the text otherwise."""
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"minutes {text[:20]!r} are not a whole number")
    return int(text)


def decode_chunk(text: str) -> tuple[str, list[list[str]]]:
    """(kind, rows) of a chunk's canonical text; ValueError if it is not one."""
    header, _, body = text.partition("\n")
    for kind, expected in CHUNK_HEADERS.items():
        if header == expected:
            width = expected.count("\t")
            rows = [line.split("\t") for line in body.split("\n") if line]
            if any(len(row) != width for row in rows):
                raise ValueError(f"a {kind} chunk row does not have {width} fields")
            return kind, rows
    raise ValueError(f"not an openbook chunk: header {header[:60]!r}")


class Verifier:
    """Checks an export's records (parsed lines) in order; raises Broken at the first failure."""

    def __init__(self, keys: dict[str, bytes] | None = None, since: dict[str, Any] | None = None):
        self.keys = keys or {}
        self.since = since
        self.report = Report()
        self.unsigned = self.signed = 0
        self.first_signed: int | None = None
        self._verifiers: dict[str, Any] = {}
        self.header: dict[str, Any] | None = None
        self.low, self.high = 1, BEYOND
        self.previous = GENESIS
        self.position = 0
        self.before = 0
        self.count = 0
        self.line = 0
        self.ended = False
        self.in_events = False  # after the header, before the final checkpoint
        self.since_seen = False
        self._activity: _Activity | None = None
        self._pending_chunks: set[str] = set()
        #: Every event after this position must be signed: set by a signed checkpoint (held or in the history), whose
        #: key was configured when it was made, so every event recorded after it was signed (docs/audit.md).
        self.signed_after = BEYOND
        self.signed_because = ""
        if since is not None and since.get("signature") is not None:
            if self.keys:
                why = self._signature_problem(since.get("key_id"), since["signature"], checkpoint_message(since))
                if why:
                    raise Unusable(f"--since: the checkpoint's {why}")
            self._must_sign_after(since["position"], f"the --since checkpoint (position {since['position']}) is signed")

    def _must_sign_after(self, position: int, because: str) -> None:
        if position < self.signed_after:
            self.signed_after, self.signed_because = position, because

    # one record per line, in order
    def text_line(self, text: str) -> None:
        """One line of an export file (without its newline): parsed, then checked (an event straight to its check)."""
        try:
            record = _LINE.decode(text)
        except json.JSONDecodeError as e:
            raise Unusable(f"line {self.line + 1}: not a JSON line ({e})") from None
        if self.in_events and record.__class__ is dict and record.get("kind") == "event":
            self.line += 1
            self._event(record, text)
        else:
            self.feed(record, text)

    def feed(self, record: Any, text: str | None = None) -> None:
        """One line: its parsed record and, from a file, its text (None for records built from the live store)."""
        self.line += 1
        if not isinstance(record, dict):
            raise Unusable(f"line {self.line}: not a JSON object")
        kind = record.get("kind")
        if kind == "event" and self.header is not None and not self.ended:
            self._event(record, text)
            return
        if self.header is None:
            self._header(record)
        elif self.ended:
            raise Broken(None, "extra line", f"a {kind!r} line after the final checkpoint", self.line)
        elif kind == "chunk":
            self._chunk(record)
        elif kind == "checkpoint":
            self._checkpoint(record)
        else:
            raise Broken(self._next(), "extra line", f"a line of kind {kind!r}, not an event, chunk or checkpoint",
                         self.line)
        if text is not None and _dumps(record) != text:
            self._not_canonical(self._next() if kind != "checkpoint" else record["position"], text)

    def _not_canonical(self, position: int | None, text: str) -> None:
        """A line that is not exactly the canonical serialisation of its object: say how."""
        try:
            _STRICT.decode(text)
        except ValueError as ex:
            raise Broken(position, "line not canonical", str(ex), self.line) from None
        raise Broken(position, "line not canonical", "the line is not the canonical serialisation of its object "
                     "(keys sorted, no spaces, ASCII only, numbers as written by the exporter)", self.line)

    def _next(self) -> int | None:
        """Where a failure that is not an event's own is reported: the last event checked (None before any)."""
        return None if not self.position else self.position

    def _header(self, h: dict[str, Any]) -> None:
        if h.get("kind") != "header":
            raise Unusable("line 1: not an export header (kind 'header'); is this an openbook export?")
        if h.get("format") != EXPORT_FORMAT:
            raise Unusable(f"export format {h.get('format')!r}: this verifier checks {EXPORT_FORMAT}")
        if h.get("chain") != CHAIN_FORMAT:
            raise Unusable(f"chain format {h.get('chain')!r}: this verifier checks {CHAIN_FORMAT}")
        start, stop, before = h.get("from"), h.get("to"), h.get("events_before")
        if not (type(start) is int and start >= 1 and _is_count(stop) and _is_count(before)):
            raise Unusable("header: 'from' must be a position (an integer from 1), 'to' and 'events_before' counts "
                           f"(integers from 0); found {start!r}, {stop!r}, {before!r}")
        if not _is_hash(h.get("previous")) or not isinstance(h.get("exported_at"), str):
            raise Unusable("header: 'previous' must be a 64-hex chain hash, 'exported_at' a time")
        if set(h) != HEADER_KEYS:
            raise Unusable(f"header: the fields must be exactly {', '.join(sorted(HEADER_KEYS))}")
        self.header = h
        self.in_events = True
        self.low, self.high = start, stop
        self.previous = h["previous"]
        self.before = before
        since = self.since
        if since is not None and since["position"] == 0:
            self._since_empty()
        elif since is not None and start > since["position"]:
            raise Unusable(
                f"--since: the export starts at position {h.get('from')}, after the checkpoint's "
                f"{since['position']}; export from position 1 (or at most {since['position']}) to check it"
            )

    def _event(self, e: dict[str, Any], text: str | None = None) -> None:
        """One event line: the hot path (a million lines), so its common case is written out inline.

        The checks, in order (docs/audit.md): position, shape (malformed line), canonical text (line not
        canonical), chain hash, readable fields, signature, ``--since``, recorded checkpoint, chunks. The common
        case costs one serialisation: the line the exporter would write for these stored bytes, compared with the
        line as read; only a line that differs is taken apart to say which check it fails.
        """
        position = e.get("position")
        if type(position) is not int or not self.position < position <= self.high or position < self.low:
            self._bad_position(position)
        if self.since is not None:
            self._check_since_before(position)
        try:
            topic, aggregate_id, version = e["topic"], e["aggregate_id"], e["version"]
            stored = _base64(e["stored"], strict_mode=True)
            shaped = topic.__class__ is str and aggregate_id.__class__ is str and version.__class__ is int
        except (KeyError, TypeError, ValueError):  # binascii.Error is a ValueError, as is non-ASCII base64
            shaped = False
        if not shaped:
            self._malformed(position, e)
        recomputed = _sha256(f"{self.previous}|{position}|{topic}|{aggregate_id}|{version}|".encode() + stored).hexdigest()
        try:  # readable(plain form), inline
            plain = _plain(stored.decode())
            plain.pop(_AGGREGATE_TOPIC, None)
            recorded_at, envelope = plain.pop(_RECORDED_AT, None), plain.pop(_ENVELOPE, None)
            if text is None:  # built from the store by openbook itself: no text to compare
                same = e["recorded_at"] == recorded_at and e["envelope"] == envelope and e["payload"] == plain
            else:
                # the canonical line, keys in sorted order; the long ``stored`` (strict base64, so nothing to escape)
                # and the hash (hex when it matches) are put in as they are, the rest serialised
                kid, signature = e["key_id"], e["signature"]
                same = text == (
                    f'{{"aggregate_id":{_text(aggregate_id)},"envelope":{_dumps(envelope)},"hash":"{recomputed}",'
                    f'"key_id":{"null" if kid is None else _text(kid)},"kind":"event","payload":{_dumps(plain)},'
                    f'"position":{position},"recorded_at":{_dumps(recorded_at)},'
                    f'"signature":{"null" if signature is None else _text(signature)},'
                    f'"stored":"{e["stored"]}","topic":{_text(topic)},"version":{version}}}'
                )
        except (UnicodeDecodeError, ValueError, AttributeError, TypeError, KeyError):
            same = False
        if recomputed != e.get("hash") or not same:
            self._bad_event(position, e, text, stored, recomputed)
        if e["signature"] is None and e["key_id"] is None and self.first_signed is None and position <= self.signed_after:
            self.unsigned += 1
        else:
            self._check_signature(position, e, recomputed)
        if topic == CHECKPOINT_RECORDED:
            self._recorded_checkpoint(position, e["payload"])
        self.previous = recomputed
        self.position = position
        self.count += 1
        if self.count == 1:
            self.report.first = position
        if self.since is not None:
            self._check_since_at(position)
        if topic in _NAMING_CHUNKS:
            self._apply_activity(position, topic, aggregate_id, e.get("payload") or {})

    def _bad_position(self, position: Any) -> None:
        if type(position) is not int:
            raise Broken(self._next(), "malformed line", "an event line without a valid position", self.line)
        if position <= self.position:
            raise Broken(position, "positions not increasing", f"position {position} comes after {self.position}",
                         self.line)
        h = self.header or {}
        raise Broken(position, "extra line", f"position {position} lies outside the exported range "
                     f"{h.get('from')} to {h.get('to')}", self.line)

    def _malformed(self, position: int, e: dict[str, Any]) -> None:
        """An event line whose fields are missing, extra or of the wrong type (JSON true is not a number)."""
        if set(e) != EVENT_KEYS:
            missing, extra = sorted(EVENT_KEYS - set(e)), sorted(set(e) - EVENT_KEYS)
            raise Broken(position, "malformed line", "an event line has exactly the fields of docs/audit.md"
                         + (f"; missing {', '.join(missing)}" if missing else "")
                         + (f"; unknown {', '.join(extra)}" if extra else ""), self.line)
        wrong = [name for name, ok in (
            ("topic", isinstance(e["topic"], str)), ("aggregate_id", isinstance(e["aggregate_id"], str)),
            ("version", type(e["version"]) is int), ("stored", isinstance(e["stored"], str)),
            ("hash", e["hash"] is None or isinstance(e["hash"], str)),
            ("key_id", e["key_id"] is None or isinstance(e["key_id"], str)),
            ("signature", e["signature"] is None or isinstance(e["signature"], str)),
            ("payload", isinstance(e["payload"], dict)),
        ) if not ok]
        if wrong:
            raise Broken(position, "malformed line", f"the event line's {', '.join(wrong)}: wrong type", self.line)
        try:
            _base64(e["stored"], strict_mode=True)
        except ValueError as ex:
            raise Broken(position, "malformed line", f"stored is not standard base64 ({ex})", self.line) from None

    def _bad_event(self, position: int, e: dict[str, Any], text: str | None, stored: bytes, recomputed: str) -> None:
        """An event line that failed the fast check: the first check it fails, in the documented order."""
        self._malformed(position, e)
        if text is not None and _dumps(e) != text:
            self._not_canonical(position, text)
        if text is not None:
            try:
                _STRICT.decode(text)
            except ValueError as ex:
                raise Broken(position, "line not canonical", str(ex), self.line) from None
        if recomputed != e["hash"]:
            self._bad_hash(position, e, recomputed)
        self._bad_payload(position, e, stored)
        raise Broken(position, "payload not matching stored bytes", "the line is not what the stored (hashed) bytes "
                     "say", self.line)

    def _bad_hash(self, position: int, e: dict[str, Any], recomputed: str) -> None:
        if e.get("hash") is None:
            raise Broken(position, "hash mismatch", "the store holds no chain hash for this event", self.line)
        raise Broken(position, "hash mismatch", f"the chain gives {recomputed}, the stored hash is {e.get('hash')} "
                     "(this event or one before it was changed, deleted, inserted or moved)", self.line)

    def _bad_payload(self, position: int, e: dict[str, Any], stored: bytes) -> None:
        """Say which readable field differs from the plain form of the stored bytes."""
        try:
            plain = plain_form(stored)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise Broken(position, "payload not matching stored bytes", "the stored bytes are not UTF-8 JSON",
                         self.line) from None
        if not isinstance(plain, dict):
            raise Broken(position, "payload not matching stored bytes", "the stored bytes are not a JSON object",
                         self.line)
        for name, stored_value in zip(("recorded_at", "envelope", "payload"), readable(plain), strict=True):
            if _dumps(e.get(name)) != _dumps(stored_value):  # as JSON: 2.0 is not 2, true is not 1
                raise Broken(position, "payload not matching stored bytes",
                             f"the line's {name} is not what the stored (hashed) bytes say", self.line)

    def _check_signature(self, position: int, e: dict[str, Any], chain_hash_hex: str) -> None:
        signature, kid = e.get("signature"), e.get("key_id")
        if signature is None and kid is None:
            if self.first_signed is None:
                raise Broken(position, "bad signature", f"unsigned, though {self.signed_because}: every event after "
                             f"position {self.signed_after} was recorded with the key (its signature was removed)",
                             self.line)
            raise Broken(position, "bad signature", f"unsigned, after the first signed event (position "
                         f"{self.first_signed}): recorded without the signing key", self.line)
        if signature.__class__ is not str or kid.__class__ is not str:
            raise Broken(position, "malformed line", "an event's key_id and signature are both text or both null",
                         self.line)
        if self.first_signed is None:
            self.first_signed = position
        self.signed += 1
        if self.keys:
            why = self._signature_problem(kid, signature, event_message(chain_hash_hex))
            if why:
                raise Broken(position, "bad signature", why, self.line)

    def _signature_problem(self, kid: Any, signature: Any, message: bytes) -> str | None:
        """Why a signature does not verify with the trusted keys, or None if it does."""
        if kid not in self.keys:
            return f"signed by key {kid!r}, not one of the trusted public keys"
        if not (isinstance(signature, str) and len(signature) == 128 and set(signature) <= _HEX):
            return "the signature is not 128 hex characters"
        if kid not in self._verifiers:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey  # only to check signatures

            self._verifiers[kid] = Ed25519PublicKey.from_public_bytes(self.keys[kid])
        from cryptography.exceptions import InvalidSignature

        try:
            self._verifiers[kid].verify(bytes.fromhex(signature), message)
        except InvalidSignature:
            return f"the signature does not verify with key {kid}"
        return None

    def _check_since_before(self, position: int) -> None:
        since = self.since
        if since is not None and not self.since_seen and position > since["position"]:
            raise Broken(since["position"], "checkpoint not extended",
                         f"the checkpoint's position {since['position']} is missing from the log (next is {position})",
                         self.line)

    def _since_empty(self) -> None:
        """``--since`` a checkpoint of the empty history (position 0): GENESIS and no events, extended by any log."""
        since = self.since
        assert since is not None
        if since["hash"] != GENESIS or since["events"] != 0:
            raise Unusable("--since: a checkpoint at position 0 attests the empty history: its hash is GENESIS and it "
                           "counts 0 events")
        self.since_seen = True
        self.report.since = {"position": 0, "events": 0, "hash": GENESIS}

    def _recorded_checkpoint(self, position: int, c: dict[str, Any]) -> None:
        """An ``openbook:checkpoint.recorded`` event: it attests the chain as this verifier recomputed it.

        It attests the head just before it (docs/audit.md), so its position, hash and count must be the event
        checked just before (the header's ``previous`` and ``events_before`` at the start of a partial export).
        """
        if c.get("format") != CHECKPOINT_FORMAT:
            raise Broken(position, "malformed line", f"a recorded checkpoint of format {c.get('format')!r}", self.line)
        try:
            _checkpoint_fields(c, "the recorded checkpoint")
        except Unusable as ex:
            raise Broken(position, "malformed line", str(ex), self.line) from None
        at, count = (self.position, self.before + self.count) if self.count else (c["position"], self.before)
        if (c["position"], c["hash"], c["events"]) != (at, self.previous, count) or c["position"] >= position:
            raise Broken(position, "recorded checkpoint not matching", f"it attests position {c['position']} "
                         f"({c['hash'][:16]}…, {c['events']} events), the chain recomputed here gives position {at} "
                         f"({self.previous[:16]}…, {count} events): the history before it was rewritten", self.line)
        if c["signature"] is None:
            return
        if self.keys:
            why = self._signature_problem(c["key_id"], c["signature"], checkpoint_message(c))
            if why:
                raise Broken(position, "bad signature", f"the recorded checkpoint: {why}", self.line)
        self._must_sign_after(position, f"the checkpoint recorded at position {position} is signed")

    def _check_since_at(self, position: int) -> None:
        since = self.since
        if since is None or position != since["position"]:
            return
        self.since_seen = True
        if self.previous != since["hash"]:
            raise Broken(position, "checkpoint not extended",
                         f"the chain hash here is {self.previous}, the checkpoint says {since['hash']}: the history "
                         "at or before this position was rewritten", self.line)
        if self.before + self.count != since["events"]:
            raise Broken(position, "checkpoint not extended",
                         f"{self.before + self.count} events lie at or before this position, the checkpoint says "
                         f"{since['events']}", self.line)
        self.report.since = {"position": position, "events": since["events"], "hash": since["hash"]}

    def _chunk(self, c: dict[str, Any]) -> None:
        name, text = c.get("name"), c.get("text")
        if not _is_hash(name) or not (text is None or isinstance(text, str)) or set(c) != CHUNK_KEYS:
            raise Broken(self._next(), "malformed line", "a chunk line has exactly kind, name (64 hex) and text (text "
                         "or null)", self.line)
        good = isinstance(text, str) and hashlib.sha256(text.encode("utf-8")).hexdigest() == name
        self._activity_store().add_chunk(name, good, text if good else None)
        self._pending_chunks.add(name)

    def _activity_store(self) -> _Activity:
        if self._activity is None:
            self._activity = _Activity()
        return self._activity

    def _apply_activity(self, position: int, topic: str, aggregate_id: str, payload: dict[str, Any]) -> None:
        store = self._activity_store()
        rows: list[list[str]] = []
        names, agreement, corrections = payload.get("chunks", []), payload.get("agreement"), payload.get("corrections", [])
        if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise Broken(position, "malformed line", "the payload's chunks must be a list of chunk names", self.line)
        if topic == IMPORTED and not isinstance(agreement, str):
            raise Broken(position, "malformed line", "an import's payload names its agreement (text)", self.line)
        if topic == CORRECTED and not (isinstance(corrections, list) and all(
            isinstance(c, list) and len(c) == 4 and all(isinstance(f, str) for f in c) for c in corrections
        )):
            raise Broken(position, "malformed line", "the payload's corrections must be a list of [visit_id, field, "
                         "before, after], each text", self.line)
        for name in names:
            found = store.chunk(name)
            if found is None:
                raise Broken(position, "missing chunk", f"activity chunk {name} is not in the export before this "
                             "event that names it", self.line)
            good, text = found
            if not good:
                raise Broken(position, "chunk digest mismatch", f"activity chunk {name} does not match its name "
                             "(the sha256 of its text): it was altered", self.line)
            try:
                kind, chunk_rows = decode_chunk(text)
            except ValueError as ex:
                raise Broken(position, "chunk digest mismatch", f"activity chunk {name}: {ex}", self.line) from None
            expected = "visits" if topic == IMPORTED else "corrections"
            if kind != expected:
                raise Broken(position, "malformed line", f"activity chunk {name} holds {kind}, not {expected}",
                             self.line)
            rows.extend(chunk_rows)
            self._pending_chunks.discard(name)
        try:
            if topic == IMPORTED:
                store.imported(aggregate_id, agreement, rows)
            else:
                store.corrected(aggregate_id, [*corrections, *rows])
        except ValueError as ex:
            raise Broken(position, "malformed line", f"activity: {ex}", self.line) from None

    def _checkpoint(self, c: dict[str, Any]) -> None:
        if c.get("format") != CHECKPOINT_FORMAT:
            raise Unusable(f"checkpoint format {c.get('format')!r}: this verifier checks {CHECKPOINT_FORMAT}")
        try:
            _checkpoint_fields(c, f"line {self.line}")
        except Unusable as ex:
            raise Broken(self._next(), "malformed line", str(ex), self.line) from None
        if (c["position"] != self.position and self.count) or c["hash"] != self.previous:
            raise Broken(c["position"], "missing position",
                         f"the final checkpoint attests position {c['position']} ({c['hash'][:16]}…), but the export's "
                         f"last event is {self.position} ({self.previous[:16]}…)", self.line)
        if c["events"] != self.before + self.count:
            raise Broken(c["position"], "missing position",
                         f"the final checkpoint counts {c['events']} events, the export has "
                         f"{self.before + self.count}", self.line)
        signed = "unsigned"
        if c.get("signature") is not None:
            signed = f"signed by key {c.get('key_id')}, not checked (no --public-key given)"
            if self.keys:
                why = self._signature_problem(c.get("key_id"), c["signature"], checkpoint_message(c))
                if why:
                    raise Broken(c["position"], "bad signature", f"the final checkpoint: {why}", self.line)
                signed = f"signed by key {c['key_id']}, checked"
        self.report.checkpoint = {"position": c["position"], "hash": c["hash"], "events": c["events"],
                                  "recorded_at": c["recorded_at"], "key_id": c.get("key_id"), "signed": signed}
        self.ended = True
        self.in_events = False

    def summary(self) -> Report:
        """The report so far: the events verified and the head they reach."""
        self.report.events = self.count
        self.report.head = {"position": self.position, "hash": self.previous} if self.count else None
        self.report.signatures = {"unsigned": self.unsigned, "signed": self.signed, "first_signed": self.first_signed,
                                  "checked": bool(self.keys)}
        return self.report

    def finish(self) -> Report:
        if self.header is None:
            raise Unusable("the file is empty: no export header")
        if not self.ended:
            raise Broken(None, "missing position", f"the export ends without its final checkpoint after line "
                         f"{self.line}: it is cut short", None)
        if self.since is not None and not self.since_seen:
            raise Broken(self.since["position"], "checkpoint not extended",
                         f"the log ends at position {self.position}, before the checkpoint's position "
                         f"{self.since['position']}: events at the end were deleted", None)
        if self._pending_chunks:
            name = min(self._pending_chunks)
            raise Broken(None, "extra line", f"activity chunk {name} is named by no event of the export", None)
        if self._activity is not None:
            self.report.totals = self._activity.totals()
            if self._activity.incomplete:
                self.report.notes.append("corrections to imports before the exported range are left out of the "
                                         "activity totals: export from position 1 for complete totals")
        if self.header.get("from") not in (None, 1) or self.before:
            self.report.notes.append(f"a partial export: the chain was checked from the header's 'previous' hash "
                                     f"at position {self.header.get('from')}, which this file cannot prove")
        return self.summary()

    def close(self) -> None:
        if self._activity is not None:
            self._activity.close()
            self._activity = None


def verify_records(
    records: Iterable[Any], keys: dict[str, bytes] | None = None, since: dict[str, Any] | None = None
) -> Report:
    """Check export records in order — parsed (built from the live store) or lines of an export as text: the one
    check for every input."""

    def check(verifier: Verifier) -> None:
        feed, text_line = verifier.feed, verifier.text_line
        for record in records:
            if record.__class__ is str:  # a line of an export file
                text_line(record)
            else:
                feed(record)

    return _verified(keys, since, check)


def verify_file(path: str, keys: dict[str, bytes] | None = None, since: dict[str, Any] | None = None) -> Report:
    """Check an export file: ``verify_records`` on its lines, its ordinary event lines checked by ``_check_file``."""
    return _verified(keys, since, lambda verifier: _check_file(verifier, path))


def _verified(keys: dict[str, bytes] | None, since: dict[str, Any] | None, check: Any) -> Report:
    """The report of ``check(verifier)``: verified, or the first failure (broken), or unusable input."""
    try:
        verifier = Verifier(keys, since)
    except Unusable as u:
        return unusable(str(u))
    try:
        check(verifier)
        return verifier.finish()
    except Broken as b:
        report = verifier.summary()
        report.status, report.totals = "broken", []
        report.failure = {"position": b.position, "line": b.line, "reason": b.reason, "detail": b.detail}
        return report
    except Unusable as u:
        return unusable(str(u))
    finally:
        verifier.close()


def unusable(why: str) -> Report:
    return Report(status="unusable", failure={"position": None, "line": None, "reason": "unusable", "detail": why})


#: The topics whose events always take the general path: their payload is checked too (a recorded checkpoint, the
#: activity chunks it names).
_PAYLOAD_CHECKED = frozenset((CHECKPOINT_RECORDED, IMPORTED, CORRECTED))
#: Anything the fast path can meet in a line it declines (the general path then names the failure, if any).
_DECLINED = (ValueError, TypeError, AttributeError, StopIteration, RecursionError)


def _check_file(v: Verifier, path: str) -> None:
    """Every line of an export file, in order, through ``v``. The hot path (a million lines): an ordinary event line
    is checked without parsing it as JSON.

    From the line's stored bytes (its plain form, its chain hash recomputed from the previous one) and the few
    fields they do not give (position, topic, aggregate id, version, key id, signature, taken from where the
    canonical line has them), this builds the one line the exporter writes for that event and compares it with the
    line, byte for byte. Equal, the line is exactly the canonical serialisation of a record with those fields
    (parsing it gives that record), so every check of an event line holds at once: exactly its keys, each of its
    type, ``stored`` strict base64, canonical, the chain hash, the readable fields; its signature is then checked as
    on the general path. Whatever the fast path declines takes the general path (``Verifier.text_line``), which
    parses the line and names the first check it fails: a line that differs by one byte, a header, chunk or
    checkpoint line, an event whose payload is checked (activity, a recorded checkpoint), one at or after a
    ``--since`` position not reached yet, a position out of order or range, a line that is not UTF-8.
    """
    if not os.path.isfile(path):
        raise Unusable(f"{path}: not a file")
    report, since, sign, text_line = v.report, v.since, v._check_signature, v.text_line
    scan, from_base64, sha256, encode, join, quoted = _PLAIN.scan_once, _base64, _sha256, _encode, _join, _text
    checked_payload, declined = _PAYLOAD_CHECKED, _DECLINED
    previous, last, count, unsigned, number = v.previous, v.position, v.count, v.unsigned, 0
    #: Bounds of the positions the fast path takes, (floor, ceiling]: above the last event and the header's ``from``,
    #: at most its ``to``, before a ``--since`` position not reached; unsigned events are fine up to unsigned_until.
    in_events, floor, ceiling, unsigned_until = False, 0, 0, 0
    last_topic = last_aggregate = topic_json = aggregate_json = hashed = None  # the last event's, reused
    with open(path, "rb", buffering=1 << 20) as f:
        for raw in f:
            number += 1
            if in_events:
                try:
                    text = raw.decode()
                    # the last six keys, in their canonical order, each after ``,"`` (none can hold it unescaped)
                    head, position, _recorded_at, sig, stored_text, topic, version = text.rsplit(',"', 6)
                    position, topic = int(position[10:]), topic[8:-1]
                    if floor < position <= ceiling and topic not in checked_payload:
                        aggregate_id, version = head[17:head.index('"', 17)], int(version[9:-2])
                        stored_text = stored_text[9:-1]
                        if sig == 'signature":null':
                            kid = sig = None
                        else:
                            sig = sig[12:-1]
                            kid = head.index('","key_id":') + 11
                            kid = head[kid:head.index(',"kind":"event","payload":', kid)]
                            kid = None if kid == "null" else kid[1:-1]
                        if topic != last_topic or aggregate_id != last_aggregate:  # as JSON, and as hashed
                            last_topic, last_aggregate = topic, aggregate_id
                            topic_json, aggregate_json = quoted(topic), quoted(aggregate_id)
                            hashed = f"|{topic}|{aggregate_id}|"
                        stored = from_base64(stored_text, strict_mode=True)  # the base64 alphabet only: no escapes
                        recomputed = sha256(f"{previous}|{position}{hashed}{version}|".encode() + stored).hexdigest()
                        document = stored.decode()
                        plain, end = scan(document, 0)
                        if end == len(document):
                            plain.pop("originator_topic", None)  # readable(plain), inline
                            recorded_at, envelope = plain.pop("timestamp", None), plain.pop("envelope", None)
                            if text == (  # (a recorded_at that is not text: TypeError, the general path)
                                f'{{"aggregate_id":{aggregate_json},"envelope":{join(encode(envelope, 0))},'
                                f'"hash":"{recomputed}","key_id":{"null" if kid is None else quoted(kid)},'
                                f'"kind":"event","payload":{join(encode(plain, 0))},"position":{position},'
                                f'"recorded_at":{quoted(recorded_at)},'
                                f'"signature":{"null" if sig is None else quoted(sig)},"stored":"{stored_text}",'
                                f'"topic":{topic_json},"version":{version}}}\n'
                            ):
                                if sig is None and position <= unsigned_until:
                                    unsigned += 1
                                else:  # as the general path does (it raises Broken naming this line)
                                    v.previous, v.position, v.count, v.unsigned, v.line = (
                                        previous, last, count, unsigned, number)
                                    sign(position, {"signature": sig, "key_id": kid}, recomputed)
                                    unsigned_until = 0  # a signed event: none unsigned after it
                                if not count:
                                    report.first = position
                                previous, last, floor, count = recomputed, position, position, count + 1
                                continue
                except declined:
                    pass
            v.previous, v.position, v.count, v.unsigned, v.line = previous, last, count, unsigned, number - 1
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise Unusable(f"{path} line {number}: not UTF-8 text ({e})") from None
            text_line(line.removesuffix("\n"))
            previous, last, count, unsigned, in_events = v.previous, v.position, v.count, v.unsigned, v.in_events
            floor = max(last, v.low - 1)
            ceiling = min(v.high, since["position"] - 1 if since is not None and not v.since_seen else BEYOND)
            unsigned_until = v.signed_after if v.first_signed is None else 0
    v.previous, v.position, v.count, v.unsigned, v.line = previous, last, count, unsigned, number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="verify.py", description="Check an openbook export (docs/audit.md) with the standard library alone."
    )
    parser.add_argument("file", help="the export (JSON lines, openbook-export/1)")
    parser.add_argument("--public-key", action="append", default=[], metavar="KEY_OR_FILE",
                        help="a trusted public key (ed25519:BASE64) or a file of them, one a line (repeatable)")
    parser.add_argument("--since", metavar="CHECKPOINT_FILE", help="check that the log extends this checkpoint")
    parser.add_argument("--json", action="store_true", help="the report as JSON")
    args = parser.parse_args(argv)
    try:
        keys = public_keys(args.public_key)
        since = load_checkpoint(args.since) if args.since else None
    except Unusable as u:
        report = unusable(str(u))
    else:
        report = verify_file(args.file, keys, since)
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print("\n".join(report.lines()))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
