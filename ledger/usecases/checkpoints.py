"""Use case: recording a checkpoint of the chain head, signed with the ledger's key (docs/audit.md).

The checkpoint is made from the head as it stands and recorded as an event of
its own, which becomes the new head: a checkpoint attests the head *before*
its own event. A guard in the recording transaction checks that no other
event was recorded in between (a writer that got there first moves the head:
the checkpoint is made again from the new one), so the attested head is
always the event just before the checkpoint's. The head is checked before it
is signed (``ledger.audit.head_check``): a rewritten or forged history is
refused, and nothing is recorded.
"""

from __future__ import annotations

from typing import Any

from domain.aggregate import LedgerAggregate
from domain.audit.checkpoint import Checkpoint
from domain.envelope import Envelope
from domain.errors import ConcurrencyConflict, IntegrityFailure, RuleBroken
from ledger.application import Ledger
from ledger.audit.head_check import checkpoint_of_head
from ledger.authorisation import authorise
from ledger.persistence import EVENTS_TABLE
from ledger.persistence.guards import InTransaction, exclude_writers
from ledger.records import Records

#: How many times a checkpoint is made again when other commands keep moving the head while it is recorded.
ATTEMPTS = 5


class CheckpointUseCases:
    def __init__(self, ledger: Ledger, records: Records):
        self.ledger = ledger
        self.records = records

    def record_checkpoint(self, envelope: Envelope) -> dict[str, Any]:
        """Attest the current head; returns what ``latest_recorded_checkpoint`` then shows: ``{"checkpoint": the JSON
        as signed, "recorded_in": the position of its own event, "recorded_by": the actor}``."""
        authorise(self.records, envelope.actor, "record_checkpoint")
        for _attempt in range(ATTEMPTS):
            try:
                return self._record_once(envelope)
            except _HeadMoved:
                continue  # made again from the new head
        raise ConcurrencyConflict(
            "record checkpoint: other commands kept recording while the checkpoint was made; "
            "nothing was recorded — try again"
        )

    def _record_once(self, envelope: Envelope) -> dict[str, Any]:
        made: dict[str, Any] = {}

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            checkpoint = checkpoint_of_head(self.ledger.recorder, self.ledger.signing_key)
            if checkpoint["position"] == 0:
                raise RuleBroken("record checkpoint: the history is empty; there is no head to attest yet")
            if self.records.exists(Checkpoint.create_id(checkpoint["position"])):
                raise RuleBroken(f"record checkpoint: position {checkpoint['position']} is already attested")
            made.update(checkpoint)
            return [Checkpoint.record(envelope, checkpoint)], {"checkpoint": checkpoint}

        def head_unchanged(tx: InTransaction) -> None:
            exclude_writers(tx)  # the head read next stays the head until the checkpoint commits
            [(head,)] = tx.query(f"SELECT MAX(notification_id) FROM {EVENTS_TABLE}", ())
            if head != made["position"]:
                raise _HeadMoved

        # No payload beyond the command itself: a retry with the same key returns the first checkpoint.
        result = self.ledger._execute("record_checkpoint", {}, envelope, build, guard=head_unchanged)
        recorded_in = self._recorded_in(result["checkpoint"]["position"])
        return {**result, "recorded_in": recorded_in, "recorded_by": str(envelope.actor)}

    def _recorded_in(self, attested: int) -> int:
        """The position of the event that recorded the checkpoint of ``attested`` (the first such after it)."""
        wanted = Checkpoint.create_id(attested)
        after = attested
        while batch := self.ledger.recorder.select_notifications(
            start=after, limit=100, topics=[Checkpoint.Recorded.TOPIC], inclusive_of_start=False
        ):
            for n in batch:
                if str(n.originator_id) == str(wanted):
                    return n.id
            after = batch[-1].id
        raise IntegrityFailure(f"record checkpoint: the checkpoint of position {attested} is not in the history")


class _HeadMoved(Exception):
    """Another command recorded between making the checkpoint and recording it."""
