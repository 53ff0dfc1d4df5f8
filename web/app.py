"""The Flask application factory: everything is built inside ``create_app``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app

from ledger.application import Ledger
from web import errors
from web.bootstrap import bootstrap
from web.settings import Settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` may hold ``LEDGER`` (an open Ledger, e.g. in tests) or ``SETTINGS``."""
    config = dict(config or {})
    settings: Settings = config.pop("SETTINGS", None) or Settings.from_environ()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key)
    app.config.update(config)
    app.extensions["openbook.ledger"] = app.config.pop("LEDGER", None) or bootstrap(settings)

    errors.init_app(app)
    from web.views import api, public

    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)

    @app.before_request
    def _catch_up() -> None:
        # Another process (the CLI, an import) may have recorded events since.
        ledger_of(current_app).projections.catch_up()

    return app


def ledger_of(app: Flask) -> Ledger:
    return app.extensions["openbook.ledger"]
