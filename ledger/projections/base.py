"""What a projection is: a name, the tables it owns, and one handler per event class it reads.

Each projection module defines its tables on a ``MetaData`` of its own, and a
projection lists them in ``tables``: the runner creates exactly the tables of
the projections it runs, so importing a module creates nothing and no table
belongs to two projections.

A projection's *fingerprint* is its ``version`` and the DDL of its tables. The
runner keeps the fingerprint each projection's tables were built with; when
the code's differs (a column added, a handler that now writes something else
and says so by raising ``version``) the tables are dropped, created afresh and
refilled from the history. So a database written by an older openbook is
brought up to date by opening it, and ``openbook projections rebuild`` does
the same on demand.

Each table in ``versioned`` (by default all of them) also keeps every version
of its rows in a history table (``ledger/projections/versions.py``), written
by the base around the handlers, so every read model can answer "as known at"
a past position (``ledger/queries/as_at.py``) without a replay. The history
tables are part of the fingerprint and are created, dropped and rebuilt with
the live ones (``stored_tables``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, ClassVar

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.schema import CreateIndex, CreateTable

from ledger.projections.versions import VersionedWrites, history_of

Handler = Callable[[Any, Connection, Any, int], bool | None]

#: Each projection class's tables' DDL, per kind of database (``Projection.ddl``).
_DDL: dict[tuple[type, str, Any], tuple[tuple[Table, tuple[str, ...]], ...]] = {}

#: Each read-model table's projection class, for readers that must know what kept it (``ledger/queries/as_at.py``).
_OWNERS: dict[Table, type[Projection]] = {}


def owner_of(table: Table) -> type[Projection] | None:
    """The projection class whose ``tables`` include ``table`` (None for any other table)."""
    return _OWNERS.get(table)


def handles(*event_classes: type) -> Callable[[Handler], Handler]:
    """Mark a projection method as the handler of the given event classes."""

    def mark(method: Handler) -> Handler:
        method.__handles__ = event_classes  # type: ignore[attr-defined]
        return method

    return mark


class Projection:
    """Subclasses set ``name`` and ``tables`` and mark handlers with ``@handles``.

    Raise ``version`` whenever the handlers write something different to the
    same tables: the tables are then rebuilt from the history when a ledger opens.
    ``versioned`` lists the tables whose rows are kept as known at each
    position (None: all of ``tables``); leave out only working state no
    reader asks about, or a table too large to keep every version of
    (docs/as-at.md says which and why).
    """

    name: ClassVar[str]
    tables: ClassVar[tuple[Table, ...]]
    versioned: ClassVar[tuple[Table, ...] | None] = None
    version: ClassVar[int] = 1
    _handlers: ClassVar[dict[type, str]]
    #: Each versioned table's history table.
    histories: ClassVar[dict[Table, Table]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = {
            event_class: attr
            for attr, method in vars(cls).items()
            for event_class in getattr(method, "__handles__", ())
        }
        if "tables" in vars(cls):
            chosen = cls.tables if cls.versioned is None else cls.versioned
            cls.histories = {table: history_of(table) for table in chosen}
            _OWNERS.update({table: cls for table in cls.tables})

    @property
    def stored_tables(self) -> tuple[Table, ...]:
        """Every table this projection owns: its read models and their histories (what the runner creates)."""
        return (*self.tables, *self.histories.values())

    @property
    def topics(self) -> tuple[str, ...]:
        """The stored topics this projection reads (others are never fetched)."""
        return tuple(sorted(get_topic(cls) for cls in self._handlers))

    def fingerprint(self, dialect: Dialect) -> str:
        """The version and the tables' DDL on this database, hashed: what the tables were built as."""
        ddl = [f"version {self.version}"]
        for _table, statements in self.ddl(dialect):
            ddl.extend(statements)
        return hashlib.sha256("\n".join(ddl).encode("utf-8")).hexdigest()

    def ddl(self, dialect: Dialect) -> tuple[tuple[Table, tuple[str, ...]], ...]:
        """Each stored table with what creates it on this kind of database: its CREATE TABLE, then its indexes'.

        Compiled once per projection class and kind of database (the tables
        are defined once, in code): compiling is most of what creating a
        rebuild's 100-odd scratch tables, and checking their fingerprints, costs.
        """
        key = (type(self), dialect.name, getattr(dialect, "server_version_info", None))
        found = _DDL.get(key)
        if found is None:
            found = _DDL[key] = tuple(
                (
                    table,
                    (
                        str(CreateTable(table).compile(dialect=dialect)),
                        *sorted(str(CreateIndex(index).compile(dialect=dialect)) for index in table.indexes),
                    ),
                )
                for table in self.stored_tables
            )
        return found

    def apply(self, conn: Connection, event: Any, position: int) -> bool:
        """Apply one event; True when it is only partly applied and there is more to do.

        A handler that would hold the write lock for seconds (an import of a
        million visits) applies a bounded step and returns True, keeping its
        progress in its own tables: the runner commits that step without
        moving past the event, and calls again, so other writers interleave.
        """
        attr = self._handlers.get(type(event))
        return attr is not None and bool(getattr(self, attr)(conn, event, position))

    def writes(self, conn: Connection, position: int) -> Connection:
        """The connection to apply the event at ``position`` with: ``conn``, keeping the versioned tables' history.

        The runner hands ``apply`` this, so a projection that overrides
        ``apply`` (to add a line per event) keeps its history too.
        """
        return VersionedWrites(conn, self.histories, position) if self.histories else conn  # type: ignore[return-value]
