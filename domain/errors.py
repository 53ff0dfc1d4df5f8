"""Errors users can act on, and the one list of their kinds.

Each error says what is wrong in words a user understands, and belongs to one
*kind*: a stable name that the CLI's ``--json``, the web pages and the API all
report the same way, so a script or a client can act on it without parsing
the message. Interfaces map kinds to what they show (``web/errors.py`` to
HTTP statuses; the CLI prints one ``error:`` line and exits 1). Rules never
use ``assert`` (asserts vanish under -O).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class OpenbookError(Exception):
    """Base of every error whose message is meant for a user."""

    kind: ClassVar[str] = "error"

    @property
    def problems(self) -> list[str]:
        """Every problem found, each naming its field (one, the message, unless a subclass lists more)."""
        return [str(self)]

    def as_json(self) -> dict[str, object]:
        """The error as the CLI's ``--json`` and the API report it: its kind, message and every problem."""
        return {"error": {"kind": self.kind, "message": str(self), "problems": self.problems}}


class InvalidInput(OpenbookError):
    """Input is malformed; ``problems`` lists every problem found, each naming its field."""

    kind = "invalid-input"

    def __init__(self, problems: Sequence[str] | str):
        self._problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self._problems))

    @property
    def problems(self) -> list[str]:
        return list(self._problems)


class NotAllowed(OpenbookError):
    """The actor's role does not allow this (another organisation's record is ``NotFound`` instead)."""

    kind = "not-allowed"


class NotFound(OpenbookError):
    """The thing asked for does not exist, or is another organisation's and so, to this actor, does not."""

    kind = "not-found"


class Conflict(OpenbookError):
    """The command clashes with what is already recorded (a duplicate); nothing was recorded."""

    kind = "conflict"


class ConcurrencyConflict(Conflict):
    """Someone else changed the same record first; nothing of this command was recorded: reload and retry."""

    kind = "concurrency-conflict"


class IdempotencyMismatch(Conflict):
    """An idempotency key was reused for a different command or payload; nothing was recorded."""

    kind = "idempotency-mismatch"


class RuleBroken(OpenbookError):
    """A business rule forbids the command in the current state."""

    kind = "rule-broken"


class IntegrityFailure(OpenbookError):
    """What is stored does not match its own digest or chain: the record was altered or is incomplete."""

    kind = "integrity"


class Unavailable(OpenbookError):
    """The command could not be completed for a reason outside it (a lock, a dead worker); nothing was recorded."""

    kind = "unavailable"


class SettingsError(OpenbookError):
    """A setting is missing, malformed, or points at something unreachable."""

    kind = "settings"


#: Every kind of error, by its stable name: the list the CLI, the web and the API share.
KINDS: dict[str, type[OpenbookError]] = {
    cls.kind: cls
    for cls in (
        InvalidInput,
        NotAllowed,
        NotFound,
        Conflict,
        ConcurrencyConflict,
        IdempotencyMismatch,
        RuleBroken,
        IntegrityFailure,
        Unavailable,
        SettingsError,
    )
}
