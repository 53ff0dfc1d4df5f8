"""The app under gunicorn with several workers, as the README serves it in production.

Two workers share nothing but the database and the instance folder: a login
made by one must hold on the other (the secret key is made once into the
instance folder, never random per process), and the lockout count is kept in
the database.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.web.support import CSRF_META, USERS, open_demo

GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003 - the handler's own signature
        return None


@pytest.fixture
def served(request: pytest.FixtureRequest, tmp_path: Path):
    if not GUNICORN.exists():
        pytest.fail(f"gunicorn is not installed beside {sys.executable} (it is a dependency: make install)")
    book = open_demo(request, tmp_path)
    url = book.database.url.render_as_string(hide_password=False)
    book.close()
    port = _free_port()
    env = {
        **os.environ,
        "OPENBOOK_DATABASE_URL": url,
        "OPENBOOK_INSTANCE": str(tmp_path / "instance"),
    }
    env.pop("OPENBOOK_SECRET_KEY", None)
    process = subprocess.Popen(
        [str(GUNICORN), "--workers", "2", "--bind", f"127.0.0.1:{port}", "web.app:create_app()"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # two workers each open the ledger: seconds on a busy machine
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:  # refused, reset or timed out while booting
                time.sleep(0.2)
        else:
            raise AssertionError(process.stdout.read1().decode() if process.stdout else "gunicorn did not start")
        yield base, tmp_path
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_login_holds_across_gunicorn_workers_with_one_secret_key_made_once(served):
    base, folder = served
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    page = opener.open(base + "/login").read().decode()
    token = CSRF_META.search(page).group(1)
    form = urllib.parse.urlencode({"username": USERS["provider"], "password": "demo", "csrf_token": token}).encode()
    try:
        opener.open(base + "/login", data=form)
    except urllib.error.HTTPError as e:  # the redirect after login, not followed
        assert e.code == 302 and e.headers["Location"] == "/provider/"
    for _ in range(12):  # enough requests that both workers answer some
        answer = opener.open(base + "/provider/")
        assert answer.status == 200 and "Premier Care" in answer.read().decode()
    key = (folder / "instance" / "secret_key")
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_text()) == 64
    assert re.search(r"default-src 'self'", answer.headers["Content-Security-Policy"])
