"""Use cases: the pooled budget, payments on account, and the year-end risk and gain share settlement.

Every command goes through ``_execute`` (idempotency, one atomic save,
``ConcurrencyConflict``, read models caught up). Who may act is decided by
``ledger.authorisation``: an accountant of a commissioner of the agreement
sets up the pool, runs payments, drafts, reviews and issues settlements;
each commissioner approves through one of its own accountants.

A settlement is computed from recorded figures only, gathered here in one
place (``settlement_inputs``) with a reference to where each came from:

* the pool's terms (``PooledBudget``, by version);
* contributions and the maximum profit margin (``Agreement``, by version);
* priced activity per provider for the year (the activity read model, at its
  event position; prices come from the rate card, by version) — arrears of a
  backdated review are already in it, because the read model re-prices the
  backdated visits, so they are referenced, not added;
* payments on account (``PaymentLedger``, by version);
* accepted cost returns for the year, for the excess surplus clawback (each
  by period, accepted revision and version; an accepted annual return is used
  in place of the quarters; quarters without an accepted return are named,
  and make that provider's clawback pending; a commissioner's in-house return
  is never clawed back from);
* incentive payments per provider, as the year's incentive assessment last
  assessed them (``IncentiveAssessment``, by id, version and run, with each
  payment), from the incentives read model brought up to date
  (``every_provider.assessed_incentives``, the one query the settlement's
  view and the reconciliation compare with too). Assessed
  incentives are paid *through the settlement*: they are part of the year's
  actual spend and of each provider's balance. (No agreement term says they
  are paid on account instead; if one is added, such payments would reach
  the settlement as paid on account.)

Issuing re-gathers the inputs: if anything changed since the draft, issue is
refused and the accountant drafts again — so an issued settlement always
matches the ledger at the moment it was issued, and any later correction is
settled by a re-settlement (an assessment recorded after issue, for one: the
settlement's read model shows the issued settlement as out of date, naming
it, and drafting again gives the next number).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from domain.activity.arrears import Arrears
from domain.activity.arrears import provider_totals as arrears_provider_totals
from domain.agreements.agreement import Agreement
from domain.checks import check_financial_year
from domain.envelope import Envelope
from domain.errors import Conflict, InvalidInput, NotFound, RuleBroken
from domain.money import EXACT, ZERO, format_count
from domain.periods import financial_year_of, parse_financial_year
from domain.rates.rate_card import RateCard
from domain.rates.rate_review import RateReview
from domain.returns.cost_return import CostReturn
from domain.returns.filing import CostLine
from domain.settlement.payment_ledger import (
    PaymentLedger,
    PaymentLine,
    arrears_paid,
    capitated_run,
    check_month,
    rate_run,
    year_of_month,
)
from domain.settlement.pooled_budget import PaymentMechanism, PooledBudget, PoolTerms
from domain.settlement.settlement import Settlement, SettlementStatus
from domain.settlement.statement import ReturnFigures, SettlementInputs, SettlementStatement, compute_settlement
from domain.settlement.year_end import YearEnd, closed_year_adjustments
from ledger.application import Ledger
from ledger.authorisation import (
    accountant_access,
    approving_commissioner,
    authorise,
)
from ledger.jsonable import json_ready
from ledger.persistence.history import read_events
from ledger.queries import every_provider
from ledger.queries import settlements as views
from ledger.records import Records
from ledger.usecases.owed import backdated_review, owed, paid_at_old_rate

__all__ = ["SettlementUseCases"]

OPEN = (SettlementStatus.DRAFT, SettlementStatus.REVIEWED, SettlementStatus.APPROVED)



# -- how pool terms are written on the command line and in the web's pool form (one parser for both) --


def parse_band(spec: str, field: str = "--band") -> tuple[str | None, str | None, str]:
    """``"0.9:1:0.5"`` as (lower, upper, share) text; ``-`` or nothing is an open end."""
    parts = spec.split(":")
    if len(parts) != 3 or not parts[2].strip():
        raise InvalidInput(f"{field}: {spec!r} is not LOWER:UPPER:SHARE, e.g. 0.9:1:0.5 (use - for an open end)")
    lower, upper, share = (p.strip() for p in parts)
    return (lower if lower not in ("", "-") else None, upper if upper not in ("", "-") else None, share)


def parse_capitation(spec: str, field: str = "--capitation") -> tuple[str, str, str]:
    """``"premier-care:zone-1=250000.00"`` as (provider, zone, monthly sum)."""
    key, sep, amount = spec.partition("=")
    provider, colon, zone = key.partition(":")
    if not (sep and colon and provider and zone and amount):
        raise InvalidInput(f"{field}: {spec!r} is not PROVIDER:ZONE=MONTHLY, e.g. premier-care:zone-1=250000.00")
    return provider.strip(), zone.strip(), amount.strip()


def parse_split(specs: Iterable[str], field: str = "--split") -> dict[str, str] | None:
    """``("premier-care=0.6", ...)`` as an agreed split of the provider side (None when none is given)."""
    found = {}
    for spec in specs:
        provider, sep, weight = spec.partition("=")
        if not (sep and provider and weight):
            raise InvalidInput(f"{field}: {spec!r} is not PROVIDER=WEIGHT, e.g. premier-care=0.6")
        found[provider.strip()] = weight.strip()
    return found or None


class SettlementUseCases:
    """The pool refers to agreements (contributions, awards, profit cap); settlements read priced activity
    and the year's assessed incentives from the read models, brought up to date first."""

    def __init__(self, ledger: Ledger, records: Records):
        self.ledger = ledger
        self.records = records

    # -- the pooled budget -------------------------------------------------------------------------

    def set_pooled_budget(
        self,
        envelope: Envelope,
        agreement: str,
        financial_year: str,
        *,
        target: Decimal | str,
        bands: Iterable[Any],
        gain_cap: Decimal | str | None = None,
        loss_cap: Decimal | str | None = None,
        mechanism: PaymentMechanism | str = PaymentMechanism.RATE,
        capitation: Iterable[Any] = (),
        clawback_share: Decimal | str = Decimal("1"),
        margin_basis: str = "total",
        provider_split: Mapping[str, Decimal | str] | None = None,
    ) -> dict[str, Any]:
        """Set up (or revise) the pool of an agreement for a year; a revision that changes nothing records nothing."""
        authorise(self.records, envelope.actor, "set_pooled_budget", agreement=agreement)
        year = check_financial_year(financial_year)
        bands, capitation = list(bands), list(capitation)
        payload = {
            "agreement": agreement, "financial_year": year, "target": target, "bands": bands, "gain_cap": gain_cap,
            "loss_cap": loss_cap, "mechanism": str(mechanism), "capitation": capitation,
            "clawback_share": clawback_share, "margin_basis": margin_basis, "provider_split": provider_split,
        }  # fmt: skip

        def build() -> tuple[list[Any], dict[str, Any]]:
            found = self.records.agreement(agreement)
            found.check_year_in_term(year)
            terms = PoolTerms.check(
                target=target, bands=bands, gain_cap=gain_cap, loss_cap=loss_cap, mechanism=mechanism,
                capitation=capitation, clawback_share=clawback_share, margin_basis=margin_basis,
                provider_split=provider_split,
            )  # fmt: skip
            self._check_pool_fits(found, year, terms)
            pool: PooledBudget | None = self.records.find(PooledBudget.create_id(agreement, year))
            if pool is not None:
                if not pool.revise(envelope, terms):
                    return [], {**_pool_json(pool), "recorded": False, "message": "unchanged: nothing was recorded"}
            else:
                pool = PooledBudget.set_up(envelope, agreement, year, terms)
            return [pool], {**_pool_json(pool), "recorded": True}

        return self.ledger._execute("set_pooled_budget", payload, envelope, build)

    def _check_pool_fits(self, agreement: Agreement, year: str, terms: PoolTerms) -> None:
        fy = parse_financial_year(year)
        if not (agreement.is_in_term(fy.start) or agreement.is_in_term(fy.end)):
            raise RuleBroken(
                f"financial_year: {year} is outside the term of {agreement.code} "
                f"({agreement.term_start.isoformat()} to {agreement.term_end.isoformat()})"
            )
        awarded = {(a.provider, a.zone) for a in agreement.awards_during(fy.start, fy.end)}
        problems = [
            f"capitation: {c.provider} holds no award in {c.zone} of {agreement.code} in {year}"
            for c in terms.capitation
            if (c.provider, c.zone) not in awarded
        ]
        providers = {p for p, _ in awarded}
        problems += [
            f"provider_split: {p} holds no award under {agreement.code} in {year}"
            for p, _ in terms.provider_split
            if p not in providers
        ]
        if problems:
            raise InvalidInput(problems)

    def pooled_budget(self, agreement: str, financial_year: str) -> PooledBudget:
        year = check_financial_year(financial_year)
        what = f"the {year} pooled budget of {agreement!r}"
        return self.records.get(PooledBudget.create_id(agreement, year), what)

    # -- payments on account ---------------------------------------------------------------------

    def run_payments(self, envelope: Envelope, agreement: str, month: str) -> dict[str, Any]:
        """Record one month's payments to every provider by the pool's mechanism (see ``domain.settlement.payment_ledger``)."""
        authorise(self.records, envelope.actor, "run_payments", agreement=agreement)
        chosen = check_month(month)
        year = year_of_month(chosen)

        def build() -> tuple[list[Any], dict[str, Any]]:
            self.records.agreement(agreement)  # an unknown agreement says so first
            pool = self.pooled_budget(agreement, year)
            issued = [s for s in self.settlements(agreement, year) if s.status is SettlementStatus.ISSUED]
            if issued:
                raise RuleBroken(
                    f"month: {year} of {agreement} was settled ({issued[-1].describe()}); payments after the "
                    "settlement are settled by a re-settlement, not a payment run"
                )
            record: PaymentLedger | None = self.records.find(PaymentLedger.create_id(agreement, year))
            if record is None:
                record = PaymentLedger.open(envelope, agreement, year)
            terms = pool.terms
            if terms.mechanism is PaymentMechanism.RATE:
                self.ledger.projections.bring_up_to_date("activity", purpose="running payments")
                rows = every_provider.activity_rows(self.ledger.read_engine, agreement, year)
                arrears, arrears_of = self._arrears_to_identify(agreement, year, record)
                lines = rate_run(chosen, rows, record.paid(), arrears, arrears_of)
                unpriced = every_provider.unpriced_visits(self.ledger.read_engine, agreement, year)
                unpaid = f"; {format_count(unpriced, 'visit')} without a rate in force, paid once priced"
                basis = (
                    f"priced activity of {year} up to {chosen} from the activity read model at event position "
                    f"{self._activity_position()} (rate card version {self._version(RateCard.create_id(agreement))}); "
                    f"less payments of earlier runs ({', '.join(r.month for r in record.runs) or 'none'})"
                    + (unpaid if unpriced else "")
                )
            else:
                lines = capitated_run(chosen, terms.capitation)
                basis = f"capitated sums on account of the {year} pooled budget (version {pool.version})"
            closed, closed_basis = self._closed_year_lines(agreement, year)
            lines = sorted([*lines, *closed], key=lambda line: (line.provider, line.month == "", line.label))
            run = record.record_run(envelope, chosen, terms.mechanism, lines, basis + closed_basis)
            result = {
                "agreement": agreement, "financial_year": year, "month": run.month, "mechanism": run.mechanism,
                "providers": run.providers, "total": run.total, "lines": [line.as_row() for line in run.lines],
                "basis": run.basis,
            }  # fmt: skip
            return [record], json_ready(result)

        return self.ledger._execute("run_payments", {"agreement": agreement, "month": chosen}, envelope, build)

    def _arrears_to_identify(self, agreement: str, year: str, record: PaymentLedger) -> tuple[dict[str, Decimal], str]:
        """Arrears of the year's backdated review that a run's adjustment pays and no earlier run identified.

        They are owed on the window's visits that a run recorded before the
        decision paid at the old rate (``ledger.usecases.owed.paid_at_old_rate``:
        later runs paid the new price, and a visit imported after the last such
        run was never paid the old one), each visit by ``ledger.usecases.owed``
        — the arrears command's own sum — less what earlier adjustments
        identified. None without a decided, backdated review. "Before" is the
        order of recording, not the dates stated: the activity read model
        re-prices when the decision is recorded, so a run recorded after it
        with an earlier date paid the new price (its months owe nothing, and an
        adjustment of £0.00 never claims arrears), and one recorded before it
        with a later date paid the old.
        """
        review: RateReview | None = self.records.find(RateReview.create_id(agreement, year))
        if review is None or review.decision is None or not review.is_backdated() or not record.runs:
            return {}, ""
        try:
            backdated = backdated_review(self.ledger, self.records, review)
        except RuleBroken:  # no rates before the decision: nothing was paid at an old rate
            return {}, ""
        lines, _unpriced, _visits = owed(self.ledger, backdated, paid_at_old_rate(self.ledger, self.records, backdated))
        identified = arrears_paid(record.runs)
        due = {p: EXACT.subtract(v, identified.get(p, ZERO)) for p, v in arrears_provider_totals(lines).items()}
        return {p: v for p, v in due.items() if v != 0}, f"the {year} rate review"

    # -- closed years ------------------------------------------------------------------------------

    def _year_end(self, agreement: str, financial_year: str) -> YearEnd | None:
        return self.records.find(YearEnd.create_id(agreement, financial_year))

    def _years_of_term(self, agreement: str) -> list[str]:
        """Every financial year the agreement's term touches, in order."""
        found = self.records.agreement(agreement)
        year, last = financial_year_of(found.term_start), financial_year_of(found.term_end)
        years = []
        while year <= last:
            years.append(str(year))
            year = year.next()
        return years

    def _adjusted_after_close(self, agreement: str, closed_year: str) -> dict[str, Decimal]:
        """Each provider's closed-year adjustments for ``closed_year`` paid so far by the runs of later years."""
        totals: dict[str, Decimal] = {}
        for year in self._years_of_term(agreement):
            if year <= closed_year:
                continue
            record: PaymentLedger | None = self.records.find(PaymentLedger.create_id(agreement, year))
            for provider, amount in ({} if record is None else record.closed_year_paid(closed_year)).items():
                totals[provider] = EXACT.add(totals.get(provider, ZERO), amount)
        return totals

    def _closed_year_lines(self, agreement: str, year: str) -> tuple[list[PaymentLine], str]:
        """The closed-year adjustment lines a run of ``year`` carries, and what its basis says of them.

        For each closed year before ``year``: each provider's priced activity
        of that year now, less the activity it was closed with, less what
        earlier runs adjusted (``domain.settlement.year_end``). The lines pay a
        closed year's late changes, never this year's activity.
        """
        ends = [e for y in self._years_of_term(agreement) if y < year and (e := self._year_end(agreement, y))]
        if not ends:
            return [], ""
        self.ledger.projections.bring_up_to_date("activity", purpose="adjusting closed years")
        lines, named = [], []
        for end in ends:
            now = every_provider.by_provider(every_provider.activity_rows(self.ledger.read_engine, agreement,
                                                                          end.financial_year))  # fmt: skip
            adjusted = self._adjusted_after_close(agreement, end.financial_year)
            for provider, due in closed_year_adjustments(end.activity, now, adjusted).items():
                label = end.adjustment_note(provider, now.get(provider, ZERO), adjusted.get(provider, ZERO))
                lines.append(PaymentLine(provider, label, due, closed_year=end.financial_year))
            named.append(f"{end.financial_year} (closed with settlement {end.settlement})")
        return lines, f"; closed-year adjustments of {', '.join(named)}: its priced activity now less at close"

    def close_year(self, envelope: Envelope, agreement: str, financial_year: str) -> dict[str, Any]:
        """Close the year once its settlement is issued: refused while none is, once closed, or with a draft open.

        Later changes to the year are still recorded: their money is named as
        closed-year adjustments in the next open run and a re-settlement
        (docs/year-end.md).
        """
        authorise(self.records, envelope.actor, "close_year", agreement=agreement)
        year = check_financial_year(financial_year)

        def build() -> tuple[list[Any], dict[str, Any]]:
            self.records.agreement(agreement)  # an unknown agreement says so first
            closed = self._year_end(agreement, year)
            if closed is not None:
                raise Conflict(f"{closed.describe()}: it is already closed")
            existing = self.settlements(agreement, year)
            issued = [s for s in existing if s.status is SettlementStatus.ISSUED]
            if not issued:
                raise RuleBroken(
                    f"financial_year: {year} of {agreement} has no issued settlement; a year is closed after its "
                    "settlement is issued"
                )
            drafts = [s for s in existing if s.status in OPEN]
            if drafts:
                raise RuleBroken(
                    f"financial_year: {drafts[-1].describe()} is {drafts[-1].status} and not issued; issue or "
                    f"withdraw it before closing {year}"
                )
            settlement = issued[-1]
            end = YearEnd.close(envelope, agreement, year, settlement.sequence, settlement.statement["providers"])
            result = {
                "agreement": agreement, "financial_year": year, "closed_on": end.closed_on,
                "settlement": end.settlement, "activity": end.activity, "paid": end.paid,
                "message": f"closed {year} of {agreement} with {settlement.describe()}; later changes to its figures "
                "are paid as closed-year adjustments in the next open payment run and settled by a re-settlement",
            }  # fmt: skip
            return [end], json_ready(result)

        return self.ledger._execute("close_year", {"agreement": agreement, "financial_year": year}, envelope, build)

    # -- settlement inputs -------------------------------------------------------------------------

    def _version(self, aggregate_id: Any) -> int | None:
        return self.records.version(aggregate_id)

    def _activity_position(self) -> int | None:
        return self.ledger.projections.positions().get("activity")

    def accepted_returns(
        self, agreement: str, financial_year: str
    ) -> tuple[dict[str, ReturnFigures], list[dict[str, Any]]]:
        """Each provider's accepted cost returns for the year added up, and a reference to each return used.

        With the quarters of the year that have no accepted return (none when
        an annual return is accepted), so an incomplete year's clawback is pending.
        """
        year = parse_financial_year(check_financial_year(financial_year))
        quarters = {str(q) for q in year.quarters()}
        found: dict[str, dict[str, CostReturn]] = {}
        for record in read_events(self.ledger.recorder, self.ledger.mapper, topics=[CostReturn.Drafted.TOPIC], limit=10**6):
            payload = record.payload
            if payload["agreement"] != agreement or payload.get("in_house"):
                continue
            if payload["period"] != str(year) and payload["period"] not in quarters:
                continue
            cost_return: CostReturn = self.records.get(record.aggregate_id, "cost return")
            if cost_return.accepted_filing is not None:
                found.setdefault(cost_return.provider, {})[str(cost_return.period)] = cost_return
        figures: dict[str, ReturnFigures] = {}
        references: list[dict[str, Any]] = []
        for provider, by_period in sorted(found.items()):
            used = [by_period[str(year)]] if str(year) in by_period else [by_period[p] for p in sorted(by_period)]
            missing = () if str(year) in by_period else tuple(sorted(quarters - set(by_period)))
            total = surplus = ZERO
            sources = []
            for r in used:
                filing = r.accepted_filing
                total = EXACT.add(total, filing.total)
                surplus = EXACT.add(surplus, filing.lines[CostLine.SURPLUS])
                sources.append(f"{r.period} revision {r.accepted_revision}")
                references.append(
                    {"provider": provider, "period": str(r.period), "id": str(r.id), "version": r.version,
                     "accepted_revision": r.accepted_revision}  # fmt: skip
                )
            figures[provider] = ReturnFigures(provider, total, surplus, tuple(sources), missing)
        return figures, references

    def settlement_inputs(self, agreement: str, financial_year: str) -> tuple[SettlementInputs, dict[str, Any]]:
        """Every figure the year's settlement is computed from, by value, and where each came from."""
        year = check_financial_year(financial_year)
        self.ledger.projections.bring_up_to_date("activity", "incentives", purpose="computing the settlement's figures")
        found = self.records.agreement(agreement)
        pool = self.pooled_budget(agreement, year)
        terms = pool.terms
        rows = every_provider.activity_rows(self.ledger.read_engine, agreement, year)
        activity = every_provider.by_provider(rows)
        payments_id = PaymentLedger.create_id(agreement, year)
        record: PaymentLedger | None = self.records.find(payments_id)
        year_end = parse_financial_year(year).end
        max_margin = found.max_profit_margin_on(year_end)
        returns, return_refs = self.accepted_returns(agreement, year) if max_margin is not None else ({}, [])
        assessed = every_provider.assessed_incentives(self.ledger.read_engine, agreement, year)
        incentives = {} if assessed is None else assessed.payments
        incentive_refs = [] if assessed is None else [assessed.reference()]
        paid = {} if record is None else record.paid()
        closed = self._closed_year_reference(agreement, year, activity)
        if closed is not None:
            for provider, change in closed["adjustments"].items():
                paid[provider] = EXACT.add(paid.get(provider, ZERO), change)
        contributions = found.contributions(year)
        if not contributions:
            raise RuleBroken(f"contributions: no commissioner of {agreement} has a contribution for {year}")
        inputs = SettlementInputs(
            agreement=agreement,
            financial_year=year,
            target=terms.target,
            bands=terms.bands,
            contributions=contributions,
            activity=activity,
            paid=dict(sorted(paid.items())),
            incentives=incentives,
            gain_cap=terms.gain_cap,
            loss_cap=terms.loss_cap,
            provider_split=dict(terms.provider_split),
            max_margin=max_margin,
            margin_basis=terms.margin_basis,
            clawback_share=terms.clawback_share,
            returns=returns,
        )
        card_id = RateCard.create_id(agreement)
        arrears_id = Arrears.create_id(agreement, year)
        arrears: Arrears | None = self.records.find(arrears_id)
        references = {
            "pooled_budget": {"id": str(pool.id), "version": pool.version},
            "agreement": {
                "id": str(found.id), "version": found.version,
                "read": f"contributions for {year}; maximum profit margin in force on {year_end.isoformat()}",
            },  # fmt: skip
            "rate_card": {"id": str(card_id), "version": self._version(card_id)},
            "activity": {
                "read_model": "activity_totals",
                "event_position": self._activity_position(),
                "head": self.ledger.projections.head(),
                "months": sorted({r.month for r in rows}),
                "visits": sum(r.visits for r in rows),
                "unpriced_visits": every_provider.unpriced_visits(self.ledger.read_engine, agreement, year),
            },
            "payments": None if record is None else {
                "id": str(record.id), "version": record.version, "months": [r.month for r in record.runs],
            },  # fmt: skip
            "cost_returns": return_refs,
            "arrears": None if arrears is None else {
                "id": str(arrears.id), "version": arrears.version, "total": arrears.total,
                "note": "already in priced activity: the activity read model re-prices backdated visits",
            },  # fmt: skip
            "incentives": {
                "assessments": incentive_refs,
                "note": "paid through the settlement: each provider's payment as the year's incentive assessment "
                "last assessed it" if incentive_refs else f"no incentive assessment of {agreement} for {year} is recorded",
            },
            "kpi_results": "not read: KPI results reach a settlement only through incentive payments",
        }
        if closed is not None:
            references["closed_year"] = closed
        return inputs, json_ready(references)

    def _closed_year_reference(
        self, agreement: str, year: str, activity: Mapping[str, Decimal]
    ) -> dict[str, Any] | None:
        """For a closed year: what it was closed with, and each provider's closed-year adjustment (priced activity
        now − at close), paid in later runs or due in the next; the settlement counts it as paid on account."""
        end = self._year_end(agreement, year)
        if end is None:
            return None
        adjustments = closed_year_adjustments(end.activity, activity, {})
        paid_later = self._adjusted_after_close(agreement, year)
        return {
            "id": str(end.id), "version": end.version, "closed_on": end.closed_on, "settlement": end.settlement,
            "activity_at_close": end.activity, "adjustments": adjustments, "paid_in_later_runs": paid_later,
            "due_in_next_run": closed_year_adjustments(end.activity, activity, paid_later),
            "note": "closed year: each provider's priced activity now less at close is paid as a closed-year "
            "adjustment in an open year's payment run, so it is counted here as paid on account, never twice",
        }  # fmt: skip

    def preview_settlement(self, actor: Any, agreement: str, financial_year: str) -> dict[str, Any]:
        """The settlement as it would be drafted now, recording nothing."""
        access = accountant_access(self.records, actor, agreement)
        inputs, references = self.settlement_inputs(access.agreement, financial_year)
        statement = compute_settlement(inputs)
        return json_ready(
            {
                "agreement": agreement, "financial_year": inputs.financial_year, "status": "preview",
                "statement": statement.to_data(), "inputs": inputs.to_data(), "references": references,
            }  # fmt: skip
        )

    # -- the settlement's life ---------------------------------------------------------------------

    def settlements(self, agreement: str, financial_year: str) -> list[Settlement]:
        """Every settlement of the agreement's year, in number order."""
        year = check_financial_year(financial_year)
        found: list[Settlement] = []
        while (next_one := self.records.find(Settlement.create_id(agreement, year, len(found) + 1))) is not None:
            found.append(next_one)
        return found

    def settlement(self, agreement: str, financial_year: str, sequence: int | None = None) -> Settlement:
        """Settlement number ``sequence`` (default the latest) of the agreement's year."""
        year = check_financial_year(financial_year)
        if sequence is None:
            found = self.settlements(agreement, year)
            if not found:
                raise NotFound(f"no settlement of {agreement!r} for {year} has been drafted")
            return found[-1]
        return self.records.get(Settlement.create_id(agreement, year, sequence),
                         f"settlement {sequence} of {agreement!r} for {year}")  # fmt: skip

    def draft_settlement(self, envelope: Envelope, agreement: str, financial_year: str) -> dict[str, Any]:
        """Compute the year's settlement from the ledger as it stands and record it as a draft.

        After an issued settlement this is a re-settlement showing previous,
        new and difference per party; it is refused if nothing changed. An open
        draft with the same inputs is returned as it is (nothing recorded); one
        with different inputs is withdrawn, superseded by the new draft.
        """
        authorise(self.records, envelope.actor, "draft_settlement", agreement=agreement)
        year = check_financial_year(financial_year)

        def build() -> tuple[list[Any], dict[str, Any]]:
            self.records.agreement(agreement)  # an unknown agreement says so first
            inputs, references = self.settlement_inputs(agreement, year)
            existing = self.settlements(agreement, year)
            open_drafts = [s for s in existing if s.status in OPEN]
            data = json_ready(inputs.to_data())
            for draft in open_drafts:
                if json_ready(draft.inputs) == data:
                    view = views.settlement_view(draft, accountant_access(self.records, envelope.actor, agreement))
                    message = f"unchanged: {draft.describe()} was drafted from the same figures; nothing was recorded"
                    return [], json_ready({**view, "recorded": False, "message": message})
            issued = [s for s in existing if s.status is SettlementStatus.ISSUED]
            previous = issued[-1] if issued else None
            if previous is not None and json_ready(previous.inputs) == data:
                raise RuleBroken(
                    f"nothing has changed since {previous.describe()} was issued: a re-settlement would differ "
                    "by zero for every party"
                )
            statement: SettlementStatement = compute_settlement(inputs)
            sequence = len(existing) + 1
            new = Settlement.draft(
                envelope, inputs=inputs, statement=statement, sequence=sequence, references=references,
                previous=previous,
            )  # fmt: skip
            reason = f"superseded by settlement {sequence}" + (f": {envelope.reason}" if envelope.reason else "")
            for draft in open_drafts:
                draft.withdraw(Envelope(envelope.actor, envelope.effective_date, reason), superseded_by=sequence)
            view = views.settlement_view(new, accountant_access(self.records, envelope.actor, agreement))
            return [new, *open_drafts], json_ready({**view, "recorded": True})

        return self.ledger._execute("draft_settlement", {"agreement": agreement, "financial_year": year}, envelope, build)

    def _change_settlement(
        self, command: str, envelope: Envelope, agreement: str, financial_year: str, sequence: int,
        change: Any, payload: dict[str, Any] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        authorise(self.records, envelope.actor, command, agreement=agreement)
        year = check_financial_year(financial_year)

        def build() -> tuple[list[Any], dict[str, Any]]:
            found = self.records.agreement(agreement)
            settlement = self.settlement(agreement, year, sequence)
            change(found, settlement)
            return [settlement], _settlement_summary(settlement)

        body = {"agreement": agreement, "financial_year": year, "sequence": sequence, **(payload or {})}
        return self.ledger._execute(command, body, envelope, build)

    def review_settlement(
        self, envelope: Envelope, agreement: str, financial_year: str, sequence: int, note: str | None = None
    ) -> dict[str, Any]:
        def change(found: Agreement, s: Settlement) -> None:
            s.review(envelope, note)

        return self._change_settlement("review_settlement", envelope, agreement, financial_year, sequence, change,
                                       {"note": note})  # fmt: skip

    def approve_settlement(
        self, envelope: Envelope, agreement: str, financial_year: str, sequence: int, commissioner: str | None = None
    ) -> dict[str, Any]:
        """Approve for a commissioner: the approver's own organisation (an accountant of it).

        The operator's ``system`` hand belongs to no organisation, so it names ``commissioner``.
        """

        def change(found: Agreement, s: Settlement) -> None:
            s.approve(envelope, approving_commissioner(self.records, envelope.actor, found, commissioner))

        return self._change_settlement("approve_settlement", envelope, agreement, financial_year, sequence, change,
                                       {"commissioner": commissioner})  # fmt: skip

    def issue_settlement(
        self, envelope: Envelope, agreement: str, financial_year: str, sequence: int
    ) -> dict[str, Any]:
        """Issue an approved settlement, refused if the ledger's figures changed since it was drafted."""

        def change(found: Agreement, s: Settlement) -> None:
            if s.status is SettlementStatus.APPROVED:
                inputs, _ = self.settlement_inputs(agreement, s.financial_year)
                now, then = json_ready(inputs.to_data()), json_ready(s.inputs)
                changed = sorted(k for k in now if now[k] != then.get(k))
                if changed:
                    raise RuleBroken(
                        f"{s.describe()} cannot be issued: its inputs changed since it was drafted "
                        f"({', '.join(changed)}); draft the settlement again"
                    )
            s.issue(envelope)

        return self._change_settlement("issue_settlement", envelope, agreement, financial_year, sequence, change)

    def withdraw_settlement(
        self, envelope: Envelope, agreement: str, financial_year: str, sequence: int
    ) -> dict[str, Any]:
        def change(found: Agreement, s: Settlement) -> None:
            s.withdraw(envelope)

        return self._change_settlement("withdraw_settlement", envelope, agreement, financial_year, sequence, change)


def _pool_json(pool: PooledBudget) -> dict[str, Any]:
    return json_ready(
        {
            "agreement": pool.agreement,
            "financial_year": pool.financial_year,
            "revisions": pool.revisions,
            "terms": pool.terms.to_data(),
            "described": pool.terms.describe(),
        }
    )


def _settlement_summary(s: Settlement) -> dict[str, Any]:
    return json_ready(
        {
            "agreement": s.agreement,
            "financial_year": s.financial_year,
            "sequence": s.sequence,
            "status": s.status.value,
            "approvals": sorted(s.approvals),
            "awaiting": list(s.awaiting),
            "issued_on": None if s.issued is None else s.issued.on,
        }
    )
