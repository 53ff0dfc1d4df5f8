"""API tokens: a machine client's credential for ``/api/v1``, one user's, shown once, stored as its sha256.

Like a password, a token is not a fact about the partnership: it lives in the
security store's database tables, never in the event history (never
exported, never hashed into the chain), and is revoked by a row change that
leaves nothing for an auditor's export to carry.

Why sha256 and not argon2 as for passwords: a token is 256 random bits made
here (``secrets.token_urlsafe(32)``), not something a person chose, so no
dictionary or brute-force search over its digest is feasible and a slow hash
would add nothing but a cost on every API request. A stolen table opens
nothing: the digest cannot be sent in place of the token.

A token looks like ``ob_<id>_<secret>``: the id (8 hex digits, stored in the
clear) names it in ``openbook tokens list`` and ``revoke`` without revealing
it. Whether the user is still active is asked on every request by the web
app (a deactivated user's tokens stop working at once), not here.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, insert, select, update

from domain.errors import InvalidInput, NotFound
from ledger.persistence.database import reading

metadata = MetaData()

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", String(16), primary_key=True),  # shown in lists; names the token, opens nothing
    Column("digest", String(64), nullable=False, unique=True),  # sha256 of the whole token
    Column("username", String(128), nullable=False, index=True),
    Column("name", String(200), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

PREFIX = "ob_"
#: How stale ``last_used_at`` may get before a request writes it again (so most requests write nothing).
_USED_EVERY = timedelta(minutes=1)
#: The longest name a token may have: a label ("finance system"), not a note.
NAME_LENGTH = 200


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite hands datetimes back naive; all are UTC
        return moment.replace(tzinfo=timezone.utc)
    return moment


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokens:
    """The ``api_tokens`` table over the write engine (the same database as the ledger)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, username: str, name: str = "") -> tuple[str, str]:
        """A new token for ``username``: (its id, the token itself, which is never stored and never shown again)."""
        if len(name) > NAME_LENGTH:
            raise InvalidInput(f"name: at most {NAME_LENGTH} characters")
        token_id = secrets.token_hex(4)
        token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_tokens).values(
                    token_id=token_id, digest=digest(token), username=username, name=name.strip(), created_at=_now()
                )
            )
        return token_id, token

    def user_of(self, token: str, now: datetime | None = None) -> str | None:
        """The username a live (unrevoked) token is for, noting its use; None for anything else."""
        if not token.startswith(PREFIX) or len(token) > 200:
            return None
        now = now or _now()
        with reading(self.engine) as conn:
            row = conn.execute(
                select(api_tokens).where(api_tokens.c.digest == digest(token)).where(api_tokens.c.revoked_at.is_(None))
            ).first()
        if row is None:
            return None
        used = _aware(row.last_used_at)
        if used is None or used + _USED_EVERY < now:
            with self.engine.begin() as conn:
                conn.execute(update(api_tokens).where(api_tokens.c.token_id == row.token_id).values(last_used_at=now))
        return row.username

    def list(self, username: str | None = None) -> list[dict[str, Any]]:
        """Every token (of ``username``), oldest first: id, user, name, created, last used, revoked; never a digest."""
        query = select(
            api_tokens.c.token_id, api_tokens.c.username, api_tokens.c.name, api_tokens.c.created_at,
            api_tokens.c.last_used_at, api_tokens.c.revoked_at,
        ).order_by(api_tokens.c.created_at, api_tokens.c.token_id)  # fmt: skip
        if username:
            query = query.where(api_tokens.c.username == username)
        with reading(self.engine) as conn:
            rows = [dict(row._mapping) for row in conn.execute(query)]
        for row in rows:
            for moment in ("created_at", "last_used_at", "revoked_at"):
                row[moment] = _aware(row[moment])
        return rows

    def revoke(self, token_id: str) -> dict[str, Any]:
        """Stop the token ``token_id`` working from now on (revoking a revoked token changes nothing)."""
        with self.engine.begin() as conn:
            row = conn.execute(select(api_tokens).where(api_tokens.c.token_id == token_id)).first()
            if row is None:
                raise NotFound(f"token {token_id} is not known (openbook tokens list)")
            if row.revoked_at is None:
                conn.execute(update(api_tokens).where(api_tokens.c.token_id == token_id).values(revoked_at=_now()))
        return {"token_id": token_id, "username": row.username}
