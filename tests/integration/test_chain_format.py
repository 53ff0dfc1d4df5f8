"""The demo's stored chain equals docs/audit.md's rule, recomputed here from raw rows and hashlib alone.

Written from the document, not from ``ledger/persistence/chain.py`` (nor the
verifier): if either drifted from the documented format, an auditor's own
verifier would fail where openbook's passes. Both databases.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.integration.audit_setup import DemoSource, demo_source, sql
from tests.support import DEMO_EVENTS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    yield from demo_source(request, tmp_path_factory)


def documented_hash(previous: str, position: int, topic: str, aggregate_id: str, version: int, stored: bytes) -> str:
    """SHA-256( ascii(previous) "|" ascii(position) "|" utf8(topic) "|" ascii(aggregate id) "|" ascii(version) "|"
    stored bytes ), as 64 lower-case hex characters (docs/audit.md, openbook-chain/1)."""
    data = (
        previous.encode("ascii") + b"|" + str(position).encode("ascii") + b"|" + topic.encode("utf-8") + b"|"
        + aggregate_id.encode("ascii") + b"|" + str(version).encode("ascii") + b"|" + stored
    )
    return hashlib.sha256(data).hexdigest()


def test_the_document_states_the_rule_this_test_applies() -> None:
    text = DOCS.read_text()
    assert "## The chain: `openbook-chain/1`" in text
    assert 'hash(e) = SHA-256( ascii(previous) "|" ascii(position) "|" utf8(topic) "|"' in text
    assert "`GENESIS` = 64 `0` characters" in text


def test_the_demo_chain_is_the_documented_rule(source: DemoSource) -> None:
    from ledger.persistence.database import Database

    db = Database.from_url(source.url)
    rows = sql(
        db, "SELECT e.notification_id, e.topic, e.originator_id, e.originator_version, e.state, h.hash "
        "FROM stored_events e LEFT JOIN event_hashes h ON h.notification_id = e.notification_id "
        "ORDER BY e.notification_id",
    )
    assert len(rows) == DEMO_EVENTS
    previous = "0" * 64
    canonical_uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    for position, topic, originator, version, state, stored_hash in rows:
        aggregate_id = str(uuid.UUID(str(originator)))  # SQLite keeps 32 hex digits, PostgreSQL a uuid
        assert canonical_uuid.match(aggregate_id)
        previous = documented_hash(previous, position, topic, aggregate_id, version, bytes(state))
        assert stored_hash == previous, f"position {position}"
    extra = sql(db, "SELECT count(*) FROM event_hashes WHERE notification_id NOT IN "
                "(SELECT notification_id FROM stored_events)")
    assert extra == [(0,)]
