"""A live server on a demo ledger, and headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ledger.bootstrap import open_openbook
from ledger.settings import Settings
from tests.support import demo_copy
from web.app import create_app

REQUIRE_BROWSER = os.environ.get("OPENBOOK_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium_path() -> str | None:
    return os.environ.get("OPENBOOK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = _chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:  # pragma: no cover - dev extra missing
        path, reason = None, f"playwright is not installed: {e}"
    else:
        reason = "Chromium not found (install Debian's chromium: make deps)"
    if not path:
        if REQUIRE_BROWSER:
            pytest.fail(reason + " (OPENBOOK_REQUIRE_BROWSER=1)", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The web app serving its own copy of the demo ledger on SQLite, on a free loopback port."""
    book = open_openbook(demo_copy(request, "sqlite", tmp_path))
    app = create_app({"OPENBOOK": book, "SETTINGS": Settings(secret_key="e2e")})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        book.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()
