"""KPI results, incentive schemes and assessments as tables, for the dashboard, lists and the CLI.

* ``kpi_results`` is the KPI dashboard's read model: one row per agreement,
  provider, period and KPI, as last recorded (value, the target and direction
  it was judged against, met, evidence, how often corrected).
* ``kpi_result_log`` keeps every recording and correction, with who, when and
  why, so the dashboard can show a result's history without replaying events.
* ``incentive_schemes`` keeps each version of a scheme's terms.
* ``incentive_assessments`` and ``incentive_assessment_lines`` keep every run
  of every assessment, each line with its arithmetic, reason and difference
  from the run before.

Decimals are stored as exact text (``ExactDecimal``); nothing here sums money.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
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
)

from domain.incentives.incentive_assessment import IncentiveAssessment
from domain.incentives.incentive_scheme import IncentiveScheme
from domain.incentives.kpi_results import KpiResults
from domain.money import ZERO, total
from domain.periods import parse_period
from ledger.projections.base import Projection, handles
from ledger.projections.columns import ExactDecimal

metadata = MetaData()

kpi_result_sets = Table(
    "kpi_result_sets",
    metadata,
    Column("id", String(36), primary_key=True),  # the KpiResults aggregate
    Column("agreement", String(63), nullable=False),
    Column("provider", String(63), nullable=False),
    Column("period", String(10), nullable=False),
    Column("financial_year", String(7), nullable=False),
)

#: Which agreement (and year) each scheme and assessment aggregate is about: only first events carry it.
incentive_records = Table(
    "incentive_records",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(10), nullable=False),  # "scheme" or "assessment"
    Column("agreement", String(63), nullable=False),
    Column("financial_year", String(7)),  # an assessment's year
)

kpi_results = Table(
    "kpi_results",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("provider", String(63), primary_key=True),
    Column("period", String(10), primary_key=True),  # "2018-19" or "2018-19-Q3"
    Column("kpi", String(63), primary_key=True),
    Column("financial_year", String(7), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("value", ExactDecimal, nullable=False),
    Column("target", ExactDecimal, nullable=False),
    Column("direction", String(20), nullable=False),
    Column("met", Boolean, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("corrections", Integer, nullable=False),
    Column("previous_value", ExactDecimal),
    Column("recorded_on", Date, nullable=False),
    Column("recorded_by", Text, nullable=False),
    Column("position", Integer, nullable=False),
)

kpi_result_log = Table(
    "kpi_result_log",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("agreement", String(63), nullable=False, index=True),
    Column("provider", String(63), nullable=False),
    Column("period", String(10), nullable=False),
    Column("kpi", String(63), nullable=False),
    Column("what", String(10), nullable=False),  # "recorded" or "corrected"
    Column("value", ExactDecimal, nullable=False),
    Column("met", Boolean, nullable=False),
    Column("previous_value", ExactDecimal),
    Column("evidence", Text, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("reason", Text),
    Column("recorded_by", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

incentive_schemes = Table(
    "incentive_schemes",
    metadata,
    Column("position", Integer, primary_key=True),  # a version of the terms, from its from_year
    Column("agreement", String(63), nullable=False, index=True),
    Column("from_year", String(7), nullable=False),
    Column("measure", String(20), nullable=False),
    Column("baseline", String(20), nullable=False),
    Column("fixed_baselines", Text, nullable=False),  # "provider=hours; ..." or ""
    Column("minimum_reduction", ExactDecimal, nullable=False),
    Column("payment", String(20), nullable=False),
    Column("payment_per_hour", ExactDecimal),
    Column("saving_rate", ExactDecimal),
    Column("saving_share", ExactDecimal),
    Column("kpi_gate", String(10), nullable=False),
    Column("kpis", Text, nullable=False),  # space-separated codes of a named gate
    Column("cap", ExactDecimal),
    Column("effective_date", Date, nullable=False),
    Column("reason", Text),
    Column("recorded_by", Text, nullable=False),
)

incentive_assessments = Table(
    "incentive_assessments",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("financial_year", String(7), primary_key=True),
    Column("run", Integer, primary_key=True),
    Column("version", Integer, nullable=False),  # the IncentiveAssessment's version at this run
    Column("total", ExactDecimal, nullable=False),
    Column("previous_total", ExactDecimal),
    Column("providers", Integer, nullable=False),
    Column("paid_providers", Integer, nullable=False),
    Column("basis", Text, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("reason", Text),
    Column("recorded_by", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("position", Integer, nullable=False),
)

incentive_assessment_lines = Table(
    "incentive_assessment_lines",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("financial_year", String(7), primary_key=True),
    Column("run", Integer, primary_key=True),
    Column("provider", String(63), primary_key=True),
    Column("baseline_hours", ExactDecimal),
    Column("baseline_source", Text, nullable=False),
    Column("actual_hours", ExactDecimal, nullable=False),
    Column("actual_source", Text, nullable=False),
    Column("minimum_reduction", ExactDecimal, nullable=False),
    Column("threshold_hours", ExactDecimal),
    Column("reduction_hours", ExactDecimal),
    Column("eligible_hours", ExactDecimal),
    Column("payment_per_hour", ExactDecimal, nullable=False),
    Column("cap", ExactDecimal),
    Column("payment", ExactDecimal, nullable=False),
    Column("capped", Boolean, nullable=False),
    Column("eligible", Boolean, nullable=False),
    Column("kpis_in_gate", Text, nullable=False),  # space-separated codes
    Column("missed_kpis", Text, nullable=False),  # space-separated codes
    Column("kpi_notes", Text, nullable=False),  # one note per line
    Column("reason", Text, nullable=False),
    Column("working", Text, nullable=False),
    Column("previous_payment", ExactDecimal),  # None on a first run
    Column("difference", ExactDecimal),  # None on a first run
    Column("changes", Text, nullable=False),  # "field: before -> after" per line, or ""
)


def _set_of(conn: Connection, event: Any) -> Any:
    return conn.execute(select(kpi_result_sets).where(kpi_result_sets.c.id == str(event.originator_id))).one()


def _record_of(conn: Connection, event: Any) -> Any:
    return conn.execute(select(incentive_records).where(incentive_records.c.id == str(event.originator_id))).one()


def _year_of(period: str) -> str:
    found = parse_period(period)
    return str(getattr(found, "year", found))


class IncentivesProjection(Projection):
    name = "incentives"
    version = 2  # 2: an assessment run's aggregate version, for the settlement's reference
    tables = (
        kpi_result_sets,
        incentive_records,
        kpi_results,
        kpi_result_log,
        incentive_schemes,
        incentive_assessments,
        incentive_assessment_lines,
    )

    # -- KPI results ------------------------------------------------------------------------------

    @handles(KpiResults.Opened)
    def opened(self, conn: Connection, e: KpiResults.Opened, position: int) -> None:
        conn.execute(
            insert(kpi_result_sets).values(
                id=str(e.originator_id), agreement=e.agreement, provider=e.provider, period=e.period,
                financial_year=_year_of(e.period),
            )  # fmt: skip
        )

    @handles(KpiResults.Recorded, KpiResults.Corrected)
    def result(self, conn: Connection, e: Any, position: int) -> None:
        s = _set_of(conn, e)
        corrected = isinstance(e, KpiResults.Corrected)
        key = (
            (kpi_results.c.agreement == s.agreement)
            & (kpi_results.c.provider == s.provider)
            & (kpi_results.c.period == s.period)
            & (kpi_results.c.kpi == e.kpi)
        )
        corrections = 0
        if corrected:
            corrections = conn.execute(select(kpi_results.c.corrections).where(key)).scalar_one() + 1
            conn.execute(delete(kpi_results).where(key))
        previous = e.previous_value if corrected else None
        conn.execute(
            insert(kpi_results).values(
                agreement=s.agreement, provider=s.provider, period=s.period, kpi=e.kpi,
                financial_year=s.financial_year, name=e.name, value=e.value, target=e.target,
                direction=e.direction, met=e.met, evidence=e.evidence, corrections=corrections,
                previous_value=previous, recorded_on=e.envelope.effective_date,
                recorded_by=str(e.envelope.actor), position=position,
            )  # fmt: skip
        )
        conn.execute(
            insert(kpi_result_log).values(
                position=position, agreement=s.agreement, provider=s.provider, period=s.period, kpi=e.kpi,
                what="corrected" if corrected else "recorded", value=e.value, met=e.met, previous_value=previous,
                evidence=e.evidence, effective_date=e.envelope.effective_date, reason=e.envelope.reason,
                recorded_by=str(e.envelope.actor), recorded_at=e.timestamp,
            )  # fmt: skip
        )

    # -- schemes ------------------------------------------------------------------------------------

    @handles(IncentiveScheme.Defined, IncentiveScheme.Amended)
    def scheme(self, conn: Connection, e: Any, position: int) -> None:
        if isinstance(e, IncentiveScheme.Defined):
            agreement = e.agreement
            conn.execute(insert(incentive_records).values(id=str(e.originator_id), kind="scheme", agreement=agreement))
        else:
            agreement = _record_of(conn, e).agreement
        t = e.terms
        conn.execute(
            insert(incentive_schemes).values(
                position=position, agreement=agreement, from_year=t["from_year"], measure=t["measure"],
                baseline=t["baseline"],
                fixed_baselines="; ".join(f"{p}={h}" for p, h in sorted(t["fixed_baselines"].items())),
                minimum_reduction=t["minimum_reduction"], payment=t["payment"],
                payment_per_hour=t["payment_per_hour"], saving_rate=t["saving_rate"],
                saving_share=t["saving_share"], kpi_gate=t["kpi_gate"], kpis=" ".join(t["kpis"]), cap=t["cap"],
                effective_date=e.envelope.effective_date, reason=e.envelope.reason,
                recorded_by=str(e.envelope.actor),
            )  # fmt: skip
        )

    # -- assessments ----------------------------------------------------------------------------------

    @handles(IncentiveAssessment.Assessed, IncentiveAssessment.Reassessed)
    def assessed(self, conn: Connection, e: Any, position: int) -> None:
        first = isinstance(e, IncentiveAssessment.Assessed)
        if first:
            agreement, year, run = e.agreement, e.financial_year, 1
            conn.execute(
                insert(incentive_records).values(
                    id=str(e.originator_id), kind="assessment", agreement=agreement, financial_year=year
                )
            )
        else:
            found = _record_of(conn, e)
            agreement, year, run = found.agreement, found.financial_year, e.run
        previous_total = None
        if not first:
            previous_total = total(e.previous.values())
        conn.execute(
            insert(incentive_assessments).values(
                agreement=agreement, financial_year=year, run=run, version=e.originator_version, total=e.total,
                previous_total=previous_total,
                providers=len(e.lines), paid_providers=sum(1 for line in e.lines if line["payment"] > 0),
                basis=e.basis, effective_date=e.envelope.effective_date, reason=e.envelope.reason,
                recorded_by=str(e.envelope.actor), recorded_at=e.timestamp, position=position,
            )  # fmt: skip
        )
        changes: dict[str, list[str]] = {}
        if not first:
            for change in e.changes:
                changes.setdefault(change["provider"], []).append(
                    f"{change['field']}: {change['before']} -> {change['after']}"
                )
        for line in e.lines:
            provider = line["provider"]
            conn.execute(
                insert(incentive_assessment_lines).values(
                    agreement=agreement, financial_year=year, run=run, provider=provider,
                    baseline_hours=line["baseline_hours"], baseline_source=line["baseline_source"],
                    actual_hours=line["actual_hours"], actual_source=line["actual_source"],
                    minimum_reduction=line["minimum_reduction"], threshold_hours=line["threshold_hours"],
                    reduction_hours=line["reduction_hours"], eligible_hours=line["eligible_hours"],
                    payment_per_hour=line["payment_per_hour"], cap=line["cap"], payment=line["payment"],
                    capped=line["capped"], eligible=line["payment"] > 0,
                    kpis_in_gate=" ".join(line["kpis_in_gate"]), missed_kpis=" ".join(line["missed_kpis"]),
                    kpi_notes="\n".join(line["kpi_notes"]), reason=line["reason"], working=line["working"],
                    previous_payment=None if first else e.previous.get(provider, ZERO),
                    difference=None if first else e.difference.get(provider),
                    changes="\n".join(changes.get(provider, ())),
                )  # fmt: skip
            )
