"""The envelope every ledger event carries: who, about when, why, and once-only key.

It is defined once here so that every event answers an auditor's questions the
same way. The recorded-at time is the event library's own timestamp and is not
repeated in the envelope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

#: In a field's metadata: the field describes the command as sent and is never stored with an event.
NOT_STORED = "openbook.not-stored"


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
    """Who recorded the event, the date the fact is about, why, and its idempotency key.

    ``date_stated`` is False when the effective date was not given and
    defaulted to the day of recording: a retry of the command with the same
    key on a later day is then the same command as sent, and the ledger's
    idempotency digest leaves the date out. It says how the command was sent,
    not what it records, so it is not stored with the events (``NOT_STORED``)
    and plays no part in equality.
    """

    actor: Actor
    effective_date: date
    reason: str | None = None
    idempotency_key: str | None = None
    date_stated: bool = field(default=True, compare=False, metadata={NOT_STORED: True})
