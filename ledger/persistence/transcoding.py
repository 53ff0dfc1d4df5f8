"""How event fields become stored bytes and back, exactly.

Decimal, UUID, datetime and date round-trip exactly (a Decimal keeps its
exponent: "1.50" stays "1.50"). Value objects are stored as their fields under
a stable name, so renaming a Python class never breaks replay: like topics,
the names below are part of the stored data format and never change.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Transcoder, Transcoding, UUIDAsHex

from domain.envelope import NOT_STORED, Actor, Envelope

#: Stored name -> value-object class. Append only; never rename a key.
VALUE_OBJECTS: dict[str, type] = {
    "openbook.actor": Actor,
    "openbook.envelope": Envelope,
}


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class ValueObjectAsDict(Transcoding):
    """A frozen dataclass stored as a dict of its fields (nested values transcoded too), but those marked
    ``NOT_STORED``, which take their defaults when read back."""

    def __init__(self, name: str, cls: type):
        self.name = name
        self.type = cls

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if not f.metadata.get(NOT_STORED)}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def register_transcodings(transcoder: Transcoder) -> None:
    """Add openbook's transcodings to the library's JSON transcoder."""
    if not isinstance(transcoder, JSONTranscoder):  # pragma: no cover - configuration error
        raise TypeError(f"openbook needs the JSON transcoder, not {type(transcoder).__name__}")
    transcoder.register(DateAsISO())
    for name, cls in VALUE_OBJECTS.items():
        transcoder.register(ValueObjectAsDict(name, cls))


def stored_transcoder() -> JSONTranscoder:
    """The JSON transcoder as the ledger's Application builds it: the library's transcodings, then openbook's.

    For anything else that must keep values exactly as the event store does
    (read-model columns holding structured figures, tests replaying events).
    """
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_transcodings(transcoder)
    return transcoder
