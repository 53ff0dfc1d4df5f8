"""The event index reads every event of every aggregate, and indexes an odd one with what it has."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

import domain
from domain.aggregate import LedgerAggregate
from domain.envelope import Actor, Envelope
from ledger.audit.record_history import RECORD_KINDS, differences, key_parts
from ledger.persistence.history import STORED_AGGREGATES, aggregate_kind
from ledger.projections.event_index import event_topics, index_row


def _subclasses(cls: type) -> set[type]:
    found, todo = set(), [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


def test_the_stored_aggregates_are_every_aggregate_in_the_domain():
    for info in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(info.name)
    in_domain = {cls for cls in _subclasses(LedgerAggregate) if cls.__module__.startswith("domain.")}
    assert set(STORED_AGGREGATES) == in_domain


def test_the_index_reads_every_event_class_of_every_aggregate():
    declared = {
        value.TOPIC
        for aggregate in STORED_AGGREGATES
        for name, value in vars(aggregate).items()
        if isinstance(value, type) and issubclass(value, LedgerAggregate.Event) and name != "Event"
    }
    assert set(event_topics()) == declared
    assert "openbook:cost-return.amended" in declared and "openbook:settlement.issued" in declared


def test_kinds_are_the_aggregates_topics_and_keys_their_create_id_parameters():
    assert aggregate_kind("openbook:cost-return.amended") == "cost-return"
    assert len(RECORD_KINDS) == len(STORED_AGGREGATES)  # one kind per aggregate (each one in the domain: above)
    assert {"cost-return", "settlement", "issued-statement"} <= set(RECORD_KINDS)
    assert key_parts("checkpoint") == ("position",)
    assert key_parts("cost-return") == ("agreement", "provider", "period")
    assert key_parts("settlement") == ("agreement", "financial_year", "sequence")
    assert key_parts("rate-card") == ("agreement",)
    assert key_parts("pooled-budget") == ("agreement", "financial_year")
    assert key_parts("wage-floors") == ()


@dataclass
class _Odd:
    """An event as an older or broken writer might have left it: no organisation, no effective date."""

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    envelope: object


def test_an_odd_event_is_indexed_with_what_it_has_never_refused():
    moment = datetime(2020, 1, 2, 3, 4, 5)  # naive: taken as UTC
    odd = _Odd(UUID(int=7), 3, moment, envelope=None)
    row = index_row(odd, 42)
    assert (row["position"], row["version"], row["actor"], row["organisation"]) == (42, 3, "", None)
    assert (row["effective_date"], row["reason"], row["recorded_at"]) == (None, None, moment.replace(tzinfo=UTC))
    assert row["aggregate_id"] == "00000000-0000-0000-0000-000000000007"

    partly = _Odd(UUID(int=8), 1, moment, Envelope(Actor("someone"), date(2019, 4, 1), "why"))
    assert {k: index_row(partly, 43)[k] for k in ("actor", "organisation", "effective_date", "reason")} == {
        "actor": "someone", "organisation": None, "effective_date": date(2019, 4, 1), "reason": "why",
    }  # fmt: skip


def test_differences_are_the_changed_and_added_lines_in_order_then_the_removed():
    before = {"status": "submitted", "lines.a": "100.00", "lines.b": "20.00", "note": "x"}
    after = {"status": "submitted", "lines.a": "110.00", "lines.b": "20.00", "lines.c": "5.00"}
    assert differences(before, after) == [
        {"line": "lines.a", "old": "100.00", "new": "110.00"},
        {"line": "lines.c", "old": None, "new": "5.00"},
        {"line": "note", "old": "x", "new": None},
    ]
    assert differences(after, after) == []
