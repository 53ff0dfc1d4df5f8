"""Use cases: a year's rate review, from opening to the decision that reaches the rate card.

A review is opened for an agreement and a financial year, takes proposals
(stated rates, or a rate from the uplift calculator with its arithmetic kept
line by line), comments from providers, and one decision. An accepted or
amended decision publishes its rates on the rate card from its effective date
**in the same save as the decision**: a decided review whose rates are not on
the card (or rates on the card from an undecided review) can never be seen.

Until cost returns land (the next issue), the uplift calculator's median cost
is a stated figure, and it says so in its first line. The wage floors default
to the National Living Wage on 1 April of the review year and of the year
before, or the Real Living Wage when the agreement is committed to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.aggregate import LedgerAggregate
from domain.agreements.agreement import Agreement
from domain.agreements.terms import ServiceType, check_service
from domain.checks import check_financial_year
from domain.envelope import Envelope
from domain.errors import Conflict, InvalidInput, NotFound
from domain.organisations.organisation import OrganisationKind
from domain.periods import FinancialYear, parse_financial_year
from domain.rates.rate_card import RateCard
from domain.rates.rate_review import ProposedRate, RateReview
from domain.rates.uplift import Outcome, UpliftProposal, propose_uplift
from domain.returns.statutory_wages import national_living_wage_on, real_living_wage_on
from ledger.application import Ledger
from ledger.authorisation import authorise
from ledger.jsonable import json_ready
from ledger.records import Records
from ledger.usecases.closed_years import closed_years_note
from ledger.usecases.rates import RateUseCases

NATIONAL_LIVING_WAGE = "National Living Wage"
REAL_LIVING_WAGE = "Real Living Wage"


def wage_floors_for(agreement: Agreement, financial_year: FinancialYear | str) -> tuple[str, Decimal, Decimal]:
    """(which floor, old floor, new floor) for a review: the floor on 1 April of the year before and of the year.

    An agreement committed to the Real Living Wage at the start of the year
    uses it (with its own adoption dates, if it states them) for both dates, so
    the rise compares like with like; otherwise the National Living Wage.
    """
    year = parse_financial_year(check_financial_year(financial_year))
    before = year.previous().start
    commitment = agreement.living_wage_commitment_on(year.start)
    if commitment is not None:
        table = [(a.adopted_from, a.hourly_rate) for a in commitment] or None
        return REAL_LIVING_WAGE, real_living_wage_on(before, table), real_living_wage_on(year.start, table)
    return NATIONAL_LIVING_WAGE, national_living_wage_on(before), national_living_wage_on(year.start)


def _rate_rows(rates: Iterable[Any]) -> list[dict[str, Any]]:
    """Rates as JSON-able rows for a command's payload."""
    rows = []
    for rate in rates:
        row = rate.as_row() if isinstance(rate, ProposedRate) else dict(rate)
        rows.append({k: None if v is None else str(v) for k, v in row.items()})
    return rows


def uplift_json(uplift: UpliftProposal) -> dict[str, Any]:
    """The uplift's inputs and its arithmetic, line by line, as JSON-able data."""
    return json_ready(
        {
            "median_cost": uplift.current_median_cost_per_hour,
            "pay_share": uplift.pay_share,
            "old_floor": uplift.old_wage_floor,
            "new_floor": uplift.new_wage_floor,
            "inflation": uplift.inflation_index,
            "proposed_rate": uplift.proposed_rate,
            "lines": [{"label": ln.label, "formula": ln.formula, "amount": ln.amount} for ln in uplift.lines],
        }
    )


class RateReviewUseCases:
    """A decided review publishes on the rate card, through the rates' use cases."""

    def __init__(self, ledger: Ledger, records: Records, rates: RateUseCases):
        self.ledger = ledger
        self.records = records
        self.rates = rates

    def rate_review(self, agreement: str, financial_year: FinancialYear | str) -> RateReview:
        year = check_financial_year(financial_year)
        review = self.records.find(RateReview.create_id(agreement, year))
        if review is None:
            raise NotFound(f"the {year} rate review of {agreement!r} has not been opened")
        return review

    def _change_review(
        self,
        command: str,
        envelope: Envelope,
        agreement: str,
        financial_year: FinancialYear | str,
        payload: dict[str, Any],
        change: Callable[[RateReview], dict[str, Any]],
    ) -> dict[str, Any]:
        """Load the review, apply one command to it, save it: the shape of every change but opening and deciding."""
        year = check_financial_year(financial_year)

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            review = self.rate_review(agreement, year)
            result = change(review)
            summary = {"agreement": agreement, "financial_year": year, "status": review.status}
            return [review], json_ready({**summary, **result})

        return self.ledger._execute(command, {"agreement": agreement, "financial_year": year, **payload}, envelope, build)

    # -- commands -----------------------------------------------------------------------------

    def open_rate_review(
        self, envelope: Envelope, agreement: str, financial_year: FinancialYear | str
    ) -> dict[str, Any]:
        """Open the year's review of an agreement's rates; the envelope's reason says why."""
        authorise(self.records, envelope.actor, "open_rate_review", agreement=agreement)
        year = check_financial_year(financial_year)

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            self.records.agreement(agreement).check_year_in_term(year)
            if self.records.exists(RateReview.create_id(agreement, year)):
                raise Conflict(f"the {year} rate review of {agreement!r} is already open")
            review = RateReview.open(envelope, agreement, year, envelope.reason or "")
            return [review], {"agreement": agreement, "financial_year": year, "status": review.status}

        return self.ledger._execute("open_rate_review", {"agreement": agreement, "financial_year": year}, envelope, build)

    def propose_rates(
        self,
        envelope: Envelope,
        agreement: str,
        financial_year: FinancialYear | str,
        rates: Iterable[Any],
        basis: str,
    ) -> dict[str, Any]:
        """Propose stated rates with their basis (e.g. "cost of care exercise, 2020")."""
        authorise(self.records, envelope.actor, "propose_rates", agreement=agreement)
        rows = _rate_rows(rates)

        def change(review: RateReview) -> dict[str, Any]:
            review.propose(envelope, rows, basis)
            return {"rates": json_ready([r.as_row() for r in review.proposals[-1].rates])}

        return self._change_review(
            "propose_rates", envelope, agreement, financial_year, {"rates": rows, "basis": basis}, change
        )

    def propose_uplift(
        self,
        envelope: Envelope,
        agreement: str,
        financial_year: FinancialYear | str,
        *,
        median_cost: Decimal | str,
        pay_share: Decimal | str,
        inflation: Decimal | str,
        old_floor: Decimal | str | None = None,
        new_floor: Decimal | str | None = None,
        service: ServiceType | str = ServiceType.STANDARD,
        zones: Iterable[str] | None = None,
        band: str | None = None,
        median_source: str = "stated figure",
    ) -> dict[str, Any]:
        """Propose the uplift calculator's rate for a service, with its arithmetic line by line.

        ``zones`` default to every zone where the service has a rate in force
        on the first day of the review year (the rates the uplift replaces).
        Floors not given come from ``wage_floors_for``.
        """
        authorise(self.records, envelope.actor, "propose_uplift", agreement=agreement)
        chosen_zones = None if zones is None else list(zones)
        payload = {
            "median_cost": str(median_cost),
            "pay_share": str(pay_share),
            "inflation": str(inflation),
            "old_floor": None if old_floor is None else str(old_floor),
            "new_floor": None if new_floor is None else str(new_floor),
            "service": str(service),
            "zones": chosen_zones,
            "band": band,
            "median_source": median_source,
        }
        year = parse_financial_year(check_financial_year(financial_year))

        def change(review: RateReview) -> dict[str, Any]:
            found = self.records.agreement(agreement)
            floor, default_old, default_new = wage_floors_for(found, year)
            old = default_old if old_floor is None else old_floor
            new = default_new if new_floor is None else new_floor
            if old_floor is not None or new_floor is not None:
                floor = "stated wage floors"
            uplift = propose_uplift(median_cost, pay_share, old, new, inflation, median_source=median_source)
            kind = check_service(service)
            targets = chosen_zones if chosen_zones is not None else self._zones_with_rate(found, kind, year.start, band)
            rates = [ProposedRate(kind, zone, band, uplift.proposed_rate) for zone in targets]
            basis = (
                f"uplift calculator: {uplift.pay_share} of the median cost is pay, raised with the {floor} "
                f"({uplift.old_wage_floor} to {uplift.new_wage_floor}); the rest by {uplift.inflation_index}"
            )
            review.propose(envelope, rates, basis, uplift)
            proposed = json_ready([r.as_row() for r in rates])
            return {"floor": floor, "basis": basis, "rates": proposed, **uplift_json(uplift)}

        return self._change_review("propose_uplift", envelope, agreement, year, payload, change)

    def _zones_with_rate(self, agreement: Agreement, service: ServiceType, on: date, band: str | None) -> list[str]:
        card_id = RateCard.create_id(agreement.code)
        card = self.records.find(card_id)
        zones = []
        for zone in agreement.zones_on(on):
            try:
                if card is not None and card.rate_for(service, zone.code, on, band).rate_band == band:
                    zones.append(zone.code)
            except NotFound:
                continue
        if not zones:
            raise InvalidInput(
                f"zones: {agreement.code} has no {service} rate in force on {on.isoformat()} to uplift; "
                "name the zones to propose a rate for"
            )
        return zones

    def comment_on_rate_review(
        self, envelope: Envelope, agreement: str, financial_year: FinancialYear | str, provider: str, comment: str
    ) -> dict[str, Any]:
        """A registered provider's comment on the review, before it is decided."""
        authorise(self.records, envelope.actor, "comment_on_rate_review", agreement=agreement, organisation=provider)

        def change(review: RateReview) -> dict[str, Any]:
            self.records.registered_organisation(provider, (OrganisationKind.PROVIDER,), "provider")
            review.comment(envelope, provider, comment)
            return {"comments": len(review.comments)}

        payload = {"provider": provider, "comment": comment}
        return self._change_review("comment_on_rate_review", envelope, agreement, financial_year, payload, change)

    def decide_rate_review(
        self,
        envelope: Envelope,
        agreement: str,
        financial_year: FinancialYear | str,
        outcome: Outcome | str,
        reasons: str = "",
        decided_by: str | None = None,
        effective_from: date | None = None,
        rates: Iterable[Any] | None = None,
    ) -> dict[str, Any]:
        """Decide the review on the envelope's effective date; accepted or amended rates reach the card atomically.

        ``decided_by`` defaults to the recording user. ``effective_from`` may be
        before the decision: the review is then backdated, and arrears are owed.
        """
        authorise(self.records, envelope.actor, "decide_rate_review", agreement=agreement)
        year = check_financial_year(financial_year)
        rows = None if rates is None else _rate_rows(rates)
        payload = {
            "agreement": agreement,
            "financial_year": year,
            "outcome": str(outcome),
            "reasons": reasons,
            "decided_by": decided_by,
            "effective_from": effective_from,
            "rates": rows,
        }

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            review = self.rate_review(agreement, year)
            found = self.records.agreement(agreement)
            review.decide(envelope, outcome, reasons, decided_by or str(envelope.actor), effective_from, rows)
            changed: list[LedgerAggregate] = [review]
            if review.decided_rates:
                card = self.rates.card_for_update(envelope, agreement)
                review.publish_to(card, envelope, found)
                changed.append(card)
            decision = review.decision
            result = {
                "agreement": agreement,
                "financial_year": year,
                "status": review.status,
                "outcome": decision.outcome.value,
                "decided_by": decision.decided_by,
                "decided_on": decision.decided_on,
                "effective_from": decision.effective_from,
                "backdated": review.is_backdated(),
                "rates": [r.as_row() for r in decision.rates],
            }
            if review.is_backdated() and decision.effective_from is not None:
                note = closed_years_note(self.records, agreement, decision.effective_from,
                                         decision.decided_on - timedelta(days=1), "rates backdated")  # fmt: skip
                if note:
                    result["closed_years"] = note.removeprefix("; ")
            return changed, json_ready(result)

        return self.ledger._execute("decide_rate_review", payload, envelope, build)
