"""Use cases: setting up an agreement and changing it, each change an event with its reason.

Every use case loads the agreement, calls one command on it and saves it
through ``_execute`` (idempotency, concurrency, read-model catch-up). The
agreement itself checks its own rules; this module adds the rules that need
other aggregates: a commissioner must be a registered council or CCG/ICB and
an awarded provider a registered provider, so a typo in a code is refused
instead of becoming a commissioner nobody can find.

The questions "as at date D" (the agreement as it stood, its history, a
postcode's zone and primary provider) are the read side's:
``ledger/queries/agreements.py`` answers them from the read models with the
domain's own date rules (``domain/agreements/terms.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from domain.aggregate import LedgerAggregate
from domain.agreements.agreement import Agreement
from domain.agreements.terms import (
    AgreementKind,
    AwardTier,
    KpiDirection,
    KpiUnit,
    PaymentBasis,
    ServiceType,
)
from domain.envelope import Envelope
from domain.errors import Conflict
from domain.organisations.organisation import OrganisationKind
from domain.periods import FinancialYear
from ledger.application import Ledger
from ledger.authorisation import authorise
from ledger.records import Records

COMMISSIONER_KINDS = (OrganisationKind.COUNCIL, OrganisationKind.ICB)


class AgreementUseCases:
    """Agreements name organisations (commissioners, awarded providers), looked up in ``records``."""

    def __init__(self, ledger: Ledger, records: Records):
        self.ledger = ledger
        self.records = records

    def _change_agreement(
        self, command: str, envelope: Envelope, code: str, payload: dict[str, Any], change: Callable[[Agreement], None]
    ) -> str:
        """Ask who may, load the agreement, apply one command to it, save it: the shape of every change below."""
        authorise(self.records, envelope.actor, command, agreement=code)

        def build() -> tuple[list[LedgerAggregate], str]:
            agreement = self.records.agreement(code)
            change(agreement)
            return [agreement], code

        return self.ledger._execute(command, {"agreement": code, **payload}, envelope, build)

    # -- commands ------------------------------------------------------------------------

    def register_agreement(
        self,
        envelope: Envelope,
        code: str,
        name: str,
        kind: AgreementKind | str,
        term_start: date,
        term_end: date,
        payment_basis: PaymentBasis | str = PaymentBasis.ACTUAL,
    ) -> str:
        authorise(self.records, envelope.actor, "register_agreement")
        payload = {
            "code": code,
            "name": name,
            "kind": str(kind),
            "term_start": term_start,
            "term_end": term_end,
            "payment_basis": str(payment_basis),
        }

        def build() -> tuple[list[LedgerAggregate], str]:
            if self.records.exists(Agreement.create_id(code)):
                raise Conflict(f"agreement {code!r} is already registered")
            agreement = Agreement.register(envelope, code, name, kind, term_start, term_end, payment_basis)
            return [agreement], code

        return self.ledger._execute("register_agreement", payload, envelope, build)

    def extend_agreement_term(self, envelope: Envelope, agreement: str, new_end: date) -> str:
        return self._change_agreement(
            "extend_agreement_term",
            envelope,
            agreement,
            {"new_end": new_end},
            lambda a: a.extend_term(envelope, new_end),
        )

    def join_commissioner(self, envelope: Envelope, agreement: str, commissioner: str) -> str:
        """A council or CCG/ICB joins the agreement as a commissioner; its kind comes from its registration."""

        def change(a: Agreement) -> None:
            org = self.records.registered_organisation(commissioner, COMMISSIONER_KINDS, "commissioner")
            a.join_commissioner(envelope, org.code, org.kind.value)

        return self._change_agreement(
            "join_commissioner", envelope, agreement, {"commissioner": commissioner}, change
        )

    def set_contribution(
        self,
        envelope: Envelope,
        agreement: str,
        commissioner: str,
        financial_year: FinancialYear | str,
        amount: Decimal | str,
    ) -> str:
        payload = {"commissioner": commissioner, "financial_year": str(financial_year), "amount": str(amount)}
        return self._change_agreement(
            "set_contribution",
            envelope,
            agreement,
            payload,
            lambda a: a.set_contribution(envelope, commissioner, financial_year, amount),
        )

    def add_zone(self, envelope: Envelope, agreement: str, zone: str, name: str, districts: Iterable[str]) -> str:
        chosen = list(districts) if not isinstance(districts, str) else districts
        return self._change_agreement(
            "add_zone",
            envelope,
            agreement,
            {"zone": zone, "name": name, "districts": chosen},
            lambda a: a.add_zone(envelope, zone, name, chosen),
        )

    def add_lot(self, envelope: Envelope, agreement: str, lot: str, name: str, covers: Iterable[str]) -> str:
        chosen = list(covers) if not isinstance(covers, str) else covers
        return self._change_agreement(
            "add_lot",
            envelope,
            agreement,
            {"lot": lot, "name": name, "covers": chosen},
            lambda a: a.add_lot(envelope, lot, name, chosen),
        )

    def add_service_type(self, envelope: Envelope, agreement: str, service: ServiceType | str) -> str:
        return self._change_agreement(
            "add_service_type",
            envelope,
            agreement,
            {"service": str(service)},
            lambda a: a.add_service_type(envelope, service),
        )

    def award_provider(
        self,
        envelope: Envelope,
        agreement: str,
        provider: str,
        zone: str,
        tier: AwardTier | str,
        to_date: date | None = None,
    ) -> str:
        """Award a zone (or lot) to a registered provider from the envelope's effective date."""

        def change(a: Agreement) -> None:
            self.records.registered_organisation(provider, (OrganisationKind.PROVIDER,), "provider")
            a.award_provider(envelope, provider, zone, tier, to_date)

        payload = {"provider": provider, "zone": zone, "tier": str(tier), "to_date": to_date}
        return self._change_agreement("award_provider", envelope, agreement, payload, change)

    def end_award(self, envelope: Envelope, agreement: str, provider: str, zone: str) -> str:
        """End an award with effect from the envelope's effective date (its last day is the day before)."""
        return self._change_agreement(
            "end_award",
            envelope,
            agreement,
            {"provider": provider, "zone": zone},
            lambda a: a.end_award(envelope, provider, zone),
        )

    def appoint_auditor(self, envelope: Envelope, agreement: str, audit_body: str) -> str:
        """Appoint a registered audit body to audit the agreement from the envelope's effective date: its auditors
        then read everything recorded under it (``ledger.authorisation``)."""

        def change(a: Agreement) -> None:
            self.records.registered_organisation(audit_body, (OrganisationKind.AUDIT_BODY,), "audit_body")
            a.appoint_auditor(envelope, audit_body)

        return self._change_agreement("appoint_auditor", envelope, agreement, {"audit_body": audit_body}, change)

    def end_auditor_appointment(self, envelope: Envelope, agreement: str, audit_body: str) -> str:
        """End an audit body's appointment with effect from the envelope's effective date."""
        return self._change_agreement(
            "end_auditor_appointment",
            envelope,
            agreement,
            {"audit_body": audit_body},
            lambda a: a.end_auditor_appointment(envelope, audit_body),
        )

    def define_kpi(
        self,
        envelope: Envelope,
        agreement: str,
        kpi: str,
        name: str,
        measure: str,
        target: Decimal | str,
        direction: KpiDirection | str,
        unit: KpiUnit | str | None = None,
    ) -> str:
        payload = {"kpi": kpi, "name": name, "measure": measure, "target": str(target), "direction": str(direction)}
        if unit is not None:  # only when given, so a retry of a command from before units keeps its digest
            payload["unit"] = str(unit)
        return self._change_agreement(
            "define_kpi",
            envelope,
            agreement,
            payload,
            lambda a: a.define_kpi(envelope, kpi, name, measure, target, direction, unit),
        )

    def set_payment_basis(self, envelope: Envelope, agreement: str, payment_basis: PaymentBasis | str) -> str:
        return self._change_agreement(
            "set_payment_basis",
            envelope,
            agreement,
            {"payment_basis": str(payment_basis)},
            lambda a: a.set_payment_basis(envelope, payment_basis),
        )

    def set_living_wage_commitment(
        self,
        envelope: Envelope,
        agreement: str,
        committed: bool = True,
        adoptions: Iterable[tuple[date, Decimal]] | None = None,
    ) -> str:
        chosen = None if adoptions is None else list(adoptions)
        payload = {"committed": committed, "adoptions": chosen}
        return self._change_agreement(
            "set_living_wage_commitment",
            envelope,
            agreement,
            payload,
            lambda a: a.set_living_wage_commitment(envelope, committed, chosen),
        )

    def set_profit_cap(self, envelope: Envelope, agreement: str, max_margin: Decimal | str | None) -> str:
        payload = {"max_margin": None if max_margin is None else str(max_margin)}
        return self._change_agreement(
            "set_profit_cap", envelope, agreement, payload, lambda a: a.set_profit_cap(envelope, max_margin)
        )

    def set_plausibility_ranges(
        self,
        envelope: Envelope,
        agreement: str,
        ranges: Mapping[str, Decimal | str | None] | None = None,
        explanation_required: Iterable[str] | None = None,
    ) -> str:
        """The plausibility ranges the agreement states for its returns (``domain.returns.plausibility.RANGES``)
        and the findings that need an explanation before acceptance; whatever it does not state keeps the default."""
        stated = {name: value for name, value in (ranges or {}).items() if value is not None}
        kinds = None if explanation_required is None else list(explanation_required)
        payload = {"ranges": {k: str(v) for k, v in sorted(stated.items())}, "explanation_required": kinds}
        return self._change_agreement(
            "set_plausibility_ranges", envelope, agreement, payload,
            lambda a: a.set_plausibility_ranges(envelope, stated, kinds),
        )  # fmt: skip
