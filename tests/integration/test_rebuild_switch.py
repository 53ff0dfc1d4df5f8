"""A rebuild builds beside the live read models and switches in one transaction: readers never see a mix.

Proven here, on SQLite and PostgreSQL: while ``rebuild`` replays the history
(slowed to many small batches), a reader thread reads the read models over and
over, each time in one snapshot, and a writer records more commands. Every
snapshot is complete: each read model holds exactly one row per event up to
its position (the ``__history`` table too), no position ever goes back, and
no read model ever holds fewer organisations than were registered before the
rebuild began. A live row edited by hand is still shown until the switch and
is gone after it; the commands recorded meanwhile are in the rebuilt tables,
and afterwards the read models equal a replay of the history.
"""

from __future__ import annotations

import threading
from datetime import date

from domain.envelope import SYSTEM, Envelope
from ledger.audit.read_models import read_model_differences
from ledger.bootstrap import Openbook
from ledger.projections import runner as runner_module

BEFORE, DURING = 16, 3
FORGED = "Forged Care"


def register(book: Openbook, prefix: str, count: int) -> None:
    for n in range(count):
        book.organisations.register_organisation(
            Envelope(SYSTEM, date(2024, 4, 1), "test"), f"{prefix}-{n}", f"{prefix.title()} Care {n}", "provider"
        )


def snapshot(book: Openbook) -> dict[str, int | bool]:
    """The organisations and event-index read models as one reader sees them, in one snapshot."""
    engine = book.read_engine
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with engine.begin() as conn:
        at = dict(conn.exec_driver_sql("SELECT name, position FROM projection_positions").all())
        return {
            "organisations_at": at["organisations"],
            "organisations": conn.exec_driver_sql("SELECT count(*) FROM organisations").scalar_one(),
            "versions": conn.exec_driver_sql("SELECT count(*) FROM organisations__history").scalar_one(),
            "forged": conn.exec_driver_sql(f"SELECT count(*) FROM organisations WHERE name = '{FORGED}'").scalar_one()
            > 0,
            "index_at": at["event-index"],
            "indexed": conn.exec_driver_sql("SELECT count(*) FROM event_index").scalar_one(),
        }


def test_readers_see_the_old_read_models_or_the_rebuilt_ones_never_a_mix(book, open_book, raw_sql, monkeypatch):
    register(book, "before", BEFORE)
    raw_sql(f"UPDATE organisations SET name = '{FORGED}' WHERE code = 'before-0'")  # a live row edited by hand
    monkeypatch.setattr(runner_module, "BATCH_SIZE", 3)  # many small batches: the rebuild takes a while
    rebuilding, done = threading.Event(), threading.Event()
    seen: list[dict[str, int | bool]] = []
    failures: list[BaseException] = []

    def progress(name: str, reached: int, head: int) -> None:
        rebuilding.set()
        done.wait(0.002)

    def read() -> None:
        try:
            while not done.is_set():
                seen.append(snapshot(book))
        except BaseException as e:  # noqa: BLE001 - reported by the test
            failures.append(e)

    def write() -> None:
        try:
            rebuilding.wait(60)
            register(open_book(), "during", DURING)  # commands record and catch up while the rebuild runs
        except BaseException as e:  # noqa: BLE001 - reported by the test
            failures.append(e)

    threads = [threading.Thread(target=read), threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    try:
        book.projections.rebuild(progress=progress)
    finally:
        threads[1].join(60)
        done.set()
        threads[0].join(60)
    book.projections.catch_up()  # anything recorded after the rebuild's last look
    seen.append(snapshot(book))

    assert failures == []
    assert len(seen) > 10, "the reader should have read throughout the rebuild"
    for one in seen:  # complete: one organisation, one version and one index row per event up to its position
        assert one["organisations"] == one["versions"] == one["organisations_at"] >= BEFORE, one
        assert one["indexed"] == one["index_at"] >= BEFORE, one
    for earlier, later in zip(seen, seen[1:], strict=False):  # never back to a half-built state
        assert later["organisations_at"] >= earlier["organisations_at"] and later["index_at"] >= earlier["index_at"]
    assert seen[0]["forged"] and not seen[-1]["forged"]  # the old rows until the switch, the rebuilt ones after
    flips = sum(a["forged"] != b["forged"] for a, b in zip(seen, seen[1:], strict=False))
    assert flips == 1, "the edited row is replaced once, at the switch"
    head = BEFORE + DURING
    assert (seen[-1]["organisations"], seen[-1]["indexed"]) == (head, head)
    assert read_model_differences(book) == []
