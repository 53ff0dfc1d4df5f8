"""A database made before a column was added to one of the ledger's own tables opens, gains it, and works."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ledger.persistence.added_columns import add_missing
from ledger.security.store import ADDED_COLUMNS
from ledger.security.tokens import ADDED_COLUMNS as TOKEN_COLUMNS
from ledger.security.tokens import DEFAULT_DAYS, digest

OLD_TOKEN = "ob_0ld00000_" + "x" * 43
USER = "finance@premiercare.example"


def _old_shapes(raw_sql, stamp: str) -> None:
    """The api_tokens and web_sessions tables as first released (no ``expires_at``, no ``seen_at``), one row each."""
    raw_sql("DROP TABLE api_tokens")
    raw_sql(
        "CREATE TABLE api_tokens (token_id VARCHAR(16) PRIMARY KEY, digest VARCHAR(64) NOT NULL UNIQUE, "
        "username VARCHAR(128) NOT NULL, name VARCHAR(200) NOT NULL, created_at TIMESTAMP NOT NULL, "
        "last_used_at TIMESTAMP, revoked_at TIMESTAMP)"
    )
    raw_sql("INSERT INTO api_tokens VALUES ('0ld00000', ?, ?, 'old', ?, NULL, NULL)", (digest(OLD_TOKEN), USER, stamp))
    raw_sql("DROP TABLE web_sessions")
    raw_sql(
        "CREATE TABLE web_sessions (digest VARCHAR(64) PRIMARY KEY, username VARCHAR(128) NOT NULL, "
        "started_at TIMESTAMP NOT NULL, ended_at TIMESTAMP)"
    )
    raw_sql("INSERT INTO web_sessions VALUES (?, ?, ?, NULL)", ("d" * 64, USER, stamp))


def test_an_api_tokens_table_without_expires_at_gains_it_when_the_ledger_opens(database, raw_sql, open_book):
    created = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=10)
    _old_shapes(raw_sql, created.strftime("%Y-%m-%d %H:%M:%S"))

    tokens = open_book().security.tokens
    [old] = tokens.list(USER)
    assert old["expires_at"] == created + timedelta(days=DEFAULT_DAYS)  # the default lifetime, from its creation
    assert tokens.user_of(OLD_TOKEN) == USER
    assert tokens.user_of(OLD_TOKEN, now=created + timedelta(days=DEFAULT_DAYS + 1)) is None
    token_id, token = tokens.create(USER, "new", expires_in_days=3)
    assert tokens.user_of(token) == USER
    listed = {row["token_id"]: row for row in tokens.list(USER)}
    assert listed[token_id]["expires_at"] - listed[token_id]["created_at"] == timedelta(days=3)

    [(seen,)] = raw_sql("SELECT seen_at FROM web_sessions")  # the session's last sight is its start
    assert str(seen)[:19] == created.strftime("%Y-%m-%d %H:%M:%S")
    if not database.is_sqlite:
        nullable = raw_sql(
            "SELECT table_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND column_name IN ('expires_at', 'seen_at') AND table_name IN ('api_tokens', 'web_sessions')"
        )
        assert sorted(nullable) == [("api_tokens", "NO"), ("web_sessions", "NO")]
    # again: nothing left to add, and a second opening changes nothing
    assert add_missing(tokens.engine, (*ADDED_COLUMNS, *TOKEN_COLUMNS)) == []
    assert len(open_book().security.tokens.list(USER)) == 2
