"""Column types the read models share.

Money and rates are stored as their exact decimal text ("15.80", "13.7000"),
not as a database number type: SQLite has no decimal type and would pass the
value through a binary float, and the exponent ("15.80", not "15.8") is part
of what was recorded. Read models never sum money in SQL, so nothing is lost.
Structured figures (a settlement's statement, a pool's terms) are stored as
JSON in the event store's own encoding (``ExactJSON``), so Decimals, dates
and UUIDs come back as they went in.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from ledger.persistence.transcoding import stored_transcoder

_TRANSCODER = stored_transcoder()


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored as its exact text and read back as the same Decimal."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"expected a Decimal, not {type(value).__name__} ({value!r})")
        return str(value)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


class ExactJSON(TypeDecorator[Any]):
    """Structured values (dicts, lists, Decimals, dates) as JSON in the event store's encoding: exact both ways."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else _TRANSCODER.encode(value).decode("utf-8")

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else _TRANSCODER.decode(value.encode("utf-8"))
