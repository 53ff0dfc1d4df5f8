"""Which agreements the logged-in user works under, and their access to each: the ledger decides, pages ask.

``ledger.authorisation.access_for`` is the one rule: every provider's figures
for a commissioner's accountants, admins and auditors (and an audit body's
auditors); a provider's own figures for its staff; ``NotFound`` for an
agreement the user's organisation has no part in, so a page answers 404 as
if it did not exist.
"""

from __future__ import annotations

from typing import Any

from domain.errors import NotAllowed, NotFound
from ledger.authorisation import Access, AccountantAccess, access_for, accountants_only
from ledger.queries.agreements import list_agreements
from web import as_at
from web.access import current_actor
from web.services import book_of


def access(agreement: str) -> Access:
    """The user's access under ``agreement`` (``NotFound`` if it is not theirs to see)."""
    return access_for(book_of().records, current_actor(), agreement)


def accountant(agreement: str) -> AccountantAccess:
    """Every provider's figures under ``agreement``, for the accountants' pages: another organisation's agreement is
    a 404 (``access``: as if it did not exist), a provider's access a 403 (``accountants_only``); the ledger decides
    both."""
    return accountants_only(access(agreement))


def my_agreements(*, every_provider: bool = False) -> list[tuple[dict[str, Any], Access]]:
    """The agreements the user has a part in, each with their access; ``every_provider``: only where they see all.

    The list is of the agreements as known at the page's ``as_at`` (web/as_at.py), the access the ledger's now.
    """
    book = book_of()
    found = []
    for row in list_agreements(as_at.read_engine()):
        try:
            granted = access_for(book.records, current_actor(), row["code"])
        except (NotFound, NotAllowed):
            continue
        if every_provider and not isinstance(granted, AccountantAccess):
            continue
        found.append((row, granted))
    return found
