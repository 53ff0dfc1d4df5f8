"""The ledger application: one eventsourcing Application, and one way to record.

A use case (``ledger/usecases/``, one object per area, composed in
``ledger/bootstrap.py``) loads aggregates, calls their commands and hands them
to ``_execute``, which saves them together, so all change or none does. Every
save may carry an idempotency key: the key and a digest of the command are
recorded in the same transaction as the events, so a retried command returns
its first result and records nothing. After each save the read models catch
up in the same process.

There is one Application (several would get different tables on SQLite and
PostgreSQL), and it knows nothing of the areas: what each area may do is its
use-case object's business.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Transcoder

from domain.aggregate import LedgerAggregate
from domain.checks import check_envelope
from domain.envelope import Envelope
from domain.errors import ConcurrencyConflict, IdempotencyMismatch, OpenbookError
from ledger.persistence import IdempotencyClaim
from ledger.persistence.database import Database
from ledger.persistence.transcoding import register_transcodings
from ledger.projections.runner import ProjectionRunner

Build = Callable[[], tuple[Iterable[LedgerAggregate], Any]]


class Ledger(Application[UUID]):
    """The event store, its read-model engines and projection runner, and ``_execute``."""

    name = "Ledger"

    def __init__(self, database: Database, *, create_tables: bool = True):
        self.database = database
        env = database.eventsourcing_env()
        env["CREATE_TABLE"] = "y" if create_tables else "n"
        super().__init__(env=env)
        self.read_engine, self.write_engine = database.create_engines()
        #: The read models this ledger keeps up to date; ``ledger.bootstrap`` says which.
        self.projections = ProjectionRunner(self.write_engine, self.recorder, self.mapper)

    def register_transcodings(self, transcoder: Transcoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

    def close(self) -> None:
        super().close()
        self.read_engine.dispose()
        self.write_engine.dispose()

    # -- the one way commands are recorded ---------------------------------

    def _execute(
        self,
        command: str,
        payload: dict[str, Any],
        envelope: Envelope,
        build: Build,
    ) -> Any:
        """Run a command once: build its changes, save them atomically, catch up the read models.

        ``build`` returns the aggregates to save and the command's JSON-able result.
        """
        check_envelope(envelope)  # every command's effective date and reason, within domain/bounds.py
        claim_key = envelope.idempotency_key
        digest = _digest(command, payload, envelope) if claim_key else ""
        if claim_key:
            earlier = self._earlier_result(claim_key, digest, command)
            if earlier is not _NONE:
                return earlier
        try:
            aggregates, result = build()
        except OpenbookError:
            # The original of a retry may have committed since we looked: then its result stands.
            if claim_key and (earlier := self._earlier_result(claim_key, digest, command)) is not _NONE:
                return earlier
            raise
        aggregates = list(aggregates)
        claim = IdempotencyClaim(claim_key, digest, json.dumps(result)) if claim_key else None
        try:
            self.save(*aggregates, idempotency=claim)
        except IntegrityError:
            if claim_key:
                earlier = self._earlier_result(claim_key, digest, command)
                if earlier is not _NONE:
                    return earlier
            names = ", ".join(f"{type(a).__name__.lower()} {a.natural_key}" for a in aggregates)
            raise ConcurrencyConflict(
                f"{command}: {names} was changed by someone else first; nothing was recorded — reload and try again"
            ) from None
        self.projections.catch_up()
        return result

    def _earlier_result(self, key: str, digest: str, command: str) -> Any:
        found = self.recorder.find_idempotency(key)  # type: ignore[attr-defined]
        if found is None:
            return _NONE
        if found.digest != digest:
            raise IdempotencyMismatch(
                f"{command}: idempotency key {key!r} was already used for a different command or payload; "
                "nothing was recorded"
            )
        return json.loads(found.result)


_NONE = object()


def _digest(command: str, payload: dict[str, Any], envelope: Envelope) -> str:
    """A digest of what the command would record, to tell a retry from a clash of keys."""
    body = {
        "command": command,
        "payload": payload,
        "actor": [envelope.actor.user, envelope.actor.organisation],
        "effective_date": envelope.effective_date.isoformat(),
        "reason": envelope.reason,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode("utf-8")).hexdigest()
