"""A writer killed (SIGKILL) at a named point inside a command leaves all of the command or none of it.

Each case runs the command in a process of its own with ``OPENBOOK_FAULT``
naming the point (``ledger/faults.py``; ``killed_writer.py`` is the process),
and checks that it died by SIGKILL there; that the store holds exactly the
events it held before (killed before the commit) or every event of the command
(killed after it); that the read models then catch up to exactly what a replay
of the history gives (``ledger.audit.read_models``); and that the chain
verifies. The commands: an activity import killed between its chunks, before
its commit and after it; a payment run and a settlement issue killed before and after
their commits. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

from ledger.audit.read_models import read_model_differences
from ledger.bootstrap import Openbook
from ledger.faults import FAULT_ENV
from ledger.queries import settlements as views
from tests.integration.killed_writer import DRAFTED_ON
from tests.integration.settlement_setup import (
    BANDS,
    CCG_ACCOUNTANT,
    COUNCIL_ACCOUNTANT,
    WIRRAL,
    YEAR,
    by,
    import_visits,
    setup,
    visits,
    write_visits,
)
from tests.integration.test_event_store import chain_break

ROOT = Path(__file__).resolve().parents[2]
SUMMER = 25  # visits in the file the import is killed in: three chunks of ten rows


def kill_at(database_url: str, point: str, *command: str) -> None:
    """Run the command in its own process, to die at ``point``; fail unless SIGKILL ended it."""
    env = {**os.environ, FAULT_ENV: point, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.killed_writer", database_url, *command],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL, f"not killed at {point}: {done.returncode}\n{done.stderr[-2000:]}"


def topics(book: Openbook) -> Counter[str]:
    return Counter(n.topic for n in book.ledger.recorder.select_notifications(start=None, limit=100_000))


def unchanged(book: Openbook, before: Counter[str]) -> None:
    """Nothing of the command is stored, and the chain verifies."""
    assert topics(book) == before
    assert chain_break(book) is None


def consistent(book: Openbook) -> None:
    """The read models catch up to the head and equal a replay; the chain verifies."""
    book.projections.catch_up()
    assert {row["position"] for row in book.projections.status()} == {book.projections.head()}
    assert read_model_differences(book) == []
    assert chain_break(book) is None


def test_a_writer_killed_inside_a_command_leaves_all_of_it_or_none(book, database_url, tmp_path):
    setup(book)
    book.settlements.set_pooled_budget(
        by(COUNCIL_ACCOUNTANT, date(2019, 4, 1), "section 75 pool agreed"), WIRRAL, YEAR,
        target="520.00", bands=BANDS, gain_cap="20.00", clawback_share="0.5",
    )  # fmt: skip
    import_visits(book, tmp_path, "spring.csv", visits("premier-care", "zone-1", "2019-04", 10))
    summer = write_visits(tmp_path / "summer.csv", visits("premier-care", "zone-1", "2019-06", SUMMER, prefix="S"))

    # an activity import: killed between its chunks, nothing; after its commit, all
    before = topics(book)
    kill_at(database_url, "activity-import.mid-chunks", "import", str(summer))
    unchanged(book, before)
    kill_at(database_url, "record.before-commit", "import", str(summer))  # its one event written, not committed
    unchanged(book, before)
    kill_at(database_url, "record.after-commit", "import", str(summer))
    assert topics(book) - before == Counter({"openbook:activity-import.imported": 1})
    consistent(book)

    # a payment run
    before = topics(book)
    kill_at(database_url, "record.before-commit", "payments", "2019-06")
    unchanged(book, before)
    kill_at(database_url, "record.after-commit", "payments", "2019-06")
    recorded = topics(book) - before
    assert sum(recorded.values()) >= 1 and all(t.startswith("openbook:payments.") for t in recorded), recorded
    consistent(book)

    # a settlement issue
    book.settlements.draft_settlement(by(COUNCIL_ACCOUNTANT, DRAFTED_ON, "year-end settlement"), WIRRAL, YEAR)
    book.settlements.review_settlement(by(CCG_ACCOUNTANT, DRAFTED_ON), WIRRAL, YEAR, 1)
    for accountant in (COUNCIL_ACCOUNTANT, CCG_ACCOUNTANT):
        book.settlements.approve_settlement(by(accountant, DRAFTED_ON), WIRRAL, YEAR, 1)
    before = topics(book)
    kill_at(database_url, "record.before-commit", "issue")
    unchanged(book, before)
    kill_at(database_url, "record.after-commit", "issue")
    assert sum((topics(book) - before).values()) == 1
    assert views.latest_sequence(book.read_engine, WIRRAL, YEAR) == 1
    consistent(book)
