"""Settings: the database URL is checked once, with messages a user can act on, never showing a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import SettingsError
from ledger.persistence.database import DEFAULT_URL, Database
from ledger.settings import Settings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("nonsense", ["'nonsense' is not a URL", "sqlite:///", "postgresql://"]),
        ("postgresql//alice:s3cret@db.example/ledger", ["'postgresql//alice:***@db.example/ledger' is not a URL"]),
        ("sqlite://", ["in-memory SQLite database cannot be shared", "give a file path"]),
        ("sqlite:///:memory:", ["in-memory SQLite database cannot be shared"]),
        ("sqlite:///file:ledger?mode=memory&uri=true", ["in-memory SQLite database cannot be shared"]),
        ("mysql://alice:s3cret@db.example/ledger", ["'mysql://alice:***@db.example/ledger'", "unsupported database 'mysql'"]),
        ("postgresql://alice:s3cret@db.example:5432", ["'postgresql://alice:***@db.example:5432'", "needs a host and a database name"]),
        ("postgresql:///ledger", ["needs a host and a database name"]),
        ("postgresql://alice:s3cret@db.example:54x2/ledger", ["alice:***@db.example"]),
    ],
    ids=["not-a-url", "not-a-url-with-password", "sqlite-memory", "sqlite-memory-name", "sqlite-memory-uri", "mysql",
         "postgres-without-database", "postgres-without-host", "postgres-bad-port"],
)
def test_unusable_urls_are_refused_clearly_without_the_password(url, expected):
    with pytest.raises(SettingsError) as refused:
        Database.from_url(url)

    message = str(refused.value)
    assert message.startswith("database URL ")
    for part in expected:
        assert part in message
    assert "s3cret" not in message


def test_postgres_urls_show_without_the_password_and_use_psycopg():
    database = Database.from_url("  postgres://alice:s3cret@db.example:6543/ledger  ")

    assert str(database) == "postgresql://alice:***@db.example:6543/ledger"
    assert "s3cret" not in repr(str(database))
    assert database.url.drivername == "postgresql+psycopg"
    assert not database.is_sqlite
    assert database.eventsourcing_env() == {
        "PERSISTENCE_MODULE": "ledger.persistence.postgres:PostgresLedgerFactory",
        "POSTGRES_DBNAME": "ledger",
        "POSTGRES_HOST": "db.example",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "alice",
        "POSTGRES_PASSWORD": "s3cret",
        "POSTGRES_LOCK_TIMEOUT": "10",
        "POSTGRES_CONNECT_TIMEOUT": "5",
    }


def test_the_postgres_port_defaults_to_5432():
    env = Database.from_url("postgresql://alice@db.example/ledger").eventsourcing_env()
    assert env["POSTGRES_PORT"] == "5432" and env["POSTGRES_PASSWORD"] == ""


def test_sqlite_urls_name_the_file(tmp_path: Path):
    database = Database.from_url(f"sqlite:///{tmp_path}/books.sqlite")

    assert database.is_sqlite
    assert str(database) == f"sqlite:///{tmp_path}/books.sqlite"
    assert database.sqlite_path == tmp_path / "books.sqlite"
    assert database.eventsourcing_env() == {
        "PERSISTENCE_MODULE": "ledger.persistence.sqlite:SQLiteLedgerFactory",
        "SQLITE_DBNAME": str(tmp_path / "books.sqlite"),
        "SQLITE_LOCK_TIMEOUT": "10",
    }


@pytest.mark.parametrize("missing", [None, ""])
def test_no_url_means_the_default_sqlite_file(missing):
    database = Database.from_url(missing)
    assert str(database) == DEFAULT_URL == "sqlite:///var/openbook.sqlite"
    assert database.sqlite_path == Path("var/openbook.sqlite")


def test_settings_defaults():
    first, second = Settings.from_environ({}), Settings.from_environ({})

    assert first.database_url == DEFAULT_URL
    assert first.signing_key_path is None
    assert len(first.secret_key) == 64 and int(first.secret_key, 16) >= 0
    assert first.secret_key != second.secret_key  # a fresh random key per process when unset


def test_settings_read_the_environment_and_treat_empty_as_unset():
    settings = Settings.from_environ(
        {
            "OPENBOOK_DATABASE_URL": "postgresql://alice@db.example/ledger",
            "OPENBOOK_SECRET_KEY": "k" * 40,
            "OPENBOOK_SIGNING_KEY": "/etc/openbook/signing.key",
        }
    )
    assert settings == Settings("postgresql://alice@db.example/ledger", "k" * 40, "/etc/openbook/signing.key")

    empty = Settings.from_environ({"OPENBOOK_DATABASE_URL": "", "OPENBOOK_SECRET_KEY": "", "OPENBOOK_SIGNING_KEY": ""})
    assert empty.database_url == DEFAULT_URL and empty.signing_key_path is None and len(empty.secret_key) == 64


def test_settings_default_to_the_process_environment(monkeypatch):
    monkeypatch.setenv("OPENBOOK_DATABASE_URL", "sqlite:///elsewhere.sqlite")
    monkeypatch.delenv("OPENBOOK_SIGNING_KEY", raising=False)
    assert Settings.from_environ().database_url == "sqlite:///elsewhere.sqlite"
