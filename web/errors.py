"""Errors carry their kind: views raise domain errors, one handler renders them with the kind's HTTP status."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request

from domain.errors import KINDS, OpenbookError

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


def status_of(error: OpenbookError) -> int:
    return STATUS.get(error.kind, 500)


def init_app(app: Flask) -> None:
    missing = sorted(set(KINDS) - set(STATUS))
    if missing:  # pragma: no cover - a new kind must say what it means on the web
        raise RuntimeError(f"web/errors.py has no HTTP status for {', '.join(missing)}")

    @app.errorhandler(OpenbookError)
    def _openbook_error(error: OpenbookError) -> tuple[Response | str, int]:
        status = status_of(error)
        if request.path.startswith("/api/"):
            return jsonify(error.as_json()), status
        return render_template("error.html", error=error, status=status), status
