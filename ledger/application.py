"""The ledger application: every use case on one eventsourcing Application.

One Application (several would get different tables on SQLite and PostgreSQL)
combining the use cases of each area, and the list of read models it keeps.
Each area's use cases build on those of the areas it refers to (reviews on
rates, rates on agreements, agreements on organisations), so a base class
always comes after the classes built on it here.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.projections.activity import ActivityProjection
from ledger.projections.agreements import AgreementsProjection
from ledger.projections.base import Projection
from ledger.projections.cost_returns import CostReturnsProjection
from ledger.projections.incentives import IncentivesProjection
from ledger.projections.organisations import OrganisationsProjection
from ledger.projections.rates import RatesProjection
from ledger.projections.settlements import SettlementsProjection
from ledger.usecases.activity import ActivityUseCases
from ledger.usecases.agreements import AgreementUseCases
from ledger.usecases.cost_returns import CostReturnUseCases
from ledger.usecases.incentives import IncentiveUseCases
from ledger.usecases.organisations import OrganisationUseCases
from ledger.usecases.rate_reviews import RateReviewUseCases
from ledger.usecases.rates import RateUseCases
from ledger.usecases.settlements import SettlementUseCases


class Ledger(
    SettlementUseCases,
    IncentiveUseCases,
    ActivityUseCases,
    CostReturnUseCases,
    RateReviewUseCases,
    RateUseCases,
    AgreementUseCases,
    OrganisationUseCases,
):
    def projections_to_run(self) -> Sequence[Projection]:
        return [
            OrganisationsProjection(),
            AgreementsProjection(),
            RatesProjection(),
            CostReturnsProjection(),
            ActivityProjection(self),
            IncentivesProjection(),
            SettlementsProjection(),
        ]
