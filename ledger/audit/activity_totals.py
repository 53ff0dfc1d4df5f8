"""An independent check of the priced activity: from the event history and its chunks alone.

The activity projection is fast and incremental; an auditor should not have
to trust it. ``recompute_totals_from_history`` reads only the stored events
(``Imported`` and ``Corrected``, in recorded order) and the chunks they name
(each checked against its digest), rebuilds every visit as last recorded in a
scratch SQLite file (so memory stays bounded for a million visits), and prices
each distinct (service, zone, date, band, minutes) once with the one pricing
path on today's agreement and rate card. It never reads a read model, so
equality with ``ledger.queries.every_provider.totals_by_key`` is evidence both are right.

The rule it applies is the record's own: a visit is what its latest record
says — an ``Imported`` row, then each ``Corrected`` field change in order.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.activity.activity_import import ActivityImport
from domain.activity.visits import CORRECTION_FIELDS, FIELDS, decode_chunk
from domain.errors import NotFound
from domain.money import pence_from_pounds, pounds_from_pence
from domain.rates.pricer import Pricer
from domain.rates.pricing import payable_minutes
from ledger.files.chunks import ChunkStore
from ledger.persistence.history import read_events
from ledger.queries.every_provider import Totals

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook

Key = tuple[str, str, str, str]  # agreement, provider, zone, service

_INTEGER_FIELDS = {"planned_minutes", "actual_minutes"}


def _events(book: Openbook) -> Iterable[Any]:
    topics = [ActivityImport.Imported.TOPIC, ActivityImport.Corrected.TOPIC]
    return read_events(book.ledger.recorder, book.ledger.mapper, topics=topics, limit=10**12)


def recompute_totals_from_history(book: Openbook, agreement: str | None = None) -> dict[Key, Totals]:
    """Visits, minutes and spend per (agreement, provider, zone, service), from events and chunks only."""
    chunks = ChunkStore(book.ledger.write_engine)
    handle, path = tempfile.mkstemp(prefix="openbook-verify-", suffix=".sqlite")
    os.close(handle)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        columns = ", ".join(f"{f} INTEGER" if f in _INTEGER_FIELDS else f"{f} TEXT" for f in FIELDS)
        db.execute(f"CREATE TABLE v (agreement TEXT, {columns}, PRIMARY KEY (agreement, visit_id))")
        marks = ", ".join("?" * (len(FIELDS) + 1))
        agreements: dict[UUID, str] = {}
        db.execute("BEGIN")
        for record in _events(book):
            payload = record.payload
            if record.topic == ActivityImport.Imported.TOPIC:
                code = agreements[record.aggregate_id] = payload["agreement"]
                for digest in payload["chunks"]:
                    _kind, rows = decode_chunk(chunks.read(digest))
                    db.executemany(f"INSERT OR REPLACE INTO v VALUES ({marks})", ([code, *row] for row in rows))
            else:
                code = agreements[record.aggregate_id]
                changes = list(payload["corrections"])
                for digest in payload["chunks"]:
                    changes.extend(decode_chunk(chunks.read(digest))[1])
                for visit_id, field, _before, after in changes:
                    if field not in CORRECTION_FIELDS:
                        raise ValueError(f"a correction names {field!r}, not a field of a visit")
                    value: Any = int(after) if field in _INTEGER_FIELDS else after
                    update = f"UPDATE v SET {field} = ? WHERE agreement = ? AND visit_id = ?"
                    db.execute(update, (value, code, visit_id))
        db.execute("COMMIT")
        query = (
            "SELECT agreement, provider, zone, service, band, substr(planned_start, 1, 10), planned_minutes, "
            "actual_minutes, count(*) FROM v"
            + (" WHERE agreement = ?" if agreement else "")
            + " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
        )
        sums: dict[Key, list[int]] = {}
        pricers: dict[str, tuple[Any, Pricer | None]] = {}
        for code, provider, zone, service, band, day, planned, actual, count in db.execute(
            query, (agreement,) if agreement else ()
        ):
            if code not in pricers:
                pricers[code] = _pricer(book, code)
            payable, pence = _price(*pricers[code], service, zone, date.fromisoformat(day), band, planned, actual)
            row = sums.setdefault((code, provider, zone, service), [0, 0, 0, 0, 0, 0])
            row[0] += count
            row[1] += count * planned
            row[2] += count * actual
            row[3] += count * payable
            if pence is None:
                row[5] += count
            else:
                row[4] += count * pence
        return {key: Totals(r[0], r[1], r[2], r[3], pounds_from_pence(r[4]), r[5]) for key, r in sums.items()}
    finally:
        db.close()
        os.unlink(path)


def _pricer(book: Openbook, code: str) -> tuple[Any, Pricer | None]:
    found = book.records.agreement(code)
    try:
        return found, Pricer(found, book.rates.rate_card(code))
    except NotFound:
        return found, None


def _price(
    agreement: Any, pricer: Pricer | None, service: str, zone: str, on: date, band: str, planned: int, actual: int
) -> tuple[int, int | None]:
    if pricer is not None:
        try:
            visit = pricer.price(service, zone, on, planned, actual, band or None)
        except NotFound:
            pass
        else:
            return visit.payable_minutes, pence_from_pounds(visit.amount)
    return payable_minutes(agreement.payment_basis_on(on), planned, actual), None
