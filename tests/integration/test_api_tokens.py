"""API tokens and the API's stored first answers on both databases: digests only, revocable, first answer stands."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from domain.errors import InvalidInput
from ledger.security.replies import Reply
from ledger.security.tokens import DEFAULT_DAYS, api_tokens, digest


def test_a_token_is_kept_as_its_digest_until_revoked_and_the_first_answer_to_a_key_stands(book):
    tokens = book.security.tokens
    token_id, token = tokens.create("finance@premiercare.example", "care system")
    other_id, other = tokens.create("finance@premiercare.example")
    assert token.startswith(f"ob_{token_id}_") and len(token) > 40 and token_id != other_id
    with book.ledger.write_engine.connect() as conn:
        stored = conn.execute(select(api_tokens)).all()
    assert {row.digest for row in stored} == {digest(token), digest(other)}
    assert all(token not in str(tuple(row)) for row in stored)  # the token itself is nowhere

    assert tokens.user_of(token) == "finance@premiercare.example"
    assert tokens.user_of(token + "x") is None and tokens.user_of("ob_" + "0" * 300) is None
    assert tokens.user_of(digest(token)) is None  # a stolen digest opens nothing
    listed = {row["token_id"]: row for row in tokens.list("finance@premiercare.example")}
    assert listed[token_id]["name"] == "care system" and listed[token_id]["last_used_at"] is not None
    assert listed[other_id]["last_used_at"] is None
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    assert tokens.user_of(token, now=later) == "finance@premiercare.example"
    listed = {row["token_id"]: row for row in tokens.list()}
    assert listed[token_id]["last_used_at"] >= later - timedelta(seconds=1)  # written again after a minute

    assert tokens.revoke(token_id) == {"token_id": token_id, "username": "finance@premiercare.example"}
    assert tokens.user_of(token) is None and tokens.user_of(other) == "finance@premiercare.example"
    assert tokens.revoke(token_id)["token_id"] == token_id  # again: no change
    assert book.ledger.projections.head() == 0  # never an event

    # the API's stored first answers (one ledger per database kind: a test of its own would open another)
    replies = book.security.replies
    first = Reply("a" * 64, 201, b'{"revision": 1}')
    assert replies.find("finance@premiercare.example", "key-00001") is None
    assert replies.keep("finance@premiercare.example", "key-00001", first) == first
    racing = Reply("b" * 64, 201, b'{"revision": 2}')
    assert replies.keep("finance@premiercare.example", "key-00001", racing) == first  # the race lost: first stands
    assert replies.find("finance@premiercare.example", "key-00001") == first
    assert replies.keep("finance@havencare.example", "key-00001", racing) == racing


def test_a_token_expires_and_a_new_password_revokes_every_token_of_its_user(book):
    tokens, user = book.security.tokens, "finance@premiercare.example"
    now = datetime.now(timezone.utc)
    yearly_id, yearly = tokens.create(user, "yearly")
    daily_id, daily = tokens.create(user, "daily", expires_in_days=1)
    listed = {row["token_id"]: row for row in tokens.list(user)}
    assert now + timedelta(days=DEFAULT_DAYS) <= listed[yearly_id]["expires_at"] <= now + timedelta(days=366)
    assert tokens.user_of(daily, now=now + timedelta(hours=23)) == user
    assert tokens.user_of(daily, now=now + timedelta(days=1, minutes=1)) is None  # expired
    assert tokens.user_of(yearly, now=now + timedelta(days=1, minutes=1)) == user
    for days in (0, 731, True):
        with pytest.raises(InvalidInput, match="expires_in_days"):
            tokens.create(user, expires_in_days=days)
    others_id, others = tokens.create("finance@havencare.example")
    book.security.set_password(user, "a new password, long enough", check=False)
    assert tokens.user_of(yearly) is None and tokens.user_of(others) == "finance@havencare.example"
    assert all(row["revoked_at"] is not None for row in tokens.list(user))


def test_noting_a_tokens_use_is_skipped_while_the_database_is_locked_but_other_errors_stand(book):
    tokens, user = book.security.tokens, "finance@premiercare.example"
    token_id, token = tokens.create(user)
    sqlite = book.ledger.write_engine.dialect.name == "sqlite"
    failure: list[Exception] = []

    def fail(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.startswith("UPDATE api_tokens") and failure:
            raise failure[0]

    event.listen(book.ledger.write_engine, "before_cursor_execute", fail)
    try:
        failure.append(sqlite3.OperationalError("database is locked") if sqlite
                       else psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"))  # fmt: skip
        assert tokens.user_of(token) == user  # answered; the use not noted
        [row] = tokens.list(user)
        assert row["last_used_at"] is None
        failure[0] = (sqlite3.OperationalError("no such table: api_tokens") if sqlite
                      else psycopg.errors.QueryCanceled("canceling statement due to statement timeout"))  # fmt: skip
        with pytest.raises(OperationalError, match="no such table|statement timeout"):  # not a lock: a real error
            tokens.user_of(token)
    finally:
        event.remove(book.ledger.write_engine, "before_cursor_execute", fail)
    assert tokens.user_of(token) == user and tokens.list(user)[0]["last_used_at"] is not None
