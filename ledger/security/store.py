"""The security store: password hashes, first-login links, login throttling, the security log, API tokens.

None of this is in the event history, by design. Users, their organisation
and roles are events (``domain.organisations.user``); a password hash is not a
fact about the partnership, must never be exported or hashed into the chain,
and must be replaceable without leaving a trace an auditor's export would
carry. So these tables sit beside the read models, are never rebuilt from
events, and a backup of the database carries them (docs/deployment.md).

Throttling lives here, in the database, so that it holds across gunicorn
workers: a key (a username, or a client address) that fails its
``MAX_FAILURES`` within ``WINDOW`` is locked for ``LOCKOUT``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    inspect,
    select,
    update,
)

from domain.errors import InvalidInput
from ledger.persistence.added_columns import AddedColumn, add_missing
from ledger.persistence.database import reading
from ledger.security import passwords, replies, tokens

metadata = MetaData()

credentials = Table(
    "credentials",
    metadata,
    Column("username", String(128), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

first_login_links = Table(
    "first_login_links",
    metadata,
    Column("token_digest", String(64), primary_key=True),  # sha256 of the token: a stolen table opens nothing
    Column("username", String(128), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used", Boolean, nullable=False, default=False),
)

login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(200), primary_key=True),  # "user:<username>" or "addr:<address>"
    Column("failures", Integer, nullable=False),
    Column("first_failure_at", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True)),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("digest", String(64), primary_key=True),  # sha256 of the session id the cookie carries
    Column("username", String(128), nullable=False, index=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
)

security_log = Table(
    "security_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("username", String(128)),
    Column("address", String(64)),
    Column("detail", Text, nullable=False, default=""),
)



def _seen_when_started(conn: Connection) -> None:
    """A session from before ``seen_at`` was last seen, as far as anyone knows, when it started."""
    conn.execute(update(web_sessions).where(web_sessions.c.seen_at.is_(None)).values(seen_at=web_sessions.c.started_at))


#: Columns added after the tables' first release (``ledger.persistence.added_columns``).
ADDED_COLUMNS = (AddedColumn(web_sessions, "seen_at", _seen_when_started),)

#: Failures allowed within ``WINDOW`` before a key is locked: fewer for a username than for an address,
#: because many honest people can share one address (a council office behind one gateway).
MAX_FAILURES = {"user": 5, "addr": 25}
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
LINK_LIFETIME = timedelta(days=7)
#: A session ends after this long without a request, and after this long in any case (log in again).
SESSION_IDLE = timedelta(hours=2)
SESSION_LIFETIME = timedelta(hours=12)
#: How stale ``seen_at`` may get before a request writes it again (so most requests write nothing).
_SEEN_EVERY = timedelta(minutes=1)

#: The kinds of security log entry.
LOG_KINDS = (
    "login",
    "login-failed",
    "login-locked",
    "logout",
    "password-set",
    "first-login-link",
    "first-login-used",
)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; every moment stored here is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Throttled:
    """A login refused without checking the password, until ``until``."""

    until: datetime


class SecurityStore:
    """The security tables over the write engine (the same database as the ledger)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: The API's tokens (``openbook tokens``) and its stored first answers to idempotent requests.
        self.tokens = tokens.ApiTokens(engine)
        self.replies = replies.ApiReplies(engine)

    def create_tables(self) -> None:
        with reading(self.engine) as conn:
            present = set(inspect(conn).get_table_names())
        for tables in (metadata, tokens.metadata, replies.metadata):
            if not {table.name for table in tables.sorted_tables} <= present:
                tables.create_all(self.engine, checkfirst=True)
        add_missing(self.engine, (*ADDED_COLUMNS, *tokens.ADDED_COLUMNS))

    # passwords

    def set_password(self, username: str, password: str, *, check: bool = True) -> None:
        """Store ``password``'s hash for ``username`` and end every session (and API token) of theirs;
        ``check=False`` only for the demo's known password."""
        if check:
            passwords.check_policy(password)
        hashed = passwords.hash_password(password)
        with self.engine.begin() as conn:
            conn.execute(delete(credentials).where(credentials.c.username == username))
            conn.execute(insert(credentials).values(username=username, password_hash=hashed, changed_at=_now()))
            self._end_sessions(conn, username)
            self._log(conn, "password-set", username, None, "")

    # sessions: the cookie carries a random id; the server can end it (logout, a new password)

    def start_session(self, username: str) -> str:
        session_id = secrets.token_urlsafe(32)
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.started_at < now - SESSION_LIFETIME))  # prune
            conn.execute(
                insert(web_sessions).values(digest=_digest(session_id), username=username, started_at=now, seen_at=now)
            )
        return session_id

    def session_user(self, session_id: str, now: datetime | None = None) -> str | None:
        """The user of a live session, or None when it is unknown, ended, idle too long or too old."""
        now = now or _now()
        digest = _digest(session_id)
        with reading(self.engine) as conn:
            row = conn.execute(
                select(web_sessions).where(web_sessions.c.digest == digest).where(web_sessions.c.ended_at.is_(None))
            ).first()
        if row is None:
            return None
        seen = _aware(row.seen_at)
        if seen + SESSION_IDLE < now or _aware(row.started_at) + SESSION_LIFETIME < now:
            return None
        if seen + _SEEN_EVERY < now:
            with self.engine.begin() as conn:
                conn.execute(update(web_sessions).where(web_sessions.c.digest == digest).values(seen_at=now))
        return row.username

    def end_session(self, session_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(web_sessions).where(web_sessions.c.digest == _digest(session_id)).values(ended_at=_now())
            )

    def _end_sessions(self, conn: Any, username: str) -> None:
        """End every session of ``username`` and revoke their API tokens: a new password leaves nothing an
        attacker who knew the old one may have opened."""
        tokens.revoke_user(conn, username)
        conn.execute(
            update(web_sessions)
            .where(web_sessions.c.username == username)
            .where(web_sessions.c.ended_at.is_(None))
            .values(ended_at=_now())
        )

    def has_password(self, username: str) -> bool:
        with reading(self.engine) as conn:
            found = conn.execute(select(credentials.c.username).where(credentials.c.username == username)).first()
        return found is not None

    def password_matches(self, username: str, password: str) -> bool:
        with reading(self.engine) as conn:
            stored = conn.execute(
                select(credentials.c.password_hash).where(credentials.c.username == username)
            ).scalar_one_or_none()
        return passwords.matches(stored, password)

    # first-login links

    def issue_link(self, username: str, lifetime: timedelta = LINK_LIFETIME) -> str:
        """A one-use token for ``username`` to choose a password (earlier unused ones stop working); only its
        digest is stored."""
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(  # only the newest link works: one sent earlier (perhaps to the wrong place) no longer does
                update(first_login_links)
                .where(first_login_links.c.username == username)
                .where(first_login_links.c.used.is_(False))
                .values(used=True)
            )
            conn.execute(
                insert(first_login_links).values(
                    token_digest=_digest(token), username=username, expires_at=_now() + lifetime, used=False
                )
            )
            self._log(conn, "first-login-link", username, None, f"valid until {(_now() + lifetime):%Y-%m-%d %H:%M} UTC")
        return token

    def link_user(self, token: str) -> str | None:
        """The username a live, unused link is for; None when it is unknown, used or expired."""
        with reading(self.engine) as conn:
            row = conn.execute(
                select(first_login_links).where(first_login_links.c.token_digest == _digest(token))
            ).first()
        if row is None or row.used or _aware(row.expires_at) < _now():
            return None
        return row.username

    def use_link(self, token: str, password: str) -> str:
        """Set the password through a link (once); refuses an unknown, used or expired link."""
        passwords.check_policy(password)
        hashed = passwords.hash_password(password)
        with self.engine.begin() as conn:
            claimed = conn.execute(
                update(first_login_links)
                .where(first_login_links.c.token_digest == _digest(token))
                .where(first_login_links.c.used.is_(False))
                .where(first_login_links.c.expires_at >= _now())
                .values(used=True)
                .returning(first_login_links.c.username)
            ).scalar_one_or_none()
            if claimed is None:
                raise InvalidInput("link: this link is unknown, already used or expired; ask an admin for a new one")
            conn.execute(delete(credentials).where(credentials.c.username == claimed))
            conn.execute(insert(credentials).values(username=claimed, password_hash=hashed, changed_at=_now()))
            self._end_sessions(conn, claimed)
            self._log(conn, "first-login-used", claimed, None, "")
        return claimed

    # throttling

    def throttled(self, *keys: str) -> Throttled | None:
        """The lock on any of ``keys`` still in force, if one is."""
        now = _now()
        with reading(self.engine) as conn:
            rows = conn.execute(select(login_throttle).where(login_throttle.c.key.in_(keys))).all()
        until = [_aware(r.locked_until) for r in rows if r.locked_until is not None and _aware(r.locked_until) > now]
        return Throttled(max(until)) if until else None

    def record_failure(self, *keys: str) -> None:
        """Count a failed login against each key, locking a key at ``MAX_FAILURES`` within ``WINDOW``."""
        now = _now()
        with self.engine.begin() as conn:
            for key in keys:
                row = conn.execute(select(login_throttle).where(login_throttle.c.key == key)).first()
                if row is None or _aware(row.first_failure_at) + WINDOW < now:
                    conn.execute(delete(login_throttle).where(login_throttle.c.key == key))
                    conn.execute(insert(login_throttle).values(key=key, failures=1, first_failure_at=now))
                    continue
                failures = row.failures + 1
                allowed = MAX_FAILURES.get(key.split(":", 1)[0], MAX_FAILURES["user"])
                locked = now + LOCKOUT if failures >= allowed else None
                conn.execute(
                    update(login_throttle)
                    .where(login_throttle.c.key == key)
                    .values(failures=failures, locked_until=locked or row.locked_until)
                )

    def clear_failures(self, *keys: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(login_throttle).where(login_throttle.c.key.in_(keys)))

    # the security log

    def log(self, kind: str, username: str | None, address: str | None, detail: str = "") -> None:
        with self.engine.begin() as conn:
            self._log(conn, kind, username, address, detail)

    def _log(self, conn: Any, kind: str, username: str | None, address: str | None, detail: str) -> None:
        if kind not in LOG_KINDS:
            raise ValueError(f"unknown security log kind {kind!r}")
        conn.execute(
            insert(security_log).values(at=_now(), kind=kind, username=username, address=address, detail=detail[:500])
        )

    def recent(
        self, limit: int = 200, username: str | None = None, among: set[str] | None = None
    ) -> list[dict[str, Any]]:
        """The newest entries: of ``username`` only, or (``among``) of those users only."""
        query = select(security_log).order_by(security_log.c.id.desc()).limit(limit)
        if username:
            query = query.where(security_log.c.username == username)
        if among is not None:
            query = query.where(security_log.c.username.in_(sorted(among)))
        with reading(self.engine) as conn:
            return [{**row._mapping, "at": _aware(row.at)} for row in conn.execute(query)]
