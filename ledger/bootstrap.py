"""The composition root: one ``Ledger`` that records, its read models, and one use-case object per area.

Cosmic Python's ``bootstrap.py`` is the model: everything is built here, each
use case is handed only the collaborators it uses (the ledger to record
with, ``Records`` to load aggregates, and the few other areas it acts
through), and nothing is built at import time. The CLI and ``create_app``
call ``bootstrap``; tests call ``open_openbook`` on their own database.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from ledger import faults
from ledger.application import Ledger
from ledger.audit.signing import SigningKey, load_signing_key
from ledger.files.chunks import ChunkStore, LiveChunks
from ledger.files.documents import DocumentStore
from ledger.jobs import table as job_table
from ledger.jobs.queue import JobQueue
from ledger.jobs.registry import default_kinds
from ledger.jobs.store import JobStore
from ledger.persistence.database import Database
from ledger.projections.activity import ActivityProjection
from ledger.projections.agreements import AgreementsProjection
from ledger.projections.base import Projection
from ledger.projections.checkpoints import CheckpointsProjection
from ledger.projections.cost_returns import CostReturnsProjection
from ledger.projections.event_index import EventIndexProjection
from ledger.projections.incentives import IncentivesProjection
from ledger.projections.issued_statements import IssuedStatementsProjection
from ledger.projections.organisations import OrganisationsProjection
from ledger.projections.rates import RatesProjection
from ledger.projections.runner import ProjectionRunner
from ledger.projections.settlements import SettlementsProjection
from ledger.records import Records
from ledger.security.store import SecurityStore
from ledger.settings import Settings
from ledger.usecases.activity import ActivityUseCases
from ledger.usecases.agreements import AgreementUseCases
from ledger.usecases.checkpoints import CheckpointUseCases
from ledger.usecases.cost_returns import CostReturnUseCases
from ledger.usecases.incentives import IncentiveUseCases
from ledger.usecases.organisations import OrganisationUseCases
from ledger.usecases.rate_reviews import RateReviewUseCases
from ledger.usecases.rates import RateUseCases
from ledger.usecases.settlements import SettlementUseCases
from ledger.usecases.statements import StatementUseCases


@dataclass(frozen=True)
class Openbook:
    """The application as the CLI, the web app and the tests use it.

    Commands go to the area's use cases (``book.returns.accept_cost_return(...)``);
    pages and reports read ``book.read_engine`` through ``ledger/queries/``.
    """

    ledger: Ledger
    records: Records
    organisations: OrganisationUseCases
    agreements: AgreementUseCases
    rates: RateUseCases
    reviews: RateReviewUseCases
    returns: CostReturnUseCases
    activity: ActivityUseCases
    incentives: IncentiveUseCases
    settlements: SettlementUseCases
    checkpoints: CheckpointUseCases
    #: Issuing statements: the documents kept by digest and the event recording each issue (docs/statements.md).
    statements: StatementUseCases
    #: Background jobs (docs/jobs.md): operational state beside the ledger, run by ``ledger.jobs.worker``.
    jobs: JobQueue
    security: SecurityStore  # passwords, login throttling, the security log: never events

    @property
    def database(self) -> Database:
        return self.ledger.database

    @property
    def read_engine(self) -> Engine:
        return self.ledger.read_engine

    @property
    def projections(self) -> ProjectionRunner:
        return self.ledger.projections

    def close(self) -> None:
        self.ledger.close()


def read_models(records: Records, chunks: ChunkStore) -> tuple[Projection, ...]:
    """A new instance of every read model, in the order they catch up.

    The one list of them: the ledger follows these, and the read-model check
    (``ledger.audit.read_models``) replays the history into a fresh set.
    """
    return (
        OrganisationsProjection(),
        AgreementsProjection(),
        RatesProjection(),
        CostReturnsProjection(),
        ActivityProjection(records, chunks),
        IncentivesProjection(),
        SettlementsProjection(),
        CheckpointsProjection(),
        IssuedStatementsProjection(),
        EventIndexProjection(),
    )


def open_openbook(
    database: Database, *, create_tables: bool = True, signing_key: SigningKey | None = None
) -> Openbook:
    """Open the ledger on ``database`` and compose the use cases over it; with ``signing_key``, every event
    recorded is signed (docs/audit.md)."""
    ledger = Ledger(database, create_tables=create_tables, signing_key=signing_key)
    records = Records(ledger.repository)
    chunks = ChunkStore(ledger.write_engine)
    documents = DocumentStore(ledger.write_engine)
    projections = read_models(records, chunks)
    ledger.projections.follow(*projections)
    ledger.projections.fresh = lambda: read_models(records, LiveChunks(ledger.write_engine))
    activity_projection = next(p for p in projections if isinstance(p, ActivityProjection))
    if create_tables:
        ledger.projections.create_tables()
        chunks.create_table()
        documents.create_table()
        job_table.create_table(ledger.write_engine)
    security = SecurityStore(ledger.write_engine)
    if create_tables:
        security.create_tables()
    rates = RateUseCases(ledger, records)
    reviews = RateReviewUseCases(ledger, records, rates)
    incentives = IncentiveUseCases(ledger, records)
    return Openbook(
        ledger=ledger,
        records=records,
        organisations=OrganisationUseCases(ledger, records, security.tokens),
        agreements=AgreementUseCases(ledger, records),
        rates=rates,
        reviews=reviews,
        returns=CostReturnUseCases(ledger, records),
        activity=ActivityUseCases(ledger, records, rates, reviews, chunks, activity_projection),
        incentives=incentives,
        settlements=SettlementUseCases(ledger, records),
        checkpoints=CheckpointUseCases(ledger, records),
        statements=StatementUseCases(ledger, records, documents),
        jobs=JobQueue(JobStore(ledger.write_engine, ledger.read_engine), records, default_kinds()),
        security=security,
    )


def bootstrap(settings: Settings | None = None) -> Openbook:
    """Read the settings (the signing key's file too), install the crash tests' fault point if one is set, check
    the database can be reached, and open openbook on it."""
    settings = settings or Settings.from_environ()
    faults.install(settings.fault_point)
    signing_key = load_signing_key(settings.signing_key_path) if settings.signing_key_path else None
    database = Database.from_url(settings.database_url)
    database.check_reachable()
    book = open_openbook(database, signing_key=signing_key)
    book.activity.max_file_mb = settings.max_import_mb
    return book
