"""The envelope every ledger event carries: who, about when, why, and once-only key.

It is defined once here so that every event answers an auditor's questions the
same way. The recorded-at time is the event library's own timestamp and is not
repeated in the envelope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Actor:
    """Who recorded a fact: a username and the code of their organisation.

    Usernames and organisation codes are natural keys that never change, so
    the history stays readable without joining to anything.
    """

    user: str
    organisation: str | None = None

    def __str__(self) -> str:
        return f"{self.user} ({self.organisation})" if self.organisation else self.user


SYSTEM = Actor(user="system")


@dataclass(frozen=True)
class Envelope:
    """Who recorded the event, the date the fact is about, why, and its idempotency key."""

    actor: Actor
    effective_date: date
    reason: str | None = None
    idempotency_key: str | None = None
