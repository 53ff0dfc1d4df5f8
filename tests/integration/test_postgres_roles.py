"""The PostgreSQL deployment of docs/deployment.md: the application's role may only append to the history.

In a throwaway database owned by a schema-owner role: the owner runs
``openbook database grant-app-role``, the application's role opens the ledger
(creating its own read models), records commands and catches its read models
up, and every statement that would change or unguard the event, hash and
idempotency tables is refused by PostgreSQL itself, the rows and the chain
intact afterwards. The read-model check, which makes a scratch schema, runs
as the application too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.sql import SQL, Identifier
from sqlalchemy.engine import make_url

from cli.main import cli
from ledger.audit.read_models import read_model_differences
from ledger.bootstrap import open_openbook
from ledger.persistence import EVENTS_TABLE, HASHES_TABLE, IDEMPOTENCY_TABLE, SIGNATURES_TABLE
from ledger.persistence.database import Database
from tests.integration.test_event_store import chain_break, env, record_history
from tests.support import ok_json


@pytest.fixture
def deployment(postgres_server_url: str) -> Iterator[tuple[Database, Database]]:
    """(the owner's database URL, the application's) on a new database owned by a new owner role; all dropped after."""
    suffix = uuid.uuid4().hex[:8]
    owner, app, name = f"openbook_owner_{suffix}", f"openbook_app_{suffix}", f"openbook_roles_{suffix}"
    server = make_url(postgres_server_url)
    admin = psycopg.connect(Database.from_url(postgres_server_url).psycopg_conninfo(), autocommit=True)
    admin.execute(SQL("CREATE ROLE {} LOGIN").format(Identifier(owner)))
    admin.execute(SQL("CREATE ROLE {} LOGIN").format(Identifier(app)))
    admin.execute(SQL("CREATE DATABASE {} OWNER {}").format(Identifier(name), Identifier(owner)))
    try:
        as_owner = Database.from_url(server.set(username=owner, database=name).render_as_string(hide_password=False))
        as_app = Database.from_url(server.set(username=app, database=name).render_as_string(hide_password=False))
        yield as_owner, as_app
    finally:
        admin.execute(SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(Identifier(name)))
        admin.execute(SQL("DROP ROLE IF EXISTS {}").format(Identifier(app)))
        admin.execute(SQL("DROP ROLE IF EXISTS {}").format(Identifier(owner)))
        admin.close()


COLUMN = {EVENTS_TABLE: "topic", HASHES_TABLE: "hash", IDEMPOTENCY_TABLE: "digest", SIGNATURES_TABLE: "signature"}


def forbidden(table: str) -> list[str]:
    """What the application's role must not be able to do to an append-only table."""
    return [
        f"UPDATE {table} SET {COLUMN[table]} = 'forged'",
        f"DELETE FROM {table}",
        f"TRUNCATE {table}",
        f"ALTER TABLE {table} DISABLE TRIGGER ALL",
        f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only",
        f"DROP TRIGGER {table}_append_only ON {table}",
        f"ALTER TABLE {table} ADD COLUMN forged text",
        f"ALTER TABLE {table} OWNER TO CURRENT_USER",
        f"DROP TABLE {table}",
        f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE",
        f"CREATE TRIGGER forged BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION openbook_append_only()",
    ]


def test_the_application_role_records_and_reads_but_cannot_change_or_unguard_the_history(deployment):
    as_owner, as_app = deployment
    owner_url = as_owner.url.set(drivername="postgresql").render_as_string(hide_password=False)
    command = ["--database", owner_url, "database", "grant-app-role", as_app.url.username, "--json"]
    granted = ok_json(CliRunner().invoke(cli, command))
    assert granted["append_only_tables"] == sorted([EVENTS_TABLE, HASHES_TABLE, IDEMPOTENCY_TABLE, SIGNATURES_TABLE])
    assert ok_json(CliRunner().invoke(cli, command)) == granted  # safe to repeat (after an upgrade, say)

    book = open_openbook(as_app)  # creates the read models, as the application
    try:
        record_history(book)  # six events, one idempotency claim, read models caught up after each
        book.organisations.register_organisation(env("again"), "delta-care", "Delta Care", "provider")
        assert book.projections.head() == 7
        assert {row["name"]: row["lag"] for row in book.projections.status()}["organisations"] == 0
        assert read_model_differences(book) == []

        with psycopg.connect(as_app.psycopg_conninfo(), autocommit=True) as conn:
            owners = dict(conn.execute("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'"))
            assert owners[EVENTS_TABLE] == owners[HASHES_TABLE] == owners[IDEMPOTENCY_TABLE] == as_owner.url.username
            assert owners["organisations"] == owners["activity_chunks"] == as_app.url.username
            guarded = (EVENTS_TABLE, HASHES_TABLE, IDEMPOTENCY_TABLE, SIGNATURES_TABLE)
            before = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in guarded}
            refused = []
            statements = [s for t in guarded for s in forbidden(t)]
            statements += [
                "SET session_replication_role = replica",
                f"INSERT INTO {HASHES_TABLE} VALUES (1, 'x') "
                "ON CONFLICT (notification_id) DO UPDATE SET hash = 'forged'",
            ]
            for statement in statements:
                with pytest.raises(psycopg.Error) as error, conn.transaction():
                    conn.execute(statement)
                refused.append((statement, type(error.value).__name__))
            # Refused for want of privilege: the triggers are not even reached.
            assert [s for s, kind in refused if kind != "InsufficientPrivilege"] == [], refused
            after = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in before}
            assert after == before
            assert conn.execute("SHOW session_replication_role").fetchone() == ("origin",)
        assert chain_break(book) is None
        book.organisations.rename_organisation(env(), "delta-care", "Delta Care Ltd")  # still records afterwards
        assert book.projections.head() == 8 and chain_break(book) is None
        # A checkpoint excludes other writers through the owner's lock function, as the recorder does.
        recorded = book.checkpoints.record_checkpoint(env("checkpoint"))
        assert recorded["checkpoint"]["position"] == 8 and recorded["recorded_in"] == 9
    finally:
        book.close()
