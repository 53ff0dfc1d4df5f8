"""The database going away under the web app: a 503 that says so, nothing half-recorded, and recovery.

The app runs on PostgreSQL through a TCP proxy the test cuts (``tests/tcp_proxy.py``):
the port really closes and open connections really drop, as when the
database server stops or the network fails. While it is cut, pages answer 503
with a plain message (JSON under /api), a form sent is refused whole, and a
command whose connection drops inside its recording transaction records
nothing. Once the proxy is restored the same client carries on (pooled
connections are checked before use) and the form sent again is recorded once.
A database that answers with an error of the code's own making (a missing
table) is not "unavailable": it is a plain 500, logged with its traceback; a
deadlock is a 409 (the transaction was rolled back whole: send it again).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import eventsourcing.persistence
import psycopg
import pytest
import sqlalchemy
from flask.testing import FlaskClient

from domain.envelope import SYSTEM, Envelope
from ledger.bootstrap import Openbook, open_openbook
from ledger.persistence.database import Database
from ledger.persistence.postgres import ChainedPostgresApplicationRecorder
from ledger.queries import organisations as organisation_views
from tests.support import demo_copy, drop_database
from tests.tcp_proxy import TcpProxy
from tests.web.api_support import bearer, token_for
from tests.web.support import csrf_token, idempotency_key, log_in, make_app
from web import scope
from web.errors import RETRY_AFTER_SECONDS

ADMIN = "admin@acme.example"
UNREACHABLE = "cannot be reached just now"


@pytest.fixture
def proxied(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Openbook, TcpProxy]]:
    """An empty ledger on PostgreSQL, opened through a proxy, with one council and its admin (password "demo")."""
    database = demo_copy(request, "postgres", tmp_path, "empty")
    proxy = TcpProxy((database.url.host or "127.0.0.1", database.url.port or 5432))
    through = Database.from_url(database.url.set(port=proxy.port).render_as_string(hide_password=False))
    book = open_openbook(through)
    set_up = Envelope(SYSTEM, date(2024, 4, 1), "set-up")
    book.organisations.register_organisation(set_up, "acme", "Acme Council", "council")
    book.organisations.register_user(set_up, ADMIN, "Ann Admin", "acme", ["admin"])
    book.security.set_password(ADMIN, "demo", check=False)
    try:
        yield book, proxy
    finally:
        proxy.restore()  # so the ledger can close cleanly
        book.close()
        proxy.close()
        drop_database(database)


def registration(client: FlaskClient) -> dict[str, str]:
    """The register-organisation form as the browser would send it (with its CSRF token and idempotency key)."""
    path = "/admin/organisations/new"
    return {
        "code": "new-care", "name": "New Care", "kind": "provider", "reason": "new provider",
        "idempotency_key": idempotency_key(client, path), "csrf_token": csrf_token(client, path),
    }  # fmt: skip


def events(book: Openbook) -> int:
    """How many events are stored (not the head: a rolled-back insert leaves a gap in the positions)."""
    return len(book.ledger.recorder.select_notifications(start=None, limit=1_000))


def codes(book: Openbook) -> list[str]:
    return sorted(row["code"] for row in organisation_views.list_organisations(book.read_engine))


def test_a_database_that_goes_away_is_a_503_and_the_app_recovers_when_it_returns(proxied, tmp_path, monkeypatch):
    book, proxy = proxied
    app = make_app(book, tmp_path)
    client = log_in(app.test_client(), ADMIN)
    api = {"headers": bearer(token_for(book, ADMIN))}
    form = registration(client)
    before = events(book)

    # the connection drops inside the recording transaction, after the events and their hashes are written
    written = ChainedPostgresApplicationRecorder._fetch_ids_after_insert_events

    def then_cut(self, curs, stored_events, **kwargs):  # noqa: ANN001, ANN202 - the recorder's own signature
        positions = written(self, curs, stored_events, **kwargs)
        proxy.cut()
        return positions

    monkeypatch.setattr(ChainedPostgresApplicationRecorder, "_fetch_ids_after_insert_events", then_cut)
    refused = client.post("/admin/organisations/new", data=form)
    monkeypatch.undo()
    assert refused.status_code == 503, refused.get_data(as_text=True)
    assert UNREACHABLE in refused.get_data(as_text=True)
    assert refused.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)

    for path in ("/admin/", "/admin/organisations/new"):  # still cut: every page says so, none is a 500
        page = client.get(path)
        assert page.status_code == 503 and UNREACHABLE in page.get_data(as_text=True), path
    answer = app.test_client().get("/api/v1/organisations", **api)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert answer.get_json()["kind"] == "unavailable" and UNREACHABLE in answer.get_json()["message"]
    assert client.post("/admin/organisations/new", data=form).status_code == 503

    proxy.restore()
    assert events(book) == before  # nothing of the command whose connection dropped was recorded
    assert client.get("/admin/").status_code == 200  # the same session, new connections
    assert app.test_client().get("/api/v1/organisations", **api).status_code == 200  # the same token
    assert codes(book) == ["acme"]
    sent = client.post("/admin/organisations/new", data=form)
    assert sent.status_code == 302, sent.get_data(as_text=True)
    assert client.post("/admin/organisations/new", data=form).status_code == 302  # sent twice: recorded once
    assert events(book) == before + 1
    assert codes(book) == ["acme", "new-care"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQLite's "no such table" was the 503
def test_a_missing_table_is_a_logged_500_not_a_503_and_a_deadlock_a_409(book, tmp_path, caplog, monkeypatch):
    set_up = Envelope(SYSTEM, date(2024, 4, 1), "set-up")
    book.organisations.register_organisation(set_up, "acme", "Acme Council", "council")
    book.organisations.register_user(set_up, ADMIN, "Ann Admin", "acme", ["admin"])
    book.security.set_password(ADMIN, "demo", check=False)
    app = make_app(book, tmp_path)
    client = log_in(app.test_client(), ADMIN)
    api = {"headers": bearer(token_for(book, ADMIN))}
    assert client.get("/admin/agreements").status_code == 200
    assert app.test_client().get("/api/v1/agreements", **api).status_code == 200

    def deadlocked() -> None:  # as the event store re-raises PostgreSQL's deadlock (40P01)
        try:
            raise psycopg.errors.DeadlockDetected("deadlock detected")
        except psycopg.Error as e:
            raise eventsourcing.persistence.OperationalError(str(e)) from e

    monkeypatch.setattr(scope, "my_agreements", deadlocked)
    conflict = app.test_client().get("/api/v1/agreements", **api)
    assert conflict.status_code == 409 and "Retry-After" not in conflict.headers
    assert conflict.get_json()["kind"] == "concurrency-conflict"
    monkeypatch.undo()

    with book.ledger.write_engine.begin() as conn:  # a bug's effect: the code reads a table that is not there
        conn.execute(sqlalchemy.text("ALTER TABLE agreements RENAME TO agreements_gone"))

    page = client.get("/admin/agreements")
    assert page.status_code == 500 and "Retry-After" not in page.headers
    assert UNREACHABLE not in page.get_data(as_text=True) and "agreements_gone" not in page.get_data(as_text=True)
    answer = app.test_client().get("/api/v1/agreements", **api)
    assert answer.status_code == 500 and answer.get_json()["kind"] == "http-500"
    logged = [r for r in caplog.records if r.getMessage() == "unexpected error on GET /admin/agreements"]
    assert logged and logged[0].exc_info is not None and "agreements" in str(logged[0].exc_info[1])
