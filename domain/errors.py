"""Errors users can act on. Each says what is wrong in words a user understands.

The web layer maps each kind to an HTTP status in one place; the CLI prints the
message on one line. Rules never use ``assert`` (asserts vanish under -O).
"""

from __future__ import annotations

from collections.abc import Sequence


class OpenbookError(Exception):
    """Base of every error whose message is meant for a user."""


class InvalidInput(OpenbookError):
    """Input is malformed; ``problems`` lists every problem found, each naming its field."""

    def __init__(self, problems: Sequence[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class RuleBroken(OpenbookError):
    """A business rule forbids the command in the current state."""


class NotFound(OpenbookError):
    """The thing asked for does not exist."""


class Conflict(OpenbookError):
    """The command clashes with what is already recorded (duplicate, stale version)."""
