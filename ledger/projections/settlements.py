"""Pooled budgets, payments and settlements as tables: for lists, statements, the running position, settlements.

The figures that are signed (a settlement's statement, a payment run's lines)
live in their events and aggregates; these tables are what the read side
(``ledger.queries.settlements``) shows without loading an aggregate: which
pools exist and their terms, what was paid to whom for which month (line by
line, for payment statements, each closed-year adjustment marked with the
closed year it pays), which years are closed (``year_ends``), and each settlement with its headline figures
for lists and everything it shows (statement, inputs, references, comparison,
every signature). Money in columns is exact decimal text (``ExactDecimal``),
summed in Python, never in SQL.

Structured figures (a pool's terms, a settlement's statement) are kept as
``ExactJSON``: JSON in the event store's own encoding, so a Decimal keeps its
exponent and a date its type, and what the query reads back is what the
aggregate holds — nothing passes through a float.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from domain.money import ZERO
from domain.settlement.payment_ledger import PaymentLedger
from domain.settlement.pooled_budget import PooledBudget, PoolTerms, describe_band
from domain.settlement.settlement import Settlement, Signature, awaiting_approval, settlement_status
from domain.settlement.year_end import YearEnd
from ledger.projections.base import Projection, handles
from ledger.projections.columns import ExactDecimal, ExactJSON

metadata = MetaData()

pooled_budgets = Table(
    "pooled_budgets",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("financial_year", String(7), primary_key=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("target", ExactDecimal, nullable=False),
    Column("gain_cap", ExactDecimal),
    Column("loss_cap", ExactDecimal),
    Column("mechanism", String(12), nullable=False),
    Column("bands", Text, nullable=False),  # the bands in words, "; " between them
    Column("terms", ExactJSON, nullable=False),  # PoolTerms.to_data() exactly: PoolTerms.from_data rebuilds them
    Column("revisions", Integer, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("position", Integer, nullable=False),
)

payment_ledgers = Table(
    "payment_ledgers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("agreement", String(63), nullable=False),
    Column("financial_year", String(7), nullable=False),
)

#: One row per provider per monthly run: what the provider was paid that month.
payments = Table(
    "payments",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("provider", String(63), primary_key=True),
    Column("financial_year", String(7), nullable=False, index=True),
    Column("amount", ExactDecimal, nullable=False),
    Column("mechanism", String(12), nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("recorded_by", Text, nullable=False),
    Column("basis", Text, nullable=False),
    Column("position", Integer, nullable=False),
)

#: The lines of each provider's payment, in order: a payment statement.
payment_lines = Table(
    "payment_lines",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("provider", String(63), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("label", Text, nullable=False),
    Column("zone", String(63), nullable=False),
    Column("service", String(20), nullable=False),
    Column("activity_month", String(7), nullable=False),
    Column("visits", Integer, nullable=False),
    Column("payable_minutes", BigInteger, nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("arrears", ExactDecimal, nullable=False),  # the arrears an adjustment includes (part of amount)
    Column("closed_year", String(7), nullable=False),  # a closed-year adjustment: the closed year it pays; else ""
)

settlements = Table(
    "settlements",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("financial_year", String(7), primary_key=True),
    Column("sequence", Integer, primary_key=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("status", String(12), nullable=False),
    Column("previous", Integer),
    Column("drafted_by", Text, nullable=False),
    Column("drafted_on", Date, nullable=False),
    Column("reviewed_by", Text),
    Column("commissioners", Text, nullable=False),  # space-separated: who must approve
    Column("approved_by", Text, nullable=False),  # "commissioner: user" pairs, "; " between them
    Column("issued_on", Date),
    Column("target", ExactDecimal, nullable=False),
    Column("actual", ExactDecimal, nullable=False),
    Column("provider_amount_uncapped", ExactDecimal, nullable=False),
    Column("provider_amount", ExactDecimal, nullable=False),
    Column("clawback_total", ExactDecimal, nullable=False),
    Column("commissioner_cost", ExactDecimal, nullable=False),
    Column("position", Integer, nullable=False),
    # What the settlement shows (ledger.queries.settlements.settlement), each as ExactJSON:
    Column("drafted", ExactJSON, nullable=False),  # every signature: a Signature's fields
    Column("reviewed", ExactJSON),
    Column("approvals", ExactJSON, nullable=False),  # commissioner -> signature, in the order they approved
    Column("issued", ExactJSON),
    Column("withdrawn", ExactJSON),
    Column("superseded_by", Integer),
    Column("statement", ExactJSON, nullable=False),
    Column("comparison", ExactJSON),
    Column("inputs", ExactJSON, nullable=False),
    Column("input_references", ExactJSON, nullable=False),
)

#: One row per closed year: the settlement it was closed with and each provider's figures in it (docs/year-end.md).
year_ends = Table(
    "year_ends",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("financial_year", String(7), primary_key=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("settlement", Integer, nullable=False),
    Column("closed_on", Date, nullable=False),
    Column("closed_by", Text, nullable=False),
    Column("reason", Text),
    Column("activity", ExactJSON, nullable=False),  # provider -> priced activity at close
    Column("paid", ExactJSON, nullable=False),  # provider -> paid on account at close
    Column("position", Integer, nullable=False),
)

#: The columns a list of settlements shows: the headline figures, not the whole settlement.
SETTLEMENT_LIST_COLUMNS = (
    "agreement", "financial_year", "sequence", "id", "status", "previous", "drafted_by", "drafted_on", "reviewed_by",
    "commissioners", "approved_by", "issued_on", "target", "actual", "provider_amount_uncapped", "provider_amount",
    "clawback_total", "commissioner_cost", "position",
)  # fmt: skip


def _pool_values(terms: dict[str, Any]) -> dict[str, Any]:
    found = PoolTerms.from_data(terms)
    return {
        "target": found.target,
        "gain_cap": found.gain_cap,
        "loss_cap": found.loss_cap,
        "mechanism": found.mechanism.value,
        "bands": "; ".join(describe_band(b) for b in found.bands),
        "terms": terms,
    }


def _settlement_key(e: Any) -> Any:
    return settlements.c.id == str(e.originator_id)


def _signature(e: Any, note: str | None = None) -> dict[str, Any]:
    """The step's signature as the aggregate records it (``Signature.of``), as its fields."""
    return dataclasses.asdict(Signature.of(e, note))


def _signed(conn: Connection, e: Any, position: int, **values: Any) -> None:
    """Record a step's columns and the status it leaves, by the aggregate's own rule (``settlement_status``)."""
    c = settlements.c
    before = conn.execute(
        select(c.commissioners, c.reviewed, c.approvals, c.issued, c.withdrawn).where(_settlement_key(e))
    ).one()
    row = {**before._mapping, **values}
    status = settlement_status(
        reviewed=row["reviewed"] is not None,
        awaiting=awaiting_approval(row["commissioners"].split(), row["approvals"]),
        issued=row["issued"] is not None,
        withdrawn=row["withdrawn"] is not None,
    )
    conn.execute(update(settlements).where(_settlement_key(e)).values(**values, status=status.value, position=position))


class SettlementsProjection(Projection):
    name = "settlements"
    tables = (pooled_budgets, payment_ledgers, payments, payment_lines, settlements, year_ends)

    @handles(PooledBudget.SetUp)
    def pool_set_up(self, conn: Connection, e: PooledBudget.SetUp, position: int) -> None:
        conn.execute(
            insert(pooled_budgets).values(
                agreement=e.agreement, financial_year=e.financial_year, id=str(e.originator_id), revisions=0,
                effective_date=e.envelope.effective_date, position=position, **_pool_values(e.terms),
            )  # fmt: skip
        )

    @handles(PooledBudget.Revised)
    def pool_revised(self, conn: Connection, e: PooledBudget.Revised, position: int) -> None:
        p = pooled_budgets.c
        conn.execute(
            update(pooled_budgets)
            .where(p.id == str(e.originator_id))
            .values(revisions=p.revisions + 1, effective_date=e.envelope.effective_date, position=position,
                    **_pool_values(e.terms))  # fmt: skip
        )

    @handles(PaymentLedger.Opened)
    def payments_opened(self, conn: Connection, e: PaymentLedger.Opened, position: int) -> None:
        conn.execute(
            insert(payment_ledgers).values(
                id=str(e.originator_id), agreement=e.agreement, financial_year=e.financial_year
            )
        )

    @handles(PaymentLedger.RunRecorded)
    def run_recorded(self, conn: Connection, e: PaymentLedger.RunRecorded, position: int) -> None:
        agreement, year = conn.execute(
            select(payment_ledgers.c.agreement, payment_ledgers.c.financial_year).where(
                payment_ledgers.c.id == str(e.originator_id)
            )
        ).one()
        for provider, amount in e.providers.items():
            conn.execute(
                insert(payments).values(
                    agreement=agreement, month=e.month, provider=provider, financial_year=year, amount=amount,
                    mechanism=e.mechanism, paid_on=e.envelope.effective_date, recorded_by=str(e.envelope.actor),
                    basis=e.basis, position=position,
                )  # fmt: skip
            )
        numbers: dict[str, int] = {}
        for row in e.lines:
            number = numbers[row["provider"]] = numbers.get(row["provider"], 0) + 1
            conn.execute(
                insert(payment_lines).values(
                    agreement=agreement, month=e.month, provider=row["provider"], line=number, label=row["label"],
                    zone=row["zone"], service=row["service"], activity_month=row["month"], visits=row["visits"],
                    payable_minutes=row["payable_minutes"], amount=row["amount"],
                    arrears=row.get("arrears", ZERO),  # runs recorded before arrears were identified have none
                    closed_year=row.get("closed_year", ""),  # only a closed-year adjustment has one
                )  # fmt: skip
            )

    @handles(Settlement.Drafted)
    def drafted(self, conn: Connection, e: Settlement.Drafted, position: int) -> None:
        s = e.statement
        status = settlement_status(reviewed=False, awaiting=e.commissioners, issued=False, withdrawn=False)
        conn.execute(
            insert(settlements).values(
                agreement=e.agreement, financial_year=e.financial_year, sequence=e.sequence, id=str(e.originator_id),
                status=status.value, previous=e.previous, drafted_by=str(e.envelope.actor),
                drafted_on=e.envelope.effective_date, commissioners=" ".join(e.commissioners), approved_by="",
                target=s["target"], actual=s["actual"],
                provider_amount_uncapped=s["provider_amount_uncapped"], provider_amount=s["provider_amount"],
                clawback_total=s["clawback_total"], commissioner_cost=s["commissioner_cost"], position=position,
                drafted=_signature(e), approvals={}, statement=e.statement, comparison=e.comparison,
                inputs=e.inputs, input_references=e.references,
            )  # fmt: skip
        )

    @handles(Settlement.Reviewed)
    def reviewed(self, conn: Connection, e: Settlement.Reviewed, position: int) -> None:
        _signed(conn, e, position, reviewed_by=str(e.envelope.actor), reviewed=_signature(e, e.note))

    @handles(Settlement.Approved)
    def approved(self, conn: Connection, e: Settlement.Approved, position: int) -> None:
        c = settlements.c
        before, approvals = conn.execute(select(c.approved_by, c.approvals).where(_settlement_key(e))).one()
        signed = [*filter(None, before.split("; ")), f"{e.commissioner}: {e.envelope.actor.user}"]
        approved = {**approvals, e.commissioner: _signature(e)}
        _signed(conn, e, position, approved_by="; ".join(signed), approvals=approved)

    @handles(Settlement.Issued)
    def issued(self, conn: Connection, e: Settlement.Issued, position: int) -> None:
        _signed(conn, e, position, issued_on=e.envelope.effective_date, issued=_signature(e))

    @handles(Settlement.Withdrawn)
    def withdrawn(self, conn: Connection, e: Settlement.Withdrawn, position: int) -> None:
        _signed(conn, e, position, withdrawn=_signature(e), superseded_by=e.superseded_by)

    @handles(YearEnd.Closed)
    def year_closed(self, conn: Connection, e: YearEnd.Closed, position: int) -> None:
        conn.execute(
            insert(year_ends).values(
                agreement=e.agreement, financial_year=e.financial_year, id=str(e.originator_id),
                settlement=e.settlement, closed_on=e.envelope.effective_date, closed_by=str(e.envelope.actor),
                reason=e.envelope.reason, activity=e.activity, paid=e.paid, position=position,
            )  # fmt: skip
        )
