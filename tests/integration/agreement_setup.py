"""Set-up shared by the agreement, rate and rate review tests: Wirral as an accountant would record it.

Figures are DOMAIN.md's (zones, districts, the January 2019 award, the £12m
pool, the £15.60 rate). Invented, as in the demo: zone names by geography and
the five-year term.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from domain.envelope import SYSTEM, Actor, Envelope
from ledger.bootstrap import Openbook

ACCOUNTANT = Actor("accountant@wirral.example", "wirral-council")
START = date(2019, 4, 1)
END = date(2024, 3, 31)
WIRRAL = "wirral-homecare"

ORGANISATIONS = {
    "wirral-council": "council",
    "wirral-ccg": "icb",
    "premier-care": "provider",
    "haven-care": "provider",
    "carewatch": "provider",
    "wirral-home-care-alliance": "provider",
}

ZONES = {
    "zone-1": ("Birkenhead", ["CH41", "CH42", "CH43"]),
    "zone-2": ("Wallasey", ["CH44", "CH45", "CH46"]),
    "zone-3": ("South Wirral", ["CH60", "CH62", "CH63"]),
    "zone-4": ("West Wirral", ["CH47", "CH48", "CH49", "CH61"]),
}

AWARDS = {  # zone: (primary, secondary)
    "zone-1": ("premier-care", "wirral-home-care-alliance"),
    "zone-2": ("premier-care", "wirral-home-care-alliance"),
    "zone-3": ("haven-care", "carewatch"),
    "zone-4": ("wirral-home-care-alliance", "haven-care"),
}


def on(day: date, reason: str | None = "January 2019 award", key: str | None = None) -> Envelope:
    return Envelope(ACCOUNTANT, day, reason, key)


def register_organisations(book: Openbook) -> None:
    """The organisations and the council's accountant who records the rest: the operator's set-up (system)."""
    for code, kind in ORGANISATIONS.items():
        book.organisations.register_organisation(Envelope(SYSTEM, START), code, code.replace("-", " ").title(), kind)
    book.organisations.register_user(Envelope(SYSTEM, START), ACCOUNTANT.user, "Wirral Accountant", "wirral-council", ["accountant"])


def wirral(book: Openbook, *, rate: D | None = D("15.60"), services: tuple[str, ...] = ("standard",)) -> str:
    """The Wirral agreement with its zones, award and pool; a standard rate in every zone unless ``rate`` is None."""
    register_organisations(book)
    book.agreements.register_agreement(on(START, "joint commission"), WIRRAL, "Wirral homecare alliance", "alliance", START, END)
    book.agreements.join_commissioner(on(START, "section 75"), WIRRAL, "wirral-council")
    book.agreements.join_commissioner(on(START, "section 75"), WIRRAL, "wirral-ccg")
    book.agreements.set_contribution(on(START, "pooled budget"), WIRRAL, "wirral-council", "2019-20", D("7200000.00"))
    book.agreements.set_contribution(on(START, "pooled budget"), WIRRAL, "wirral-ccg", "2019-20", D("4800000.00"))
    for zone, (name, districts) in ZONES.items():
        book.agreements.add_zone(on(START, "four zones"), WIRRAL, zone, name, districts)
    for service in services:
        book.agreements.add_service_type(on(START, "services"), WIRRAL, service)
    for zone, (primary, secondary) in AWARDS.items():
        book.agreements.award_provider(on(START), WIRRAL, primary, zone, "primary")
        book.agreements.award_provider(on(START), WIRRAL, secondary, zone, "secondary")
    if rate is not None:
        for zone in ZONES:
            book.rates.publish_rate(on(START, "aggregated rate"), WIRRAL, "standard", zone, hourly_rate=rate)
    return WIRRAL


def framework(book: Openbook, code: str = "hfd", services: tuple[str, ...] = ("standard", "complex")) -> str:
    """A one-zone framework (Herefordshire-like) for pricing tests: zone-a from 1 April 2017."""
    start = date(2017, 4, 1)
    register_organisations(book)  # the accountant who records it
    book.agreements.register_agreement(on(start, None), code, "Help to Live at Home", "framework", start, date(2022, 6, 30))
    book.agreements.add_zone(on(start, "pathway O"), code, "zone-a", "Zone A", ["HR5", "HR6"])
    for service in services:
        book.agreements.add_service_type(on(start, "services"), code, service)
    return code
