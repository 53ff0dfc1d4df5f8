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
app (a deactivated user's tokens stop working at once), not here; and
deactivating a user or changing their password revokes their tokens too
(``revoke_user``), so nothing a departed or compromised user held comes back.

A token expires (``expires_at``, a year by default, at most two): a
credential copied into some machine's configuration is otherwise forgotten
there long after anyone remembers it is live.

Noting a token's use (``last_used_at``) is best effort: it is written at most
once a minute per token, and if the database is locked by a long write the
note is skipped, so a read through the API never waits on it into an error.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Column, Connection, DateTime, Engine, MetaData, String, Table, insert, select, update
from sqlalchemy.exc import OperationalError

from domain.errors import InvalidInput, NotFound
from ledger.persistence.added_columns import AddedColumn
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
    Column("expires_at", DateTime(timezone=True), nullable=False),
)


def _expire_earlier_tokens(conn: Connection) -> None:
    """A token made before tokens expired gets the default lifetime counted from its creation (as if it had been made
    with one), so a token older than that stops working when the upgraded ledger opens: docs/deployment.md says so."""
    for token_id, created_at in conn.execute(
        select(api_tokens.c.token_id, api_tokens.c.created_at).where(api_tokens.c.expires_at.is_(None))
    ).all():
        expires = _aware(created_at) + timedelta(days=DEFAULT_DAYS)  # type: ignore[operator]
        conn.execute(update(api_tokens).where(api_tokens.c.token_id == token_id).values(expires_at=expires))


#: Columns added after the table's first release (``ledger.persistence.added_columns``).
ADDED_COLUMNS = (AddedColumn(api_tokens, "expires_at", _expire_earlier_tokens),)

PREFIX = "ob_"
#: How stale ``last_used_at`` may get before a request writes it again (so most requests write nothing).
_USED_EVERY = timedelta(minutes=1)
#: The longest name a token may have: a label ("finance system"), not a note.
NAME_LENGTH = 200
#: How long a token works unless asked otherwise, and the bounds of what may be asked (in days).
DEFAULT_DAYS = 365
DAYS_BOUNDS = (1, 730)
#: SQLSTATEs of PostgreSQL's lock errors (lock_not_available, deadlock_detected): a use note skipped, not an error.
_LOCK_STATES = {"55P03", "40P01"}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite hands datetimes back naive; all are UTC
        return moment.replace(tzinfo=timezone.utc)
    return moment


def _locked(error: OperationalError) -> bool:
    """Whether ``error`` is the database being locked by another writer (and not, say, a missing table)."""
    if getattr(error.orig, "sqlstate", None) in _LOCK_STATES:
        return True
    return "database is locked" in str(error.orig) or "database table is locked" in str(error.orig)


def revoke_user(conn: Connection, username: str) -> None:
    """Revoke every live token of ``username`` in the caller's transaction (a password change, a deactivation)."""
    conn.execute(
        update(api_tokens)
        .where(api_tokens.c.username == username)
        .where(api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=_now())
    )


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokens:
    """The ``api_tokens`` table over the write engine (the same database as the ledger)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, username: str, name: str = "", expires_in_days: int = DEFAULT_DAYS) -> tuple[str, str]:
        """A new token for ``username``, working for ``expires_in_days``: (its id, the token itself, which is never
        stored and never shown again)."""
        if len(name) > NAME_LENGTH:
            raise InvalidInput(f"name: at most {NAME_LENGTH} characters")
        low, high = DAYS_BOUNDS
        if type(expires_in_days) is not int or not low <= expires_in_days <= high:
            raise InvalidInput(f"expires_in_days: a whole number of days from {low} to {high}")
        now = _now()
        token_id = secrets.token_hex(4)
        token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_tokens).values(
                    token_id=token_id, digest=digest(token), username=username, name=name.strip(), created_at=now,
                    expires_at=now + timedelta(days=expires_in_days),
                )
            )
        return token_id, token

    def user_of(self, token: str, now: datetime | None = None) -> str | None:
        """The username a live (unrevoked, unexpired) token is for, noting its use; None for anything else."""
        if not token.startswith(PREFIX) or len(token) > 200:
            return None
        now = now or _now()
        with reading(self.engine) as conn:
            row = conn.execute(
                select(api_tokens).where(api_tokens.c.digest == digest(token)).where(api_tokens.c.revoked_at.is_(None))
            ).first()
        if row is None or _aware(row.expires_at) <= now:
            return None
        used = _aware(row.last_used_at)
        if used is None or used + _USED_EVERY < now:
            self._note_use(row.token_id, now)
        return row.username

    def _note_use(self, token_id: str, now: datetime) -> None:
        """Write ``last_used_at``, unless a writer holds the database: then the note waits for a later request."""
        try:
            with self.engine.begin() as conn:
                conn.execute(update(api_tokens).where(api_tokens.c.token_id == token_id).values(last_used_at=now))
        except OperationalError as error:
            if not _locked(error):
                raise

    def list(self, username: str | None = None) -> list[dict[str, Any]]:
        """Every token (of ``username``), oldest first: id, user, name, created, last used, expires, revoked; never
        a digest."""
        query = select(
            api_tokens.c.token_id, api_tokens.c.username, api_tokens.c.name, api_tokens.c.created_at,
            api_tokens.c.last_used_at, api_tokens.c.expires_at, api_tokens.c.revoked_at,
        ).order_by(api_tokens.c.created_at, api_tokens.c.token_id)  # fmt: skip
        if username:
            query = query.where(api_tokens.c.username == username)
        with reading(self.engine) as conn:
            rows = [dict(row._mapping) for row in conn.execute(query)]
        for row in rows:
            for moment in ("created_at", "last_used_at", "expires_at", "revoked_at"):
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

    def revoke_user(self, username: str) -> None:
        """Stop every token of ``username`` working (the user deactivated)."""
        with self.engine.begin() as conn:
            revoke_user(conn, username)
