"""``?as_at=``: a page's figures as the ledger knew them at a log position or a moment, not as they are now.

The same resolution as the CLI's ``--as-at`` (``ledger.queries.as_at``): a
position as given, a date or time as every event recorded by then. Queries
answer unchanged on the engine ``known_at`` gives, so a view only swaps its
engine; its template shows ``macros/as_at.html``'s box (a labelled field for
a position or a date) and, when the view is not live, the banner naming the
position and when it was recorded. A page as at the past offers no action: a
command acts on the ledger as it is now.
"""

from __future__ import annotations

from flask import request
from sqlalchemy import Engine

from domain.errors import InvalidInput
from ledger.queries.as_at import AsAt, known_at, resolve_as_at
from web.services import book_of

__all__ = ["AsAt", "requested", "read_engine"]


def requested() -> AsAt | None:
    """The request's ``?as_at=`` resolved, or None (live) when it is absent or blank; a bad one is a 400."""
    asked = request.args.get("as_at", "").strip()
    if not asked:
        return None
    book = book_of()
    try:
        return resolve_as_at(book.ledger.recorder, book.ledger.mapper, book.read_engine, asked)
    except InvalidInput as e:
        raise InvalidInput(str(e).replace("--as-at", "as_at")) from None


def read_engine(as_at: AsAt | None) -> Engine:
    """The engine a view reads with: the live read models, or as known at ``as_at``."""
    return known_at(book_of().read_engine, as_at)
