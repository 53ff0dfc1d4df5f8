"""A value for every URL argument a route can take, from the demo, for the route x role walk.

One entry per argument *name*: a route that introduces a new name must add
it here (the walk fails, naming it, until it does). The values are objects
the demo user of the ``provider`` role (Premier Care, Wirral) may see, so a
provider's "allowed" answer is a real page, not a 404.
"""

from __future__ import annotations

EXAMPLES: dict[str, str] = {
    "token": "not-a-real-token",
    "filename": "openbook.css",
    "agreement": "wirral-homecare",
    "provider": "premier-care",
    "period": "2019-20-Q1",
    "query": "Q1",
    "query_id": "Q1",
    "financial_year": "2019-20",
    "month": "2019-05",
    "sequence": "1",
    "organisation": "premier-care",
    "username": "finance@premiercare.example",
    "part": "zone",
    "visit": "D1920-00000005",
    "job": "00000000-0000-0000-0000-000000000000",
    "position": "1",
    "digest": "0" * 64,
}

#: A route whose object the provider's own cannot stand for, with the one its allowed roles may act on: an admin
#: renames their own organisation only (a provider's name is the operator's: 403 by the ledger's rule).
FOR_ROUTE: dict[str, dict[str, str]] = {
    "/admin/organisations/<organisation>/rename": {"organisation": "wirral-council"},
}
