"""Logging in and out: argon2 hashes, one message for any refusal, throttling held in the database, sessions."""

from __future__ import annotations

from ledger.security import store as security_store
from ledger.security.store import credentials
from tests.web.support import USERS, csrf_token, log_in, make_app, post_form


def test_the_landing_page_is_the_login_page_and_every_other_page_needs_login(app):
    client = app.test_client()
    assert client.get("/").location == "/login"
    login = client.get("/login")
    assert login.status_code == 200 and "Log in to openbook" in login.get_data(as_text=True)
    assert client.get("/provider/").location.startswith("/login?next=")
    assert client.get("/healthz").get_data(as_text=True) == "ok"


def test_a_demo_user_logs_in_and_lands_on_their_own_start_page(app):
    starts = {"provider": "/provider/", "accountant": "/accountant/", "admin": "/admin/", "auditor": "/auditor/"}
    for role, start in starts.items():
        client = app.test_client()
        response = client.post(
            "/login", data={"username": USERS[role], "password": "demo", "csrf_token": csrf_token(client)}
        )
        assert response.status_code == 302 and response.location == start, role
        page = client.get(start).get_data(as_text=True)
        assert "Log out" in page


def test_passwords_are_stored_as_argon2_hashes_never_as_text(demo_book):
    with demo_book.read_engine.connect() as conn:
        hashes = [row.password_hash for row in conn.execute(credentials.select())]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any("demo" in h for h in hashes)


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer_and_are_logged(app, demo_book):
    client = app.test_client()
    wrong = post_form(client, "/login", {"username": USERS["auditor"], "password": "not-it"})
    unknown = post_form(client, "/login", {"username": "nobody@nowhere.example", "password": "not-it"})
    assert wrong.status_code == unknown.status_code == 401
    message = "That username and password do not match an account."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    kinds = [(row["kind"], row["username"]) for row in demo_book.security.recent(5)]
    assert ("login-failed", "nobody@nowhere.example") in kinds and ("login-failed", USERS["auditor"]) in kinds
    demo_book.security.clear_failures(f"user:{USERS['auditor']}", "addr:127.0.0.1")


def test_too_many_failures_lock_the_username_across_app_instances(fresh_demo_book, tmp_path):
    """Two apps over one database stand for two gunicorn workers: the count is in the database."""
    first, second = make_app(fresh_demo_book, tmp_path / "a"), make_app(fresh_demo_book, tmp_path / "b")
    user = USERS["provider"]
    for attempt in range(security_store.MAX_FAILURES["user"]):
        app = first if attempt % 2 else second
        client = app.test_client()
        assert post_form(client, "/login", {"username": user, "password": "guess"}).status_code == 401

    client = first.test_client()
    locked = post_form(client, "/login", {"username": user, "password": "demo"})  # even the right password
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.get_data(as_text=True)
    assert fresh_demo_book.security.recent(1)[0]["kind"] == "login-locked"
    assert log_in(second.test_client(), USERS["other-provider"])  # another user is not locked out


def test_logout_needs_a_post_with_csrf_and_ends_the_session_on_the_server(app, client_as):
    client = client_as("accountant")
    copied = client.get_cookie("openbook_session").value  # as if someone had taken a copy of the cookie
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token: refused
    assert client.get("/accountant/").status_code == 200
    token = csrf_token(client, "/accountant/")
    assert client.post("/logout", data={"csrf_token": token}).location == "/login"
    assert client.get("/accountant/").status_code == 302
    replayed = app.test_client()
    replayed.set_cookie("openbook_session", copied)
    assert replayed.get("/accountant/").status_code == 302  # the session ended on the server, not just in the browser


def test_a_login_form_without_its_csrf_token_is_refused(app):
    client = app.test_client()
    response = client.post("/login", data={"username": USERS["provider"], "password": "demo"})
    assert response.status_code == 400 and "did not come from this site" in response.get_data(as_text=True)


def test_after_login_only_a_local_next_page_is_followed(app):
    client = app.test_client()
    token = csrf_token(client)
    data = {"username": USERS["admin"], "password": "demo", "csrf_token": token}
    assert client.post("/login?next=https://evil.example/", data=data).location == "/admin/"
    client = app.test_client()
    data["csrf_token"] = csrf_token(client)
    assert client.post("/login?next=//evil.example/x", data=data).location == "/admin/"
    client = app.test_client()
    data["csrf_token"] = csrf_token(client)
    assert client.post("/login?next=/status", data=data).location == "/status"


def test_a_first_login_link_sets_a_password_once(app, demo_book):
    token = demo_book.security.issue_link("finance@aspire.example")
    client = app.test_client()
    page = client.get(f"/first-login/{token}")
    assert page.status_code == 200 and "finance@aspire.example" in page.get_data(as_text=True)

    short = post_form(client, f"/first-login/{token}", {"password": "short", "confirm": "short"})
    assert short.status_code == 200 and "at least 12 characters" in short.get_data(as_text=True)
    differ = post_form(client, f"/first-login/{token}", {"password": "a" * 12 + "x", "confirm": "a" * 13})
    assert "The two passwords differ." in differ.get_data(as_text=True)

    chosen = "correct horse battery staple"
    done = post_form(client, f"/first-login/{token}", {"password": chosen, "confirm": chosen})
    assert done.location == "/login"
    assert log_in(app.test_client(), "finance@aspire.example", chosen)
    assert app.test_client().get(f"/first-login/{token}").status_code == 404  # used
    assert app.test_client().get("/first-login/not-a-token").status_code == 404


def test_changing_ones_password_ends_every_other_session(app, client_as):
    kept, other = client_as("herefordshire-accountant"), client_as("herefordshire-accountant")
    new = "a much longer password"
    response = post_form(kept, "/account", {"current": "demo", "password": new, "confirm": new})
    assert response.location == "/account"
    assert kept.get("/accountant/").status_code == 200
    assert other.get("/accountant/").status_code == 302  # a new password ends every other session
    assert log_in(app.test_client(), USERS["herefordshire-accountant"], new)


def test_a_wrong_current_password_changes_nothing(app, client_as):
    client, other = client_as("auditor"), client_as("auditor")
    page = post_form(client, "/account", {"current": "wrong", "password": "x" * 14, "confirm": "x" * 14})
    assert "That is not your current password." in page.get_data(as_text=True)
    assert other.get("/auditor/").status_code == 200  # no session ended
    assert log_in(app.test_client(), USERS["auditor"], "demo")
