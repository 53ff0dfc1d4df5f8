"""Errors carry their HTTP status: views raise domain errors, one handler renders them."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request

from domain.errors import Conflict, InvalidInput, NotFound, OpenbookError, RuleBroken

STATUS: dict[type[OpenbookError], int] = {
    InvalidInput: 400,
    NotFound: 404,
    Conflict: 409,
    RuleBroken: 422,
}


def status_of(error: OpenbookError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


def init_app(app: Flask) -> None:
    @app.errorhandler(OpenbookError)
    def _openbook_error(error: OpenbookError) -> tuple[Response | str, int]:
        status = status_of(error)
        if request.path.startswith("/api/"):
            return jsonify(error=str(error), kind=type(error).__name__), status
        return render_template("error.html", error=error, status=status), status
