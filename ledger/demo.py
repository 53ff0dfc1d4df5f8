"""Demo data from the seed documents: the Wirral and Herefordshire partnerships.

Organisation names are the seeds' own (Wirral); Herefordshire's providers are
not named in the seeds, so the demo invents clearly labelled ones. Every
command carries an idempotency key, so loading the demo twice records nothing
the second time. Demo users' email domains are ``.example`` (never real).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from domain.envelope import SYSTEM, Envelope
from domain.organisations import OrganisationKind as K
from ledger.application import Ledger


@dataclass(frozen=True)
class DemoOrganisation:
    code: str
    name: str
    kind: K
    since: date
    member_of: str | None = None


WIRRAL_START = date(2019, 4, 1)
HEREFORDSHIRE_START = date(2017, 4, 1)

ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    DemoOrganisation("wirral-council", "Wirral Council", K.COUNCIL, WIRRAL_START),
    DemoOrganisation("wirral-ccg", "NHS Wirral CCG", K.ICB, WIRRAL_START),
    DemoOrganisation("premier-care", "Premier Care", K.PROVIDER, WIRRAL_START),
    DemoOrganisation("haven-care", "Haven Care", K.PROVIDER, WIRRAL_START),
    DemoOrganisation("carewatch", "Carewatch", K.PROVIDER, WIRRAL_START),
    DemoOrganisation("wirral-home-care-alliance", "Wirral Home Care Alliance", K.PROVIDER, WIRRAL_START),
    DemoOrganisation("community-caring", "Community Caring", K.PROVIDER, WIRRAL_START, "wirral-home-care-alliance"),
    DemoOrganisation(
        "professional-carers", "Professional Carers", K.PROVIDER, WIRRAL_START, "wirral-home-care-alliance"
    ),
    DemoOrganisation("aspire", "Aspire", K.PROVIDER, WIRRAL_START, "wirral-home-care-alliance"),
    DemoOrganisation("herefordshire-council", "Herefordshire Council", K.COUNCIL, HEREFORDSHIRE_START),
    DemoOrganisation("herefordshire-ccg", "NHS Herefordshire CCG", K.ICB, HEREFORDSHIRE_START),
    DemoOrganisation("hfd-provider-a", "Herefordshire Demo Provider A", K.PROVIDER, HEREFORDSHIRE_START),
    DemoOrganisation("hfd-provider-b", "Herefordshire Demo Provider B", K.PROVIDER, HEREFORDSHIRE_START),
    DemoOrganisation("hfd-provider-c", "Herefordshire Demo Provider C", K.PROVIDER, HEREFORDSHIRE_START),
    DemoOrganisation("partnership-audit", "Partnership Internal Audit (demo)", K.AUDIT_BODY, WIRRAL_START),
)

#: (username, display name, organisation, roles)
USERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("admin@wirral.example", "Wirral Admin", "wirral-council", ("admin",)),
    ("accountant@wirral.example", "Wirral Council Accountant", "wirral-council", ("accountant",)),
    ("accountant@wirralccg.example", "Wirral CCG Accountant", "wirral-ccg", ("accountant",)),
    ("finance@premiercare.example", "Premier Care Finance", "premier-care", ("provider",)),
    ("finance@havencare.example", "Haven Care Finance", "haven-care", ("provider",)),
    ("accountant@herefordshire.example", "Herefordshire Accountant", "herefordshire-council", ("accountant",)),
    ("auditor@audit.example", "Partnership Auditor", "partnership-audit", ("auditor",)),
)

Progress = Callable[[str], None]


def load_demo(ledger: Ledger, progress: Progress | None = None) -> int:
    """Record the demo organisations and users; returns how many commands ran."""
    say = progress or (lambda _message: None)
    count = 0
    for org in ORGANISATIONS:
        envelope = Envelope(SYSTEM, org.since, reason="demo data", idempotency_key=f"demo:organisation:{org.code}")
        ledger.register_organisation(envelope, org.code, org.name, org.kind, org.member_of)
        say(f"organisation {org.code}")
        count += 1
    for username, display_name, organisation, roles in USERS:
        envelope = Envelope(SYSTEM, WIRRAL_START, reason="demo data", idempotency_key=f"demo:user:{username}")
        ledger.register_user(envelope, username, display_name, organisation, roles)
        say(f"user {username}")
        count += 1
    return count
