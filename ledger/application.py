"""The ledger application: every use case on one eventsourcing Application.

One Application (several would get different tables on SQLite and PostgreSQL)
combining the use cases of each area, and the list of read models it keeps.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.projections.base import Projection
from ledger.projections.organisations import OrganisationsProjection
from ledger.usecases.organisations import OrganisationUseCases


class Ledger(OrganisationUseCases):
    def projections_to_run(self) -> Sequence[Projection]:
        return [OrganisationsProjection()]
