"""Agreements as tables: lists, filters, postcode districts, the agreement as at a date and its history.

Rows keep their dates (from, to, effective from) rather than a "current"
flag, so a query can ask what applied on any date without replaying events.
They keep every fact the aggregate keeps, in the aggregate's order (the
``position`` columns), so ``ledger.queries.agreements`` can rebuild the
aggregate's ``AgreementTerms`` from rows and answer "as at D" with the
domain's own rules (``domain/agreements/terms.py``): ties between revisions on
one date, term extensions from their effective dates, ended awards.

``agreement_changes`` is the agreement's history as people read it; each line's
text is the event's own ``what()``, the text the aggregate logs.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from domain.aggregate import Change
from domain.agreements.agreement import Agreement
from domain.agreements.terms import LivingWageAdoption, PaymentBasis
from ledger.projections.base import Projection, handles
from ledger.projections.columns import ExactDecimal

metadata = MetaData()

agreements = Table(
    "agreements",
    metadata,
    Column("code", String(63), primary_key=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("term_start", Date, nullable=False),
    Column("term_end", Date, nullable=False),  # with every recorded extension
    Column("original_term_end", Date, nullable=False),  # as registered; extensions are in agreement_extensions
    Column("registered_on", Date, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("position", Integer, nullable=False),
)

#: Each extension of the term, from the date it was agreed (the term as at D counts those effective by D).
agreement_extensions = Table(
    "agreement_extensions",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("agreement", String(63), nullable=False, index=True),
    Column("effective_from", Date, nullable=False),
    Column("new_end", Date, nullable=False),
)

agreement_commissioners = Table(
    "agreement_commissioners",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("commissioner", String(63), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("from_date", Date, nullable=False),
    Column("position", Integer, nullable=False),
)

agreement_contributions = Table(
    "agreement_contributions",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("commissioner", String(63), primary_key=True),
    Column("financial_year", String(7), primary_key=True),
    Column("amount", ExactDecimal, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("position", Integer, nullable=False),  # of the latest revision
    Column("first_position", Integer, nullable=False),  # of the first: the order the aggregate lists them
)

agreement_zones = Table(
    "agreement_zones",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("zone", String(63), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(4), nullable=False),  # "zone" (by postcode district) or "lot" (spans zones)
    Column("districts", Text, nullable=False),  # space-separated; empty for a lot
    Column("covers", Text, nullable=False),  # space-separated zone codes; empty for a zone
    Column("from_date", Date, nullable=False),
    Column("position", Integer, nullable=False),
)

agreement_districts = Table(
    "agreement_districts",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("district", String(4), primary_key=True),
    Column("zone", String(63), nullable=False),
    Column("from_date", Date, nullable=False),
)

agreement_services = Table(
    "agreement_services",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("service", String(20), primary_key=True),
    Column("from_date", Date, nullable=False),
    Column("position", Integer, nullable=False),
)

agreement_awards = Table(
    "agreement_awards",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("provider", String(63), primary_key=True),
    Column("zone", String(63), primary_key=True),
    Column("from_date", Date, primary_key=True),
    Column("tier", String(20), nullable=False),
    Column("to_date", Date),  # the last day, inclusive; None while open-ended
    Column("position", Integer, nullable=False),  # of the latest change (the award, or its ending)
    Column("awarded_position", Integer, nullable=False),  # of the award: the order the aggregate lists them
)

agreement_kpis = Table(
    "agreement_kpis",
    metadata,
    Column("position", Integer, primary_key=True),  # a revision is a new row, effective from its date
    Column("agreement", String(63), nullable=False, index=True),
    Column("kpi", String(63), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("name", Text, nullable=False),
    Column("measure", Text, nullable=False),
    Column("target", ExactDecimal, nullable=False),
    Column("direction", String(20), nullable=False),
    Column("unit", String(10), nullable=False),  # domain.agreements.terms.KpiUnit
)

#: Dated settings, in recording order: "payment-basis" (actual, planned, actual-capped), "living-wage"
#: (JSON: null when withdrawn, else the adoption dates, [] for the default dates), "profit-cap" ("none" or "0.05").
#: ``setting_value`` reads a value back as the aggregate holds it.
agreement_settings = Table(
    "agreement_settings",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("agreement", String(63), nullable=False, index=True),
    Column("setting", String(20), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("value", Text, nullable=False),
)

#: Each appointment of an audit body to audit the agreement: from its first day to its last (None while it lasts).
agreement_auditors = Table(
    "agreement_auditors",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("audit_body", String(63), primary_key=True),
    Column("from_date", Date, primary_key=True),
    Column("to_date", Date),  # the last day, inclusive; None while the appointment lasts
    Column("position", Integer, nullable=False),  # of the latest change (the appointment, or its ending)
)

#: The agreement's history: one line per event, in recording order.
agreement_changes = Table(
    "agreement_changes",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("agreement", String(63), nullable=False, index=True),
    Column("effective_date", Date, nullable=False),
    Column("what", Text, nullable=False),
    Column("reason", Text),
    Column("recorded_by", Text, nullable=False),
)


def commitment_text(commitment: tuple[LivingWageAdoption, ...] | None) -> str:
    """A Real Living Wage commitment as JSON text: null (withdrawn), [] (default dates) or its adoption dates."""
    if commitment is None:
        return json.dumps(None)
    rows = [{"adopted_from": a.adopted_from.isoformat(), "hourly_rate": str(a.hourly_rate)} for a in commitment]
    return json.dumps(rows)


def _commitment(text: str) -> tuple[LivingWageAdoption, ...] | None:
    rows = json.loads(text)
    if rows is None:
        return None
    return tuple(LivingWageAdoption(date.fromisoformat(r["adopted_from"]), Decimal(r["hourly_rate"])) for r in rows)


def setting_value(setting: str, text: str) -> Any:
    """A setting's stored text as the aggregate holds it: a PaymentBasis, adoptions or None, a Decimal or None."""
    if setting == "payment-basis":
        return PaymentBasis(text)
    if setting == "living-wage":
        return _commitment(text)
    return None if text == "none" else Decimal(text)


def _code(conn: Connection, event: Any) -> str:
    """The agreement's code from its id (only the registration carries the code)."""
    return conn.execute(select(agreements.c.code).where(agreements.c.id == str(event.originator_id))).scalar_one()


class AgreementsProjection(Projection):
    name = "agreements"
    version = 3  # 2: living-wage settings as JSON, the history, extensions and order kept; 3: auditors
    tables = (
        agreements,
        agreement_extensions,
        agreement_commissioners,
        agreement_contributions,
        agreement_zones,
        agreement_districts,
        agreement_services,
        agreement_awards,
        agreement_kpis,
        agreement_settings,
        agreement_auditors,
        agreement_changes,
    )

    def apply(self, conn: Connection, event: Any, position: int) -> None:
        """Every agreement event changes its tables and adds a line, in its own words, to the history."""
        super().apply(conn, event, position)
        if type(event) in self._handlers:
            change = Change.of(event.envelope, event.what())
            conn.execute(
                insert(agreement_changes).values(
                    position=position,
                    agreement=_code(conn, event),
                    effective_date=change.effective_date,
                    what=change.what,
                    reason=change.reason,
                    recorded_by=change.recorded_by,
                )
            )

    def _setting(self, conn: Connection, e: Any, position: int, setting: str, value: str) -> None:
        conn.execute(
            insert(agreement_settings).values(
                position=position,
                agreement=_code(conn, e),
                setting=setting,
                effective_from=e.envelope.effective_date,
                value=value,
            )
        )

    @handles(Agreement.Registered)
    def registered(self, conn: Connection, e: Agreement.Registered, position: int) -> None:
        conn.execute(
            insert(agreements).values(
                code=e.code,
                id=str(e.originator_id),
                name=e.name,
                kind=e.kind,
                term_start=e.term_start,
                term_end=e.term_end,
                original_term_end=e.term_end,
                registered_on=e.envelope.effective_date,
                registered_at=e.timestamp,
                position=position,
            )
        )
        conn.execute(
            insert(agreement_settings).values(
                position=position,
                agreement=e.code,
                setting="payment-basis",
                effective_from=e.term_start,
                value=e.payment_basis,
            )
        )

    @handles(Agreement.TermExtended)
    def term_extended(self, conn: Connection, e: Agreement.TermExtended, position: int) -> None:
        code = _code(conn, e)
        conn.execute(
            insert(agreement_extensions).values(
                position=position, agreement=code, effective_from=e.envelope.effective_date, new_end=e.new_end
            )
        )
        current = conn.execute(select(agreements.c.term_end).where(agreements.c.code == code)).scalar_one()
        conn.execute(
            update(agreements)
            .where(agreements.c.code == code)
            .values(term_end=max(current, e.new_end), position=position)
        )

    @handles(Agreement.CommissionerJoined)
    def commissioner_joined(self, conn: Connection, e: Agreement.CommissionerJoined, position: int) -> None:
        conn.execute(
            insert(agreement_commissioners).values(
                agreement=_code(conn, e),
                commissioner=e.commissioner,
                kind=e.commissioner_kind,
                from_date=e.envelope.effective_date,
                position=position,
            )
        )

    @handles(Agreement.ContributionSet)
    def contribution_set(self, conn: Connection, e: Agreement.ContributionSet, position: int) -> None:
        code = _code(conn, e)
        key = (
            (agreement_contributions.c.agreement == code)
            & (agreement_contributions.c.commissioner == e.commissioner)
            & (agreement_contributions.c.financial_year == e.financial_year)
        )
        first = conn.execute(select(agreement_contributions.c.first_position).where(key)).scalar_one_or_none()
        conn.execute(delete(agreement_contributions).where(key))  # a revision replaces the year's figure
        conn.execute(
            insert(agreement_contributions).values(
                agreement=code,
                commissioner=e.commissioner,
                financial_year=e.financial_year,
                amount=e.amount,
                effective_date=e.envelope.effective_date,
                position=position,
                first_position=position if first is None else first,
            )
        )

    @handles(Agreement.ZoneAdded)
    def zone_added(self, conn: Connection, e: Agreement.ZoneAdded, position: int) -> None:
        code = _code(conn, e)
        start = e.envelope.effective_date
        conn.execute(
            insert(agreement_zones).values(
                agreement=code,
                zone=e.zone,
                name=e.name,
                kind="zone",
                districts=" ".join(e.districts),
                covers="",
                from_date=start,
                position=position,
            )
        )
        for district in e.districts:
            conn.execute(
                insert(agreement_districts).values(agreement=code, district=district, zone=e.zone, from_date=start)
            )

    @handles(Agreement.LotAdded)
    def lot_added(self, conn: Connection, e: Agreement.LotAdded, position: int) -> None:
        conn.execute(
            insert(agreement_zones).values(
                agreement=_code(conn, e),
                zone=e.lot,
                name=e.name,
                kind="lot",
                districts="",
                covers=" ".join(e.covers),
                from_date=e.envelope.effective_date,
                position=position,
            )
        )

    @handles(Agreement.ServiceTypeAdded)
    def service_type_added(self, conn: Connection, e: Agreement.ServiceTypeAdded, position: int) -> None:
        conn.execute(
            insert(agreement_services).values(
                agreement=_code(conn, e), service=e.service, from_date=e.envelope.effective_date, position=position
            )
        )

    @handles(Agreement.ProviderAwarded)
    def provider_awarded(self, conn: Connection, e: Agreement.ProviderAwarded, position: int) -> None:
        conn.execute(
            insert(agreement_awards).values(
                agreement=_code(conn, e),
                provider=e.provider,
                zone=e.zone,
                from_date=e.envelope.effective_date,
                tier=e.tier,
                to_date=e.to_date,
                position=position,
                awarded_position=position,
            )
        )

    @handles(Agreement.AwardEnded)
    def award_ended(self, conn: Connection, e: Agreement.AwardEnded, position: int) -> None:
        conn.execute(
            update(agreement_awards)
            .where(
                (agreement_awards.c.agreement == _code(conn, e))
                & (agreement_awards.c.provider == e.provider)
                & (agreement_awards.c.zone == e.zone)
                & (agreement_awards.c.from_date == e.awarded_from)
            )
            .values(to_date=e.last_day, position=position)
        )

    @handles(Agreement.AuditorAppointed)
    def auditor_appointed(self, conn: Connection, e: Agreement.AuditorAppointed, position: int) -> None:
        conn.execute(
            insert(agreement_auditors).values(
                agreement=_code(conn, e), audit_body=e.audit_body, from_date=e.envelope.effective_date,
                to_date=None, position=position,
            )
        )

    @handles(Agreement.AuditorAppointmentEnded)
    def auditor_appointment_ended(self, conn: Connection, e: Agreement.AuditorAppointmentEnded, position: int) -> None:
        c = agreement_auditors.c
        conn.execute(
            update(agreement_auditors)
            .where((c.agreement == _code(conn, e)) & (c.audit_body == e.audit_body) & (c.from_date == e.appointed_from))
            .values(to_date=e.last_day, position=position)
        )

    @handles(Agreement.KpiDefined)
    def kpi_defined(self, conn: Connection, e: Agreement.KpiDefined, position: int) -> None:
        conn.execute(
            insert(agreement_kpis).values(
                position=position,
                agreement=_code(conn, e),
                kpi=e.kpi,
                effective_from=e.envelope.effective_date,
                name=e.name,
                measure=e.measure,
                target=e.target,
                direction=e.direction,
                unit=e.unit,
            )
        )

    @handles(Agreement.PaymentBasisSet)
    def payment_basis_set(self, conn: Connection, e: Agreement.PaymentBasisSet, position: int) -> None:
        self._setting(conn, e, position, "payment-basis", e.payment_basis)

    @handles(Agreement.LivingWageCommitmentSet)
    def living_wage_set(self, conn: Connection, e: Agreement.LivingWageCommitmentSet, position: int) -> None:
        self._setting(conn, e, position, "living-wage", commitment_text(e.commitment()))

    @handles(Agreement.PlausibilityRangesSet)
    def plausibility_ranges_set(self, conn: Connection, e: Agreement.PlausibilityRangesSet, position: int) -> None:
        """Its line in the history only: the ranges are read where they apply (the cost returns read model)."""

    @handles(Agreement.ProfitCapSet)
    def profit_cap_set(self, conn: Connection, e: Agreement.ProfitCapSet, position: int) -> None:
        self._setting(conn, e, position, "profit-cap", "none" if e.max_margin is None else str(e.max_margin))
