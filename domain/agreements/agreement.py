"""Agreements: the contract under which commissioners buy care, as at any date.

An agreement (a framework or an alliance contract) says who pays (the
commissioners and their contributions to the pooled budget per financial
year), for how long (term and extensions), where (zones by postcode
district, and lots that span zones), what (service types), from whom
(awards), how well (KPIs) and on what terms (visit payment basis, Real
Living Wage commitment, profit cap).

Why it is built this way:

* Every change is its own event and must say why (the envelope's
  ``reason``): a new zone, an award ending, an extension. Nothing is edited.
* The envelope's ``effective_date`` is **the first day the change applies**.
  So an award ended with effect from 1 April 2021 was last in force on
  31 March 2021 (the event records that last day too).
* The aggregate keeps every fact with its dates rather than overwriting it,
  so it answers "as at date D" questions about what the agreement said
  applied on D: ``zone_for_postcode``, ``primary_provider``, ``awards_on``,
  ``payment_basis_on``, ``as_at``. The date rules are the functions of
  ``domain/agreements/terms.py``, which the read side applies to the same
  facts read back from rows (``terms()`` is the aggregate's copy of them).
  The other "as at" — what the ledger had *recorded* by a past time — is
  answered by replaying events up to then.
* Each event says in words what it changed (``what()``): the aggregate's
  history and the read model's history table both take that one text.
* Postcodes may identify a person's home, so errors name the postcode
  *district* only, never the full postcode, and never list other zones.

Dates in events are ``datetime.date``, money is ``Decimal``, and event fields
hold only primitives, lists and dicts, so the stored history needs no
value-object transcodings. The frozen dataclasses below are read-only views.
The input checks shared with rate cards and reviews are in ``domain/checks.py``,
postcode parsing in ``domain/agreements/postcodes.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.aggregate import Change, LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.agreements.postcodes import check_district
from domain.agreements.terms import (
    AgreementKind,
    AgreementTerms,
    AgreementView,
    Award,
    AwardTier,
    CommissionerKind,
    Kpi,
    KpiDirection,
    KpiUnit,
    LivingWageAdoption,
    PaymentBasis,
    PostcodeLocation,
    ServiceType,
    Zone,
    awards_during,
    awards_on,
    check_service,
    contributions_in,
    kpis_on,
    lots_covering,
    pooled_budget,
    primary_provider_on,
    service_types_on,
    term_end_as_at,
    zone_for_postcode,
    zones_on,
)
from domain.checks import (
    check_amount,
    check_choice,
    check_date,
    check_day,
    check_decimal,
    check_financial_year,
    check_hourly_rate,
    check_name,
    check_period_in_range,
    check_reason,
    check_text,
)
from domain.dated import in_force
from domain.envelope import Envelope
from domain.errors import InvalidInput, NotFound, RuleBroken
from domain.money import EXACT, format_gbp
from domain.organisations.organisation import check_code
from domain.periods import FinancialYear, Period, parse_financial_year
from domain.returns.plausibility import check_ranges
from domain.returns.statutory_wages import real_living_wage_on

__all__ = [
    "Agreement",
]

def _adoptions(rows: Iterable[dict[str, Any]]) -> tuple[LivingWageAdoption, ...]:
    return tuple(LivingWageAdoption(row["adopted_from"], row["hourly_rate"]) for row in rows)


class Agreement(LedgerAggregate):
    """A framework or alliance agreement, answering "as at date D" questions."""

    TOPIC = "openbook:agreement"

    class Registered(LedgerCreated):
        TOPIC = "openbook:agreement.registered"
        code: str
        name: str
        kind: str
        term_start: date
        term_end: date
        payment_basis: str

        def what(self) -> str:
            return (
                f"{self.kind} agreement {self.code} ({self.name}) registered, term {self.term_start.isoformat()} "
                f"to {self.term_end.isoformat()}, visits paid on {self.payment_basis} minutes"
            )

        def apply(self, aggregate: Agreement) -> None:
            aggregate._log(self, self.what())

    class TermExtended(LedgerEvent):
        TOPIC = "openbook:agreement.term-extended"
        new_end: date

        def what(self) -> str:
            return f"term extended to {self.new_end.isoformat()}"

        def apply(self, aggregate: Agreement) -> None:
            aggregate._extensions.append((self.envelope.effective_date, self.new_end))
            aggregate._log(self, self.what())

    class CommissionerJoined(LedgerEvent):
        TOPIC = "openbook:agreement.commissioner-joined"
        commissioner: str
        commissioner_kind: str

        def what(self) -> str:
            return f"{self.commissioner} ({self.commissioner_kind}) joined as a commissioner"

        def apply(self, aggregate: Agreement) -> None:
            kind = CommissionerKind(self.commissioner_kind)
            aggregate._commissioners[self.commissioner] = (self.envelope.effective_date, kind)
            aggregate._log(self, self.what())

    class ContributionSet(LedgerEvent):
        TOPIC = "openbook:agreement.contribution-set"
        commissioner: str
        financial_year: str
        amount: Decimal

        def what(self) -> str:
            return f"{self.commissioner} contributes {format_gbp(self.amount)} to the pool in {self.financial_year}"

        def apply(self, aggregate: Agreement) -> None:
            aggregate._contributions[(self.commissioner, self.financial_year)] = self.amount
            aggregate._log(self, self.what())

    class ZoneAdded(LedgerEvent):
        TOPIC = "openbook:agreement.zone-added"
        zone: str
        name: str
        districts: list[str]

        def what(self) -> str:
            return f"zone {self.zone} ({self.name}) added: {', '.join(self.districts)}"

        def apply(self, aggregate: Agreement) -> None:
            zone = Zone(self.zone, self.name, tuple(self.districts), self.envelope.effective_date)
            aggregate._zones[self.zone] = zone
            aggregate._log(self, self.what())

    class LotAdded(LedgerEvent):
        TOPIC = "openbook:agreement.lot-added"
        lot: str
        name: str
        covers: list[str]

        def what(self) -> str:
            return f"lot {self.lot} ({self.name}) added, covering zones {', '.join(self.covers)}"

        def apply(self, aggregate: Agreement) -> None:
            lot = Zone(self.lot, self.name, (), self.envelope.effective_date, tuple(self.covers))
            aggregate._zones[self.lot] = lot
            aggregate._log(self, self.what())

    class ServiceTypeAdded(LedgerEvent):
        TOPIC = "openbook:agreement.service-type-added"
        service: str

        def what(self) -> str:
            return f"service type {self.service} added"

        def apply(self, aggregate: Agreement) -> None:
            aggregate._services[ServiceType(self.service)] = self.envelope.effective_date
            aggregate._log(self, self.what())

    class ProviderAwarded(LedgerEvent):
        TOPIC = "openbook:agreement.provider-awarded"
        provider: str
        zone: str
        tier: str
        to_date: date | None

        def what(self) -> str:
            until = f" until {self.to_date.isoformat()}" if self.to_date else ""
            return f"{self.provider} awarded zone {self.zone} as {self.tier} provider{until}"

        def apply(self, aggregate: Agreement) -> None:
            award = Award(self.provider, self.zone, AwardTier(self.tier), self.envelope.effective_date, self.to_date)
            aggregate._awards.append(award)
            aggregate._log(self, self.what())

    class AwardEnded(LedgerEvent):
        TOPIC = "openbook:agreement.award-ended"
        provider: str
        zone: str
        awarded_from: date
        last_day: date

        def what(self) -> str:
            return f"{self.provider}'s award of zone {self.zone} ended; last day {self.last_day.isoformat()}"

        def apply(self, aggregate: Agreement) -> None:
            for index, award in enumerate(aggregate._awards):
                if (award.provider, award.zone, award.from_date) == (self.provider, self.zone, self.awarded_from):
                    aggregate._awards[index] = Award(
                        award.provider, award.zone, award.tier, award.from_date, self.last_day
                    )
            aggregate._log(self, self.what())

    class KpiDefined(LedgerEvent):
        """Version 2 records the KPI's unit; a version 1 event takes the unit its measure's words give."""

        TOPIC = "openbook:agreement.kpi-defined"
        class_version = 2
        kpi: str
        name: str
        measure: str
        target: Decimal
        direction: str
        unit: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["unit"] = KpiUnit.of_measure(state["measure"]).value

        def what(self) -> str:
            return f"KPI {self.kpi} ({self.name}): {self.measure}, target {self.target}, {self.direction}"

        def apply(self, aggregate: Agreement) -> None:
            kpi = Kpi(
                self.kpi, self.name, self.measure, self.target, KpiDirection(self.direction), KpiUnit(self.unit)
            )
            aggregate._kpis.append((self.envelope.effective_date, kpi))
            aggregate._log(self, self.what())

    class PaymentBasisSet(LedgerEvent):
        TOPIC = "openbook:agreement.payment-basis-set"
        payment_basis: str

        def what(self) -> str:
            return f"visits paid on {self.payment_basis} minutes"

        def apply(self, aggregate: Agreement) -> None:
            aggregate._payment_basis.append((self.envelope.effective_date, PaymentBasis(self.payment_basis)))
            aggregate._log(self, self.what())

    class LivingWageCommitmentSet(LedgerEvent):
        TOPIC = "openbook:agreement.living-wage-commitment-set"
        committed: bool
        adoptions: list[dict[str, Any]]

        def commitment(self) -> tuple[LivingWageAdoption, ...] | None:
            """The agreement's own adoption dates (empty: the default dates), or None for a withdrawal."""
            return _adoptions(self.adoptions) if self.committed else None

        def what(self) -> str:
            commitment = self.commitment()
            if commitment is None:
                return "Real Living Wage commitment withdrawn"
            if commitment:
                dates = ", ".join(f"{format_gbp(a.hourly_rate)} from {a.adopted_from.isoformat()}" for a in commitment)
                return f"committed to the Real Living Wage: {dates}"
            return "committed to the Real Living Wage, each rate from 1 April after it is announced"

        def apply(self, aggregate: Agreement) -> None:
            aggregate._living_wage.append((self.envelope.effective_date, self.commitment()))
            aggregate._log(self, self.what())

    class ProfitCapSet(LedgerEvent):
        TOPIC = "openbook:agreement.profit-cap-set"
        max_margin: Decimal | None

        def what(self) -> str:
            return "no maximum profit margin" if self.max_margin is None else f"maximum profit margin {self.max_margin}"

        def apply(self, aggregate: Agreement) -> None:
            aggregate._profit_cap.append((self.envelope.effective_date, self.max_margin))
            aggregate._log(self, self.what())

    class PlausibilityRangesSet(LedgerEvent):
        """The plausibility ranges the agreement states for its returns, from the effective date (``check_ranges``).

        ``ranges`` names only the ranges stated (the rest keep the domain's
        defaults); ``explanation_required`` the findings that need an
        explanation before acceptance, or None for the default. Setting them
        again replaces them all from its date.
        """

        TOPIC = "openbook:agreement.plausibility-ranges-set"
        ranges: dict[str, Decimal]
        explanation_required: list[str] | None

        def stated(self) -> dict[str, Any]:
            found: dict[str, Any] = dict(self.ranges)
            if self.explanation_required is not None:
                found["explanation_required"] = list(self.explanation_required)
            return found

        def what(self) -> str:
            parts = [f"{name.replace('_', ' ')} {v.normalize(EXACT):f}" for name, v in sorted(self.ranges.items())]
            if self.explanation_required is not None:
                parts.append(f"explanation required for {', '.join(self.explanation_required) or 'none'}")
            return "plausibility ranges: " + ("; ".join(parts) or "the defaults")

        def apply(self, aggregate: Agreement) -> None:
            aggregate._plausibility.append((self.envelope.effective_date, self.stated()))
            aggregate._log(self, self.what())

    class AuditorAppointed(LedgerEvent):
        """An audit body appointed to audit the agreement, from the envelope's effective date: its auditors then read
        everything recorded under the agreement (``ledger.authorisation``), and nothing of any other."""

        TOPIC = "openbook:agreement.auditor-appointed"
        audit_body: str

        def what(self) -> str:
            return f"{self.audit_body} appointed to audit the agreement"

        def apply(self, aggregate: Agreement) -> None:
            aggregate._auditors[self.audit_body] = self.envelope.effective_date
            aggregate._log(self, self.what())

    class AuditorAppointmentEnded(LedgerEvent):
        """The audit body's appointment ended with effect from the envelope's date; its auditors read no more of it."""

        TOPIC = "openbook:agreement.auditor-appointment-ended"
        audit_body: str
        appointed_from: date
        last_day: date

        def what(self) -> str:
            return f"{self.audit_body}'s appointment to audit the agreement ended; last day {self.last_day.isoformat()}"

        def apply(self, aggregate: Agreement) -> None:
            aggregate._auditors.pop(self.audit_body, None)
            aggregate._auditors_ended[self.audit_body] = self.last_day
            aggregate._log(self, self.what())

    @staticmethod
    def create_id(code: str) -> UUID:
        return natural_id("agreement", code)

    def __init__(
        self, envelope: Envelope, code: str, name: str, kind: str, term_start: date, term_end: date, payment_basis: str
    ):
        self.code = code
        self.name = name
        self.kind = AgreementKind(kind)
        #: The organisation whose staff registered it: it sets the agreement up until a commissioner joins.
        self.registered_by = envelope.actor.organisation
        self.term_start = term_start
        self.original_term_end = term_end
        self._extensions: list[tuple[date, date]] = []
        self._commissioners: dict[str, tuple[date, CommissionerKind]] = {}
        self._contributions: dict[tuple[str, str], Decimal] = {}
        self._zones: dict[str, Zone] = {}
        self._services: dict[ServiceType, date] = {}
        self._awards: list[Award] = []
        self._kpis: list[tuple[date, Kpi]] = []  # every definition, in recording order
        self._payment_basis: list[tuple[date, PaymentBasis]] = [(term_start, PaymentBasis(payment_basis))]
        self._living_wage: list[tuple[date, tuple[LivingWageAdoption, ...] | None]] = []
        self._profit_cap: list[tuple[date, Decimal | None]] = []
        self._plausibility: list[tuple[date, dict[str, Any]]] = []  # the plausibility ranges stated, by date
        self._changes: list[Change] = []  # the registration's line is added by Registered.apply
        self._auditors: dict[str, date] = {}  # audit body -> the day its current appointment began
        self._auditors_ended: dict[str, date] = {}  # audit body -> the last day of its latest ended appointment


    # -- commands ------------------------------------------------------------------------

    @classmethod
    def register(
        cls,
        envelope: Envelope,
        code: str,
        name: str,
        kind: AgreementKind | str,
        term_start: date,
        term_end: date,
        payment_basis: PaymentBasis | str = PaymentBasis.ACTUAL,
    ) -> Agreement:
        """Record a new agreement; its payment basis applies from the start of its term."""
        check_code(code)
        chosen_kind = check_choice(AgreementKind, kind, "kind")
        basis = check_choice(PaymentBasis, payment_basis, "payment_basis")
        check_day(term_start, "term_start")
        check_day(term_end, "term_end")
        if term_end < term_start:
            raise InvalidInput(
                f"term_end: {term_end.isoformat()} is before the term starts on {term_start.isoformat()}"
            )
        return cls._create(
            cls.Registered,
            id=cls.create_id(code),
            envelope=envelope,
            code=code,
            name=check_name(name),
            kind=chosen_kind.value,
            term_start=term_start,
            term_end=term_end,
            payment_basis=basis.value,
        )

    def extend_term(self, envelope: Envelope, new_end: date) -> None:
        check_reason(envelope, "an extension")
        check_day(new_end, "new_end")
        if new_end <= self.term_end:
            raise RuleBroken(
                f"new_end: {new_end.isoformat()} does not extend the term, "
                f"which already ends on {self.term_end.isoformat()}"
            )
        self.trigger_event(self.TermExtended, envelope=envelope, new_end=new_end)

    def join_commissioner(
        self, envelope: Envelope, commissioner: str, commissioner_kind: CommissionerKind | str
    ) -> None:
        check_reason(envelope, "a new commissioner")
        check_code(commissioner, "commissioner")
        kind = check_choice(CommissionerKind, commissioner_kind, "commissioner_kind")
        if commissioner in self._commissioners:
            raise RuleBroken(f"commissioner: {commissioner} is already a commissioner of {self.code}")
        self.trigger_event(
            self.CommissionerJoined, envelope=envelope, commissioner=commissioner, commissioner_kind=kind.value
        )

    def set_contribution(
        self, envelope: Envelope, commissioner: str, financial_year: FinancialYear | str, amount: Decimal
    ) -> None:
        """A commissioner's contribution to the pooled budget for a year; setting it again revises it."""
        check_reason(envelope, "a contribution")
        if commissioner not in self._commissioners:
            raise NotFound(f"commissioner: {commissioner} is not a commissioner of {self.code}")
        year = self.check_year_in_term(financial_year)
        value = check_amount(amount, "amount")
        if self._contributions.get((commissioner, year)) == value:
            return
        self.trigger_event(
            self.ContributionSet, envelope=envelope, commissioner=commissioner, financial_year=year, amount=value
        )

    def add_zone(self, envelope: Envelope, zone: str, name: str, districts: Iterable[str]) -> None:
        """A zone or lot with its postcode districts, in force from the envelope's effective date."""
        check_reason(envelope, "a new zone")
        check_code(zone, "zone")
        label = check_name(name)
        if zone in self._zones:
            raise RuleBroken(f"zone: {zone} already exists in {self.code}")
        if isinstance(districts, str):
            raise InvalidInput(f"districts: give a list of districts, not the single text {districts!r}")
        chosen = [check_district(d) for d in districts]
        if not chosen:
            raise InvalidInput("districts: a zone needs at least one postcode district")
        repeated = sorted({d for d in chosen if chosen.count(d) > 1})
        if repeated:
            raise InvalidInput(f"districts: {', '.join(repeated)} listed more than once")
        for other in self._zones.values():
            clash = sorted(set(chosen) & set(other.districts))
            if clash:
                raise RuleBroken(f"districts: {', '.join(clash)} already in zone {other.code}")
        self.trigger_event(self.ZoneAdded, envelope=envelope, zone=zone, name=label, districts=chosen)

    def add_lot(self, envelope: Envelope, lot: str, name: str, covers: Iterable[str]) -> None:
        """A lot that packages join by need, not address, spanning zones already in force.

        Rates and awards treat a lot like a zone; postcode lookup never
        returns one (a postcode's zone is unique), but says which lots cover it.
        """
        check_reason(envelope, "a new lot")
        check_code(lot, "lot")
        label = check_name(name)
        if lot in self._zones:
            raise RuleBroken(f"lot: {lot} already exists in {self.code}")
        if isinstance(covers, str):
            raise InvalidInput(f"covers: give a list of zones, not the single text {covers!r}")
        chosen = list(covers)
        if not chosen:
            raise InvalidInput("covers: a lot covers at least one zone")
        repeated = sorted({z for z in chosen if chosen.count(z) > 1})
        if repeated:
            raise InvalidInput(f"covers: {', '.join(repeated)} listed more than once")
        for zone in chosen:
            if self._zone_on(zone, envelope.effective_date).is_lot:
                raise RuleBroken(f"covers: {zone} is a lot; a lot covers zones drawn by postcode district")
        self.trigger_event(self.LotAdded, envelope=envelope, lot=lot, name=label, covers=chosen)

    def add_service_type(self, envelope: Envelope, service: ServiceType | str) -> None:
        check_reason(envelope, "a new service type")
        chosen = check_service(service)
        if chosen in self._services:
            raise RuleBroken(f"service: {chosen} is already a service type of {self.code}")
        self.trigger_event(self.ServiceTypeAdded, envelope=envelope, service=chosen.value)

    def award_provider(
        self,
        envelope: Envelope,
        provider: str,
        zone: str,
        tier: AwardTier | str,
        to_date: date | None = None,
    ) -> None:
        """Award a zone to a provider from the envelope's effective date (to ``to_date`` inclusive, if known).

        A zone has at most one primary provider on any date, and a provider
        holds at most one award in a zone at a time.
        """
        check_reason(envelope, "an award")
        check_code(provider, "provider")
        chosen_tier = check_choice(AwardTier, tier, "tier")
        start = envelope.effective_date
        if to_date is not None and check_day(to_date, "to_date") < start:
            raise InvalidInput(f"to_date: {to_date.isoformat()} is before the award starts on {start.isoformat()}")
        self._zone_on(zone, start)
        self.check_in_term(start)
        for award in self._awards:
            if award.zone != zone or not award.overlaps(start, to_date):
                continue
            if award.provider == provider:
                raise RuleBroken(
                    f"provider: {provider} already holds an award in zone {zone} from {award.from_date.isoformat()}"
                )
            if chosen_tier is AwardTier.PRIMARY and award.tier is AwardTier.PRIMARY:
                raise RuleBroken(
                    f"tier: zone {zone} already has {award.provider} as primary provider over those dates; "
                    "end that award first"
                )
        self.trigger_event(
            self.ProviderAwarded,
            envelope=envelope,
            provider=provider,
            zone=zone,
            tier=chosen_tier.value,
            to_date=to_date,
        )

    def end_award(self, envelope: Envelope, provider: str, zone: str) -> None:
        """End a provider's award with effect from the envelope's effective date (its last day is the day before)."""
        check_reason(envelope, "ending an award")
        effective = envelope.effective_date
        for award in self._awards:
            if award.provider == provider and award.zone == zone and award.in_force_on(effective):
                if award.from_date == effective:
                    raise RuleBroken(
                        f"provider: {provider}'s award of zone {zone} starts on {effective.isoformat()}, "
                        "so ending it then would mean it never applied"
                    )
                self.trigger_event(
                    self.AwardEnded,
                    envelope=envelope,
                    provider=provider,
                    zone=zone,
                    awarded_from=award.from_date,
                    last_day=effective - timedelta(days=1),
                )
                return
        raise NotFound(f"provider: {provider} holds no award in zone {zone} in force on {effective.isoformat()}")

    def define_kpi(
        self,
        envelope: Envelope,
        kpi: str,
        name: str,
        measure: str,
        target: Decimal,
        direction: KpiDirection | str,
        unit: KpiUnit | str | None = None,
    ) -> None:
        """Define a KPI from the envelope's effective date; defining it again revises it from that date.

        Without a ``unit`` the KPI takes the one its measure's words give (``KpiUnit.of_measure``);
        its target must lie in the unit's range, as its results will have to.
        """
        check_reason(envelope, "a KPI")
        check_code(kpi, "kpi")
        described = check_text(measure, "measure")
        chosen = KpiUnit.of_measure(described) if unit is None else check_choice(KpiUnit, unit, "unit")
        self.trigger_event(
            self.KpiDefined,
            envelope=envelope,
            kpi=kpi,
            name=check_name(name),
            measure=described,
            target=chosen.check(target, "target"),
            direction=check_choice(KpiDirection, direction, "direction").value,
            unit=chosen.value,
        )

    def set_payment_basis(self, envelope: Envelope, payment_basis: PaymentBasis | str) -> None:
        check_reason(envelope, "changing the payment basis")
        basis = check_choice(PaymentBasis, payment_basis, "payment_basis")
        self.trigger_event(self.PaymentBasisSet, envelope=envelope, payment_basis=basis.value)

    def set_living_wage_commitment(
        self,
        envelope: Envelope,
        committed: bool = True,
        adoptions: Iterable[tuple[date, Decimal]] | None = None,
    ) -> None:
        """Commit to (or withdraw from) the Real Living Wage from the envelope's effective date.

        ``adoptions`` are the agreement's own (adopted from, hourly rate) dates;
        without them each announced rate applies from 1 April of the next year.
        """
        check_reason(envelope, "a Real Living Wage commitment")
        rows: list[dict[str, Any]] = []
        if not committed and adoptions:
            raise InvalidInput("adoptions: a withdrawn commitment has no adoption dates")
        seen: set[date] = set()
        for index, (adopted_from, hourly_rate) in enumerate(adoptions or ()):
            check_day(adopted_from, f"adoptions[{index}].adopted_from")
            if adopted_from in seen:
                raise InvalidInput(f"adoptions[{index}].adopted_from: {adopted_from.isoformat()} is listed twice")
            seen.add(adopted_from)
            rate = check_hourly_rate(hourly_rate, f"adoptions[{index}].hourly_rate")
            rows.append({"adopted_from": adopted_from, "hourly_rate": rate})
        rows.sort(key=lambda row: row["adopted_from"])
        self.trigger_event(self.LivingWageCommitmentSet, envelope=envelope, committed=bool(committed), adoptions=rows)

    def set_profit_cap(self, envelope: Envelope, max_margin: Decimal | None) -> None:
        """The maximum permitted profit margin as a fraction (0.05 = 5%), or None for no cap."""
        check_reason(envelope, "a profit cap")
        value = None
        if max_margin is not None:
            value = check_decimal(
                max_margin, "max_margin", places=4, minimum=Decimal(0), maximum=Decimal(1), above_minimum=True
            )
        self.trigger_event(self.ProfitCapSet, envelope=envelope, max_margin=value)

    def set_plausibility_ranges(
        self, envelope: Envelope, ranges: Mapping[str, object], explanation_required: Iterable[object] | None = None
    ) -> None:
        """The plausibility ranges this agreement states for its returns from the envelope's date (the rest keep
        the domain's defaults); ``explanation_required`` the findings needing an explanation (None: default)."""
        check_reason(envelope, "plausibility ranges")
        found = check_ranges(ranges, explanation_required)
        kinds = found.pop("explanation_required", None)
        self.trigger_event(self.PlausibilityRangesSet, envelope=envelope, ranges=found, explanation_required=kinds)

    def appoint_auditor(self, envelope: Envelope, audit_body: str) -> None:
        """Appoint an audit body (its code; the use case checks it is a registered audit body) from the envelope's
        effective date. Appointing one already appointed is refused: one appointment at a time."""
        check_reason(envelope, "an auditor's appointment")
        check_code(audit_body, "audit_body")  # not held to the term: audit rights outlast the contract
        if audit_body in self._auditors:
            raise RuleBroken(
                f"audit_body: {audit_body} is already appointed to audit {self.code} "
                f"(since {self._auditors[audit_body].isoformat()})"
            )
        ended = self._auditors_ended.get(audit_body)
        if ended is not None and envelope.effective_date <= ended:
            raise RuleBroken(
                f"audit_body: {audit_body}'s last appointment to audit {self.code} ran to {ended.isoformat()}; "
                "a new one starts after it"
            )
        self.trigger_event(self.AuditorAppointed, envelope=envelope, audit_body=audit_body)

    def end_auditor_appointment(self, envelope: Envelope, audit_body: str) -> None:
        """End an audit body's appointment with effect from the envelope's effective date (its last day the day
        before); from then its auditors read nothing of the agreement."""
        check_reason(envelope, "ending an auditor's appointment")
        since = self._auditors.get(audit_body)
        if since is None:
            raise NotFound(f"audit_body: {audit_body} is not appointed to audit {self.code}")
        effective = envelope.effective_date
        if effective <= since:
            raise RuleBroken(
                f"audit_body: {audit_body}'s appointment starts on {since.isoformat()}, so ending it on "
                f"{effective.isoformat()} would mean it never applied"
            )
        self.trigger_event(
            self.AuditorAppointmentEnded, envelope=envelope, audit_body=audit_body, appointed_from=since,
            last_day=effective - timedelta(days=1),
        )

    # -- rules and questions "as at date D" --------------------------------------------------

    @property
    def term_end(self) -> date:
        """The end of the term with every recorded extension."""
        return max([self.original_term_end, *(end for _, end in self._extensions)])

    def term_end_as_at(self, on: date) -> date:
        """The end of the term as the agreement stood on ``on`` (extensions effective by then)."""
        return term_end_as_at(self.original_term_end, self._extensions, on)

    def is_in_term(self, on: date) -> bool:
        """Whether ``on`` falls in the term as extended (start to end, inclusive)."""
        return self.term_start <= check_date(on, "on") <= self.term_end

    def check_period_in_term(self, period: Period, field: str = "period") -> Period:
        """A year or quarter with at least one day in the term: a contribution, pool, review, cost return
        or KPI result for any other period could never apply. (Beyond the ledger's years is a bound first.)"""
        check_period_in_range(period, field)
        if period.end < self.term_start or period.start > self.term_end:
            raise RuleBroken(
                f"{field}: {period} is outside the term of {self.code} "
                f"({self.term_start.isoformat()} to {self.term_end.isoformat()})"
            )
        return period

    def check_year_in_term(self, financial_year: FinancialYear | str, field: str = "financial_year") -> str:
        """The canonical text of a financial year within the ledger's years and the term."""
        year = parse_financial_year(check_financial_year(financial_year, field))
        self.check_period_in_term(year, field)
        return str(year)

    def check_in_term(self, on: date) -> None:
        if not self.is_in_term(on):
            raise RuleBroken(
                f"date: {on.isoformat()} is outside the term of {self.code} "
                f"({self.term_start.isoformat()} to {self.term_end.isoformat()})"
            )


    @property
    def changes(self) -> tuple[Change, ...]:
        """The agreement's history, in the order it was recorded."""
        return tuple(self._changes)

    @property
    def auditors(self) -> tuple[str, ...]:
        """The audit bodies appointed to audit the agreement now (appointments not ended), in appointment order.

        Reading follows what is recorded: an audit body's auditors read the agreement from when its appointment is
        recorded until its end is, whatever dates the two take effect from (the dates are the record's, and the
        agreement's history shows them)."""
        return tuple(self._auditors)

    @property
    def commissioners(self) -> tuple[str, ...]:
        return tuple(self._commissioners)

    def contributions(self, financial_year: FinancialYear | str) -> dict[str, Decimal]:
        """Each commissioner's contribution to the pool in a financial year."""
        year = check_financial_year(financial_year)
        return contributions_in(((c, y, amount) for (c, y), amount in self._contributions.items()), year)

    def pooled_budget(self, financial_year: FinancialYear | str) -> Decimal:
        return pooled_budget(self.contributions(financial_year))

    def zones_on(self, on: date) -> tuple[Zone, ...]:
        """Zones and lots in force on ``on``, in the order they were added."""
        return zones_on(self._zones.values(), on)

    def lots_covering(self, zone: str, on: date) -> tuple[Zone, ...]:
        """The lots in force on ``on`` that span ``zone``."""
        return lots_covering(self._zones.values(), zone, on)

    def _zone_on(self, zone: str, on: date) -> Zone:
        found = self._zones.get(zone)
        if found is None:
            raise NotFound(f"zone: {zone} is not a zone of {self.code}")
        if found.from_date > on:
            raise NotFound(
                f"zone: {zone} of {self.code} starts on {found.from_date.isoformat()}, after {on.isoformat()}"
            )
        return found

    def zone_for_postcode(self, postcode: str, on: date) -> PostcodeLocation:
        """The district and zone of a postcode on a date; an unknown district is refused by name."""
        return zone_for_postcode(self.code, self._zones.values(), postcode, on)

    def awards_on(self, on: date) -> tuple[Award, ...]:
        return awards_on(self._awards, check_date(on, "on"))

    def awards_during(self, first_day: date, last_day: date) -> tuple[Award, ...]:
        """Every award in force on at least one day from ``first_day`` to ``last_day``, in the order awarded."""
        return awards_during(self._awards, check_date(first_day, "first_day"), check_date(last_day, "last_day"))

    def primary_provider(self, zone: str, on: date) -> str:
        """The provider holding the primary award of ``zone`` on ``on``."""
        self._zone_on(zone, check_date(on, "on"))
        provider = primary_provider_on(self._awards, zone, on)
        if provider is None:
            raise NotFound(f"zone: {zone} of {self.code} has no primary provider on {on.isoformat()}")
        return provider

    def service_types_on(self, on: date) -> tuple[ServiceType, ...]:
        return service_types_on(self._services.items(), on)

    def service_starts(self) -> dict[ServiceType, date]:
        """Each service type of the agreement and the first day it applies."""
        return dict(self._services)

    def check_rate_key(self, service: ServiceType | str, zone: str, on: date) -> None:
        """A rate may only be set within the term, for a service type and zone the agreement has on that date."""
        self.check_in_term(on)
        chosen = check_service(service)
        if chosen not in self.service_types_on(on):
            raise NotFound(f"service: {chosen} is not a service type of {self.code} on {on.isoformat()}")
        self._zone_on(zone, on)

    def kpis_on(self, on: date) -> tuple[Kpi, ...]:
        return kpis_on(self._kpis, on)

    def payment_basis_on(self, on: date) -> PaymentBasis:
        """How visits on ``on`` are paid; dates outside the term are refused."""
        self.check_in_term(check_date(on, "on"))
        return in_force(self._payment_basis, on)[1]

    def living_wage_commitment_on(self, on: date) -> tuple[LivingWageAdoption, ...] | None:
        """The agreement's own adoption dates (empty: the default dates), or None if not committed on ``on``."""
        return in_force(self._living_wage, on)[1]

    def real_living_wage_on(self, on: date) -> Decimal | None:
        """The Real Living Wage providers must pay on ``on``, or None without a commitment then."""
        commitment = self.living_wage_commitment_on(on)
        if commitment is None:
            return None
        table = [(a.adopted_from, a.hourly_rate) for a in commitment] or None
        return real_living_wage_on(on, table)

    def max_profit_margin_on(self, on: date) -> Decimal | None:
        return in_force(self._profit_cap, on)[1]

    def plausibility_ranges_on(self, on: date) -> dict[str, Any]:
        """The plausibility ranges the agreement stated, in force on ``on`` (empty: the domain's defaults)."""
        found = in_force(self._plausibility, on)[1]
        return dict(found or {})

    def terms(self) -> AgreementTerms:
        """Every fact recorded, with its dates: what ``as_at`` reads, and what the read model keeps too."""
        return AgreementTerms(
            code=self.code,
            name=self.name,
            kind=self.kind,
            term_start=self.term_start,
            original_term_end=self.original_term_end,
            extensions=tuple(self._extensions),
            commissioners=tuple((code, start) for code, (start, _) in self._commissioners.items()),
            contributions=tuple((c, year, amount) for (c, year), amount in self._contributions.items()),
            zones=tuple(self._zones.values()),
            services=tuple(self._services.items()),
            awards=tuple(self._awards),
            kpis=tuple(self._kpis),
            payment_bases=tuple(self._payment_basis),
            living_wage=tuple(self._living_wage),
            profit_caps=tuple(self._profit_cap),
        )

    def as_at(self, on: date) -> AgreementView:
        """The agreement as it stood on ``on``: what applied that day."""
        return self.terms().as_at(on)
