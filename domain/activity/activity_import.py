"""The record of one imported file of visits: its chunks, totals and corrections (the ``ActivityImport`` aggregate).

The visit rows themselves, and the rules each must pass, are in
``domain/activity/visits.py``; this aggregate is the commit point that names
every chunk of rows by digest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from domain.activity.visits import CORRECTION_FIELDS, Correction
from domain.aggregate import LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.checks import check_file_name
from domain.envelope import Envelope
from domain.errors import InvalidInput

__all__ = [
    "INLINE_CORRECTIONS",
    "ActivityImport",
]

_DIGEST = re.compile(r"[0-9a-f]{64}")

#: Up to this many field changes are listed in the Corrected event itself; more go to chunks.
INLINE_CORRECTIONS = 1000


def _check_digests(values: Iterable[str], field: str) -> list[str]:
    found = list(values)
    for value in found:
        if not isinstance(value, str) or not _DIGEST.fullmatch(value):
            raise InvalidInput(f"{field}: {value!r} is not a sha256 digest")
    return found


class ActivityImport(LedgerAggregate):
    """One file of visits imported under one agreement: its chunks, totals and any corrections.

    The id is ``natural_id("activity-import", agreement, file digest)``, so the
    same file can be recorded once only: importing it again records nothing.
    """

    TOPIC = "openbook:activity-import"

    class Imported(LedgerCreated):
        """The commit point of an import: every new visit is in ``chunks``, in file order.

        ``totals`` are per provider, zone (or lot) and service of the visits in
        this event: {provider, zone, service, visits, planned_minutes,
        actual_minutes, hours}; ``hours`` is actual minutes ÷ 60 to 2 dp.
        """

        TOPIC = "openbook:activity-import.imported"
        agreement: str
        file_name: str
        file_digest: str
        file_format: str
        rows: int
        visits: int
        unchanged: int
        chunks: list[str]
        providers: list[str]
        first_date: date | None
        last_date: date | None
        totals: list[dict[str, Any]]

    class Corrected(LedgerEvent):
        """Visits this file changed: [visit id, field, before, after], in the event when few, else in chunks."""

        TOPIC = "openbook:activity-import.corrected"
        visits: int
        changes: int
        corrections: list[list[str]]
        chunks: list[str]

        def apply(self, aggregate: ActivityImport) -> None:
            aggregate.corrected_visits += self.visits
            aggregate.correction_changes += self.changes
            aggregate.correction_chunks.extend(self.chunks)

    @staticmethod
    def create_id(agreement: str, file_digest: str) -> UUID:
        return natural_id("activity-import", agreement, file_digest)

    def __init__(
        self,
        envelope: Envelope,
        agreement: str,
        file_name: str,
        file_digest: str,
        file_format: str,
        rows: int,
        visits: int,
        unchanged: int,
        chunks: list[str],
        providers: list[str],
        first_date: date | None,
        last_date: date | None,
        totals: list[dict[str, Any]],
    ):
        self.agreement = agreement
        self.file_name = file_name
        self.file_digest = file_digest
        self.file_format = file_format
        self.rows = rows
        self.visits = visits
        self.unchanged = unchanged
        self.chunks = list(chunks)
        self.providers = list(providers)
        self.first_date = first_date
        self.last_date = last_date
        self.totals = list(totals)
        self.corrected_visits = 0
        self.correction_changes = 0
        self.correction_chunks: list[str] = []

    @classmethod
    def record(
        cls,
        envelope: Envelope,
        *,
        agreement: str,
        file_name: str,
        file_digest: str,
        file_format: str,
        rows: int,
        visits: int,
        unchanged: int,
        chunks: Sequence[str],
        totals: Sequence[dict[str, Any]],
        first_date: date | None,
        last_date: date | None,
    ) -> ActivityImport:
        """Record an import whose rows were checked in full and staged in ``chunks``."""
        if file_format not in ("csv", "xlsx"):
            raise InvalidInput(f"file_format: {file_format!r} is not csv or xlsx")
        (digest,) = _check_digests([file_digest], "file_digest")
        staged = _check_digests(chunks, "chunks")
        if min(rows, visits, unchanged) < 0 or visits + unchanged > rows:
            raise InvalidInput(f"rows: {rows} rows cannot hold {visits} new and {unchanged} unchanged visits")
        if bool(staged) != bool(visits):
            raise InvalidInput("chunks: new visits are recorded in chunks, and chunks hold new visits")
        counted = sum(int(t["visits"]) for t in totals)
        if counted != visits:
            raise InvalidInput(f"totals: count {counted} visits, not the {visits} recorded")
        return cls._create(
            cls.Imported,
            id=cls.create_id(agreement, digest),
            envelope=envelope,
            agreement=agreement,
            file_name=check_file_name(file_name),
            file_digest=digest,
            file_format=file_format,
            rows=rows,
            visits=visits,
            unchanged=unchanged,
            chunks=staged,
            providers=sorted({str(t["provider"]) for t in totals}),
            first_date=first_date,
            last_date=last_date,
            totals=[dict(t) for t in totals],
        )

    def correct(
        self,
        envelope: Envelope,
        *,
        visits: int,
        corrections: Sequence[Correction] = (),
        chunks: Sequence[str] = (),
        changes: int | None = None,
    ) -> None:
        """Record the visits this file changed, with every field's value before and after."""
        listed = [c.as_list() for c in corrections]
        staged = _check_digests(chunks, "chunks")
        if listed and staged:
            raise InvalidInput("corrections: list them in the event or in chunks, not both")
        count = len(listed) if changes is None else changes
        if listed and count != len(listed):
            raise InvalidInput(f"changes: {count} is not the {len(listed)} corrections listed")
        if len(listed) > INLINE_CORRECTIONS:
            raise InvalidInput(f"corrections: more than {INLINE_CORRECTIONS} go in chunks")
        if visits <= 0 or count < visits:
            raise InvalidInput(f"visits: {visits} corrected visits with {count} changed fields")
        for row in listed:
            if row[1] not in CORRECTION_FIELDS:
                raise InvalidInput(f"corrections: {row[1]!r} is not a field of a visit")
        self.trigger_event(
            self.Corrected, envelope=envelope, visits=visits, changes=count, corrections=listed, chunks=staged
        )
