"""Old events still replay: a pinned file of v1 stored events, and topics that survive renames."""

from __future__ import annotations

import hashlib
import importlib
import json
import pkgutil
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

import domain
import domain.organisations.organisation
import domain.organisations.user
from domain.activity.activity_import import ActivityImport
from domain.activity.arrears import Arrears
from domain.aggregate import LedgerAggregate
from domain.agreements.agreement import Agreement
from domain.audit.checkpoint import Checkpoint
from domain.envelope import SYSTEM, Envelope
from domain.incentives.incentive_assessment import IncentiveAssessment
from domain.incentives.incentive_scheme import IncentiveScheme
from domain.incentives.kpi_results import KpiResults
from domain.organisations.organisation import Organisation
from domain.organisations.user import User
from domain.rates.rate_card import RateCard
from domain.rates.rate_review import RateReview
from domain.returns.cost_return import CostReturn
from domain.returns.wage_floors import WageFloors
from domain.settlement.payment_ledger import PaymentLedger
from domain.settlement.pooled_budget import PooledBudget
from domain.settlement.settlement import Settlement
from domain.settlement.year_end import YearEnd
from domain.statements.issued_statement import IssuedStatement
from ledger.queries.organisations import list_organisations

FIXTURE = Path(__file__).parent.parent / "fixtures" / "stored-events-v1.jsonl"
FIXTURE_SHA256 = "42c8e0e0992effea23c1a469546f68eda7f22522239dc2804aef761e7b45a3ad"


def stored_events() -> list[StoredEvent]:
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    return [
        StoredEvent(UUID(r["originator_id"]), r["version"], r["topic"], r["state"].encode("utf-8")) for r in rows
    ]


def test_fixture_is_the_one_committed():
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == FIXTURE_SHA256


def _replay(book):
    book.ledger.recorder.insert_events(stored_events())
    book.projections.catch_up()
    ccg = book.records.organisation("wirral-ccg")
    accountant = book.records.user("accountant@wirral.example")
    return ccg, accountant


def test_v1_events_replay_into_aggregates_and_read_models(book):
    ccg, accountant = _replay(book)
    assert (ccg.name, ccg.kind.value, ccg.version) == ("NHS Wirral CCG (Cheshire and Merseyside)", "icb", 2)
    assert accountant.roles == ("accountant", "auditor")
    aspire = book.records.organisation("aspire")
    assert aspire.member_of == "wirral-home-care-alliance"
    names = {o["code"]: o["name"] for o in list_organisations(book.read_engine)}
    assert len(names) == 15 and names["wirral-ccg"] == ccg.name


def test_renamed_and_moved_classes_still_replay(book, monkeypatch):
    """Stored topics name TOPICs, not module paths: moving or renaming a class changes nothing."""
    classes = (Organisation, Organisation.Registered, Organisation.Renamed, User, User.Registered, User.RolesChanged)
    saved = [(cls, cls.__qualname__, cls.__module__) for cls in classes]
    monkeypatch.delattr(domain.organisations.organisation, "Organisation")
    monkeypatch.delattr(domain.organisations.user, "User")
    try:
        for cls in classes:
            cls.__qualname__ = "Renamed" + cls.__name__
            cls.__module__ = "somewhere.else.entirely"
        ccg, accountant = _replay(book)
        # New events written by the renamed classes carry the same stored topics.
        book.organisations.register_organisation(Envelope(SYSTEM, date(2022, 7, 1)), "cheshire-icb", "NHS Cheshire and Merseyside ICB", "icb")
        newest = book.ledger.recorder.select_notifications(start=book.ledger.recorder.max_notification_id(), limit=1)
        assert [n.topic for n in newest] == ["openbook:organisation.registered"]
    finally:
        for cls, qualname, module in saved:
            cls.__qualname__, cls.__module__ = qualname, module
    assert ccg.name.startswith("NHS Wirral CCG")
    assert accountant.roles == ("accountant", "auditor")


#: Every aggregate openbook stores, listed by hand: one that stops being imported still has its topics checked.
AGGREGATES: tuple[type[LedgerAggregate], ...] = (
    Organisation, User, Agreement, RateCard, RateReview, CostReturn, WageFloors, ActivityImport, Arrears,
    KpiResults, IncentiveScheme, IncentiveAssessment, PooledBudget, PaymentLedger, Settlement, YearEnd,
    Checkpoint, IssuedStatement,
)  # fmt: skip


def _subclasses(cls: type) -> set[type]:
    found, todo = set(), [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


def test_the_list_of_aggregates_is_every_aggregate_in_the_domain():
    """A new aggregate must join ``AGGREGATES`` (and so the topic checks below) to pass."""
    for info in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(info.name)
    in_domain = {cls for cls in _subclasses(LedgerAggregate) if cls.__module__.startswith("domain.")}
    assert in_domain == set(AGGREGATES)


@pytest.mark.parametrize("aggregate", AGGREGATES, ids=lambda c: c.__name__)
def test_every_aggregate_and_event_class_has_an_explicit_stable_topic(aggregate):
    assert issubclass(aggregate, BaseAggregate)
    topics = {aggregate.TOPIC}
    assert get_topic(aggregate) == aggregate.TOPIC and aggregate.TOPIC.startswith("openbook:")
    for name, value in vars(aggregate).items():
        if isinstance(value, type) and issubclass(value, LedgerAggregate.Event) and name != "Event":
            assert resolve_topic(value.TOPIC) is value, f"{aggregate.__name__}.{name}'s TOPIC is not its own"
            assert value.TOPIC.startswith(aggregate.TOPIC + ".")
            assert value.TOPIC not in topics, f"{value.TOPIC} is used twice"
            topics.add(value.TOPIC)
    assert not any("domain." in t for t in topics)
