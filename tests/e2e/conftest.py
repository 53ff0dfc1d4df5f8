"""A live server on a demo ledger, and headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ledger.bootstrap import Openbook, open_openbook
from ledger.jobs.worker import start_worker_thread
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


@dataclass(frozen=True)
class Served:
    url: str
    book: Openbook


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The web app serving its own copy of the demo ledger (every demo user's password "demo") on SQLite, on a free
    loopback port, and that ledger: one per test module, whose tests build on each other in file order."""
    tmp_path = tmp_path_factory.mktemp("e2e")
    book = open_openbook(demo_copy(request, "sqlite", tmp_path))
    app = create_app(
        {"OPENBOOK": book, "SETTINGS": Settings(secret_key="e" * 64, instance_path=f"{tmp_path}/instance")}
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_port}", book)
    finally:
        server.shutdown()
        book.close()


@pytest.fixture(scope="module")
def live_server(served: Served) -> str:
    """The served app's address, e.g. http://127.0.0.1:40123."""
    return served.url


@pytest.fixture(scope="module")
def job_worker(served: Served) -> Iterator[None]:
    """Background jobs (an upload's import) run as under ``openbook serve``: a worker thread beside the app. Only the
    modules that queue jobs ask for it, so the others have no thread polling the database."""
    thread, stop = start_worker_thread(served.book, poll=0.2)
    yield
    stop.set()
    thread.join(timeout=30)


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def audited_page(page: object) -> object:
    """The same as ``page``: axe now runs under the app's CSP (``accessibility.violations``). Kept only so the
    browser tests of branches written before that still run once merged; new tests use ``page``."""
    return page


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


def csp_refusals(page: object) -> list[str]:
    """A list that fills with every Content-Security-Policy refusal ``page``'s console reports from now on: an
    inline style or script the app should not have sent (drawn black, or silently not run, for a user)."""
    refused: list[str] = []

    def heard(message: object) -> None:
        if "Content Security Policy" in message.text:  # type: ignore[attr-defined]
            refused.append(message.text)  # type: ignore[attr-defined]

    page.on("console", heard)  # type: ignore[attr-defined]
    return refused
