"""Helpers shared by the tests."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from click.testing import Result
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import Mapper
from hypothesis import settings

from demo.partnerships import give_demo_passwords, load_demo
from ledger.bootstrap import Openbook, open_openbook
from ledger.persistence.database import Database
from ledger.persistence.transcoding import stored_transcoder
from ledger.settings import DEFAULT_TEST_POSTGRES_URL

A = TypeVar("A", bound=BaseAggregate)


def replay(aggregate: A) -> A:
    """Store an aggregate's pending events the way the ledger does, read them back, rebuild it."""
    mapper = Mapper(transcoder=stored_transcoder())
    copy = None
    for event in aggregate.collect_events():
        copy = mapper.to_domain_event(mapper.to_stored_event(event)).mutate(copy)
    return copy


def empty_postgres_schema(conninfo: str) -> None:
    """Drop and recreate the ``public`` schema: a PostgreSQL database as empty as a new SQLite file."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


#: The name of every PostgreSQL database this test process makes starts with this run's tag; its maintenance
#: connection carries the tag as ``application_name`` for the whole run, so a later run can tell the leftovers of a
#: run that was killed (no connection with their tag) from the databases of a run still going (``drop_stale``).
RUN_TAG = f"openbook_run_{os.getpid()}_{uuid.uuid4().hex[:8]}"
_TAG = re.compile(r"^openbook_run_[0-9]+_[0-9a-f]{8}")


def maintenance_conninfo() -> str:
    """The PostgreSQL test server's database named by OPENBOOK_TEST_POSTGRES_URL, from which the others are made."""
    return Database.from_url(os.environ.get("OPENBOOK_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL)).psycopg_conninfo()


def drop_stale(admin: psycopg.Connection) -> list[str]:
    """Drop the test databases of earlier runs that are gone (killed before their own clean-up); their names.

    The databases are listed first and the live runs' connections after, so a run that starts meanwhile (it
    connects before it creates anything) is seen as live."""
    tagged = [name for (name,) in admin.execute("SELECT datname FROM pg_database WHERE datname LIKE 'openbook_run_%'")]
    live = {tag for (tag,) in admin.execute("SELECT DISTINCT application_name FROM pg_stat_activity")}
    stale = [name for name in tagged if (m := _TAG.match(name)) and m.group() not in live]
    for name in stale:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return stale


def drop_database(database: Database) -> None:
    """Drop a PostgreSQL database this run made (a SQLite file goes with its tmp directory)."""
    if database.is_sqlite:
        return
    with psycopg.connect(maintenance_conninfo(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database.url.database}" WITH (FORCE)')


@dataclass(frozen=True)
class DemoSource:
    """A database holding the loaded demo (or an empty ledger), never altered: tests work on copies, each exact and
    independent.

    A copy takes a fraction of a second where loading the demo takes seconds (and creating an empty ledger's tables
    about one on PostgreSQL): SQLite's online backup of the file, or PostgreSQL's ``CREATE DATABASE ... TEMPLATE``
    (which needs no connection open to the source: the ledger that made it is closed, and nothing reads a source but
    through copies or short plain connections). Triggers and functions (the append-only guards) come with the copy.
    """

    kind: str  # sqlite or postgres
    url: str

    @property
    def database(self) -> Database:
        return Database.from_url(self.url)

    def copy(self, folder: Path, file_name: str | None = None) -> Database:
        """A new copy; on SQLite in ``folder``, named ``file_name`` if given."""
        name = f"{RUN_TAG}_{uuid.uuid4().hex[:8]}"
        if self.kind == "sqlite":
            target = folder / (file_name or f"{name}.sqlite")
            source, dest = sqlite3.connect(self.database.sqlite_path), sqlite3.connect(target)
            try:
                source.backup(dest)
            finally:
                source.close()
                dest.close()
            return Database.from_url(f"sqlite:///{target}")
        with psycopg.connect(maintenance_conninfo(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.database.url.database}"')
        return Database.from_url(self.database.url.set(database=name).render_as_string(hide_password=False))


def _load_demo(book: Openbook) -> None:
    load_demo(book)
    give_demo_passwords(book)  # as `openbook demo` does: every demo user's password is "demo"


#: What a source holds, by name: ``demo`` the loaded demo; ``empty`` a ledger whose tables are all made (event
#: store, hash chain, read models, chunks, security, jobs) and nothing recorded, as ``open_openbook`` leaves a new
#: database.
CONTENTS: dict[str, Callable[[Openbook], None]] = {"demo": _load_demo, "empty": lambda book: None}


class DemoSources:
    """The demo loaded (and an empty ledger made) at most once per database kind for the test process (each
    pytest-xdist worker is a process of its own, with its own sources, so workers never share one), in the session's
    tmp directory or a PostgreSQL database named with the run's tag: the ``demo_sources`` fixture, in
    ``tests/conftest.py``."""

    def __init__(self, folder: Path):
        self.folder, self.loaded = folder, {}

    def source(self, kind: str, server_url: str | None = None, contents: str = "demo") -> DemoSource:
        """The source holding ``contents`` (a name in ``CONTENTS``) on ``kind``; on PostgreSQL, ``server_url`` is
        the run's database (the ``postgres_server_url`` fixture, whose connection marks the run's databases live),
        on the same server."""
        if (kind, contents) not in self.loaded:
            if kind == "sqlite":
                url = f"sqlite:///{self.folder}/{contents}.sqlite"
            else:
                assert server_url, "a PostgreSQL source is made while the run's database (postgres_server_url) is up"
                with psycopg.connect(maintenance_conninfo(), autocommit=True) as admin:
                    admin.execute(f'CREATE DATABASE "{RUN_TAG}_{contents}"')
                url = Database.from_url(server_url).url.set(database=f"{RUN_TAG}_{contents}")
                url = url.render_as_string(hide_password=False)
            book = open_openbook(Database.from_url(url))
            try:
                CONTENTS[contents](book)
            finally:
                book.close()
            self.loaded[kind, contents] = DemoSource(kind, url)
        return self.loaded[kind, contents]


def demo_copy(request: Any, kind: str, folder: Path, contents: str = "demo", file_name: str | None = None) -> Database:
    """A new database holding exactly the loaded demo (or with ``contents="empty"`` an empty ledger, its tables
    made), for a fixture of any scope to alter as it likes.

    On PostgreSQL it is dropped with the run's other databases at the end (or by its fixture earlier).
    """
    server = request.getfixturevalue("postgres_server_url") if kind == "postgres" else None
    return request.getfixturevalue("demo_sources").source(kind, server, contents).copy(folder, file_name)


def ok(result: Result) -> Result:
    """A command that succeeded (else fail, showing what it printed)."""
    assert result.exit_code == 0, result.stderr or result.output
    return result


def ok_json(result: Result) -> Any:
    """What a successful ``--json`` command printed, parsed."""
    return json.loads(ok(result).stdout)


def error_line(result: Result) -> str:
    """The one line a refused command prints: exit status 1, nothing on stdout, ``error: ...`` on stderr."""
    assert result.exit_code == 1 and result.stdout == "", (result.exit_code, result.stdout)
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ")
    return line


def ledger_property() -> settings:
    """The hypothesis settings of a property test over the ledger: the profile OPENBOOK_LEDGER_PROFILE names
    ("ledger-ci" by default, bounded), registered in ``tests/conftest.py``."""
    return settings(settings.get_profile(os.environ.get("OPENBOOK_LEDGER_PROFILE", "ledger-ci")))


#: Organisations to Wirral's 2019-20 settlement: the demo's one list of steps. 169 = 130 + Wirral's 2019-20
#: incentive scheme, its KPI results file and its assessment (demo.wirral_incentives) + Q2 to Q4 returns of the
#: five providers whose Q1 was accepted (demo.returns.LATER_QUARTERS: 3 × (5 filed + 5 accepted + 1 explained))
#: + the audit body's appointment to each of the two agreements (2) + the checkpoint of the head (1).
DEMO_COMMANDS = 169
#: Some commands record several events; the settlement demo adds a pool, activity and payments. 281 = 212 + the
#: scheme (1) + the KPI results (4 providers × (opened + 3 results) = 16) + the assessment (1) + the later
#: quarters (3 × (5 × (drafted + submitted + accepted) + 1 explained) = 48) + the two appointments (2) + the
#: checkpoint's own event (1), the head.
DEMO_EVENTS = 281
#: The position the demo's checkpoint attests (``demo.partnerships.checkpoint_step``): the head before its event.
DEMO_CHECKPOINT = DEMO_EVENTS - 1
