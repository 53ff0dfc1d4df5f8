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


@pytest.fixture(scope="module")
def live_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The web app serving its own copy of the demo ledger (every demo user's password "demo") on SQLite, on a free
    loopback port: one per test module, whose tests build on each other in file order."""
    tmp_path = tmp_path_factory.mktemp("e2e")
    book = open_openbook(demo_copy(request, "sqlite", tmp_path))
    app = create_app(
        {"OPENBOOK": book, "SETTINGS": Settings(secret_key="e" * 64, instance_path=f"{tmp_path}/instance")}
    )
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


@pytest.fixture
def audited_page(browser: object) -> Iterator[object]:
    """A page whose context lets the test inject axe-core past the app's Content-Security-Policy (the app's own
    pages still run under it: only the test's script is let in)."""
    context = browser.new_context(bypass_csp=True)  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()


def log_in(page: object, base: str, username: str, password: str = "demo") -> None:
    """Log in through the login form, as a person would."""
    page.goto(base + "/")  # type: ignore[attr-defined]
    page.get_by_label("Username (your email address)").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Log in").click()  # type: ignore[attr-defined]


#: Screenshots of the main pages, kept after the run for a person to look at (git-ignored).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def screenshot(page: object, name: str) -> Path:
    """Save a full-page screenshot of ``page`` as test-artifacts/NAME.png and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
