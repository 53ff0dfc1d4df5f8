"""Named fault-injection points: ``OPENBOOK_FAULT=<point>`` makes the process kill itself (SIGKILL) there.

A crash test must stop a writer at a known place inside a command, not after
a guessed delay: ``tests/integration/test_killed_writers.py`` runs a writer
process per point and then checks that the store holds all of the command or
none of it, that the read models catch up to what a replay gives, and that
the chain verifies. SIGKILL, not an exception: nothing runs after it (no
``finally``, no rollback by the process, no atexit), as when the machine or
the OOM killer stops it.

The setting is read once, when this module is first imported. Unset (always,
outside those tests) ``fault_point`` is a function that does nothing: no
lookup, no comparison.

The points (``POINTS``):

- ``activity-import.mid-chunks``: an activity import has staged a chunk of
  its visits and has more rows to read (nothing of it is recorded yet);
- ``record.before-commit``: a command's events, their chain hashes and its
  idempotency claim are written, the transaction not yet committed (either
  recorder);
- ``record.after-commit``: the command's events are committed, its read
  models not yet caught up.
"""

from __future__ import annotations

import os
import signal

#: The environment variable naming the point to die at.
FAULT_ENV = "OPENBOOK_FAULT"
POINTS = ("activity-import.mid-chunks", "record.before-commit", "record.after-commit")

_CHOSEN = os.environ.get(FAULT_ENV, "").strip()
if _CHOSEN and _CHOSEN not in POINTS:
    raise RuntimeError(f"{FAULT_ENV}={_CHOSEN!r} names no fault point; known: {', '.join(POINTS)}")


def _die_at(point: str) -> None:
    if point == _CHOSEN:
        os.kill(os.getpid(), signal.SIGKILL)


def _never(point: str) -> None:
    return None


#: ``fault_point(name)``: die here if ``OPENBOOK_FAULT`` names this point; otherwise nothing.
fault_point = _die_at if _CHOSEN else _never
