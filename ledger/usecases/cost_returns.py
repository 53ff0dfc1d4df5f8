"""Use cases: filing cost returns and reviewing them, and the wage floors they are checked against.

Each command goes through ``_execute`` (idempotency, one atomic save,
``ConcurrencyConflict``, read models caught up) and loads the return by its
natural id (``CostReturn.create_id(agreement, provider, period)``), so one
provider has one return per agreement and period however it is reached.

The rules that need more than the return itself live here:

* **Who.** ``ledger.authorisation`` decides: the provider's own staff file,
  submit, amend and answer; an accountant of a commissioner of the agreement
  queries, explains breaches, accepts, rejects and reopens.
* **Which provider.** The provider must hold an award under the agreement
  on some day of the period; a member of an awarded provider alliance (the
  Wirral Home Care Alliance's three providers) files under the alliance's
  award. A commissioner of the agreement files its in-house costs the same
  way (Wirral 5.9): the return is marked ``in_house``.
* **Which period.** A financial quarter (``2019-20-Q2``) or year (``2019-20``).
* **Files.** A file is read and checked whole *before* anything is loaded or
  created: a refused file raises one ``InvalidInput`` naming every cell and
  records nothing.
* **Wage floors.** Acceptance and breach explanations read the combined
  statutory floor tables (the National Living Wage, before it the National
  Minimum Wage; built-in rows extended by the admin's ``WageFloors``
  record), the same tables the read models check against, and the
  plausibility bounds under the agreement's profit cap (``plausibility_bounds``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from domain.aggregate import LedgerAggregate
from domain.agreements.agreement import Agreement
from domain.envelope import Envelope
from domain.errors import Conflict, RuleBroken
from domain.organisations.organisation import OrganisationKind
from domain.periods import Period, financial_year_of
from domain.returns.cost_return import CostReturn, check_period
from domain.returns.filing import CostLine, CostReturnFiling, Volume
from domain.returns.plausibility import PlausibilityBounds, bounds_for
from domain.returns.wage_floors import Floor, WageFloors, WageFloorTable
from domain.settlement.pooled_budget import MarginBasis, PooledBudget
from ledger.application import Ledger
from ledger.authorisation import authorise
from ledger.files.cost_returns import parse_cost_return
from ledger.jsonable import json_ready
from ledger.records import Records

__all__ = ["CostReturnUseCases"]

FileSource = str | os.PathLike[str] | bytes



def _filing(filing: CostReturnFiling | Mapping[str, Any]) -> CostReturnFiling:
    return filing if isinstance(filing, CostReturnFiling) else CostReturnFiling.parse(filing)


class CostReturnUseCases:
    """Cost returns are filed under an agreement by a provider holding an award in the period."""

    def __init__(self, ledger: Ledger, records: Records):
        self.ledger = ledger
        self.records = records

    # -- questions --------------------------------------------------------------------------

    def cost_return(self, agreement: str, provider: str, period: Period | str) -> CostReturn:
        chosen = str(check_period(period))
        return self.records.get(
            CostReturn.create_id(agreement, provider, chosen), f"the cost return of {provider} for {agreement} {chosen}"
        )

    def wage_floor_table(self) -> WageFloorTable:
        """The wage floors every check reads: built in, extended by the admin's recorded rates."""
        floors = self.records.find(WageFloors.create_id())
        return WageFloorTable() if floors is None else floors.table

    def filing_provider(self, agreement: Agreement, provider: str, period: Period) -> bool:
        """Whether ``provider`` may file under ``agreement`` for ``period``; returns True for in-house costs.

        Awarded providers (or members of an awarded alliance) file their
        costs; a commissioner of the agreement files its in-house costs.
        """
        agreement.check_period_in_term(period)
        org = self.records.organisation(provider)
        if org.kind in (OrganisationKind.COUNCIL, OrganisationKind.ICB):
            if org.code in agreement.commissioners:
                return True
            raise RuleBroken(
                f"provider: {provider} is not a commissioner of {agreement.code}, so it has no in-house costs to file"
            )
        if org.kind is not OrganisationKind.PROVIDER:
            raise RuleBroken(f"provider: {provider} is {org.kind.value}, not a provider or a commissioner")
        awarded = {a.provider for a in agreement.awards_during(period.start, period.end)}
        if provider in awarded or (org.member_of is not None and org.member_of in awarded):
            return False
        raise RuleBroken(
            f"provider: {provider} holds no award under {agreement.code} in {period} "
            f"({period.start.isoformat()} to {period.end.isoformat()})"
        )

    # -- the shape of every change ----------------------------------------------------------------

    def _change_return(
        self,
        command: str,
        envelope: Envelope,
        agreement: str,
        provider: str,
        period: Period | str,
        payload: dict[str, Any],
        change: Callable[[CostReturn], dict[str, Any] | None],
    ) -> dict[str, Any]:
        """Check who may act, load the return, apply one command, save: every workflow step below."""
        authorise(self.records, envelope.actor, command, agreement=agreement, organisation=provider)
        chosen = str(check_period(period))

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            cost_return = self.cost_return(agreement, provider, chosen)
            extra = change(cost_return) or {}
            return [cost_return], _summary(cost_return, **extra)

        body = {"agreement": agreement, "provider": provider, "period": chosen, **payload}
        return self.ledger._execute(command, body, envelope, build)

    # -- provider commands ------------------------------------------------------------------------

    def draft_cost_return(
        self,
        envelope: Envelope,
        agreement: str,
        provider: str,
        period: Period | str,
        filing: CostReturnFiling | Mapping[str, Any],
        submit: bool = False,
    ) -> dict[str, Any]:
        """File a provider's first revision for a period (and submit it in the same save if ``submit``)."""
        authorise(self.records, envelope.actor, "draft_cost_return", agreement=agreement, organisation=provider)
        checked = _filing(filing)
        chosen = str(check_period(period))
        payload = {
            "agreement": agreement,
            "provider": provider,
            "period": chosen,
            "filing": checked.to_data(),
            "submit": bool(submit),
        }

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            found = self.records.agreement(agreement)
            in_house = self.filing_provider(found, provider, check_period(chosen))
            if self.records.exists(CostReturn.create_id(agreement, provider, chosen)):
                raise Conflict(
                    f"the cost return of {provider} for {agreement} {chosen} is already filed; "
                    "amend it to file new figures"
                )
            cost_return = CostReturn.draft(envelope, agreement, provider, chosen, checked, in_house=in_house)
            if submit:
                cost_return.submit(envelope)
            return [cost_return], _summary(cost_return)

        return self.ledger._execute("draft_cost_return", payload, envelope, build)

    def import_cost_return(
        self,
        envelope: Envelope,
        source: FileSource,
        agreement: str,
        provider: str,
        period: Period | str,
        filename: str | None = None,
        submit: bool = False,
    ) -> dict[str, Any]:
        """File a return from a filled-in CSV or XLSX template: read whole first, so a refused file records nothing."""
        authorise(self.records, envelope.actor, "import_cost_return", agreement=agreement, organisation=provider)
        filing = parse_cost_return(source, filename)
        return self.draft_cost_return(envelope, agreement, provider, period, filing, submit=submit)

    def submit_cost_return(self, envelope: Envelope, agreement: str, provider: str, period: Period | str) -> dict[str, Any]:
        return self._change_return(
            "submit_cost_return", envelope, agreement, provider, period, {},
            lambda r: r.submit(envelope),
        )  # fmt: skip

    def amend_cost_return(
        self,
        envelope: Envelope,
        agreement: str,
        provider: str,
        period: Period | str,
        filing: CostReturnFiling | Mapping[str, Any],
    ) -> dict[str, Any]:
        """A new revision with the full figures; every earlier revision stays readable. Once submitted, say why."""
        checked = _filing(filing)
        return self._change_return(
            "amend_cost_return", envelope, agreement, provider, period, {"filing": checked.to_data()},
            lambda r: r.amend(envelope, checked),
        )  # fmt: skip

    def amend_cost_return_from_file(
        self,
        envelope: Envelope,
        source: FileSource,
        agreement: str,
        provider: str,
        period: Period | str,
        filename: str | None = None,
    ) -> dict[str, Any]:
        authorise(self.records, envelope.actor, "amend_cost_return_from_file", agreement=agreement, organisation=provider)
        filing = parse_cost_return(source, filename)
        return self.amend_cost_return(envelope, agreement, provider, period, filing)

    def answer_cost_return_query(
        self, envelope: Envelope, agreement: str, provider: str, period: Period | str, query_id: str, answer: str
    ) -> dict[str, Any]:
        return self._change_return(
            "answer_cost_return_query", envelope, agreement, provider, period,
            {"query_id": query_id, "answer": answer},
            lambda r: r.answer(envelope, query_id, answer),
        )  # fmt: skip

    # -- accountant commands ----------------------------------------------------------------------

    def query_cost_return(
        self,
        envelope: Envelope,
        agreement: str,
        provider: str,
        period: Period | str,
        line: CostLine | Volume | str,
        question: str,
    ) -> dict[str, Any]:
        """An accountant's question on one line or volume; the result names the new query (Q1, Q2, ...)."""
        return self._change_return(
            "query_cost_return", envelope, agreement, provider, period, {"line": str(line), "question": question},
            lambda r: {"query_id": r.query(envelope, line, question)},
        )  # fmt: skip

    def explain_wage_breach(
        self, envelope: Envelope, agreement: str, provider: str, period: Period | str, explanation: str
    ) -> dict[str, Any]:
        """Record why the current revision's findings that need it stand: pay below the wage floor is lawful
        (e.g. younger workers), an implausible figure is right."""
        floor_on = self.wage_floor_table().statutory_floor_on
        return self._change_return(
            "explain_wage_breach", envelope, agreement, provider, period, {"explanation": explanation},
            lambda r: r.explain_breach(envelope, explanation, floor_on, self.plausibility_bounds(r)),
        )  # fmt: skip

    def accept_cost_return(self, envelope: Envelope, agreement: str, provider: str, period: Period | str) -> dict[str, Any]:
        floor_on = self.wage_floor_table().statutory_floor_on
        return self._change_return(
            "accept_cost_return", envelope, agreement, provider, period, {},
            lambda r: r.accept(envelope, floor_on, self.plausibility_bounds(r)),
        )  # fmt: skip

    def plausibility_bounds(self, cost_return: CostReturn) -> PlausibilityBounds:
        """The bounds a return is checked against: the agreement's profit cap on the period's last day, measured
        on the margin basis of the pool of the period's financial year (as its clawback measures it), and the
        plausibility ranges the agreement states then (the rest are the domain's defaults)."""
        agreement = self.records.agreement(cost_return.agreement)
        year = str(financial_year_of(cost_return.period.end))
        pool: PooledBudget | None = self.records.find(PooledBudget.create_id(cost_return.agreement, year))
        basis = MarginBasis.TOTAL if pool is None else pool.terms.margin_basis
        end = cost_return.period.end
        return bounds_for(agreement.max_profit_margin_on(end), basis, agreement.plausibility_ranges_on(end))

    def reject_cost_return(
        self, envelope: Envelope, agreement: str, provider: str, period: Period | str, reasons: Iterable[str] | str
    ) -> dict[str, Any]:
        chosen = [reasons] if isinstance(reasons, str) else list(reasons)
        return self._change_return(
            "reject_cost_return", envelope, agreement, provider, period, {"reasons": chosen},
            lambda r: r.reject(envelope, chosen),
        )  # fmt: skip

    def reopen_cost_return(
        self, envelope: Envelope, agreement: str, provider: str, period: Period | str, reason: str | None = None
    ) -> dict[str, Any]:
        """Put an accepted or rejected return back under review; ``reason`` defaults to the envelope's."""
        why = reason if reason is not None else (envelope.reason or "")
        return self._change_return(
            "reopen_cost_return", envelope, agreement, provider, period, {"reason": why},
            lambda r: r.reopen(envelope, why),
        )  # fmt: skip

    # -- reference data ----------------------------------------------------------------------------

    def add_wage_floor(
        self,
        envelope: Envelope,
        floor: Floor | str,
        effective_from: date,
        hourly_rate: Decimal | str,
        band: str | None = None,
    ) -> dict[str, Any]:
        """An admin adds (or corrects) a wage floor from a date, for an age band (default the band then in force)."""
        authorise(self.records, envelope.actor, "add_wage_floor")
        payload = {"floor": str(floor), "effective_from": effective_from, "hourly_rate": str(hourly_rate)}
        if band is not None:
            payload["band"] = band

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            record = self.records.find(WageFloors.create_id()) or WageFloors.start(envelope)
            record.add_rate(envelope, floor, effective_from, hourly_rate, band)  # type: ignore[arg-type]
            return [record], json_ready(payload)

        return self.ledger._execute("add_wage_floor", payload, envelope, build)


def _summary(cost_return: CostReturn, **extra: Any) -> dict[str, Any]:
    """What a command returns: the return's key and where it now stands (JSON-able)."""
    return json_ready(
        {
            "agreement": cost_return.agreement,
            "provider": cost_return.provider,
            "period": str(cost_return.period),
            "in_house": cost_return.in_house,
            "status": cost_return.status.value,
            "revision": cost_return.current.number,
            "open_queries": len(cost_return.open_queries),
            **extra,
        }
    )
