"""Settings: the database URL is checked once, with messages a user can act on, never showing a password."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from domain.errors import SettingsError
from ledger import faults
from ledger.bootstrap import bootstrap
from ledger.persistence.database import DEFAULT_URL, Database
from ledger.settings import Settings
from tests.support import error_line


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
        "POSTGRES_PRE_PING": "y",  # a pooled connection the server dropped is replaced, not handed to a request
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
    assert first.secret_key == second.secret_key == ""  # unset: the instance folder's key (below)
    assert first.instance_path == "var" and first.max_upload_mb == 150
    assert first.fault_point is None


def test_a_fault_point_is_read_with_the_settings_and_an_unknown_one_refused_at_start_up(tmp_path):
    assert Settings.from_environ({"OPENBOOK_FAULT": " record.after-commit "}).fault_point == "record.after-commit"
    with pytest.raises(SettingsError, match="OPENBOOK_FAULT: 'record.whenever' names no fault point; known: activity"):
        Settings.from_environ({"OPENBOOK_FAULT": "record.whenever"})

    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    refused = CliRunner().invoke(cli, ["--database", url, "organisations", "list"], env={"OPENBOOK_FAULT": "nowhere"})
    assert error_line(refused).startswith("error: OPENBOOK_FAULT: 'nowhere' names no fault point")
    assert not (tmp_path / "ledger.sqlite").exists()  # refused before the database was opened

    try:  # bootstrap installs the point (the crash tests' processes then die there) and, unset, none
        bootstrap(Settings(database_url=url, fault_point="record.after-commit")).close()
        assert faults.fault_point is not faults._never
        bootstrap(Settings(database_url=url)).close()
        assert faults.fault_point is faults._never
    finally:
        faults.install(None)


def test_the_web_secret_key_is_made_once_in_the_instance_folder_and_reused(tmp_path):
    settings = Settings(instance_path=str(tmp_path / "instance"))
    key = settings.web_secret_key()
    again = Settings(instance_path=str(tmp_path / "instance")).web_secret_key()

    assert key == again and len(key) == 64
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert Settings(secret_key="k" * 40, instance_path=str(tmp_path / "other")).web_secret_key() == "k" * 40
    assert not (tmp_path / "other").exists()


def test_a_truncated_secret_key_file_is_refused_not_used(tmp_path):
    (tmp_path / "secret_key").write_text("short")
    with pytest.raises(SettingsError, match="too short"):
        Settings(instance_path=str(tmp_path)).web_secret_key()


def test_the_upload_limit_is_bounded():
    assert Settings.from_environ({"OPENBOOK_MAX_UPLOAD_MB": "200"}).max_upload_mb == 200
    for bad in ("0", "5000", "lots"):
        with pytest.raises(SettingsError, match="OPENBOOK_MAX_UPLOAD_MB"):
            Settings.from_environ({"OPENBOOK_MAX_UPLOAD_MB": bad})


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
    assert empty.database_url == DEFAULT_URL and empty.signing_key_path is None and empty.secret_key == ""


def test_settings_default_to_the_process_environment(monkeypatch):
    monkeypatch.setenv("OPENBOOK_DATABASE_URL", "sqlite:///elsewhere.sqlite")
    monkeypatch.delenv("OPENBOOK_SIGNING_KEY", raising=False)
    assert Settings.from_environ().database_url == "sqlite:///elsewhere.sqlite"
