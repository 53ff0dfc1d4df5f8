"""Helpers for the API's tests: a token per demo user, requests with it, a filing as the API takes it."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from flask import Flask

from ledger.bootstrap import Openbook
from tests.integration.returns_setup import filing_data


def token_for(book: Openbook, username: str) -> str:
    return book.security.tokens.create(username, "tests")[1]


def bearer(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def post(app: Flask, token: str, path: str, body: Any, key: str | None = None):
    """A POST as a client sends it: JSON body, bearer token, a fresh idempotency key unless one is given."""
    return app.test_client().post(path, json=body, headers=bearer(token, key or str(uuid4())))


def api_filing(hours: int = 2500, **changes: str) -> dict[str, Any]:
    """``filing_data`` as the API takes it: figures as decimal strings, counts as JSON integers."""
    data = filing_data(hours=hours, **changes)
    volumes = data["volumes"]
    for count in ("visits", "careworker_headcount"):
        volumes[count] = int(volumes[count])
    return data
