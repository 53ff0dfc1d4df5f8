"""Helpers for the web tests: the demo users by role, logging in, the CSRF token, posting a form."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from demo.partnerships import DEMO_PASSWORD
from ledger.bootstrap import Openbook, open_openbook
from ledger.settings import Settings
from tests.support import demo_copy
from web.app import create_app

#: One demo user per role (and a second provider, for "never sees another's").
USERS = {
    "provider": "finance@premiercare.example",
    "other-provider": "finance@havencare.example",
    "accountant": "accountant@wirral.example",
    "ccg-accountant": "accountant@wirralccg.example",
    "admin": "admin@wirral.example",
    "auditor": "auditor@audit.example",
    "herefordshire-accountant": "accountant@herefordshire.example",
}

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def open_demo(request: Any, folder: Path) -> Openbook:
    """A ledger on its own copy of the demo on SQLite (passwords "demo"), in ``folder``."""
    return open_openbook(demo_copy(request, "sqlite", folder))


def make_app(book: Openbook, instance: Path) -> Flask:
    return create_app({"OPENBOOK": book, "SETTINGS": Settings(secret_key="t" * 64, instance_path=str(instance))})




def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The session's CSRF token, as every page's layout carries it."""
    page = client.get(path).get_data(as_text=True)
    found = CSRF_META.search(page)
    if found is None:
        raise AssertionError(f"no CSRF token on {path}")
    return found.group(1)


def log_in(client: FlaskClient, username: str, password: str = DEMO_PASSWORD) -> FlaskClient:
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(client)}
    )
    if response.status_code != 302:
        raise AssertionError(f"{username} could not log in: {response.status_code}")
    return client


def post_form(client: FlaskClient, path: str, data: dict[str, str], *, form_page: str | None = None):
    """POST ``data`` to ``path`` with the session's CSRF token, as the browser would after showing the form."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, form_page or path)})


def idempotency_key(client: FlaskClient, path: str) -> str:
    """The idempotency key of the recording form on ``path``, as the browser would send it back."""
    page = client.get(path).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
    if key is None:
        raise AssertionError(f"no recording form on {path}")
    return key.group(1)
