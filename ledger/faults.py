"""Named fault-injection points: ``OPENBOOK_FAULT=<point>`` makes the process kill itself (SIGKILL) there.

A crash test must stop a writer at a known place inside a command, not after
a guessed delay: ``tests/integration/test_killed_writers.py`` runs a writer
process per point and then checks that the store holds all of the command or
none of it, that the read models catch up to what a replay gives, and that
the chain verifies. SIGKILL, not an exception: nothing runs after it (no
``finally``, no rollback by the process, no atexit), as when the machine or
the OOM killer stops it.

The setting is read with every other (``ledger.settings.Settings.fault_point``,
where an unknown point is refused) and installed by ``ledger.bootstrap``;
call sites use ``faults.fault_point(...)`` through the module, so they see
what was installed. Unset (always, outside those tests) ``fault_point`` is a
function that does nothing: no lookup, no comparison.

The points (``POINTS``):

- ``activity-import.mid-chunks``: an activity import has staged a chunk of
  its visits and has more rows to read (nothing of it is recorded yet);
- ``record.before-commit``: a command's events, their chain hashes and its
  idempotency claim are written, the transaction not yet committed (either
  recorder);
- ``record.after-commit``: the command's events are committed, its read
  models not yet caught up;
- ``projections-rebuild.before-switch``: a rebuild has replayed the history
  into its scratch tables and not yet switched (the live read models
  untouched; the scratch place left behind, for the next rebuild to clear).
"""

from __future__ import annotations

import os
import signal

#: The environment variable naming the point to die at.
FAULT_ENV = "OPENBOOK_FAULT"
POINTS = (
    "activity-import.mid-chunks",
    "record.before-commit",
    "record.after-commit",
    "projections-rebuild.before-switch",
)

_chosen: str | None = None


def _die_at(point: str) -> None:
    if point == _chosen:
        os.kill(os.getpid(), signal.SIGKILL)


def _never(point: str) -> None:
    return None


#: ``fault_point(name)``: die here if the installed point is this one; otherwise nothing.
fault_point = _never


def install(point: str | None) -> None:
    """Die at ``point`` from now on (None: at no point). ``Settings`` has refused a name not in ``POINTS``."""
    global _chosen, fault_point
    if point is not None and point not in POINTS:
        raise ValueError(f"{point!r} names no fault point")
    _chosen = point
    fault_point = _die_at if point else _never
