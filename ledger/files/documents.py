"""The document store: the bytes of every issued statement, content-addressed, beside the history.

An issued statement's event (``domain.statements.issued_statement``) records
the SHA-256 digest of the document; the bytes themselves are kept here, keyed
by that digest, so the same document can be fetched again byte for byte. A
PDF of a few hundred kilobytes does not belong in an event (every replay would
carry it), and the digest in the event is what the chain vouches for: a
document here that no longer matches its digest is refused when read, never
handed out.

The bytes are stored *before* the event that names them, in a transaction of
their own; the event's recording transaction then checks they are there and
match (``check_stored``). A crash between the two leaves only an unreferenced
document, which nothing lists or hands out (docs/statements.md: Issuing).
Storing the same bytes twice is a no-op: their name is their digest.

Like the chunk store, this is the ledger's own table in its database (SQLite
or PostgreSQL), not a read model: a replay cannot rebuild it, so it is never
dropped or emptied.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, Engine, Integer, LargeBinary, MetaData, String, Table, inspect, select
from sqlalchemy.exc import IntegrityError

from domain.errors import IntegrityFailure, NotFound
from ledger.persistence.database import reading
from ledger.persistence.guards import InTransaction

metadata = MetaData()

#: The media type of an issued statement.
PDF = "application/pdf"

documents = Table(
    "documents",
    metadata,
    Column("digest", String(64), primary_key=True),  # SHA-256 (hex) of the bytes
    Column("media_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Document:
    digest: str
    media_type: str
    body: bytes

    @property
    def size(self) -> int:
        return len(self.body)


def digest_of(body: bytes) -> str:
    """The name of a document: the SHA-256 of its bytes, as 64 lower-case hex characters."""
    return hashlib.sha256(body).hexdigest()


class DocumentStore:
    """Storing documents (before the event naming them) and reading them back, checked against their digest."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def create_table(self) -> None:
        """The documents table, if not there yet (checked with a read first: opening a ledger takes no write lock)."""
        with reading(self.engine) as conn:
            present = set(inspect(conn).get_table_names())
        if documents.name not in present:
            metadata.create_all(self.engine, checkfirst=True)

    def store(self, body: bytes, media_type: str = PDF) -> str:
        """Keep ``body`` under its digest (already kept: nothing to do); returns the digest."""
        digest = digest_of(body)
        if self._exists(digest):
            return digest
        row = {"digest": digest, "media_type": media_type, "size": len(body), "body": body,
               "stored_at": datetime.now(timezone.utc)}  # fmt: skip
        try:
            with self.engine.begin() as conn:
                conn.execute(documents.insert().values(**row))
        except IntegrityError:
            pass  # another process stored the same bytes first: they are the same document
        return digest

    def _exists(self, digest: str) -> bool:
        with reading(self.engine) as conn:
            return conn.execute(select(documents.c.digest).where(documents.c.digest == digest)).first() is not None

    def read(self, digest: str) -> Document:
        """The document named ``digest``, checked: missing is ``NotFound``, altered is ``IntegrityFailure``."""
        with reading(self.engine) as conn:
            row = conn.execute(
                select(documents.c.media_type, documents.c.body).where(documents.c.digest == digest)
            ).first()
        if row is None:
            raise NotFound(f"document {digest} is not in the document store")
        body = bytes(row.body)
        if digest_of(body) != digest:
            raise IntegrityFailure(f"document {digest} does not match its digest: the stored bytes were altered")
        return Document(digest, row.media_type, body)


def check_stored(tx: InTransaction, digest: str) -> None:
    """Inside the transaction recording an issue: the document it names is stored and matches its digest."""
    [*found] = tx.query("SELECT body FROM documents WHERE digest = ?", (digest,))
    if not found or digest_of(bytes(found[0][0])) != digest:
        raise IntegrityFailure(
            f"issue statement: document {digest} is missing from the document store or does not match its digest "
            "(changed while the statement was issued); nothing was recorded — issue it again"
        )
