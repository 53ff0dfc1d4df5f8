"""Use cases: importing delivered activity, the chunk sweep, and calculating arrears of a backdated review.

An import is checked and staged in full first (``ledger.files.activity_staging``),
then recorded through ``_execute`` as one ``ActivityImport`` (its ``Imported``
event, and a ``Corrected`` event when the file changed visits already
recorded) — all or nothing, whatever happens to the process. The same file
again records nothing and says so.

Staging compares the file with the visits recorded up to a position (the
basis) and runs outside any lock, so imports into one agreement can stage at
once; recording is serialised per agreement. The recording transaction's guard
checks that no other import into the agreement was recorded after the basis
(else the comparison is stale: the file is staged again against the visits now
recorded, so the later import records corrections, never the same visits
twice), and that every chunk the event names is still there and whole (the
import's lease keeps the sweep off them while it runs; ``ledger/files/chunks.py``).

Arrears are recorded when an accountant calculates them (``calculate_arrears``),
from the priced visits and the rate card before and after the review: the
event keeps every line's arithmetic, and a later calculation that differs
records the difference, never an edit (see ``domain/activity/arrears.py``).

Reading is not here: totals, imports, visits and the last arrears are
``ledger.queries.activity``'s views, which take a reader's access. The
commands use that module's unviewed helpers (visits recorded so far, an
import's spend, the visits in an arrears window), which need no access.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.activity.activity_import import ActivityImport
from domain.activity.arrears import Arrears, arrears_basis
from domain.activity.visits import hours
from domain.aggregate import LedgerAggregate
from domain.checks import check_financial_year
from domain.envelope import Actor, Envelope
from domain.errors import ConcurrencyConflict, InvalidInput
from domain.money import format_count
from ledger.application import Ledger
from ledger.authorisation import authorise, importing_for
from ledger.files.activity_staging import CHUNK_ROWS, AgreementRules, stage_file
from ledger.files.chunks import ChunkLease, ChunkStore, ChunkWriter, check_staged
from ledger.files.visit_files import MAX_FILE_MB, FileInfo, inspect_file
from ledger.jsonable import json_ready
from ledger.persistence.guards import InTransaction, events_after, hold, lock_key
from ledger.persistence.history import read_events
from ledger.projections.activity import ActivityProjection
from ledger.queries import every_provider as recorded_activity
from ledger.records import Records
from ledger.usecases.closed_years import closed_years_note
from ledger.usecases.owed import backdated_review, owed, paid_at_old_rate
from ledger.usecases.rate_reviews import RateReviewUseCases
from ledger.usecases.rates import RateUseCases

Progress = Callable[[str, int, int], None]  # (stage, done, total): stages "checking" (rows), "pricing" (visits)

IMPORT_TOPICS = (ActivityImport.Imported.TOPIC, ActivityImport.Corrected.TOPIC)

#: Times a file is staged before giving up when other imports into the agreement keep being recorded first.
IMPORT_ATTEMPTS = 3


class ImportsCrossed(ConcurrencyConflict):
    """Another import into the agreement was recorded after this one compared its file with the visits."""


@dataclass(frozen=True)
class ImportSummary:
    """What an import did, for people and for ``--json``."""

    agreement: str
    import_id: str
    file_name: str
    file_digest: str
    recorded: bool  # False: nothing new was recorded (see ``message``)
    message: str
    rows: int = 0
    visits: int = 0  # new visits recorded
    unchanged: int = 0  # visits already recorded exactly as in this file: skipped
    corrected_visits: int = 0
    changes: int = 0  # fields changed by corrections
    chunks: int = 0
    totals: list[dict[str, Any]] = field(default_factory=list)  # per provider, zone and service
    spend: Decimal | None = None  # of the visits this import recorded, at today's rates
    unpriced_visits: int = 0
    #: A file already imported: what its first import recorded (file name, date, rows, visits, corrections). The
    #: figures above are this run's, all zero, so nothing says both "nothing new" and "new visits 3".
    earlier: dict[str, Any] | None = None

    def hours_by(self, dimension: str) -> dict[str, Decimal]:
        """Delivered hours of the new visits by provider, zone or service (exact: summed minutes ÷ 60, 2 dp)."""
        minutes: dict[str, int] = {}
        for t in self.totals:
            minutes[t[dimension]] = minutes.get(t[dimension], 0) + int(t["actual_minutes"])
        return {key: hours(value) for key, value in sorted(minutes.items())}

    def as_json(self) -> dict[str, Any]:
        data = json_ready(self)
        data["hours_by_provider"] = json_ready(self.hours_by("provider"))
        data["hours_by_zone"] = json_ready(self.hours_by("zone"))
        data["hours_by_service"] = json_ready(self.hours_by("service"))
        return data


class ActivityUseCases:
    """Imports are priced by the rates' pricer (through the activity projection); arrears follow a review."""

    def __init__(
        self,
        ledger: Ledger,
        records: Records,
        rates: RateUseCases,
        reviews: RateReviewUseCases,
        chunks: ChunkStore,
        projection: ActivityProjection,
    ):
        self.ledger = ledger
        self.records = records
        self.rates = rates
        self.reviews = reviews
        self.chunks = chunks
        #: The activity read model, told how far pricing has got while an import is applied.
        self.projection = projection
        #: The largest file imported, in MB (``Settings.max_import_mb``, which ``bootstrap`` sets).
        self.max_file_mb = MAX_FILE_MB
        #: Called after a file is staged and before it is recorded; tests pause or fault an import here.
        self.before_recording: Callable[[], None] = lambda: None

    # -- import ----------------------------------------------------------------------------------

    def import_activity(
        self,
        envelope: Envelope,
        agreement: str,
        path: str | Path,
        *,
        file_name: str | None = None,
        progress: Progress | None = None,
        chunk_rows: int = CHUNK_ROWS,
    ) -> ImportSummary:
        """Check a CSV or XLSX file of visits in full and record it, or record nothing and say why.

        Raises InvalidInput listing the problems (row and column, the first
        100, then a count) if any row breaks a rule. A provider importing its
        own file (``importing_for``) may name only itself in every row.
        """
        authorise(self.records, envelope.actor, "import_activity", agreement=agreement)
        only = importing_for(self.records, envelope.actor, agreement)
        info = inspect_file(path, file_name, max_mb=self.max_file_mb)
        import_id = ActivityImport.create_id(agreement, info.digest)
        say = progress or (lambda _stage, _done, _total: None)
        lease = self.chunks.lease(import_id)
        attempt = 1
        try:
            while True:
                if self.records.exists(import_id):
                    self.ledger.catch_up_after_recording()  # a re-run finishes what a process killed after the commit left
                    return self._already_imported(import_id)
                try:
                    return self._import_once(envelope, agreement, info, lease, say, chunk_rows, only)
                except ImportsCrossed as crossed:  # staged against visits since changed: stage it again
                    if attempt == IMPORT_ATTEMPTS:
                        raise ImportsCrossed(
                            f"{crossed}, {IMPORT_ATTEMPTS} times in a row; nothing was recorded — try again"
                        ) from None
                    attempt += 1
        finally:
            lease.release()

    def _import_once(
        self,
        envelope: Envelope,
        agreement: str,
        info: FileInfo,
        lease: ChunkLease,
        say: Progress,
        chunk_rows: int,
        only: str | None,
    ) -> ImportSummary:
        """Compare the file with the visits recorded up to now, stage it, and record it if nothing crossed it."""
        import_id = ActivityImport.create_id(agreement, info.digest)
        found = self.records.agreement(agreement)
        basis = self.ledger.projections.head()
        # corrections compare with every visit recorded up to the basis
        self.ledger.projections.bring_up_to_date("activity", purpose=f"importing {info.name}")
        rules = AgreementRules(found, only)
        existing = None
        if recorded_activity.has_visits(self.ledger.read_engine, agreement):
            existing = partial(recorded_activity.recorded_visits, self.ledger.read_engine, agreement)
        staged = stage_file(
            info,
            rules,
            ChunkWriter(self.ledger.database, lease),
            existing=existing,
            progress=say,
            chunk_rows=chunk_rows,
        )
        if not info.unchanged():
            raise InvalidInput(f"{info.name}: the file changed while it was being imported; nothing was recorded")
        base = {"agreement": agreement, "import_id": str(import_id), "file_name": info.name, "file_digest": info.digest}
        if not staged.visits and not staged.corrected_visits:
            return ImportSummary(
                **base,
                recorded=False,
                message=(
                    f"nothing new: {'the' if staged.unchanged == 1 else 'all'} "
                    f"{format_count(staged.unchanged, 'visit')} "
                    f"in {info.name} {'is' if staged.unchanged == 1 else 'are'} already recorded as "
                    f"{'it is' if staged.unchanged == 1 else 'they are'}"
                ),
                rows=staged.rows,
                unchanged=staged.unchanged,
            )
        result = {
            **base,
            "recorded": True,
            "message": (
                f"recorded {format_count(staged.visits, 'new visit')} from {info.name}"
                + (f", corrected {staged.corrected_visits:,}" if staged.corrected_visits else "")
                + (f", {staged.unchanged:,} already recorded (skipped)" if staged.unchanged else "")
                + closed_years_note(self.records, agreement, staged.first_date, staged.last_date)
            ),
            "rows": staged.rows,
            "visits": staged.visits,
            "unchanged": staged.unchanged,
            "corrected_visits": staged.corrected_visits,
            "changes": staged.changes,
            "chunks": len(staged.chunks) + len(staged.correction_chunks),
            "totals": json_ready(staged.totals),
        }

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            if self.records.exists(import_id):  # the same file, recorded by someone else meanwhile
                return [], self._already_imported(import_id).as_json()
            record = ActivityImport.record(
                envelope,
                agreement=agreement,
                file_name=info.name,
                file_digest=info.digest,
                file_format=info.format,
                rows=staged.rows,
                visits=staged.visits,
                unchanged=staged.unchanged,
                chunks=staged.chunks,
                totals=staged.totals,
                first_date=staged.first_date,
                last_date=staged.last_date,
            )
            if staged.corrected_visits:
                record.correct(
                    envelope,
                    visits=staged.corrected_visits,
                    corrections=staged.corrections,
                    chunks=staged.correction_chunks,
                    changes=staged.changes,
                )
            return [record], result

        def guard(tx: InTransaction) -> None:
            hold(tx, lock_key(f"activity-import:{agreement}"))  # imports into this agreement record one at a time
            for event in events_after(tx, self.ledger.mapper, basis, ActivityImport.Imported.TOPIC):
                if event.agreement == agreement:
                    raise ImportsCrossed(
                        f"{info.name}: another import into {agreement} ({event.file_name!r}) was recorded "
                        "while this file was being checked"
                    )
            check_staged(tx, [*staged.chunks, *staged.correction_chunks], info.name)

        self.before_recording()
        lease.refresh()
        self.projection.on_visits = lambda done: say("pricing", done, staged.visits)
        try:
            recorded = self.ledger._execute(
                "import_activity", {**base, "file_format": info.format}, envelope, build, guard=guard
            )
        finally:
            self.projection.on_visits = None
        if not recorded["recorded"]:  # the same file, recorded by someone else meanwhile: its first import's summary
            return _summary(recorded)
        spend, unpriced = recorded_activity.import_spend(self.ledger.read_engine, str(import_id))
        return _summary(recorded, spend=spend, unpriced_visits=unpriced)

    def _already_imported(self, import_id: UUID) -> ImportSummary:
        """A file recorded before: nothing checked or recorded now; what was recorded then is ``earlier``."""
        record: ActivityImport = self.records.get(import_id, "activity import")
        on = record.created_on.date().isoformat()
        new = format_count(record.visits, "new visit")
        return ImportSummary(
            agreement=record.agreement,
            import_id=str(import_id),
            file_name=record.file_name,
            file_digest=record.file_digest,
            recorded=False,
            message=(
                f"already imported: this file (sha256 {record.file_digest[:12]}…) was recorded as "
                f"{record.file_name!r} on {on} ({new}); nothing new was recorded"
            ),
            earlier={
                "file_name": record.file_name,
                "recorded_on": on,
                "rows": record.rows,
                "visits": record.visits,
                "unchanged": record.unchanged,
                "corrected_visits": record.corrected_visits,
                "changes": record.correction_changes,
            },
        )

    # -- chunks ------------------------------------------------------------------------------------

    def referenced_chunks(self) -> set[str]:
        """Every chunk digest an import event names: what must never be swept."""
        digests: set[str] = set()
        for record in read_events(self.ledger.recorder, self.ledger.mapper, topics=IMPORT_TOPICS, limit=10**9):
            digests.update(record.payload.get("chunks") or ())
        return digests

    def sweep_activity_chunks(self, actor: Actor, older_than: timedelta = timedelta(days=1)) -> int:
        """Delete staged chunks no import references and no import in progress holds, once older than the grace."""
        authorise(self.records, actor, "sweep_activity_chunks")
        return self.chunks.delete_unreferenced(self.referenced_chunks, older_than)

    # -- arrears -----------------------------------------------------------------------------------

    def calculate_arrears(self, envelope: Envelope, agreement: str, financial_year: str) -> dict[str, Any]:
        """Calculate (or recalculate) the arrears a backdated review owes each provider, and record them.

        The backdated window runs from the decided rates' effective date to the
        day before the decision. Every visit in it that was paid at the old
        rate (``ledger.usecases.owed.paid_at_old_rate``: a visit imported after
        the last run at the old rate was not) owes its price at the rate now on
        the card less its price at the rate on the card before the decision
        (``ledger.usecases.owed``): what the next payment run identifies as arrears.
        """
        authorise(self.records, envelope.actor, "calculate_arrears", agreement=agreement)
        year = check_financial_year(financial_year)
        payload = {"agreement": agreement, "financial_year": year}

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            review = self.reviews.rate_review(agreement, year)
            backdated = backdated_review(self.ledger, self.records, review)
            self.ledger.projections.bring_up_to_date("activity", purpose="calculating arrears")
            paid = paid_at_old_rate(self.ledger, self.records, backdated)
            lines, unpriced, visits = owed(self.ledger, backdated, paid)
            start, end = backdated.window_start, backdated.window_end
            basis = arrears_basis(visits, start, end, self.ledger.projections.head())
            if paid is None:
                basis += "; no payment run of the year was recorded before the decision: none paid at the old rate"
            elif paid.before is not None:
                basis += (
                    f"; only visits paid at the old rate: dated up to {paid.last_day.isoformat()} and imported "
                    f"before the payment run at event position {paid.before}"
                )
            arrears: Arrears | None = self.records.find(Arrears.create_id(agreement, year))
            if arrears is not None:
                changed = arrears.recalculate(envelope, lines, basis)
            else:
                arrears = Arrears.calculate(
                    envelope, agreement=agreement, financial_year=year, decided_on=backdated.decided_on,
                    window_start=start, window_end=end, lines=lines, basis=basis,
                )  # fmt: skip
                changed = True
            result = _arrears_json(arrears)
            result["recorded"] = changed
            result["unpriced_groups"] = len(unpriced)
            if not changed:
                result["message"] = f"unchanged since calculation {arrears.calculations}: nothing new was recorded"
            return ([arrears] if changed else []), result

        return self.ledger._execute("calculate_arrears", payload, envelope, build)


def _arrears_json(arrears: Arrears) -> dict[str, Any]:
    return json_ready(
        {
            "agreement": arrears.agreement,
            "financial_year": arrears.financial_year,
            "decided_on": arrears.decided_on,
            "window_start": arrears.window_start,
            "window_end": arrears.window_end,
            "calculations": arrears.calculations,
            "lines": [line.as_row() for line in arrears.lines],
            "providers": arrears.providers,
            "total": arrears.total,
            "basis": arrears.basis,
            "recorded": True,
        }
    )


def _summary(data: dict[str, Any], **extra: Any) -> ImportSummary:
    known = {k: v for k, v in data.items() if k in ImportSummary.__dataclass_fields__ and k not in extra}
    return ImportSummary(**known, **extra)

