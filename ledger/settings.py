"""Every setting openbook reads from the environment, in one place.

OPENBOOK_DATABASE_URL       sqlite:///var/openbook.sqlite (default) or postgresql://user@host:5432/db
OPENBOOK_TEST_POSTGRES_URL  the server the tests create their throwaway databases on
OPENBOOK_SECRET_KEY         signs web sessions; a random one per process if unset (sessions end on restart)
OPENBOOK_SIGNING_KEY        path of the Ed25519 key file (PEM PKCS#8) that signs every event and checkpoint
                            (docs/audit.md); none: events are recorded unsigned
OPENBOOK_UPLOADS            the folder uploaded files wait in for the job that imports them (default var/uploads)
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from ledger.persistence.database import DEFAULT_URL

DEFAULT_UPLOADS = "var/uploads"
DEFAULT_TEST_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_URL
    secret_key: str = ""
    signing_key_path: str | None = None
    uploads_path: str = DEFAULT_UPLOADS

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("OPENBOOK_DATABASE_URL") or DEFAULT_URL,
            secret_key=env.get("OPENBOOK_SECRET_KEY") or secrets.token_hex(32),
            signing_key_path=env.get("OPENBOOK_SIGNING_KEY") or None,
            uploads_path=env.get("OPENBOOK_UPLOADS") or DEFAULT_UPLOADS,
        )
