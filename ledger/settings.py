"""Every setting openbook reads from the environment, in one place.

OPENBOOK_DATABASE_URL       sqlite:///var/openbook.sqlite (default) or postgresql://user@host:5432/db
OPENBOOK_TEST_POSTGRES_URL  the server the tests create their throwaway databases on
OPENBOOK_SECRET_KEY         signs web sessions and CSRF tokens; when unset, one is generated once into the
                            instance folder (<instance>/secret_key, mode 0600) and reused by every process
OPENBOOK_INSTANCE           the instance folder: the generated secret key, uploaded files (default var)
OPENBOOK_HTTPS              1 when the web app is served over https (behind a proxy that terminates TLS):
                            session cookies are then sent only over https (Secure) and HSTS is set
OPENBOOK_TRUSTED_PROXIES    how many proxies in front of the web app set X-Forwarded-For/-Proto (default 0): with
                            the README's proxy, 1 - so login throttling counts each client's own address
OPENBOOK_PASSWORD_HASHING   fast: argon2's cheapest parameters, for the test suite only (ledger/security/passwords.py)
OPENBOOK_MAX_UPLOAD_MB      the largest file the web app accepts, in MB (default 150: an activity file of
                            1,000,000 rows is about 100 MB)
OPENBOOK_MAX_IMPORT_MB      the largest activity file the CLI or a job imports, in MB (default 1024: ten times a
                            year of a million visits; 1..16384): a bigger one is refused before it is read
OPENBOOK_EXPORT_RETENTION_DAYS  how long an export an auditor asked for from the pages stays for its download
                            (default 7; 1 to 365): older ones are cleared when the next export is asked for
OPENBOOK_SIGNING_KEY        path of the Ed25519 key file (PEM PKCS#8) that signs every event and checkpoint
                            (docs/audit.md); none: events are recorded unsigned
OPENBOOK_FAULT              a named point at which the process kills itself (ledger/faults.py): for the crash
                            tests only, never on a deployment; an unknown name is refused at start-up
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from domain.errors import SettingsError
from ledger.faults import FAULT_ENV, POINTS
from ledger.files.visit_files import MAX_FILE_MB
from ledger.persistence.database import DEFAULT_URL

DEFAULT_TEST_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_URL
    secret_key: str = ""  # empty: read (or make once) <instance>/secret_key: ``instance_secret_key``
    signing_key_path: str | None = None
    instance_path: str = "var"
    max_upload_mb: int = 150
    export_retention_days: int = 7  # <instance>/exports: ledger.jobs.export_history.clear_expired
    max_import_mb: int = MAX_FILE_MB
    https: bool = False
    trusted_proxies: int = 0
    fault_point: str | None = None  # the crash tests' point to die at (ledger/faults.py), installed by bootstrap

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("OPENBOOK_DATABASE_URL") or DEFAULT_URL,
            secret_key=env.get("OPENBOOK_SECRET_KEY") or "",
            signing_key_path=env.get("OPENBOOK_SIGNING_KEY") or None,
            instance_path=env.get("OPENBOOK_INSTANCE") or "var",
            max_upload_mb=_bounded_int(env, "OPENBOOK_MAX_UPLOAD_MB", 150, 1, 2048),
            max_import_mb=_bounded_int(env, "OPENBOOK_MAX_IMPORT_MB", MAX_FILE_MB, 1, 16384),
            export_retention_days=_bounded_int(env, "OPENBOOK_EXPORT_RETENTION_DAYS", 7, 1, 365),
            https=(env.get("OPENBOOK_HTTPS") or "0") == "1",
            trusted_proxies=_bounded_int(env, "OPENBOOK_TRUSTED_PROXIES", 0, 0, 5),
            fault_point=_fault_point(env),
        )

    def web_secret_key(self) -> str:
        """The configured secret key, else the instance folder's (made once, mode 0600, then reused).

        Never random per process: with several gunicorn workers, or after a
        restart, a per-process key would log everyone out and fail every form.
        """
        return self.secret_key or instance_secret_key(Path(self.instance_path))

    @property
    def uploads_folder(self) -> Path:
        """Where uploaded files wait for the background job that imports them (docs/jobs.md): <instance>/uploads."""
        return Path(self.instance_path) / "uploads"

    @property
    def exports_folder(self) -> Path:
        """Where the exports auditors ask for from the pages are written, each in a folder of its own, for their
        download (docs/jobs.md) for ``export_retention_days``: <instance>/exports."""
        return Path(self.instance_path) / "exports"


def instance_secret_key(folder: Path) -> str:
    """Read ``folder/secret_key``, creating it (mode 0600) the first time.

    The new key is written to a private temporary file and hard-linked into
    place, which fails if another process got there first: every process
    then reads the one key that won, never a half-written file.
    """
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = path.read_text().strip()
    if len(key) < 32:
        raise SettingsError(f"{path}: the secret key is too short; delete the file to make a new one")
    return key


def _bounded_int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = env.get(name) or ""
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name}: {text!r} is not a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}: {value} is outside {low}..{high}")
    return value


def _fault_point(env: Mapping[str, str]) -> str | None:
    point = (env.get(FAULT_ENV) or "").strip()
    if point and point not in POINTS:
        raise SettingsError(f"{FAULT_ENV}: {point[:80]!r} names no fault point; known: {', '.join(POINTS)}")
    return point or None
