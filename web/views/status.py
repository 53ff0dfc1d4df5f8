"""Is it up, and how current are its figures: ``/healthz`` (public) for liveness, ``/status`` (logged in) and the "behind" banner.

``/healthz`` never touches the database, so a liveness probe restarts the app
only when the app itself is dead, not when the database is slow. ``/status``
and the banner every page shows read how far each read model is behind the
history (pages never replay events: ``openbook projections follow`` or the
next command catches up). Every logged-in user may read them, so a stopped read
model shows the event's position, topic and the kind of error only: the error's
text may quote the event's data and stays in ``openbook projections status``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_login import current_user

from ledger.bootstrap import Openbook
from web.access import EVERY_ROLE, allow, public
from web.services import book_of

bp = Blueprint("status", __name__)


@bp.get("/healthz")
@public
def healthz() -> tuple[str, int, dict[str, str]]:
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/status")
@allow(*EVERY_ROLE)
def status() -> dict[str, Any]:
    return read_models(book_of())


@bp.app_context_processor
def _banner() -> dict[str, Any]:
    """The banner is for logged-in pages only: the login page never touches the read models."""
    return {"read_models": read_models(book_of())} if current_user.is_authenticated else {}


def read_models(book: Openbook) -> dict[str, Any]:
    """The head, how far behind the furthest-behind read model is, and each one's position and stop (no error text)."""
    rows = book.projections.status()
    return {
        "head": rows[0]["head"] if rows else book.projections.head(),  # the head the rows were measured against
        "behind": max((row["lag"] for row in rows), default=0),
        "stopped": any(row["error"] for row in rows),
        "projections": [
            {
                "name": row["name"],
                "position": row["position"],
                "behind": row["lag"],
                "stopped": _stop(row["error"]),
            }
            for row in rows
        ],
    }


def _stop(error: dict[str, Any] | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {
        "before_event": error["position"],
        "topic": error["topic"],
        "kind": error["kind"],
        "since": error["failed_at"],
    }
