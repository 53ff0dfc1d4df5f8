"""What the app serves, for the app and its blueprints alike: the ``Openbook`` built by ``create_app``.

Blueprints import this module, never ``web.app``, so the app factory and its
blueprints do not import each other.
"""

from __future__ import annotations

from flask import Flask, current_app

from ledger.bootstrap import Openbook

KEY = "openbook"


def book_of(app: Flask | None = None) -> Openbook:
    """The application the web app serves (the current app's by default)."""
    return (app or current_app).extensions[KEY]
