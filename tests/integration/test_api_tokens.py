"""API tokens and the API's stored first answers on both databases: digests only, revocable, first answer stands."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from ledger.security.replies import Reply
from ledger.security.tokens import api_tokens, digest


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
    assert tokens.list()[0]["last_used_at"] >= later - timedelta(seconds=1)  # written again after a minute

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
