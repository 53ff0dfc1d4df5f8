"""The cost of signing on append: events per second with a signing key against without, in the same run.

With ``OPENBOOK_SIGNING_KEY`` set, the recorder signs each event's chain hash
with Ed25519 in the recording transaction (docs/audit.md). This measures what
that adds, on SQLite, two ways, each with and without a key, interleaved
``--repeat`` times (best of each counts, as ``timeit`` does):

* ``append``: the recorder alone, appending batches of stored events (chain
  hash, signature row, commit): the cost at its most visible;
* ``commands``: whole commands (``register_organisation``) through the ledger,
  read models caught up after each: what a user's command pays.

Beside them, raw Ed25519 signatures per second on this machine, and what checking
the head before a checkpoint is signed costs (``head_check``: from genesis over
the whole history, and from a checkpoint over what was recorded since). Results go to
``bench/results/signing.json``. Usage: ``python -m bench.signing [--events N]``
(``make bench`` runs it after the activity benchmark).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import date, datetime, timezone
from typing import Any
from uuid import uuid4

from bench.figures import figure, machine, write_results

BATCH = 100


def _key() -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger.audit.signing import SigningKey

    return SigningKey.of(Ed25519PrivateKey.generate())


def _open(work: str, name: str, key: Any) -> Any:
    from ledger.bootstrap import open_openbook
    from ledger.persistence.database import Database

    path = os.path.join(work, f"{name}.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return open_openbook(Database.from_url(f"sqlite:///{path}"), signing_key=key)


def append_rate(work: str, events: int, key: Any) -> float:
    """Stored events appended per second by the recorder, in batches of ``BATCH``."""
    from eventsourcing.persistence import StoredEvent

    book = _open(work, "append", key)
    state = json.dumps({"bench": "x" * 200}).encode("utf-8")  # about an ordinary event's size
    batches = [
        [StoredEvent(uuid4(), 1, "openbook:bench.appended", state) for _ in range(BATCH)]
        for _ in range(max(1, events // BATCH))
    ]
    began = time.perf_counter()
    for batch in batches:
        book.ledger.recorder.insert_events(batch)
    seconds = time.perf_counter() - began
    signed = len(book.ledger.recorder.select_signatures(1, 10**9))
    book.close()
    assert signed == (len(batches) * BATCH if key else 0), signed
    return len(batches) * BATCH / seconds


def command_rate(work: str, commands: int, key: Any) -> float:
    """Recording commands (one event each, read models caught up) per second."""
    from domain.envelope import SYSTEM, Envelope

    book = _open(work, "commands", key)
    envelope = Envelope(SYSTEM, date(2020, 4, 1), "benchmark")
    began = time.perf_counter()
    for n in range(commands):
        book.organisations.register_organisation(envelope, f"bench-{n}", f"Bench {n}", "provider")
    seconds = time.perf_counter() - began
    book.close()
    return commands / seconds


def head_check_cost(work: str, events: int, key: Any, since: int = 1000) -> dict[str, Any]:
    """What checking the head before signing costs (``ledger.audit.head_check``): seconds and peak memory for a
    signed history of ``events`` checked from genesis (no checkpoint yet), then, after a checkpoint, for ``since``
    more events checked from it (the usual case: the cost follows what was recorded since the last checkpoint)."""
    import tracemalloc

    from eventsourcing.persistence import StoredEvent

    from domain.envelope import SYSTEM, Envelope
    from ledger.audit.head_check import checked_head
    from ledger.bootstrap import open_openbook
    from ledger.persistence.database import Database

    book = _open(work, "head-check", key)
    recorder = book.ledger.recorder
    state = json.dumps({"bench": "x" * 200}).encode("utf-8")

    def append(count: int) -> None:
        for start in range(0, count, BATCH):
            recorder.insert_events(
                [StoredEvent(uuid4(), 1, "openbook:bench.appended", state) for _ in range(min(BATCH, count - start))]
            )

    def measured() -> tuple[float, int]:
        tracemalloc.start()
        began = time.perf_counter()
        checked_head(recorder, key)
        seconds = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return seconds, peak

    append(events)
    from_genesis = measured()
    book.checkpoints.record_checkpoint(Envelope(SYSTEM, date(2020, 4, 1), "benchmark"))
    append(since)
    book.close()
    book = open_openbook(Database.from_url(f"sqlite:///{os.path.join(work, 'head-check.sqlite')}"), signing_key=key)
    recorder = book.ledger.recorder  # a new process: nothing remembered, checked from the recorded checkpoint
    from_checkpoint = measured()
    book.close()
    return {
        "events": events,
        "from_genesis_seconds": round(from_genesis[0], 3),
        "from_genesis_peak_bytes": from_genesis[1],
        "events_since_checkpoint": since,
        "from_checkpoint_seconds": round(from_checkpoint[0], 3),
        "from_checkpoint_peak_bytes": from_checkpoint[1],
    }


def sign_rate(count: int = 5000) -> float:
    key = _key()
    began = time.perf_counter()
    for n in range(count):
        key.sign_event_hash(f"{n:064x}")
    return count / (time.perf_counter() - began)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.signing", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events appended per run (default 20,000)")
    parser.add_argument("--signing-commands", dest="commands", type=int, default=200,
                        help="commands recorded per run (default 200; not the harness's --commands)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts (default 3)")
    args, _others = parser.parse_known_args(argv)  # ``python -m bench --rows N`` passes the activity's options too
    key = _key()
    figures: dict[str, dict[str, list[float]]] = {
        "append": {"unsigned": [], "signed": []},
        "commands": {"unsigned": [], "signed": []},
    }
    with tempfile.TemporaryDirectory(prefix="openbook-bench-signing-") as work:
        for run in range(1, args.repeat + 1):  # interleaved, so both see the same machine
            print(f"signing run {run}/{args.repeat}: appends and commands, without and with a key ...", flush=True)
            for name, used in (("unsigned", None), ("signed", key)):
                figures["append"][name].append(append_rate(work, args.events, used))
                figures["commands"][name].append(command_rate(work, args.commands, used))
    result: dict[str, Any] = {
        "benchmark": "signing on append",
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "ed25519_signatures_per_second": round(sign_rate()),
    }
    for kind, size in (("append", args.events), ("commands", args.commands)):
        unsigned, signed = max(figures[kind]["unsigned"]), max(figures[kind]["signed"])
        result[kind] = {
            "per_run": size,
            "unsigned_per_second": round(unsigned),
            "signed_per_second": round(signed),
            "signed_over_unsigned": round(signed / unsigned, 3),
            "all_unsigned": [round(r) for r in figures[kind]["unsigned"]],
            "all_signed": [round(r) for r in figures[kind]["signed"]],
        }
    print("checking the head before signing: from genesis, then from a checkpoint ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="openbook-bench-head-check-") as work:
        result["head_check"] = head_check_cost(work, args.events, key)
    result["figures"] = [
        figure(f"signed {kind} (Ed25519 on append)", result[kind]["signed_per_second"],
               result[kind]["unsigned_per_second"], "events/s" if kind == "append" else "commands/s",
               f"{size:,} {'events' if kind == 'append' else 'commands'}", baseline_name="the same, unsigned")
        for kind, size in (("append", args.events), ("commands", args.commands))
    ]  # fmt: skip
    write_results("signing", result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
