"""The Flask application factory: everything is built inside ``create_app``.

Requests only read: they never replay events. Commands catch the read models
up after recording, and ``openbook projections follow`` (run by ``openbook
serve``, or on its own beside gunicorn) applies what other processes record;
until then every page says how far behind its figures are.

Order matters in three places: the access gate is installed before CSRF
protection, so a role refused is 403 whatever it posts; every blueprint is
registered before ``check_every_view_declares``, so no route goes out
without an access rule; and the login manager comes before the blueprints
that read ``current_user``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from ledger.bootstrap import bootstrap
from ledger.settings import Settings
from web import access, as_at, errors, filters, navigation, security, services, tables, users
from web.accountant import bp as accountant_bp
from web.admin import bp as admin_bp
from web.api import bp as api_bp
from web.auditor import bp as auditor_bp
from web.auth import bp as auth_bp
from web.provider import bp as provider_bp
from web.views import issued_statements, statements, status


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` may hold ``OPENBOOK`` (an open ``Openbook``, e.g. in tests) or ``SETTINGS``."""
    config = dict(config or {})
    settings: Settings = config.pop("SETTINGS", None) or Settings.from_environ()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.web_secret_key(),
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        OPENBOOK_INSTANCE=settings.instance_path,
        OPENBOOK_EXPORT_RETENTION_DAYS=settings.export_retention_days,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session: a long form is not lost at lunch
    )
    app.config.update(config)
    app.extensions[services.KEY] = app.config.pop("OPENBOOK", None) or bootstrap(settings)

    if settings.trusted_proxies:  # behind a proxy: the client's own address and scheme, from the proxy's headers
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    security.init_app(app, https=settings.https)
    errors.init_app(app)
    tables.init_app(app)
    filters.init_app(app)
    users.init_app(app)
    access.init_app(app)
    as_at.init_app(app)
    CSRFProtect(app).exempt(api_bp)  # the API takes no cookies, only bearer tokens: nothing for a forgery to ride on
    for blueprint in (auth_bp, provider_bp, accountant_bp, admin_bp, auditor_bp, statements.bp, issued_statements.bp,
                      api_bp, status.bp):
        app.register_blueprint(blueprint)
    access.check_every_view_declares(app)

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        roles = current_user.roles if current_user.is_authenticated else frozenset()
        return {"navigation": navigation.entries_for(app, roles)}

    return app
