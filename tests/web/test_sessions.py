"""Sessions end on the server (idle, too old, logout, a new password); links and password checks cannot be farmed."""

from __future__ import annotations

from datetime import timedelta

from ledger.security import passwords
from ledger.security import store as security_store
from ledger.settings import Settings
from tests.web.support import USERS, csrf_token, log_in, make_app, post_form
from web.app import create_app


def test_a_session_ends_after_two_idle_hours_and_after_twelve_in_any_case(demo_book):
    security = demo_book.security
    session_id = security.start_session(USERS["auditor"])
    started = security_store._now()
    assert security.session_user(session_id, started + timedelta(minutes=119)) == USERS["auditor"]
    assert security.session_user(session_id, started + timedelta(minutes=119 * 2)) == USERS["auditor"]  # kept alive
    assert security.session_user(session_id, started + timedelta(hours=4, minutes=1) + security_store.SESSION_IDLE) \
        is None  # fmt: skip
    other = security.start_session(USERS["auditor"])
    for hours in range(1, 12):  # busy all day: never idle, still ends at 12 hours
        assert security.session_user(other, started + timedelta(hours=hours)) == USERS["auditor"]
    assert security.session_user(other, started + security_store.SESSION_LIFETIME + timedelta(minutes=1)) is None


def test_a_new_first_login_link_makes_earlier_ones_useless(demo_book):
    security = demo_book.security
    first = security.issue_link("finance@carewatch.example")
    second = security.issue_link("finance@carewatch.example")
    assert security.link_user(first) is None and security.link_user(second) == "finance@carewatch.example"


def test_an_unknown_user_costs_a_hash_like_a_known_one(app, monkeypatch):
    hashed = []
    real = passwords.matches
    monkeypatch.setattr(passwords, "matches", lambda stored, pw: hashed.append(stored is not None) or real(stored, pw))
    client = app.test_client()
    post_form(client, "/login", {"username": "nobody@nowhere.example", "password": "a guess"})
    post_form(client, "/login", {"username": USERS["ccg-accountant"], "password": "a guess"})
    assert hashed == [False, True]  # the unknown user's attempt hashed too (matches() hashes when nothing is stored)
    app.extensions["openbook"].security.clear_failures(f"user:{USERS['ccg-accountant']}", "addr:127.0.0.1")


def test_the_account_page_counts_wrong_current_passwords_towards_the_lock(app, client_as):
    client = client_as("ccg-accountant")
    for _ in range(security_store.MAX_FAILURES["user"]):
        post_form(client, "/account", {"current": "wrong", "password": "x" * 14, "confirm": "x" * 14})
    page = post_form(client, "/account", {"current": "demo", "password": "y" * 14, "confirm": "y" * 14})
    assert "Too many wrong attempts" in page.get_data(as_text=True)
    locked = post_form(app.test_client(), "/login", {"username": USERS["ccg-accountant"], "password": "demo"})
    assert locked.status_code == 429
    app.extensions["openbook"].security.clear_failures(f"user:{USERS['ccg-accountant']}")


def test_no_page_export_or_api_answer_may_be_cached_but_static_files_may(client_as):
    client = client_as("admin")
    for path in ("/admin/", "/status", "/api/v1/openapi.json", "/admin/security-log?export=security-log&format=csv"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    assert "no-store" not in client.get("/static/openbook.css").headers.get("Cache-Control", "")


def test_behind_a_trusted_proxy_the_throttle_counts_the_clients_own_address(demo_book, tmp_path):
    settings = Settings(secret_key="t" * 64, instance_path=str(tmp_path), trusted_proxies=1)
    app = create_app({"OPENBOOK": demo_book, "SETTINGS": settings})
    client = app.test_client()
    token = csrf_token(client)
    client.post("/login", data={"username": "nobody@x.example", "password": "a", "csrf_token": token},
                headers={"X-Forwarded-For": "203.0.113.9"})  # fmt: skip
    assert demo_book.security.recent(1)[0]["address"] == "203.0.113.9"
    untrusted = make_app(demo_book, tmp_path / "other").test_client()
    token = csrf_token(untrusted)
    untrusted.post("/login", data={"username": "nobody@x.example", "password": "a", "csrf_token": token},
                   headers={"X-Forwarded-For": "203.0.113.9"})  # fmt: skip
    assert demo_book.security.recent(1)[0]["address"] == "127.0.0.1"  # without the setting the header is ignored
    demo_book.security.clear_failures("user:nobody@x.example", "addr:203.0.113.9", "addr:127.0.0.1")
    assert log_in(app.test_client(), USERS["admin"])
