"""Shared fixtures: openbook on each database, and the ``openbook`` command line on the same database.

Ledger tests run on SQLite and PostgreSQL. Each test run creates its own
PostgreSQL database on OPENBOOK_TEST_POSTGRES_URL and drops it afterwards;
each test gets its own copy of an empty ledger (every table made, nothing
recorded: creating the tables takes about a second on PostgreSQL, copying
them a fraction), made once per database kind in the test process
(``tests.support.DemoSources``). A test marked ``demo`` starts instead on its
own copy of the loaded demo. A test of table creation itself (what a new
database gets, ``create_tables=False``, the DDL) is marked ``empty_database``:
it gets a database with no tables (SQLite: a new file; PostgreSQL: an emptied
``public`` schema of the run's database). With OPENBOOK_REQUIRE_POSTGRES=1 (CI) a
missing server fails the run instead of skipping.
"""

from __future__ import annotations

import os

# Before anything imports ledger.security.passwords: cheap argon2 parameters for the suite's many logins.
os.environ.setdefault("OPENBOOK_PASSWORD_HASHING", "fast")

import decimal  # noqa: E402
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings
from sqlalchemy.engine import make_url

from cli.main import cli
from ledger.bootstrap import Openbook, open_openbook
from ledger.persistence.database import Database
from ledger.settings import DEFAULT_TEST_POSTGRES_URL
from tests.support import (
    RUN_TAG,
    DemoSources,
    demo_copy,
    drop_database,
    drop_stale,
    empty_postgres_schema,
    maintenance_conninfo,
)

REQUIRE_POSTGRES = os.environ.get("OPENBOOK_REQUIRE_POSTGRES") == "1"

#: Hypothesis profiles for property tests over the ledger, whose every example opens a fresh database and records
#: dozens of commands: "ledger-ci" (the default: few examples, so ``make test`` and CI stay bounded) and
#: "ledger-thorough" (many, for a search before a release). Choose with OPENBOOK_LEDGER_PROFILE; a test applies
#: the chosen one with ``@tests.support.ledger_property``. No deadline: one example takes seconds on PostgreSQL.
settings.register_profile(
    "ledger-ci", max_examples=6, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
settings.register_profile("ledger-thorough", settings.get_profile("ledger-ci"), max_examples=200)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A throwaway database for this test run, dropped at the end with every other database the run made.

    The maintenance connection stays open for the run, named with the run's tag (``tests.support.RUN_TAG``),
    which every database the run makes starts with; databases of earlier runs that are gone are dropped first.
    """
    base = os.environ.get("OPENBOOK_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL)
    try:
        admin = psycopg.connect(maintenance_conninfo(), autocommit=True, connect_timeout=5, application_name=RUN_TAG)
    except psycopg.Error as e:
        message = f"PostgreSQL test server {make_url(base).render_as_string(hide_password=True)} unreachable: {e}"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " (OPENBOOK_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(message)
    drop_stale(admin)
    admin.execute(f'CREATE DATABASE "{RUN_TAG}"')
    try:
        yield make_url(base).set(database=RUN_TAG).render_as_string(hide_password=False)
    finally:
        made = admin.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (RUN_TAG,)).fetchall()
        for (name,) in made:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def demo_sources(tmp_path_factory: pytest.TempPathFactory) -> DemoSources:
    """The demo, loaded at most once per database kind in this process; ``demo_copy`` takes copies of it."""
    return DemoSources(tmp_path_factory.mktemp("demo"))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database URL, once on SQLite and once on PostgreSQL: a copy of an empty ledger (every table made,
    nothing recorded), or for a test marked ``demo`` a copy of the loaded demo (as if the test had begun with
    ``load_demo(book)``), or for a test marked ``empty_database`` a database with no tables at all. No test sees
    another's changes."""
    if request.node.get_closest_marker("empty_database"):
        if request.param == "sqlite":
            yield f"sqlite:///{tmp_path}/ledger.sqlite"
            return
        url = request.getfixturevalue("postgres_server_url")
        empty_postgres_schema(Database.from_url(url).psycopg_conninfo())
        yield url
        return
    contents = "demo" if request.node.get_closest_marker("demo") else "empty"
    copy = demo_copy(request, request.param, tmp_path, contents, file_name="ledger.sqlite")
    try:
        yield copy.url.render_as_string(hide_password=False)
    finally:
        drop_database(copy)


@pytest.fixture
def database(database_url: str) -> Database:
    return Database.from_url(database_url)


@pytest.fixture
def open_book(database: Database) -> Iterator[Callable[[], Openbook]]:
    """Open (and finally close) as many openbook instances on the test database as a test needs."""
    opened: list[Openbook] = []

    def _open() -> Openbook:
        book = open_openbook(database)
        opened.append(book)
        return book

    yield _open
    for book in opened:
        book.close()


@pytest.fixture
def book(open_book: Callable[[], Openbook]) -> Openbook:
    return open_book()


@pytest.fixture
def openbook(database_url: str) -> Callable[..., Result]:
    """Run ``openbook --database <test database> [--as USER] ARGS...`` through the real entry point.

    The main group builds its context and opens the ledger (``ledger.bootstrap``)
    as it does for a user, and its error handling turns refusals into one line;
    stdout and stderr are kept apart. ``OPENBOOK_USER`` is unset, so a command
    acts as the system unless ``as_user`` names someone.
    """
    runner = CliRunner()

    def run(*args: str, as_user: str | None = None) -> Result:
        who = ["--as", as_user] if as_user else []
        return runner.invoke(cli, ["--database", database_url, *who, *args], env={"OPENBOOK_USER": None})

    return run


@pytest.fixture
def hostile_default_context() -> Iterator[decimal.Context]:
    """The thread's default decimal context at 6 digits, rounding down, for one test; restored afterwards.

    Money never depends on it (every sum and rounding is in ``domain.money.EXACT``), so a test under it
    must give the same pennies as under Python's own default (28 digits, half even).
    """
    context = decimal.getcontext()
    saved = context.copy()
    context.prec, context.rounding = 6, decimal.ROUND_DOWN
    try:
        yield context
    finally:
        decimal.setcontext(saved)
