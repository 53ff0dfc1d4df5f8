"""What a projection is: a name, its tables, and one handler per event class it reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from eventsourcing.utils import get_topic
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table

metadata = MetaData()

#: The last position each projection applied, written with its changes.
positions = Table(
    "projection_positions",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
)

Handler = Callable[[Any, Connection, Any, int], None]


def handles(*event_classes: type) -> Callable[[Handler], Handler]:
    """Mark a projection method as the handler of the given event classes."""

    def mark(method: Handler) -> Handler:
        method.__handles__ = event_classes  # type: ignore[attr-defined]
        return method

    return mark


class Projection:
    """Subclasses set ``name`` and ``tables`` and mark handlers with ``@handles``."""

    name: ClassVar[str]
    tables: ClassVar[tuple[Table, ...]]
    _handlers: ClassVar[dict[type, str]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = {
            event_class: attr
            for attr, method in vars(cls).items()
            for event_class in getattr(method, "__handles__", ())
        }

    @property
    def topics(self) -> tuple[str, ...]:
        """The stored topics this projection reads (others are never fetched)."""
        return tuple(sorted(get_topic(cls) for cls in self._handlers))

    def apply(self, conn: Connection, event: Any, position: int) -> None:
        attr = self._handlers.get(type(event))
        if attr is not None:
            getattr(self, attr)(conn, event, position)

    def reset(self, conn: Connection) -> None:
        """Empty this projection's tables, before a rebuild."""
        for table in reversed(self.tables):
            conn.execute(table.delete())
