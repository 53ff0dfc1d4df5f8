"""Event storage: the library's SQLite and PostgreSQL recorders, extended.

Both recorders add, in the same transaction as the events they store:
a hash-chain row per event, its signature when the ledger has a signing key
(``EventSigner``: docs/audit.md, ``openbook-event/1``), and the idempotency
claim of the command that produced them; and both run a command's guard (``ledger/persistence/guards.py``)
in that transaction before writing. Both make the stored events append-only in
the database itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class IdempotencyClaim:
    """A command's idempotency key, the digest of its payload and its result (JSON)."""

    key: str
    digest: str
    result: str


class EventSigner(Protocol):
    """What a recorder signs each event's chain hash with (``ledger.audit.signing.SigningKey``).

    A protocol, so storage knows nothing of keys and files: the ledger hands
    the recorder the key it was opened with.
    """

    @property
    def key_id(self) -> str: ...

    def sign_event_hash(self, chain_hash: str) -> str: ...


def signature_rows(signer: EventSigner, hashes: Sequence[tuple[int, str]]) -> list[tuple[int, str, str]]:
    """The (position, key id, signature) rows of events just chained, from their (position, chain hash) rows."""
    return [(position, signer.key_id, signer.sign_event_hash(chain_hash)) for position, chain_hash in hashes]


#: PostgreSQL advisory lock taken while creating tables, triggers and functions
#: ("openbook" in ASCII), so ledgers opening at the same moment do not deadlock.
SCHEMA_LOCK_KEY = 0x6F70656E626F6F6B

EVENTS_TABLE = "stored_events"
HASHES_TABLE = "event_hashes"
#: PostgreSQL: the table owner's SECURITY DEFINER function that takes the writers' EXCLUSIVE lock on the events
#: table (an application role that may only INSERT and SELECT cannot lock it itself: docs/deployment.md).
LOCK_FUNCTION = "openbook_lock_events"
IDEMPOTENCY_TABLE = "idempotency_keys"
SIGNATURES_TABLE = "openbook_event_signatures"
