"""The logged-in user as Flask-Login sees them: read from the users read model, with a live server-side session.

The session cookie holds a random session id (``get_id``); the server keeps
its digest (``ledger.security.store.web_sessions``) and can end it: logging
out ends that session, a new password ends all of the user's sessions, and a
deactivated user's sessions load nobody, at their next request.

The API (``/api/``) ignores the session cookie altogether: its requests
carry ``Authorization: Bearer <token>`` (``ledger.security.tokens``), which
names an active user or nobody, so a page a user has open cannot make the
browser call the API for them, and the API needs no CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request
from flask_login import LoginManager, UserMixin
from sqlalchemy import select

from domain.organisations.user import Role
from ledger.projections.organisations import organisations, users
from web.services import book_of


@dataclass(frozen=True)
class WebUser(UserMixin):
    username: str
    display_name: str
    organisation: str
    organisation_name: str
    organisation_kind: str
    roles: frozenset[Role]
    session_id: str

    def get_id(self) -> str:
        return self.session_id

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def home_endpoint(self) -> str:
        """Where this user starts: their first role's page."""
        for role, endpoint in HOMES:
            if role in self.roles:
                return endpoint
        return "auth.account"


#: A user's first page, by role, in this order of preference.
HOMES = (
    (Role.PROVIDER, "provider.dashboard"),
    (Role.ACCOUNTANT, "accountant.inbox"),
    (Role.ADMIN, "admin.home"),
    (Role.AUDITOR, "auditor.home"),
)


def find_user(username: str, session_id: str = "") -> WebUser | None:
    """The active user ``username`` (in session ``session_id``), else None."""
    book = book_of()
    query = (
        select(users, organisations.c.name.label("organisation_name"), organisations.c.kind.label("kind"))
        .join(organisations, organisations.c.code == users.c.organisation)
        .where(users.c.username == username)
    )
    with book.read_engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None or not row.active:
        return None
    return WebUser(
        username=row.username,
        display_name=row.display_name,
        organisation=row.organisation,
        organisation_name=row.organisation_name,
        organisation_kind=row.kind,
        roles=frozenset(Role(r) for r in row.roles.split()),
        session_id=session_id,
    )


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _token_user() -> WebUser | None:
    """The active user whose token the request carries (``Authorization: Bearer …``), or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    username = book_of().security.tokens.user_of(token.strip())
    return find_user(username) if username else None


def init_app(app: Flask) -> None:
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = "Please log in to see that page."
    manager.session_protection = "basic"

    @manager.user_loader
    def _load(session_id: str) -> WebUser | None:
        if is_api_request():
            return None
        username = book_of().security.session_user(session_id)
        return find_user(username, session_id) if username else None

    @manager.request_loader
    def _load_from_token(_request: object) -> WebUser | None:
        return _token_user() if is_api_request() else None

    manager.init_app(app)
