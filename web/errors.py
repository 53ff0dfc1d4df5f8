"""Errors carry their kind: views raise domain errors, one handler renders them with the kind's HTTP status.

Every error page is the same template with a title and a message meant for
the user: never a stack trace, a database URL, a file path or a version. An
unexpected exception is logged in full on the server and shown as a plain
500 page.

Under ``/api/`` the same errors are JSON in one shape (``error_body``):
``{"kind", "message", "fields": [{"field", "message"}]}``, the kind one of
``domain/errors.py``'s (a refusal by the role gate or by Flask itself takes
the kind of its status: 403 is ``not-allowed`` whichever refused it), or
``not-logged-in`` (401), or ``http-<status>`` for a status no kind has
(405, 413). A problem "lines.pension: must not be negative" names its
field; one that names none has ``field`` null.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterable
from typing import Any

import eventsourcing.persistence
import psycopg
import sqlalchemy.exc
from flask import Flask, Response, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from domain.errors import KINDS, OpenbookError
from ledger.persistence.failures import BUG, CONFLICT, classify
from ledger.projections.runner import describe

log = logging.getLogger(__name__)

#: The HTTP status of each kind of error (``domain.errors.KINDS``); a test checks every kind has one.
STATUS: dict[str, int] = {
    "invalid-input": 400,
    "not-allowed": 403,
    "not-found": 404,
    "conflict": 409,
    "concurrency-conflict": 409,
    "idempotency-mismatch": 409,
    "rule-broken": 422,
    "integrity": 500,
    "unavailable": 503,
    "settings": 500,
}

#: What a page says for each HTTP status (the kind's message, when there is one, says more).
TITLES = {
    400: ("Something in the request was not right", "Please check what you entered and try again."),
    401: ("Not logged in", "Please log in."),
    403: ("Not allowed", "Your role does not allow this page or action."),
    404: ("Not found", "There is nothing here, or it is not yours to see."),
    405: ("Not allowed this way", "That page cannot be used like this."),
    409: ("Changed by someone else", "Someone else changed this first, or the form was sent twice with new values. "
                                     "Nothing was recorded: reload the page and try again."),
    413: ("File too large", "The file is larger than this site accepts."),
    422: ("Not possible now", "A rule of the agreement does not allow this now. Nothing was recorded."),
    429: ("Too many attempts", "Please wait a while before trying again."),
    500: ("Something went wrong", "Something went wrong on our side. Nothing was recorded; please try again."),
    503: ("Not available", "The ledger is not available just now. Please try again in a minute."),
}


_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\[\]-]*): (.+)$", re.DOTALL)


def error_body(kind: str, message: str, problems: Iterable[str] = ()) -> dict[str, Any]:
    """The API's one error shape: the kind, the message, and each problem apart from the field it names."""
    fields = []
    for problem in problems:
        named = _FIELD.match(problem)
        fields.append({"field": named[1], "message": named[2]} if named else {"field": None, "message": problem})
    return {"kind": kind, "message": message, "fields": fields}


#: The kind of a refusal that carries only its status (the role gate's 403, Flask's 404): the kind's own status.
KIND_OF_STATUS = {400: "invalid-input", 403: "not-allowed", 404: "not-found", 409: "conflict", 422: "rule-broken",
                  503: "unavailable"}  # fmt: skip


#: Every layer's database errors (SQLAlchemy for the read models, the eventsourcing library for the events, the
#: drivers): each is answered by what ``ledger.persistence.failures.classify`` makes of it - the database unreachable
#: a 503, two transactions in each other's way a 409, anything else (a missing table, a syntax error) a logged 500.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy.exc.DBAPIError,
    sqlalchemy.exc.TimeoutError,
    eventsourcing.persistence.PersistenceError,
    psycopg.Error,
    sqlite3.Error,
)
UNREACHABLE = (
    "The ledger's database cannot be reached just now. Anything this request was recording was recorded whole or "
    "not at all: please try again in a minute (a form sent again is never recorded twice)."
)
#: Seconds a client is asked to wait before trying again when the database is down.
RETRY_AFTER_SECONDS = 30


def status_of(error: OpenbookError) -> int:
    return STATUS.get(error.kind, 500)


def _render(status: int, message: str | None = None, problems: list[str] | None = None, kind: str | None = None):
    title, default = TITLES.get(status, TITLES[500])
    if request.path.startswith("/api/"):
        kind = kind or KIND_OF_STATUS.get(status, f"http-{status}")
        return jsonify(error_body(kind, message or default, problems or [])), status
    return render_template("error.html", title=title, message=message or default, problems=problems), status


def init_app(app: Flask) -> None:
    missing = sorted(set(KINDS) - set(STATUS))
    if missing:  # pragma: no cover - a new kind must say what it means on the web
        raise RuntimeError(f"web/errors.py has no HTTP status for {', '.join(missing)}")

    @app.errorhandler(OpenbookError)
    def _openbook_error(error: OpenbookError) -> tuple[Response | str, int]:
        status = status_of(error)
        if status >= 500:
            log.error("%s on %s %s: %s", error.kind, request.method, request.path, error)
            return _render(status, kind=error.kind)  # the message may name the database or a file: not shown
        if status == 404:  # one answer whether it does not exist or is another's: no message tells them apart
            return _render(status, kind=error.kind)
        return _render(status, str(error), error.problems, error.kind)

    def _database_failed(error: Exception) -> tuple[Response | str, int] | tuple[Response | str, int, dict[str, str]]:
        failure = classify(error)
        if failure == BUG:
            return _unexpected(error)
        if failure == CONFLICT:  # rolled back whole by the database: sending it again works
            log.warning("concurrency conflict on %s %s: %s", request.method, request.path, describe(error))
            return _render(409, kind="concurrency-conflict")
        log.error("database unavailable on %s %s: %s", request.method, request.path, describe(error))
        g._login_user = app.login_manager.anonymous_user()  # so the page renders without the database
        body, status = _render(503, UNREACHABLE, kind="unavailable")
        return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    for family in DATABASE_ERRORS:
        app.register_error_handler(family, _database_failed)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[Response | str, int]:
        return _render(400, "The form had expired or did not come from this site. Nothing was recorded: "
                       "go back, reload the page and send it again.", kind="csrf")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[Response | str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        if error.code == 413 and app.config.get("MAX_CONTENT_LENGTH"):
            limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
            return _render(413, f"The file is larger than this site accepts: at most {limit:,} MB. Nothing was kept.")
        return _render(error.code)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response | str, int]:
        log.exception("unexpected error on %s %s", request.method, request.path, exc_info=error)
        return _render(InternalServerError.code)
