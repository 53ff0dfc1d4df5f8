"""What a projection is: a name, the tables it owns, and one handler per event class it reads.

Each projection module defines its tables on a ``MetaData`` of its own, and a
projection lists them in ``tables``: the runner creates exactly the tables of
the projections it runs, so importing a module creates nothing and no table
belongs to two projections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Table

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
