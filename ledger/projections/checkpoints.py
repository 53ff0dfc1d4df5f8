"""The checkpoints recorded in the history, as a table: the latest one is cited beside every signed head."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Connection, DateTime, MetaData, String, Table, Text, insert

from domain.audit.checkpoint import Checkpoint
from ledger.projections.base import Projection, handles

metadata = MetaData()

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("position", BigInteger, primary_key=True),  # the attested head
    Column("format", String(40), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("recorded_at", Text, nullable=False),  # the signed text, exactly
    Column("events", BigInteger, nullable=False),
    Column("key_id", String(16)),
    Column("signature", String(128)),
    Column("recorded_by", Text, nullable=False),
    Column("recorded_in", BigInteger, nullable=False, unique=True),  # the position of the checkpoint's own event
    Column("event_recorded_at", DateTime(timezone=True), nullable=False),
)


class CheckpointsProjection(Projection):
    name = "checkpoints"
    tables = (checkpoints,)

    @handles(Checkpoint.Recorded)
    def recorded(self, conn: Connection, e: Checkpoint.Recorded, position: int) -> None:
        conn.execute(
            insert(checkpoints).values(
                position=e.position,
                format=e.format,
                hash=e.hash,
                recorded_at=e.recorded_at,
                events=e.events,
                key_id=e.key_id,
                signature=e.signature,
                recorded_by=str(e.envelope.actor),
                recorded_in=position,
                event_recorded_at=e.timestamp,
            )
        )
