"""Helpers shared by the tests."""

from __future__ import annotations

import json
import os
from typing import Any, TypeVar

import psycopg
from click.testing import Result
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import Mapper
from hypothesis import settings

from ledger.persistence.transcoding import stored_transcoder

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
