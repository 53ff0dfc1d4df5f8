"""Who may open which page: every view declares it, and one gate checks it before the view runs.

A view is either ``@public`` (the login page, ``/healthz``, static files) or
``@allow(Role...)`` (the roles whose pages it belongs to). Anything else is a
mistake that ``check_every_view_declares`` refuses when the app is built, so
a new route cannot go out without a rule, and the route x role test
(tests/web/test_routes_by_role.py) walks ``app.url_map`` with every role.

This is the coarse gate only: "is this a page for accountants?". Whether
*this* accountant may read *this* agreement, or *this* provider *this*
return, is the ledger's question (``ledger.authorisation``): views ask it
through ``access_for`` / the use cases, and its ``NotFound`` becomes a 404 as
if the record did not exist, its ``NotAllowed`` a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, jsonify, redirect, request, url_for
from flask_login import current_user

from domain.envelope import Actor
from domain.organisations.user import Role
from web.errors import error_body

F = TypeVar("F", bound=Callable[..., Any])

ATTRIBUTE = "openbook_access"
PUBLIC = "public"
EVERY_ROLE: tuple[Role, ...] = tuple(Role)


def public(view: F) -> F:
    """Anyone may open this, logged in or not."""
    setattr(view, ATTRIBUTE, PUBLIC)
    return view


def allow(*roles: Role) -> Callable[[F], F]:
    """Only a logged-in user holding one of ``roles`` may open this; others get 403."""
    if not roles:
        raise ValueError("allow() needs at least one role")

    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, frozenset(roles))
        return view

    return mark


def rule_of(app: Flask, endpoint: str) -> str | frozenset[Role] | None:
    if endpoint == "static":
        return PUBLIC
    return getattr(app.view_functions[endpoint], ATTRIBUTE, None)


def check_every_view_declares(app: Flask) -> None:
    """Refuse to build an app with a view that says neither ``@public`` nor ``@allow(...)``."""
    undeclared = sorted(endpoint for endpoint in app.view_functions if rule_of(app, endpoint) is None)
    if undeclared:
        raise RuntimeError(f"these views declare no access rule (@public or @allow): {', '.join(undeclared)}")


def current_actor() -> Actor:
    """The logged-in user as the ledger's actor (username and organisation)."""
    return Actor(user=current_user.username, organisation=current_user.organisation)


def current_roles() -> frozenset[Role]:
    return current_user.roles if current_user.is_authenticated else frozenset()


def _gate(app: Flask) -> Any:
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: Flask answers 404 or 405 itself
        return None
    rule = rule_of(app, endpoint)
    if rule == PUBLIC:
        return None
    if not current_user.is_authenticated:
        if request.path.startswith("/api/"):
            body = error_body("not-logged-in", "send a valid API token: Authorization: Bearer <token>")
            return jsonify(body), 401, {"WWW-Authenticate": "Bearer"}
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    if not (current_user.roles & rule):
        abort(403)
    return None


def init_app(app: Flask) -> None:
    """Install the gate. It runs before CSRF checking, so a role refused is 403 whatever it posts."""
    app.before_request(lambda: _gate(app))
