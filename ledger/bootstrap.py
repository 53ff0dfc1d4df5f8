"""The composition root: read settings, check the database, build the ledger.

Nothing happens at import time; the CLI and create_app call ``bootstrap``.
"""

from __future__ import annotations

from ledger.application import Ledger
from ledger.persistence.database import Database
from ledger.settings import Settings


def bootstrap(settings: Settings | None = None) -> Ledger:
    settings = settings or Settings.from_environ()
    database = Database.from_url(settings.database_url)
    database.check_reachable()
    return Ledger(database)
