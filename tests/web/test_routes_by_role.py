"""Every route, for every role and every method, answers as its declared rule says: derived from ``app.url_map``.

A route added without ``@public`` or ``@allow`` stops the app from being
built (``web.access.check_every_view_declares``); a route with an argument
this walk has no example for fails here, naming it. For each (route, method,
role) the walk asserts: anonymous -> the login page (401 on the API); a role
outside the rule -> 403; a role inside it -> neither 401, 403 nor a server
error. A POST without a CSRF token is refused (400) and one with a token but
no fields records nothing. The API (``/api/``) takes no session: each role
calls it with its own bearer token, and a POST there without an
``Idempotency-Key`` is refused (400) and one with a key and an empty JSON
body records nothing.
"""

from __future__ import annotations

from uuid import uuid4

import pytest
from werkzeug.routing import Rule

from tests.web.api_support import bearer, token_for
from tests.web.route_examples import EXAMPLES, FOR_ROUTE
from tests.web.support import USERS, csrf_token, log_in
from web.access import PUBLIC, rule_of

ROLES = {"provider": "provider", "accountant": "accountant", "admin": "admin", "auditor": "auditor"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _routes(app) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda r: r.rule)


def _url(rule: Rule) -> str:
    missing = sorted(set(rule.arguments) - set(EXAMPLES))
    if missing:
        raise AssertionError(f"{rule.rule}: add an example for {', '.join(missing)} to tests/web/route_examples.py")
    examples = {**EXAMPLES, **FOR_ROUTE.get(rule.rule, {})}
    return rule.build({name: examples[name] for name in rule.arguments}, append_unknown=False)[1]


@pytest.fixture(scope="module")
def sessions(app) -> dict[str, str]:
    """One logged-in session cookie per role, reused for every request (cookie sessions are stateless)."""
    cookies = {}
    for role, user_key in ROLES.items():
        client = log_in(app.test_client(), USERS[user_key])
        cookies[role] = client.get_cookie("openbook_session").value
    return cookies


@pytest.fixture(scope="module")
def tokens(demo_book) -> dict[str, str]:
    """One API token per role."""
    return {role: token_for(demo_book, USERS[user_key]) for role, user_key in ROLES.items()}


def _client(app, cookie: str | None):
    client = app.test_client()
    if cookie is not None:
        client.set_cookie("openbook_session", cookie)
    return client


def test_every_route_declares_its_rule_and_the_walk_covers_them_all(app):
    rules = [rule for rule in _routes(app)]
    assert len(rules) >= 10
    for rule in rules:
        assert rule_of(app, rule.endpoint) is not None, rule.rule
        _url(rule)  # every argument has an example


def _api_answers_as_declared(app, url: str, method: str, token: str | None, where: str) -> int:
    """The API's walk for one role with the right to call ``url``: anything but a refusal or a server error."""
    headers = bearer(token) if token else {}
    status = app.test_client().open(url, method=method, headers=headers).status_code
    if token and method != "GET" and status not in (401, 403):
        assert status == 400, where + " (no Idempotency-Key: refused)"
        keyed = app.test_client().open(url, method=method, json={}, headers=bearer(token, str(uuid4())))
        assert keyed.status_code < 500, where
    return status


def test_every_route_answers_every_role_and_method_as_declared(app, sessions, tokens, demo_book):
    head = demo_book.projections.head()
    outcomes = []
    for rule in _routes(app):
        url, declared = _url(rule), rule_of(app, rule.endpoint)
        for method in METHODS:
            if method not in rule.methods:
                continue
            for role in (None, *ROLES):
                where = f"{method} {url} as {role or 'anonymous'}"
                if url.startswith("/api/"):
                    status = _api_answers_as_declared(app, url, method, tokens.get(role), where)
                    client = None
                else:
                    client = _client(app, sessions.get(role))
                    status = client.open(url, method=method).status_code
                outcomes.append((rule.rule, method, role, status))
                where = f"{where}: {status}"
                if declared == PUBLIC:
                    assert status < 500, where
                elif role is None:
                    assert status == (401 if url.startswith("/api/") else 302), where
                elif role not in {r.value for r in declared}:
                    assert status == 403, where
                else:
                    assert status not in (401, 403) and status < 500, where
                    if method != "GET" and client is not None:
                        assert status == 400, where + " (no CSRF token: refused)"
                        if rule.endpoint == "auth.logout":
                            continue  # with a token it would end the shared session (tests/web/test_login.py)
                        with_token = client.open(url, method=method, data={"csrf_token": csrf_token(client, "/account")})
                        assert with_token.status_code < 500, where
    assert demo_book.projections.head() == head  # nothing the walk sent recorded anything
    assert len(outcomes) >= 40


def test_methods_a_route_does_not_take_are_405_not_500(app, sessions):
    client = _client(app, sessions["admin"])
    assert client.delete("/admin/").status_code == 405
    assert client.put("/login").status_code == 405
