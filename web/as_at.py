"""``?as_at=``: every page's figures as the ledger knew them at a log position or a moment, not as they are now.

The same resolution as the CLI's ``--as-at`` (``ledger.queries.as_at``): a
position as given, a date or time as every event recorded by then. Queries
answer unchanged on the engine ``known_at`` gives, so pages differ only in
the engine they read with, and that comes from one place: ``read_engine()``.

- The request's ``?as_at=`` is resolved once, before the view (``_resolve``);
  a bad one is a 400, and any request but a GET with one is refused: a page
  as known in the past offers no action, as a command acts on the ledger as
  it is now.
- A view reads the read models through ``read_engine()`` (or asks
  ``current()`` for the position, to read the store up to it); either marks
  the page as one that honours ``as_at``, and the base template then shows
  the box (a date picker and a position box) and, when not live, the banner
  "as known on …, position …". A new page that reads this way gets both.
- The page stays in the past: ``url_for`` keeps ``as_at`` on every link to
  a page (``_keep``, a URL default, so redirects keep it too), and the
  base template passes the page's content through ``in_the_past``, which
  keeps it on the page's own ``?…`` links and GET forms and puts a sentence
  saying why where each recording form was.

Deciding reads never come here: who may see what (``web/scope.py``), the
logged-in user and a form's choices read the live read models.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any
from urllib.parse import quote, urlencode

from flask import Flask, current_app, g, redirect, request
from markupsafe import Markup, escape
from sqlalchemy import Engine

from domain.errors import InvalidInput
from ledger.queries.as_at import AsAt, known_at, resolve_as_at
from web.services import book_of

__all__ = ["AsAt", "current", "in_the_past", "init_app", "read_engine"]

ARGUMENT = "as_at"
#: Pages a link never takes ``as_at`` to: the login page and one's own account (a password form: nothing of the
#: ledger's).
NOT_KEPT = frozenset({"static", "auth.account", "auth.login"})
_POST_FORM = re.compile(r"<form\b[^>]*\bmethod=\"post\"[^>]*>.*?</form>", re.S | re.I)
_GET_FORM = re.compile(r"<form\b[^>]*\bmethod=\"get\"[^>]*>", re.I)
_QUERY_LINK = re.compile(r"href=\"\?([^\"]*)\"")


def current() -> AsAt | None:
    """The position this page reads as known at (None: live); the page then shows the as-at box."""
    g.as_at_honoured = True
    return g.get("as_at")


def read_engine() -> Engine:
    """The engine a page reads the read models with: live, or as known at the request's ``as_at`` (one per request,
    so each read model is checked once to have reached the position)."""
    engine = g.get("as_at_engine")
    if engine is None:
        engine = g.as_at_engine = known_at(book_of().read_engine, current())
    return engine


def live_url() -> str:
    """This page without ``as_at``: its live figures."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != ARGUMENT]
    return request.path + ("?" + urlencode(args) if args else "")


def banner(as_at: AsAt) -> str:
    """'as known on …, position …': what a page as at the past says above its figures."""
    recorded = as_at.recorded_at
    when = "before the first event" if recorded is None else recorded.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"as known on {when}, position {as_at.position:,} (asked: {as_at.asked})"


def in_the_past(html: str) -> Markup:
    """A page's content as at the past: its recording forms replaced by why not, its links and GET forms kept there.

    The page is the app's own markup (forms are never nested), so the forms and
    links are found by their tags: one place for every page, present or future.
    """
    as_at = g.get("as_at")
    if as_at is None:
        return Markup(html)
    asked = str(escape(as_at.asked))
    why = (
        f'<p class="no-action">No action is offered as known at position {as_at.position:,}: an action records on the '
        f'ledger as it is now. <a href="{escape(live_url())}" data-live>Show the live page</a> to act.</p>'
    )
    html = _POST_FORM.sub(why, str(html))
    html = re.sub(rf"({re.escape(why)})(\s*{re.escape(why)})+", lambda m: m.group(1), html)  # forms side by side: one
    html = _GET_FORM.sub(lambda m: f'{m.group(0)}<input type="hidden" name="{ARGUMENT}" value="{asked}">', html)

    kept = f"{ARGUMENT}={escape(quote(as_at.asked, safe=''))}"

    def keep(link: re.Match[str]) -> str:
        query = link.group(1)
        if re.search(rf"(^|;|&){ARGUMENT}=", query):
            return link.group(0)
        return f'href="?{kept}{"&amp;" + query if query else ""}"'

    return Markup(_QUERY_LINK.sub(keep, html))


def _resolve() -> Any:
    """Resolve ``?as_at=`` once per request; one box sends two (a date, a position): keep the one filled in."""
    values = [v.strip() for v in request.args.getlist(ARGUMENT)]
    if not values:
        return None
    given = [v for v in values if v]
    if request.method not in ("GET", "HEAD"):
        raise InvalidInput(f"{ARGUMENT}: a page as known in the past records nothing; act on the live page")
    if len(given) > 1:
        raise InvalidInput(f"{ARGUMENT}: give a date or a position, not both")
    if len(values) > 1 or not given:  # the box's form sent both fields: the same page with the one that was filled
        args = [(k, v) for k, v in request.args.items(multi=True) if k != ARGUMENT] + [(ARGUMENT, v) for v in given]
        return redirect(request.path + ("?" + urlencode(args) if args else ""))
    book = book_of()
    try:
        g.as_at = resolve_as_at(book.ledger.recorder, book.ledger.mapper, book.read_engine, given[0])
    except InvalidInput as e:
        raise InvalidInput(str(e).replace("--as-at", ARGUMENT)) from None
    return None


def _pages(app: Flask) -> frozenset[str]:
    """The endpoints a link keeps ``as_at`` on: every page a GET opens, but the few in ``NOT_KEPT``."""
    found = app.extensions.get("openbook_as_at_pages")
    if found is None:
        rules = app.url_map.iter_rules()
        found = frozenset(r.endpoint for r in rules if "GET" in (r.methods or ()) and r.endpoint not in NOT_KEPT)
        app.extensions["openbook_as_at_pages"] = found
    return found


def _keep(endpoint: str, values: dict[str, Any]) -> None:
    as_at = g.get("as_at")
    if as_at is not None and ARGUMENT not in values and endpoint in _pages(current_app):
        values[ARGUMENT] = as_at.asked


def _context() -> dict[str, Any]:
    as_at = g.get("as_at")
    return {
        "as_at": as_at,
        "as_at_honoured": bool(g.get("as_at_honoured")),
        "as_at_banner": banner(as_at) if as_at is not None else "",
        "as_at_live_url": live_url() if as_at is not None else "",
    }


def init_app(app: Flask) -> None:
    """After the access gate (an anonymous request goes to the login page first, a refused role is 403)."""
    app.before_request(_resolve)
    app.url_defaults(_keep)
    app.context_processor(_context)
    app.add_template_filter(in_the_past)
