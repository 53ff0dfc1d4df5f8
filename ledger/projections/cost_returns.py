"""Cost returns as tables: where each return stands, every revision's figures, queries, wage findings.

* ``cost_returns``: one row per return (agreement, provider, period) with its
  status, current revision, dates, open query count, the current revision's
  unit costs and its wage findings (National Living Wage breach and whether it
  is explained; Real Living Wage flag).
* ``cost_return_revisions``: every revision's volumes, totals, wage findings
  and plausibility findings (``domain/returns/plausibility.py``: those of the
  filing under the agreement's stated ranges, and the surplus margin against
  its profit cap on the basis of the year's pool, worked out again when any
  of them changes), so an earlier revision stays readable after an amendment.
* ``cost_return_lines``: every revision's lines (amount, cost per contact
  hour, note); ``current`` marks the lines of the return's current revision.
* ``cost_return_queries``: each query and its answer.
* ``wage_floor_rates``, ``cost_return_commitments``,
  ``cost_return_profit_caps``, ``cost_return_plausibility_ranges`` and
  ``cost_return_margin_bases``: the admin's added wage floors, the
  agreements' Real Living Wage commitments, profit caps and plausibility
  ranges, and each pool's margin basis, as this projection has seen them. The findings depend on them, so when one changes the
  affected returns' findings are worked out again *here, in event order*: the
  tables after any prefix of the history are the same whether caught up
  event by event or rebuilt, and never depend on another projection's
  progress.

Figures come from the domain's own functions (``unit_costs``,
``check_lowest_pay``) applied to the filed figures in the events; nothing is
computed in SQL. The rate paid and the gap are not stored: they depend on the
rate card and on activity, and are worked out when asked
(``ledger/queries/returns.py``).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from domain.agreements.agreement import Agreement
from domain.agreements.terms import LivingWageAdoption
from domain.dated import in_force
from domain.periods import financial_year_of, parse_period
from domain.returns.cost_return import CostReturn, ReturnStatus, return_status
from domain.returns.filing import CostLine, CostReturnFiling, Volume
from domain.returns.plausibility import (
    DEFAULT_BOUNDS,
    PlausibilityBounds,
    PlausibilityFinding,
    bounds_for,
    filing_findings,
    surplus_margin_finding,
)
from domain.returns.unit_costs import unit_costs
from domain.returns.wage_checks import FindingKind, check_lowest_pay
from domain.returns.wage_floors import Floor, FloorRow, WageFloors, WageFloorTable, commitment_floor
from domain.settlement.pooled_budget import MarginBasis, PooledBudget
from ledger.projections.base import Projection, handles
from ledger.projections.columns import ExactDecimal

__all__ = [
    "CostReturnsProjection",
    "cost_return_commitments",
    "cost_return_lines",
    "cost_return_queries",
    "cost_return_revisions",
    "cost_returns",
    "wage_floor_rates",
]

metadata = MetaData()

cost_returns = Table(
    "cost_returns",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("agreement", String(63), nullable=False),
    Column("agreement_id", String(36), nullable=False, index=True),
    Column("provider", String(63), nullable=False),
    Column("period", String(10), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("in_house", Boolean, nullable=False),
    Column("state", String(12), nullable=False),  # draft, submitted, accepted, rejected
    Column("status", String(12), nullable=False),  # state, or "queried" while submitted with open queries
    Column("revision", Integer, nullable=False),  # the current revision
    Column("accepted_revision", Integer),
    Column("drafted_on", Date, nullable=False),
    Column("drafted_by", Text, nullable=False),
    Column("submitted_on", Date),
    Column("accepted_on", Date),
    Column("rejected_on", Date),
    Column("rejection_reasons", Text),  # one reason per line
    Column("reopened_on", Date),
    Column("open_queries", Integer, nullable=False),
    # the current revision's figures
    Column("contact_hours", ExactDecimal, nullable=False),
    Column("total_cost", ExactDecimal, nullable=False),
    Column("total_per_hour", ExactDecimal, nullable=False),
    Column("travel_minutes_per_contact_hour", ExactDecimal, nullable=False),
    Column("on_costs_percent_of_pay", ExactDecimal),
    Column("surplus_percent_of_cost", ExactDecimal),
    Column("lowest_hourly_pay", ExactDecimal, nullable=False),
    Column("nlw_floor", ExactDecimal),
    Column("nlw_breach", Boolean, nullable=False),
    Column("nlw_explained", Boolean, nullable=False),
    Column("rlw_floor", ExactDecimal),
    Column("rlw_flag", Boolean, nullable=False),
    Column("position", Integer, nullable=False),
    Index("ix_cost_returns_agreement_period", "agreement", "period"),
)

cost_return_revisions = Table(
    "cost_return_revisions",
    metadata,
    Column("return_id", String(36), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("recorded_on", Date, nullable=False),
    Column("recorded_by", Text, nullable=False),
    Column("reason", Text),
    Column("contact_hours", ExactDecimal, nullable=False),
    Column("visits", Integer, nullable=False),
    Column("average_visit_minutes", ExactDecimal, nullable=False),
    Column("average_travel_minutes", ExactDecimal, nullable=False),
    Column("careworker_headcount", Integer, nullable=False),
    Column("careworker_fte", ExactDecimal, nullable=False),
    Column("hours_paid", ExactDecimal, nullable=False),
    Column("lowest_hourly_pay", ExactDecimal, nullable=False),
    Column("typical_hourly_pay", ExactDecimal, nullable=False),
    Column("stated_total", ExactDecimal),
    Column("prepared_on", Date),
    Column("total_cost", ExactDecimal, nullable=False),
    Column("total_per_hour", ExactDecimal, nullable=False),
    Column("travel_minutes_per_contact_hour", ExactDecimal, nullable=False),
    Column("on_costs_percent_of_pay", ExactDecimal),
    Column("surplus_percent_of_cost", ExactDecimal),
    Column("surplus_percent_of_total", ExactDecimal),
    Column("nlw_floor", ExactDecimal),
    Column("nlw_breach", Boolean, nullable=False),
    Column("nlw_message", Text),
    Column("explanation", Text),
    Column("explained_on", Date),
    Column("explained_by", Text),
    Column("rlw_floor", ExactDecimal),
    Column("rlw_flag", Boolean, nullable=False),
    Column("rlw_message", Text),
    Column("no_floor_message", Text),  # "no wage floor known for ..." where days of the period have none
    Column("plausibility", Text, nullable=False),  # JSON list of {kind, field, message, needs_explanation}
    Column("surplus_finding", Text),  # JSON, as above: the surplus margin above the agreement's level
    Column("position", Integer, nullable=False),
)

cost_return_lines = Table(
    "cost_return_lines",
    metadata,
    Column("return_id", String(36), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("line", String(40), primary_key=True),
    Column("line_order", Integer, nullable=False),
    Column("cost_group", String(30), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("per_hour", ExactDecimal, nullable=False),  # 4 dp, half up (domain.returns.unit_costs)
    Column("note", Text),
    Column("current", Boolean, nullable=False),
)

cost_return_queries = Table(
    "cost_return_queries",
    metadata,
    Column("return_id", String(36), primary_key=True),
    Column("query_id", String(10), primary_key=True),
    Column("line", String(40), nullable=False),
    Column("question", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("asked_on", Date, nullable=False),
    Column("asked_by", Text, nullable=False),
    Column("answer", Text),
    Column("answered_on", Date),
    Column("answered_by", Text),
    Column("position", Integer, nullable=False),
)

wage_floor_rates = Table(
    "wage_floor_rates",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("floor", String(30), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("hourly_rate", ExactDecimal, nullable=False),
    Column("band", Text),  # as recorded; None: the band in force on its date
    Column("reason", Text),
    Column("recorded_by", Text, nullable=False),
)

cost_return_profit_caps = Table(
    "cost_return_profit_caps",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("agreement_id", String(36), nullable=False, index=True),
    Column("effective_from", Date, nullable=False),
    Column("max_margin", ExactDecimal),  # None: no cap
)

#: Each pool's margin basis (its excess-surplus clawback's), by pool: the year's surplus finding is measured on it.
cost_return_margin_bases = Table(
    "cost_return_margin_bases",
    metadata,
    Column("pool_id", String(36), primary_key=True),
    Column("agreement", String(63), nullable=False, index=True),
    Column("financial_year", String(7), nullable=False),
    Column("margin_basis", String(10), nullable=False),
)

#: Each agreement's stated plausibility ranges (``Agreement.PlausibilityRangesSet``), by date, as JSON text.
cost_return_plausibility_ranges = Table(
    "cost_return_plausibility_ranges",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("agreement_id", String(36), nullable=False, index=True),
    Column("effective_from", Date, nullable=False),
    Column("stated", Text, nullable=False),  # {"travel_minutes_highest": "45", "explanation_required": [...]}
)

cost_return_commitments = Table(
    "cost_return_commitments",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("agreement_id", String(36), nullable=False, index=True),
    Column("effective_from", Date, nullable=False),
    Column("committed", Boolean, nullable=False),
    Column("adoptions", Text, nullable=False),  # "2020-04-01=9.30 2021-04-01=9.50"; empty: default dates
)


def _status(state: str, open_queries: int) -> str:
    return return_status(state, open_queries).value


def _adoptions_text(rows: list[dict[str, Any]]) -> str:
    return " ".join(f"{row['adopted_from'].isoformat()}={row['hourly_rate']}" for row in rows)


def _adoptions(text: str) -> tuple[LivingWageAdoption, ...]:
    parts = [item.split("=") for item in text.split()]
    return tuple(LivingWageAdoption(date.fromisoformat(d), Decimal(r)) for d, r in parts)


def _table(conn: Connection) -> WageFloorTable:
    rows = conn.execute(select(wage_floor_rates).order_by(wage_floor_rates.c.position)).all()
    return WageFloorTable(tuple(FloorRow(Floor(r.floor), r.effective_from, r.hourly_rate, r.band) for r in rows))


def _finding_data(finding: PlausibilityFinding) -> dict[str, Any]:
    return {
        "kind": finding.kind.value,
        "field": finding.field,
        "message": finding.message,
        "needs_explanation": finding.needs_explanation,
    }


def _bounds(conn: Connection, agreement: str, agreement_id: str, on: date) -> PlausibilityBounds:
    """The agreement's bounds on ``on``, as ``CostReturnUseCases.plausibility_bounds`` reads them: its profit cap,
    on the margin basis of the pool of ``on``'s financial year, and the ranges it states."""
    c, m, p = cost_return_profit_caps.c, cost_return_margin_bases.c, cost_return_plausibility_ranges.c
    rows = conn.execute(select(cost_return_profit_caps).where(c.agreement_id == agreement_id).order_by(c.position))
    basis = conn.execute(
        select(m.margin_basis).where((m.agreement == agreement) & (m.financial_year == str(financial_year_of(on))))
    ).scalar()
    ranges = conn.execute(
        select(cost_return_plausibility_ranges).where(p.agreement_id == agreement_id).order_by(p.position)
    )
    stated = in_force([(r.effective_from, r.stated) for r in ranges], on)[1]
    return bounds_for(
        in_force([(r.effective_from, r.max_margin) for r in rows], on)[1], basis or MarginBasis.TOTAL,
        None if stated is None else _stated(stated),
    )  # fmt: skip


def _stated(text: str) -> dict[str, Any]:
    """Stated ranges as ``check_ranges`` gave them: Decimals from their exact text."""
    return {k: v if k == "explanation_required" else Decimal(v) for k, v in json.loads(text).items()}


def _filed(conn: Connection, revision: Any) -> CostReturnFiling:
    """A revision's filing again, from its row and lines (what ``_revision`` stored), for findings under new bounds."""
    ln = cost_return_lines.c
    lines = conn.execute(
        select(ln.line, ln.amount, ln.note)
        .where((ln.return_id == revision.return_id) & (ln.revision == revision.revision))
    ).all()
    return CostReturnFiling.from_data({
        "lines": {line: amount for line, amount, _ in lines},
        "notes": {line: note for line, _, note in lines if note},
        "volumes": {v.value: getattr(revision, v.value) for v in Volume},
        "stated_total": revision.stated_total,
        "prepared_on": revision.prepared_on,
    })  # fmt: skip


def _commitment_on(conn: Connection, agreement_id: str):  # type: ignore[no-untyped-def]
    """The agreement's commitment on a date, as ``Agreement.living_wage_commitment_on`` reads it."""
    c = cost_return_commitments.c
    rows = conn.execute(
        select(cost_return_commitments).where(c.agreement_id == agreement_id).order_by(c.position)
    ).all()

    history = [(row.effective_from, row) for row in rows]

    def on(day: date) -> tuple[LivingWageAdoption, ...] | None:
        found, best = in_force(history, day)
        if not found or not best.committed:
            return None
        return _adoptions(best.adoptions)

    return on


class CostReturnsProjection(Projection):
    name = "cost-returns"
    tables = (
        cost_returns,
        cost_return_revisions,
        cost_return_lines,
        cost_return_queries,
        wage_floor_rates,
        cost_return_commitments,
        cost_return_profit_caps,
        cost_return_margin_bases,
        cost_return_plausibility_ranges,
    )

    # -- helpers ------------------------------------------------------------------------------

    def _row(self, conn: Connection, return_id: str) -> Any:
        return conn.execute(select(cost_returns).where(cost_returns.c.id == return_id)).one()

    def _set(self, conn: Connection, e: Any, position: int, **values: Any) -> None:
        conn.execute(
            update(cost_returns).where(cost_returns.c.id == str(e.originator_id)).values(position=position, **values)
        )

    def _revision(self, conn: Connection, e: Any, position: int, number: int, filing_data: dict[str, Any]) -> None:
        """A revision's figures and lines; they become the return's current revision."""
        return_id = str(e.originator_id)
        filing = CostReturnFiling.from_data(filing_data)
        costs = unit_costs(filing)
        volumes = filing.volumes
        envelope = e.envelope
        conn.execute(
            insert(cost_return_revisions).values(
                return_id=return_id,
                revision=number,
                recorded_on=envelope.effective_date,
                recorded_by=str(envelope.actor),
                reason=envelope.reason,
                contact_hours=volumes.contact_hours,
                visits=int(volumes.visits),
                average_visit_minutes=volumes.average_visit_minutes,
                average_travel_minutes=volumes.average_travel_minutes,
                careworker_headcount=int(volumes.careworker_headcount),
                careworker_fte=volumes.careworker_fte,
                hours_paid=volumes.hours_paid,
                lowest_hourly_pay=volumes.lowest_hourly_pay,
                typical_hourly_pay=volumes.typical_hourly_pay,
                stated_total=filing.stated_total,
                prepared_on=filing.prepared_on,
                total_cost=costs.total_cost,
                total_per_hour=costs.total_per_hour,
                travel_minutes_per_contact_hour=costs.travel_minutes_per_contact_hour,
                on_costs_percent_of_pay=costs.on_costs_percent_of_pay,
                surplus_percent_of_cost=costs.surplus_percent_of_cost,
                surplus_percent_of_total=costs.surplus_percent_of_total,
                nlw_breach=False,
                rlw_flag=False,
                plausibility=json.dumps([_finding_data(f) for f in filing_findings(filing, DEFAULT_BOUNDS)]),
                position=position,
            )
        )
        conn.execute(
            update(cost_return_lines).where(cost_return_lines.c.return_id == return_id).values(current=False)
        )
        for order, line in enumerate(CostLine):
            conn.execute(
                insert(cost_return_lines).values(
                    return_id=return_id,
                    revision=number,
                    line=line.value,
                    line_order=order,
                    cost_group=line.group.value,
                    amount=costs.amounts[line],
                    per_hour=costs.per_line[line],
                    note=filing.notes.get(line),
                    current=True,
                )
            )

    def _current_figures(self, conn: Connection, return_id: str) -> dict[str, Any]:
        """The return row's copy of its current revision's figures and findings."""
        current = conn.execute(select(cost_returns.c.revision).where(cost_returns.c.id == return_id)).scalar_one()
        r = conn.execute(
            select(cost_return_revisions).where(
                (cost_return_revisions.c.return_id == return_id) & (cost_return_revisions.c.revision == current)
            )
        ).one()
        return {
            "contact_hours": r.contact_hours,
            "total_cost": r.total_cost,
            "total_per_hour": r.total_per_hour,
            "travel_minutes_per_contact_hour": r.travel_minutes_per_contact_hour,
            "on_costs_percent_of_pay": r.on_costs_percent_of_pay,
            "surplus_percent_of_cost": r.surplus_percent_of_cost,
            "lowest_hourly_pay": r.lowest_hourly_pay,
            "nlw_floor": r.nlw_floor,
            "nlw_breach": r.nlw_breach,
            "nlw_explained": r.explanation is not None,
            "rlw_floor": r.rlw_floor,
            "rlw_flag": r.rlw_flag,
        }

    def _check_wages(self, conn: Connection, return_ids: list[str]) -> None:
        """Every revision's wage and plausibility findings, again, from the floors, commitments, caps, stated
        ranges and pool bases seen so far."""
        table = _table(conn)
        for return_id in return_ids:
            row = self._row(conn, return_id)
            commitment_on = _commitment_on(conn, row.agreement_id)

            def rlw_on(day: date, commitment_on: Any = commitment_on) -> Decimal | None:
                return commitment_floor(table, commitment_on(day), day)

            bounds = _bounds(conn, row.agreement, row.agreement_id, row.period_end)
            r = cost_return_revisions.c
            revisions = conn.execute(select(cost_return_revisions).where(r.return_id == return_id)).all()
            for revision in revisions:
                number, pay = revision.revision, revision.lowest_hourly_pay
                margins = (revision.surplus_percent_of_total, revision.surplus_percent_of_cost)
                surplus = surplus_margin_finding(*margins, bounds)
                plausibility = [_finding_data(f) for f in filing_findings(_filed(conn, revision), bounds)]
                findings = {
                    f.kind: f
                    for f in check_lowest_pay(pay, row.period_start, row.period_end, rlw_on, table.statutory_floor_on)
                }
                nlw, rlw = findings.get(FindingKind.NLW_BREACH), findings.get(FindingKind.RLW_FLAG)
                unknown = findings.get(FindingKind.NO_FLOOR_KNOWN)
                conn.execute(
                    update(cost_return_revisions)
                    .where(
                        (cost_return_revisions.c.return_id == return_id)
                        & (cost_return_revisions.c.revision == number)
                    )
                    .values(
                        nlw_floor=nlw.floor if nlw else None,
                        nlw_breach=nlw is not None,
                        nlw_message=nlw.message if nlw else None,
                        rlw_floor=rlw.floor if rlw else None,
                        rlw_flag=rlw is not None,
                        rlw_message=rlw.message if rlw else None,
                        no_floor_message=unknown.message if unknown else None,
                        surplus_finding=json.dumps(_finding_data(surplus)) if surplus else None,
                        plausibility=json.dumps(plausibility),
                    )
                )
            conn.execute(
                update(cost_returns).where(cost_returns.c.id == return_id).values(**self._current_figures(conn, return_id))
            )

    # -- cost returns ------------------------------------------------------------------------

    @handles(CostReturn.Drafted)
    def drafted(self, conn: Connection, e: CostReturn.Drafted, position: int) -> None:
        period = parse_period(e.period)
        return_id = str(e.originator_id)
        conn.execute(
            insert(cost_returns).values(
                id=return_id,
                agreement=e.agreement,
                agreement_id=str(Agreement.create_id(e.agreement)),
                provider=e.provider,
                period=e.period,
                period_start=period.start,
                period_end=period.end,
                in_house=e.in_house,
                state=ReturnStatus.DRAFT.value,
                status=ReturnStatus.DRAFT.value,
                revision=1,
                drafted_on=e.envelope.effective_date,
                drafted_by=str(e.envelope.actor),
                open_queries=0,
                contact_hours=Decimal(0),
                total_cost=Decimal(0),
                total_per_hour=Decimal(0),
                travel_minutes_per_contact_hour=Decimal(0),
                lowest_hourly_pay=Decimal(0),
                nlw_breach=False,
                nlw_explained=False,
                rlw_flag=False,
                position=position,
            )
        )
        self._revision(conn, e, position, 1, e.filing)
        self._check_wages(conn, [return_id])

    @handles(CostReturn.Submitted)
    def submitted(self, conn: Connection, e: CostReturn.Submitted, position: int) -> None:
        row = self._row(conn, str(e.originator_id))
        state = ReturnStatus.SUBMITTED.value
        self._set(conn, e, position, state=state, status=_status(state, row.open_queries), submitted_on=e.envelope.effective_date)

    @handles(CostReturn.Queried)
    def queried(self, conn: Connection, e: CostReturn.Queried, position: int) -> None:
        row = self._row(conn, str(e.originator_id))
        conn.execute(
            insert(cost_return_queries).values(
                return_id=row.id,
                query_id=e.query_id,
                line=e.line,
                question=e.question,
                revision=e.revision,
                asked_on=e.envelope.effective_date,
                asked_by=str(e.envelope.actor),
                position=position,
            )
        )
        count = row.open_queries + 1
        self._set(conn, e, position, open_queries=count, status=_status(row.state, count))

    @handles(CostReturn.Answered)
    def answered(self, conn: Connection, e: CostReturn.Answered, position: int) -> None:
        row = self._row(conn, str(e.originator_id))
        conn.execute(
            update(cost_return_queries)
            .where((cost_return_queries.c.return_id == row.id) & (cost_return_queries.c.query_id == e.query_id))
            .values(answer=e.answer, answered_on=e.envelope.effective_date, answered_by=str(e.envelope.actor))
        )
        count = row.open_queries - 1
        self._set(conn, e, position, open_queries=count, status=_status(row.state, count))

    @handles(CostReturn.Amended)
    def amended(self, conn: Connection, e: CostReturn.Amended, position: int) -> None:
        self._revision(conn, e, position, e.revision, e.filing)
        self._set(conn, e, position, revision=e.revision)
        self._check_wages(conn, [str(e.originator_id)])

    @handles(CostReturn.Accepted)
    def accepted(self, conn: Connection, e: CostReturn.Accepted, position: int) -> None:
        state = ReturnStatus.ACCEPTED.value
        self._set(
            conn, e, position, state=state, status=state, accepted_revision=e.revision,
            accepted_on=e.envelope.effective_date, rejection_reasons=None,
        )  # fmt: skip

    @handles(CostReturn.Rejected)
    def rejected(self, conn: Connection, e: CostReturn.Rejected, position: int) -> None:
        state = ReturnStatus.REJECTED.value
        self._set(
            conn, e, position, state=state, status=state, accepted_revision=None,
            rejected_on=e.envelope.effective_date, rejection_reasons="\n".join(e.reasons),
        )  # fmt: skip

    @handles(CostReturn.Reopened)
    def reopened(self, conn: Connection, e: CostReturn.Reopened, position: int) -> None:
        row = self._row(conn, str(e.originator_id))
        state = ReturnStatus.SUBMITTED.value
        self._set(
            conn, e, position, state=state, status=_status(state, row.open_queries), accepted_revision=None,
            rejection_reasons=None, reopened_on=e.envelope.effective_date,
        )  # fmt: skip

    @handles(CostReturn.BreachExplained)
    def breach_explained(self, conn: Connection, e: CostReturn.BreachExplained, position: int) -> None:
        return_id = str(e.originator_id)
        conn.execute(
            update(cost_return_revisions)
            .where((cost_return_revisions.c.return_id == return_id) & (cost_return_revisions.c.revision == e.revision))
            .values(explanation=e.explanation, explained_on=e.envelope.effective_date, explained_by=str(e.envelope.actor))
        )
        self._set(conn, e, position, **self._current_figures(conn, return_id))

    # -- what the wage findings depend on -------------------------------------------------------

    @handles(WageFloors.RateAdded)
    def wage_floor_added(self, conn: Connection, e: WageFloors.RateAdded, position: int) -> None:
        conn.execute(
            insert(wage_floor_rates).values(
                position=position,
                floor=e.floor,
                effective_from=e.effective_from,
                hourly_rate=e.hourly_rate,
                band=e.band,
                reason=e.envelope.reason,
                recorded_by=str(e.envelope.actor),
            )
        )
        self._check_wages(conn, list(conn.execute(select(cost_returns.c.id)).scalars()))

    @handles(Agreement.ProfitCapSet)
    def profit_cap_set(self, conn: Connection, e: Agreement.ProfitCapSet, position: int) -> None:
        agreement_id = str(e.originator_id)
        conn.execute(
            insert(cost_return_profit_caps).values(
                position=position, agreement_id=agreement_id, effective_from=e.envelope.effective_date,
                max_margin=e.max_margin,
            )
        )  # fmt: skip
        ids = conn.execute(select(cost_returns.c.id).where(cost_returns.c.agreement_id == agreement_id)).scalars()
        self._check_wages(conn, list(ids))

    @handles(Agreement.PlausibilityRangesSet)
    def plausibility_ranges_set(self, conn: Connection, e: Agreement.PlausibilityRangesSet, position: int) -> None:
        """The agreement's ranges: its returns' findings are worked out again under them."""
        agreement_id = str(e.originator_id)
        stated = {k: v if k == "explanation_required" else str(v) for k, v in e.stated().items()}
        conn.execute(insert(cost_return_plausibility_ranges).values(
            position=position, agreement_id=agreement_id, effective_from=e.envelope.effective_date,
            stated=json.dumps(stated, sort_keys=True),
        ))  # fmt: skip
        ids = conn.execute(select(cost_returns.c.id).where(cost_returns.c.agreement_id == agreement_id)).scalars()
        self._check_wages(conn, list(ids))

    @handles(PooledBudget.SetUp, PooledBudget.Revised)
    def pool_terms(self, conn: Connection, e: Any, position: int) -> None:
        """A pool's margin basis: its year's returns' surplus findings are measured on it, so they are checked again."""
        m, pool_id = cost_return_margin_bases.c, str(e.originator_id)
        basis = MarginBasis(e.terms.get("margin_basis", MarginBasis.TOTAL)).value
        if isinstance(e, PooledBudget.SetUp):
            conn.execute(insert(cost_return_margin_bases).values(
                pool_id=pool_id, agreement=e.agreement, financial_year=e.financial_year, margin_basis=basis,
            ))  # fmt: skip
        else:
            conn.execute(update(cost_return_margin_bases).where(m.pool_id == pool_id).values(margin_basis=basis))
        agreement = conn.execute(select(m.agreement).where(m.pool_id == pool_id)).scalar_one()
        ids = conn.execute(select(cost_returns.c.id).where(cost_returns.c.agreement == agreement)).scalars()
        self._check_wages(conn, list(ids))

    @handles(Agreement.LivingWageCommitmentSet)
    def commitment_set(self, conn: Connection, e: Agreement.LivingWageCommitmentSet, position: int) -> None:
        agreement_id = str(e.originator_id)
        conn.execute(
            insert(cost_return_commitments).values(
                position=position,
                agreement_id=agreement_id,
                effective_from=e.envelope.effective_date,
                committed=e.committed,
                adoptions=_adoptions_text(e.adoptions),
            )
        )
        ids = conn.execute(select(cost_returns.c.id).where(cost_returns.c.agreement_id == agreement_id)).scalars()
        self._check_wages(conn, list(ids))
