"""What every provider page shares: the agreement chooser and the provider's access under an agreement.

A provider usually works under one agreement; the menu's pages (Activity,
Incentives, Payments) then go straight to it, and otherwise offer the
provider's agreements to choose from. Which agreements those are, and the
provider's access under each, is the ledger's answer (``web.scope``).
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from domain.errors import NotAllowed, NotFound
from ledger.authorisation import ProviderAccess
from ledger.queries.agreements import list_agreements
from web import as_at
from web.scope import access, my_agreements

#: The query arguments the menu's pages read, carried to the one agreement's page; no other is passed on (an
#: argument such as ``_external`` or ``endpoint`` would change the URL built, not the page shown).
FORWARDED = ("on", "period")


def agreement_or_choice(endpoint: str, title: str) -> Response | str:
    """Straight to ``endpoint`` for the provider's one agreement, else a list of its agreements to choose from."""
    agreements = [row for row, _ in my_agreements()]
    if len(agreements) == 1:
        kept = {name: request.args[name] for name in FORWARDED if request.args.get(name)}
        return redirect(url_for(endpoint, agreement=agreements[0]["code"], **kept))
    return render_template("provider/choose.html", title=title, endpoint=endpoint, agreements=agreements)


def under(code: str) -> tuple[dict[str, Any], ProviderAccess]:
    """The agreement's row and the provider's access to its own figures under it (``NotFound``: not theirs).

    The pages are the provider portal's: an access to every provider's
    figures (a user who is also a commissioner's accountant) is not what they
    show, so it is refused by role rather than shown as one provider's page.
    """
    granted = access(code)
    if not isinstance(granted, ProviderAccess):
        raise NotAllowed("the provider portal shows one provider's own figures: use the accountants' pages")
    row = next((row for row in list_agreements(as_at.read_engine()) if row["code"] == code), None)
    if row is None:  # ``?as_at=`` a position before the agreement was registered: it did not exist yet
        raise NotFound(f"agreement {code!r} was not yet registered at that position")
    return row, granted
