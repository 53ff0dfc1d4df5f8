"""The checkpoints recorded in the history (``openbook checkpoint``), read from their read model."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from ledger.projections.checkpoints import checkpoints

#: The ``openbook-checkpoint/1`` fields, in the documented order.
_FIELDS = ("format", "position", "hash", "recorded_at", "events", "key_id", "signature")


def _shown(row: Any) -> dict[str, Any]:
    return {
        "checkpoint": {name: getattr(row, name) for name in _FIELDS},
        "recorded_in": row.recorded_in,
        "recorded_by": row.recorded_by,
    }


def latest_recorded_checkpoint(engine: Engine) -> dict[str, Any] | None:
    """The last checkpoint recorded, as ``{"checkpoint": {...}, "recorded_in": position, "recorded_by": actor}``.

    ``checkpoint`` is the JSON as signed; ``recorded_in`` the position of the
    event that recorded it (after the head it attests). None before the first.
    """
    with engine.connect() as conn:
        row = conn.execute(select(checkpoints).order_by(checkpoints.c.position.desc()).limit(1)).first()
    return _shown(row) if row is not None else None



def recorded_checkpoints(engine: Engine, limit: int = 5) -> list[dict[str, Any]]:
    """The last ``limit`` checkpoints recorded, newest first, each as ``latest_recorded_checkpoint`` shows one."""
    with engine.connect() as conn:
        rows = conn.execute(select(checkpoints).order_by(checkpoints.c.position.desc()).limit(limit)).all()
    return [_shown(row) for row in rows]
