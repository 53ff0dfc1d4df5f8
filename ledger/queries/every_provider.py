"""What commands and checks read of the read models with no access value: every provider's figures at once.

A command decides who may act before it reads (``ledger.authorisation``),
and then needs the agreement's whole priced activity (a payment run, an
incentive assessment, a settlement's inputs, an import's comparison with the
visits already recorded) or every provider's assessed incentives (a
settlement's inputs; the settlement's and the reconciliation's views compare
with them, for accountants only). A view for a reader never returns these as they
are: the views in ``ledger/queries/<area>.py`` narrow them by an access
first. The web app and the CLI never import this module
(``tests/unit/test_architecture.py`` holds them to it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select

from domain.activity.arrears import ArrearsGroup
from domain.activity.visits import FIELDS, VisitRow, hours
from domain.errors import InvalidInput
from domain.money import EXACT, ZERO, pounds_from_pence
from domain.periods import PeriodFormatError, Quarter, parse_period
from domain.settlement.payment_ledger import ActivityRow
from ledger.projections.activity import (
    DIMENSIONS,
    activity_imports,
    activity_totals,
    settled_visits,
    visits,
)
from ledger.projections.incentives import incentive_assessment_lines, incentive_assessments, incentive_records


@dataclass(frozen=True)
class Totals:
    """Visits, minutes and spend of a set of visits; ``hours`` are delivered (actual) hours."""

    visits: int
    planned_minutes: int
    actual_minutes: int
    payable_minutes: int
    spend: Decimal
    unpriced_visits: int

    @property
    def hours(self) -> Decimal:
        return hours(self.actual_minutes)

    @property
    def payable_hours(self) -> Decimal:
        return hours(self.payable_minutes)

    def as_json(self) -> dict[str, Any]:
        return {
            "visits": self.visits,
            "hours": self.hours,
            "payable_hours": self.payable_hours,
            "planned_minutes": self.planned_minutes,
            "actual_minutes": self.actual_minutes,
            "payable_minutes": self.payable_minutes,
            "spend": self.spend,
            "unpriced_visits": self.unpriced_visits,
        }




def grouped_totals(
    engine: Engine, agreement: str, by: Sequence[str], provider: str | None, period: str | None
) -> list[tuple[tuple[Any, ...], Totals]]:
    """(the ``by`` values, their totals) of every group with visits, in the order of ``by``."""
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise InvalidInput(f"by: {', '.join(unknown)} is not one of {', '.join(DIMENSIONS)}")
    t = activity_totals.c
    keys = [t[d] for d in by]
    query = select(
        *keys,
        func.sum(t.visits),
        func.sum(t.planned_minutes),
        func.sum(t.actual_minutes),
        func.sum(t.payable_minutes),
        func.sum(t.spend_pence),
        func.sum(t.unpriced_visits),
    ).where(t.agreement == agreement)
    if provider:
        query = query.where(t.provider == provider)
    if period:
        query = query.where(_period_filter(period))
    query = query.group_by(*keys).having(func.sum(t.visits) != 0).order_by(*keys)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        (tuple(row[: len(by)]), Totals(int(row[-6]), int(row[-5]), int(row[-4]), int(row[-3]), pounds_from_pence(row[-2]),
                                       int(row[-1])))
        for row in rows
    ]  # fmt: skip


def totals_by_provider(engine: Engine, agreement: str, period: str) -> dict[str, Totals]:
    """Each provider's totals in a month, quarter or financial year (an incentive assessment's hours)."""
    return {keys[0]: found for keys, found in grouped_totals(engine, agreement, ("provider",), None, period)}


def _period_filter(period: str) -> Any:
    """A financial year ("2019-20"), quarter ("2019-20-Q1") or month ("2019-04") as a filter on the totals."""
    t = activity_totals.c
    try:
        found = parse_period(period)
    except PeriodFormatError:
        if re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", period or ""):
            return t.month == period
        raise InvalidInput(
            f"period: {period!r} is not a financial year (2019-20), quarter (2019-20-Q1) or month (2019-04)"
        ) from None
    return (t.quarter if isinstance(found, Quarter) else t.financial_year) == str(found)


def totals_by_key(engine: Engine, agreement: str | None = None) -> dict[tuple[str, str, str, str], Totals]:
    """Totals per (agreement, provider, zone, service), as the projection holds them."""
    t = activity_totals.c
    query = select(
        t.agreement, t.provider, t.zone, t.service,
        func.sum(t.visits), func.sum(t.planned_minutes), func.sum(t.actual_minutes), func.sum(t.payable_minutes),
        func.sum(t.spend_pence), func.sum(t.unpriced_visits),
    ).group_by(t.agreement, t.provider, t.zone, t.service)  # fmt: skip
    if agreement:
        query = query.where(t.agreement == agreement)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {
        (r[0], r[1], r[2], r[3]): Totals(int(r[4]), int(r[5]), int(r[6]), int(r[7]), pounds_from_pence(r[8]), int(r[9]))
        for r in rows
        if r[4]
    }


def provider_activity(engine: Engine, agreement: str, provider: str, quarters: Sequence[str]) -> Totals:
    """A provider's priced activity in some financial quarters ("2019-20-Q1", ...), every zone and service.

    The hours-weighted average rate actually paid is ``spend ÷ payable_hours``
    (payable minutes ÷ 60, kept exact here): what a cost return's rate gap is
    taken against once activity is recorded.
    """
    t = activity_totals.c
    ours = (t.agreement == agreement) & (t.provider == provider) & t.quarter.in_(list(quarters))
    query = select(*_sums()).where(ours)
    with engine.connect() as conn:
        return _summed(conn.execute(query).one())


def activity_by_provider(engine: Engine, agreement: str, quarters: Sequence[str]) -> dict[str, Totals]:
    """``provider_activity`` of every provider with activity in the quarters, in one grouped query: for a page of
    many providers (the market view), not one query each."""
    t = activity_totals.c
    query = select(t.provider, *_sums()).where((t.agreement == agreement) & t.quarter.in_(list(quarters)))
    with engine.connect() as conn:
        return {r[0]: _summed(r[1:]) for r in conn.execute(query.group_by(t.provider))}


def _sums() -> tuple[Any, ...]:
    """The six sums a ``Totals`` is made of, in its order (``_summed`` reads them back)."""
    t = activity_totals.c
    return (func.sum(t.visits), func.sum(t.planned_minutes), func.sum(t.actual_minutes), func.sum(t.payable_minutes),
            func.sum(t.spend_pence), func.sum(t.unpriced_visits))  # fmt: skip


def _summed(r: Sequence[Any]) -> Totals:
    """``_sums``' six values as Totals; a sum over no rows (None) is nothing."""
    visits, planned, actual, payable, pence, unpriced = r
    return Totals(int(visits or 0), int(planned or 0), int(actual or 0), int(payable or 0), pounds_from_pence(pence),
                  int(unpriced or 0))  # fmt: skip


def has_visits(engine: Engine, agreement: str) -> bool:
    with engine.connect() as conn:
        query = select(visits.c.visit_id).where((visits.c.agreement == agreement) & settled_visits()).limit(1)
        return conn.execute(query).first() is not None


#: Ids ``recorded_visits`` asks about per query (within SQLite's oldest limit of 999 parameters).
RECORDED_BATCH = 900
#: ``recorded_visits``'s query, compiled once per kind of database.
_recorded_sql: dict[tuple[str, str], Any] = {}


def recorded_visits(engine: Engine, agreement: str, ids: Sequence[str]) -> dict[str, VisitRow]:
    """The visits among ``ids`` already recorded under the agreement, as recorded.

    An import asks this of every batch of its file's ids (a million rows: over
    a thousand queries). Building and compiling the query with its ``IN`` list
    each time cost most of the time such an import spent here, so the query is
    compiled once for ``RECORDED_BATCH`` ids (a shorter batch repeats its last
    id, which changes nothing in an ``IN`` list) and run with ``exec_driver_sql``.
    """
    found: dict[str, VisitRow] = {}
    with engine.connect() as conn:
        compiled = _recorded_visits_sql(conn)
        for start in range(0, len(ids), RECORDED_BATCH):
            batch = list(ids[start : start + RECORDED_BATCH])
            batch += batch[-1:] * (RECORDED_BATCH - len(batch))
            if compiled.positional:  # bound in the order agreement, id0, id1... (checked when compiled)
                params: Any = (agreement, *batch)
            else:
                params = {"agreement": agreement, **{f"id{n}": visit_id for n, visit_id in enumerate(batch)}}
            for row in conn.exec_driver_sql(compiled.string, params):
                found[row[0]] = VisitRow.from_fields([str(v) for v in row])
    return found


def _recorded_visits_sql(conn: Connection) -> Any:
    """``recorded_visits``'s query for ``RECORDED_BATCH`` ids, compiled for this database."""
    key = (conn.dialect.name, conn.dialect.paramstyle)
    compiled = _recorded_sql.get(key)
    if compiled is None:
        names = ["agreement", *(f"id{n}" for n in range(RECORDED_BATCH))]
        chosen = visits.c.visit_id.in_([bindparam(name) for name in names[1:]])
        query = select(*[visits.c[f] for f in FIELDS]).where(
            (visits.c.agreement == bindparam("agreement")) & chosen & settled_visits()
        )
        compiled = query.compile(dialect=conn.dialect)
        if compiled.positional and list(compiled.positiontup) != names:
            raise AssertionError(f"recorded_visits: parameters bound in an unexpected order on {key[0]}")
        _recorded_sql[key] = compiled
    return compiled


def import_spend(engine: Engine, import_id: str) -> tuple[Decimal | None, int]:
    """(spend, unpriced visits) of an import's new visits, as priced when the import was applied.

    The spend is None while the read model has not applied the import yet
    (its catch-up failed or is behind): unknown, not £0.00.
    """
    i = activity_imports.c
    with engine.connect() as conn:
        row = conn.execute(select(i.spend_pence, i.unpriced_visits).where(i.import_id == import_id)).first()
    return (pounds_from_pence(row[0]), int(row[1])) if row else (None, 0)


def arrears_groups(
    engine: Engine, agreement: str, first_day: date, last_day: date, recorded_before: int | None = None
) -> list[ArrearsGroup]:
    """Visits from ``first_day`` to ``last_day`` (inclusive) per provider, service, zone, band, day and minutes;
    with ``recorded_before``, only the visits first recorded (imported) before that event position.

    Visits alike in all of these are priced alike, so each group is priced once.
    """
    v = visits.c
    keys = (v.provider, v.service, v.zone, v.band, v.visit_date, v.planned_minutes, v.actual_minutes)
    query = (
        select(*keys, func.count())
        .where((v.agreement == agreement) & settled_visits())
        .where((v.visit_date >= first_day.isoformat()) & (v.visit_date <= last_day.isoformat()))
        .group_by(*keys)
        .order_by(*keys)
    )
    if recorded_before is not None:
        query = query.where(v.recorded_position < recorded_before)
    with engine.connect() as conn:
        return [
            ArrearsGroup(r[0], r[1], r[2], r[3], date.fromisoformat(r[4]), int(r[5]), int(r[6]), int(r[7]))
            for r in conn.execute(query)
        ]


def activity_rows(engine: Engine, agreement: str, financial_year: str) -> list[ActivityRow]:
    """The year's priced activity per provider, zone, service and month, as the activity read model holds it."""
    t = activity_totals.c
    query = (
        select(t.provider, t.zone, t.service, t.month, t.visits, t.payable_minutes, t.spend_pence)
        .where((t.agreement == agreement) & (t.financial_year == financial_year))
        .order_by(t.provider, t.month, t.zone, t.service)
    )
    with engine.connect() as conn:
        return [
            ActivityRow(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), pounds_from_pence(r[6]))
            for r in conn.execute(query)
            if r[4]
        ]


def unpriced_visits(engine: Engine, agreement: str, financial_year: str) -> int:
    """Visits of the year with no rate in force: not in priced activity until a rate is published."""
    t = activity_totals.c
    with engine.connect() as conn:
        found = conn.execute(
            select(func.sum(t.unpriced_visits)).where((t.agreement == agreement) & (t.financial_year == financial_year))
        ).scalar()
    return int(found or 0)


def by_provider(rows: list[ActivityRow], through_month: str | None = None) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for row in rows:
        if through_month is None or row.month <= through_month:
            totals[row.provider] = EXACT.add(totals.get(row.provider, ZERO), row.spend)
    return dict(sorted(totals.items()))


@dataclass(frozen=True)
class AssessedIncentives:
    """The last run of a year's incentive assessment: each provider's payment, paid through the year's settlement.

    The one answer to "what incentives does this agreement-year pay": the
    settlement's inputs (a command, after catching the read model up), the
    settlement's view (is an issued settlement out of date?) and the
    reconciliation all ask here. ``payments`` lists only providers paid
    something (a zero payment is no payment).
    """

    id: str  # the IncentiveAssessment aggregate
    version: int  # its version at this run
    run: int
    effective_date: date
    total: Decimal
    payments: dict[str, Decimal]

    def reference(self) -> dict[str, Any]:
        """What a settlement records of the assessment it pays: which aggregate, version and run, and each payment."""
        return {
            "id": self.id, "version": self.version, "run": self.run, "assessed_on": self.effective_date,
            "total": self.total, "payments": dict(self.payments),
        }  # fmt: skip


def assessed_incentives(engine: Engine, agreement: str, financial_year: str) -> AssessedIncentives | None:
    """The year's incentive assessment as last run, from the incentives read model; None if none is recorded."""
    a, ln, rec = incentive_assessments.c, incentive_assessment_lines.c, incentive_records.c
    with engine.connect() as conn:
        last = conn.execute(
            select(rec.id, a.version, a.run, a.effective_date, a.total)
            .join(incentive_records, (rec.agreement == a.agreement) & (rec.financial_year == a.financial_year))
            .where((a.agreement == agreement) & (a.financial_year == financial_year) & (rec.kind == "assessment"))
            .order_by(a.run.desc())
            .limit(1)
        ).first()
        if last is None:
            return None
        paid = conn.execute(
            select(ln.provider, ln.payment).where(
                (ln.agreement == agreement) & (ln.financial_year == financial_year) & (ln.run == last.run)
            )
        ).all()
    payments = {provider: payment for provider, payment in sorted(paid) if payment != 0}
    return AssessedIncentives(last.id, last.version, last.run, last.effective_date, last.total, payments)
