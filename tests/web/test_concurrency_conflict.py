"""Two people change one record at once in the web app: the second is a 409 that says so, and records nothing.

The race is real: just before the app saves its rename, another ledger on the
same database (another worker, say) renames the organisation first, so the
app's save clashes on the record's version (``Ledger._execute`` turns that
into ``ConcurrencyConflict``). On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date

from domain.envelope import SYSTEM, Envelope
from tests.web.support import csrf_token, idempotency_key, log_in, make_app

ADMIN = "admin@acme.example"


def test_a_rename_that_loses_a_race_is_a_409_and_records_nothing(book, open_book, tmp_path, monkeypatch):
    set_up = Envelope(SYSTEM, date(2024, 4, 1), "set-up")
    book.organisations.register_organisation(set_up, "acme", "Acme Council", "council")
    book.organisations.register_user(set_up, ADMIN, "Ann Admin", "acme", ["admin"])
    book.security.set_password(ADMIN, "demo", check=False)
    client = log_in(make_app(book, tmp_path).test_client(), ADMIN)
    other = open_book()
    save = book.ledger.save

    def another_worker_first(*aggregates, **kwargs):  # noqa: ANN002, ANN003, ANN202 - the library's signature
        monkeypatch.setattr(book.ledger, "save", save)  # race once
        other.organisations.rename_organisation(Envelope(SYSTEM, date(2024, 4, 2), "first"), "acme", "Acme (first)")
        return save(*aggregates, **kwargs)

    monkeypatch.setattr(book.ledger, "save", another_worker_first)
    path = "/admin/organisations/acme/rename"
    form = {"name": "Acme (second)", "reason": "second", "idempotency_key": idempotency_key(client, path),
            "csrf_token": csrf_token(client, path)}  # fmt: skip
    page = client.post(path, data=form)

    assert page.status_code == 409
    text = page.get_data(as_text=True)
    assert "was changed by someone else first; nothing was recorded" in text
    assert book.records.organisation("acme").name == "Acme (first)"
    assert book.records.organisation("acme").version == 2
