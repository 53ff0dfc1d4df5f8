"""What the app serves, for the app and its blueprints alike: the ledger built by ``create_app``.

Blueprints import this module, never ``web.app``, so the app factory and its
blueprints do not import each other.
"""

from __future__ import annotations

from flask import Flask

from ledger.application import Ledger

KEY = "openbook.ledger"


def ledger_of(app: Flask) -> Ledger:
    return app.extensions[KEY]
