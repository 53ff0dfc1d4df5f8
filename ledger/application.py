"""The ledger application: one eventsourcing Application, and one way to record.

A use case (``ledger/usecases/``, one object per area, composed in
``ledger/bootstrap.py``) loads aggregates, calls their commands and hands them
to ``_execute``, which saves them together, so all change or none does. Every
save may carry an idempotency key: the key and a digest of the command are
recorded in the same transaction as the events, so a retried command returns
its first result and records nothing. After each save (and when a retry
returns its first result) the read models catch up in the same process; that
catch-up can fail without failing the command, whose events are committed.

There is one Application (several would get different tables on SQLite and
PostgreSQL), and it knows nothing of the areas: what each area may do is its
use-case object's business.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import IntegrityError, Transcoder

from domain.aggregate import LedgerAggregate
from domain.checks import check_envelope
from domain.envelope import Envelope
from domain.errors import ConcurrencyConflict, IdempotencyMismatch, OpenbookError
from ledger import faults
from ledger.persistence import IdempotencyClaim
from ledger.persistence.database import Database
from ledger.persistence.guards import Guard
from ledger.persistence.transcoding import register_transcodings
from ledger.projections.runner import ProjectionRunner, describe

if TYPE_CHECKING:
    from ledger.audit.signing import SigningKey

Build = Callable[[], tuple[Iterable[LedgerAggregate], Any]]

logger = logging.getLogger(__name__)


class Ledger(Application[UUID]):
    """The event store, its read-model engines and projection runner, and ``_execute``."""

    name = "Ledger"

    def __init__(self, database: Database, *, create_tables: bool = True, signing_key: SigningKey | None = None):
        self.database = database
        env = database.eventsourcing_env()
        env["CREATE_TABLE"] = "y" if create_tables else "n"
        super().__init__(env=env)
        #: The key (``ledger.audit.signing.SigningKey``) every event recorded here is signed with, and checkpoints
        #: too; None records unsigned events (docs/audit.md). The recorder signs in the recording transaction.
        self.signing_key = signing_key
        self.recorder.signer = signing_key  # type: ignore[attr-defined]
        self.read_engine, self.write_engine = database.create_engines()
        #: The read models are written through their own engine, whose commits need not wait for the disk.
        self.read_model_engine = database.create_read_model_engine(self.write_engine)
        #: The read models this ledger keeps up to date; ``ledger.bootstrap`` says which.
        self.projections = ProjectionRunner(
            self.read_model_engine, self.recorder, self.mapper, reader=self.read_engine
        )
        #: Commands this ledger has recorded events for: the CLI says "recorded; read models n events behind" after one.
        self.recorded = 0
        #: The idempotency keys of commands this ledger answered with their first result, recording nothing.
        self.replayed: list[str] = []

    def register_transcodings(self, transcoder: Transcoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """As the library's ``save``, but a ledger aggregate's events are collected without its runtime checks.

        The library asks of each object saved whether it is an event or an
        aggregate with ``isinstance`` against ``typing`` protocols, which on
        Python 3.11 inspects every attribute each time: two checks, about a
        third of saving a batch of registrations. The ledger saves its own
        aggregates (``LedgerAggregate``), whose kind is known; anything else goes
        the library's way. The rest is the library's ``save`` unchanged.
        """
        if not all(isinstance(obj, LedgerAggregate) for obj in objs):
            return super().save(*objs, **kwargs)
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in objs:
            processing_event.events.extend(aggregate.collect_events())
            processing_event.aggregates[aggregate.id] = aggregate
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library's deprecated hook, called as its save does
        return recordings

    def close(self) -> None:
        super().close()
        self.read_engine.dispose()
        self.write_engine.dispose()
        self.read_model_engine.dispose()

    # -- the one way commands are recorded ---------------------------------

    def _execute(
        self,
        command: str,
        payload: dict[str, Any],
        envelope: Envelope,
        build: Build,
        *,
        guard: Guard | None = None,
    ) -> Any:
        """Run a command once: build its changes, save them atomically, catch up the read models.

        ``build`` returns the aggregates to save and the command's JSON-able result;
        ``guard``, if any, checks inside the recording transaction what must still
        hold when the events commit (it is not run when there is nothing to record).
        A retry returns the first result and catches up too, so re-running a
        command whose process died after its commit finishes its read models.
        """
        check_envelope(envelope)  # every command's effective date and reason, within domain/bounds.py
        claim_key = envelope.idempotency_key
        digests = _digests(command, payload, envelope) if claim_key else ("",)
        if claim_key:
            earlier = self._earlier_result(claim_key, digests, command)
            if earlier is not _NONE:
                return self._replayed(claim_key, earlier)
        try:
            aggregates, result = build()
        except OpenbookError:
            # The original of a retry may have committed since we looked: then its result stands.
            if claim_key and (earlier := self._earlier_result(claim_key, digests, command)) is not _NONE:
                return self._replayed(claim_key, earlier)
            raise
        aggregates = list(aggregates)
        claim = IdempotencyClaim(claim_key, digests[0], json.dumps(result)) if claim_key else None
        records_events = any(a.pending_events for a in aggregates)
        try:
            self.save(*aggregates, idempotency=claim, guard=guard if aggregates else None)
        except IntegrityError:
            if claim_key:
                earlier = self._earlier_result(claim_key, digests, command)
                if earlier is not _NONE:
                    return self._replayed(claim_key, earlier)
            names = ", ".join(f"{type(a).__name__.lower()} {a.natural_key}" for a in aggregates)
            raise ConcurrencyConflict(
                f"{command}: {names} was changed by someone else first; nothing was recorded — reload and try again"
            ) from None
        self.recorded += records_events
        faults.fault_point("record.after-commit")
        self.catch_up_after_recording()
        return result

    def catch_up_after_recording(self) -> None:
        """Bring the read models up to the head after a command; a failure here never fails the command.

        The command's events are committed whatever happens here. If the
        catch-up fails (a lock wait timed out, the connection dropped) the read
        models are left behind, pages and the CLI say by how much, and the next
        command, ``openbook projections follow`` or ``openbook serve`` finishes the work.
        """
        try:
            self.projections.catch_up()
        except Exception as e:  # noqa: BLE001 - after the commit, nothing may turn success into failure
            logger.warning("recorded, but the read models could not catch up: %s", describe(e))

    def _replayed(self, key: str, earlier: Any) -> Any:
        """A retry's answer: the first result, the read models caught up, and the key noted as replayed."""
        self.replayed.append(key)
        self.catch_up_after_recording()
        return earlier

    def _earlier_result(self, key: str, digests: tuple[str, ...], command: str) -> Any:
        found = self.recorder.find_idempotency(key)  # type: ignore[attr-defined]
        if found is None:
            return _NONE
        if found.digest not in digests:
            raise IdempotencyMismatch(
                f"{command}: idempotency key {key!r} was already used for a different command or payload; "
                "nothing was recorded"
            )
        return json.loads(found.result)


_NONE = object()


def _digests(command: str, payload: dict[str, Any], envelope: Envelope) -> tuple[str, ...]:
    """The digests of the command as sent that tell a retry from a clash of keys: the first is stored.

    The digest covers the command, its fields, the actor, the reason and the
    effective date if it was stated. A date left to default to the day of
    recording is not part of the command as sent, so the same retry on a later
    day matches; a claim recorded before that rule covered the defaulted date,
    so its digest with the date still matches a retry on the same day.
    """
    body: dict[str, Any] = {
        "command": command,
        "payload": payload,
        "actor": [envelope.actor.user, envelope.actor.organisation],
        "reason": envelope.reason,
    }
    dated = _digest({**body, "effective_date": envelope.effective_date.isoformat()})
    return (dated,) if envelope.date_stated else (_digest(body), dated)


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode("utf-8")).hexdigest()
