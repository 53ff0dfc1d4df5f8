"""Event storage: the library's SQLite and PostgreSQL recorders, extended.

Both recorders add, in the same transaction as the events they store:
a hash-chain row per event, and the idempotency claim of the command that
produced them; and both run a command's guard (``ledger/persistence/guards.py``)
in that transaction before writing. Both make the stored events append-only in
the database itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IdempotencyClaim:
    """A command's idempotency key, the digest of its payload and its result (JSON)."""

    key: str
    digest: str
    result: str


#: PostgreSQL advisory lock taken while creating tables, triggers and functions
#: ("openbook" in ASCII), so ledgers opening at the same moment do not deadlock.
SCHEMA_LOCK_KEY = 0x6F70656E626F6F6B

EVENTS_TABLE = "stored_events"
HASHES_TABLE = "event_hashes"
IDEMPOTENCY_TABLE = "idempotency_keys"
