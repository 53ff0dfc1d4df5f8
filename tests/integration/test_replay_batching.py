"""A rebuild's replay (every read model together, inserts gathered per table) stops where the ordinary catch-up does.

That a rebuild gives the same rows as the read models kept up event by event
is proven by test_agreements.py (the demo) and test_bounds_extremes.py (every
event type at its bounds). Proven here, on SQLite and PostgreSQL:
- a failure the gathering hides until its flush (a duplicate key, written at
  the end of the batch rather than by its event's handler) still stops that
  read model just before the very event that fails, with that event's error,
  what came before it applied; the other read models reach the head.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, insert

from domain.envelope import SYSTEM, Envelope
from domain.organisations.organisation import Organisation
from ledger.projections.organisations import OrganisationsProjection, organisations
from ledger.queries.organisations import list_organisations


def test_a_duplicate_key_found_only_at_the_flush_stops_the_read_model_before_its_own_event(book, monkeypatch):
    envelope = Envelope(SYSTEM, date(2024, 4, 1), "test")
    for code in ("alpha", "beta", "gamma", "delta"):  # events 1-4
        book.organisations.register_organisation(envelope, code, f"{code.title()} Care", "provider")
    original = OrganisationsProjection.registered

    def registered(self: OrganisationsProjection, conn: Connection, e: Organisation.Registered, position: int) -> None:
        if e.code == "gamma":  # a bug: also writes a second row under beta's code
            row = {c.name: None for c in organisations.columns}
            conn.execute(insert(organisations), {**row, "code": "beta", "id": "x", "name": "x", "kind": "provider",
                                                 "effective_date": e.envelope.effective_date,
                                                 "registered_at": e.timestamp, "position": position})  # fmt: skip
        original(self, conn, e, position)

    monkeypatch.setattr(OrganisationsProjection, "registered", registered)
    book.projections.rebuild()

    status = {row["name"]: row for row in book.projections.status()}
    stopped = status.pop("organisations")
    assert (stopped["position"], stopped["error"]["position"]) == (2, 3)  # gamma's event is 3
    assert stopped["error"]["kind"] == "IntegrityError"
    assert {row["position"] for row in status.values()} == {4}
    assert sorted(o["code"] for o in list_organisations(book.read_engine)) == ["alpha", "beta"]
