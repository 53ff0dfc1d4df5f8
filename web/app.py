"""The Flask application factory: everything is built inside ``create_app``.

Requests only read: they never replay events. Commands catch the read models
up after recording, and ``openbook projections follow`` (run by ``openbook
serve``, or on its own beside gunicorn) applies what other processes record;
until then every page says how far behind its figures are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from ledger.bootstrap import bootstrap
from ledger.settings import Settings
from web import errors, services
from web.views import api, public, status


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` may hold ``OPENBOOK`` (an open ``Openbook``, e.g. in tests) or ``SETTINGS``."""
    config = dict(config or {})
    settings: Settings = config.pop("SETTINGS", None) or Settings.from_environ()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key)
    app.config.update(config)
    app.extensions[services.KEY] = app.config.pop("OPENBOOK", None) or bootstrap(settings)

    errors.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(status.bp)
    return app
