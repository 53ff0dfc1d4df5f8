"""The test databases themselves: each copy of the loaded demo is the whole demo and independent of the others,
and a run drops only the databases of runs that are gone (never those of a run still going)."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from domain.envelope import SYSTEM, Envelope
from ledger.bootstrap import open_openbook
from ledger.queries.organisations import list_organisations
from tests.support import DEMO_EVENTS, RUN_TAG, demo_copy, drop_database, drop_stale, maintenance_conninfo


def _codes(book) -> set[str]:
    return {o["code"] for o in list_organisations(book.read_engine)}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_each_demo_copy_is_the_whole_demo_and_independent_of_the_others(request, kind, tmp_path):
    copies = [demo_copy(request, kind, tmp_path) for _ in range(2)]
    try:
        changed = open_openbook(copies[0])
        assert changed.ledger.recorder.max_notification_id() == DEMO_EVENTS
        changed.organisations.register_organisation(Envelope(SYSTEM, date(2021, 1, 1)), "cheshire-icb",
                                                    "Cheshire ICB", "icb")  # fmt: skip
        assert changed.ledger.recorder.max_notification_id() == DEMO_EVENTS + 1 and "cheshire-icb" in _codes(changed)
        changed.close()
        copies.append(demo_copy(request, kind, tmp_path))  # taken after the change: the source is untouched
        for other in copies[1:]:
            book = open_openbook(other)
            try:
                assert book.ledger.recorder.max_notification_id() == DEMO_EVENTS
                assert "cheshire-icb" not in _codes(book) and "wirral-council" in _codes(book)
            finally:
                book.close()
    finally:
        for database in copies:
            drop_database(database)


def test_only_the_databases_of_runs_that_are_gone_are_dropped(postgres_server_url):
    gone, going = "openbook_run_1_0badc0de", "openbook_run_2_0123abcd"  # no process runs as "gone"
    with (psycopg.connect(maintenance_conninfo(), autocommit=True, application_name=going),
          psycopg.connect(maintenance_conninfo(), autocommit=True) as admin):  # fmt: skip
        try:
            for name in (f"{gone}_demo", f"{going}_demo"):
                admin.execute(f'CREATE DATABASE "{name}"')
            dropped = drop_stale(admin)
            assert f"{gone}_demo" in dropped and not [name for name in dropped if name.startswith((going, RUN_TAG))]
            left = {name for (name,) in admin.execute("SELECT datname FROM pg_database")}
            assert f"{going}_demo" in left and RUN_TAG in left and f"{gone}_demo" not in left
        finally:
            for name in (f"{gone}_demo", f"{going}_demo"):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
