"""The web app over a demo ledger on SQLite, with every demo user's password set, and logged-in clients.

One demo per test module (``demo_book``): tests that record build on it in
file order, as the integration tests do; a test that needs a pristine demo
asks for ``fresh_demo_book``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ledger.bootstrap import Openbook
from tests.web.support import USERS, log_in, make_app, open_demo


@pytest.fixture(scope="module")
def demo_book(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Openbook]:
    book = open_demo(request, tmp_path_factory.mktemp("web"))
    yield book
    book.close()


@pytest.fixture
def fresh_demo_book(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Openbook]:
    book = open_demo(request, tmp_path)
    yield book
    book.close()


@pytest.fixture(scope="module")
def app(demo_book: Openbook, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return make_app(demo_book, tmp_path_factory.mktemp("instance"))


@pytest.fixture
def client_as(app: Flask) -> Callable[[str], FlaskClient]:
    """A new test client logged in as the demo user of ``role`` (a key of ``USERS``)."""

    def make(role: str) -> FlaskClient:
        return log_in(app.test_client(), USERS[role])

    return make


