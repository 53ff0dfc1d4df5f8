"""The API's stored first answers: an ``Idempotency-Key`` sent again with the same request gets the same answer.

The ledger already records a command once per idempotency key
(``Ledger._execute``). That is what makes a retried POST safe; this table
adds what an HTTP client needs on top: the *response* it missed, byte for
byte, and a 409 naming the key when the key comes back with another request.
The digest is over the request as sent (method, path, body bytes), so a
default filled in later (today's date) plays no part.

Only answers that recorded something (2xx) are kept: a refused request
recorded nothing, so sending it again simply asks again. Not events: like
the rest of the security store, this is the web app's bookkeeping, never
exported. Keys are the user's own: two clients may choose the same key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, Engine, Integer, LargeBinary, MetaData, String, Table, insert, select
from sqlalchemy.exc import IntegrityError

from ledger.persistence.database import reading

metadata = MetaData()

api_replies = Table(
    "api_replies",
    metadata,
    Column("username", String(128), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("digest", String(64), nullable=False),  # sha256 of method, path and body as sent
    Column("status", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Reply:
    digest: str
    status: int
    body: bytes


class ApiReplies:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find(self, username: str, key: str) -> Reply | None:
        with reading(self.engine) as conn:
            row = conn.execute(
                select(api_replies).where(api_replies.c.username == username).where(api_replies.c.key == key)
            ).first()
        return None if row is None else Reply(row.digest, row.status, bytes(row.body))

    def keep(self, username: str, key: str, reply: Reply) -> Reply:
        """Store ``reply`` as the key's first answer; if another request got there first, that answer stands."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(api_replies).values(
                        username=username, key=key, digest=reply.digest, status=reply.status, body=reply.body,
                        recorded_at=datetime.now(timezone.utc),
                    )
                )
        except IntegrityError:
            return self.find(username, key) or reply
        return reply
