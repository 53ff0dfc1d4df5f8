"""Errors raised by the ledger application, on top of the domain's."""

from __future__ import annotations

from domain.errors import Conflict, OpenbookError


class SettingsError(OpenbookError):
    """A setting is missing, malformed, or points at something unreachable."""


class ConcurrencyConflict(Conflict):
    """Someone else changed the same record first; nothing of this command was recorded."""


class IdempotencyMismatch(Conflict):
    """An idempotency key was reused for a different command or payload."""
