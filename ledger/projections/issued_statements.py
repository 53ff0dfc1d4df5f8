"""The statements issued (``openbook statements issue``), one row per document: what it is, for whom, by whom."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Connection, Date, DateTime, Index, Integer, MetaData, String, Table, Text

from domain.statements.issued_statement import IssuedStatement
from ledger.projections.base import Projection, handles

metadata = MetaData()

issued_statements = Table(
    "issued_statements",
    metadata,
    Column("digest", String(64), primary_key=True),  # SHA-256 of the document: the document store's key
    Column("kind", String(20), nullable=False),
    Column("agreement", String(63), nullable=False),
    Column("party", String(63)),  # a provider or commissioner; None: the whole partnership's statement
    Column("period", String(10), nullable=False),
    Column("title", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("head_position", BigInteger, nullable=False),  # the head the statement was built at
    Column("issued_by", Text, nullable=False),
    Column("issued_on", Date, nullable=False),  # the envelope's effective date
    Column("issued_in", BigInteger, nullable=False, unique=True),  # the position of the issue's own event
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("issued_statements_by_agreement", "agreement", "party", "issued_in"),
)


class IssuedStatementsProjection(Projection):
    name = "issued-statements"
    tables = (issued_statements,)

    @handles(IssuedStatement.Issued)
    def issued(self, conn: Connection, e: IssuedStatement.Issued, position: int) -> None:
        conn.execute(
            issued_statements.insert().values(
                digest=e.digest,
                kind=e.kind,
                agreement=e.agreement,
                party=e.party,
                period=e.period,
                title=e.title,
                size=e.size,
                head_position=e.head_position,
                issued_by=str(e.envelope.actor),
                issued_on=e.envelope.effective_date,
                issued_in=position,
                recorded_at=e.timestamp,
            )
        )
