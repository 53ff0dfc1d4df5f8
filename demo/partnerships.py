"""Demo data from the seed documents: the Wirral and Herefordshire partnerships.

Organisation names are the seeds' own (Wirral); Herefordshire's providers are
not named in the seeds, so the demo invents clearly labelled ones. Every
command carries an idempotency key, so loading the demo twice records nothing
the second time. Demo users' email domains are ``.example`` (never real).
The last step records a checkpoint of the head (``checkpoint_step``), so
statements built from the demo cite one that the standalone verifier checks.

What is from the seeds (DOMAIN.md) and what is invented for the demo:

* **Wirral** (``wirral-homecare``, from 1 April 2019): the four zones and their
  postcode districts, the January 2019 award, the £12m pooled budget (council
  £7.2m and CCG £4.8m, 60/40) and the £15.60 aggregated rate are the seeds'.
  Invented: the zone names (by geography, as DOMAIN.md allows), the five-year
  term, the KPIs and their targets. The 8 peripheral providers are not named
  in the seeds and are left out. The 2020-21 rate review is a worked example:
  the uplift calculator from a stated median (the £15.60 rate itself, until
  cost returns are accepted), a 0.65 pay share, the National Living Wage rise
  from £8.21 to £8.72 and 2% on other costs proposes £16.34; it is accepted on
  15 June 2020, backdated to 1 April 2020.
* **Herefordshire** (``herefordshire-hlah``, "Help to Live at Home"): the old
  urban £14.76 / rural £15.76 / 24-hour sleep-in £11.48 rates, the new fixed
  £15.80 and £12.80 from the framework's start in July 2017, pathway O zones
  A–E and pathway D complex lots (A & B north, C, D, E south) with the blended
  70% × £12.80 + 30% × £15.80 = £13.70, and the 2017/18 budget of £9,094,000
  are the seeds'. Invented: the postcode districts of each zone (the seeds
  give only maps), the awards to the demo providers, the end of term. The
  record starts on 1 April 2017 so the old rates price April–June 2017; the
  old "24 Hour Sleep In Rate" is applied to sleep-in and 24-hour live-in care.
  The lots' planned hours (``HEREFORDSHIRE_PLANNED_HOURS``) are kept here for
  the activity issue: the agreement has no place for them yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from demo.incentives import incentive_steps
from demo.places import HEREFORDSHIRE_LOTS, HEREFORDSHIRE_ZONES
from demo.returns import PROVIDER_USERS, return_steps
from demo.settlements import settlement_steps
from demo.steps import Progress, Step, run_steps
from domain.agreements.terms import ServiceType
from domain.envelope import SYSTEM, Actor, Envelope
from domain.organisations.organisation import OrganisationKind as K
from ledger.bootstrap import Openbook
from ledger.queries.organisations import list_users
from ledger.usecases.rates import rate_line


@dataclass(frozen=True)
class DemoOrganisation:
    code: str
    name: str
    kind: K
    since: date
    member_of: str | None = None


WIRRAL_START = date(2019, 4, 1)
HEREFORDSHIRE_START = date(2017, 4, 1)
HEREFORDSHIRE_FRAMEWORK = date(2017, 7, 1)  # "Contract commencement: from July 2017"

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

# -- Wirral ------------------------------------------------------------------------------------

WIRRAL = "wirral-homecare"
WIRRAL_ACCOUNTANT = Actor("accountant@wirral.example", "wirral-council")
PREMIER_CARE_FINANCE = Actor("finance@premiercare.example", "premier-care")

#: zone -> (name, postcode districts). Names by geography: an inference DOMAIN.md allows for demo data.
WIRRAL_ZONES: dict[str, tuple[str, tuple[str, ...]]] = {
    "zone-1": ("Birkenhead", ("CH41", "CH42", "CH43")),
    "zone-2": ("Wallasey", ("CH44", "CH45", "CH46")),
    "zone-3": ("South Wirral", ("CH60", "CH62", "CH63")),
    "zone-4": ("West Wirral", ("CH47", "CH48", "CH49", "CH61")),
}

#: The January 2019 award by zone: (primary, secondary).
WIRRAL_AWARDS: dict[str, tuple[str, str]] = {
    "zone-1": ("premier-care", "wirral-home-care-alliance"),
    "zone-2": ("premier-care", "wirral-home-care-alliance"),
    "zone-3": ("haven-care", "carewatch"),
    "zone-4": ("wirral-home-care-alliance", "haven-care"),
}

#: The section 75 pooled budget for 2019-20: an estimated £12m, council and CCG 60/40.
WIRRAL_CONTRIBUTIONS = {"wirral-council": Decimal("7200000.00"), "wirral-ccg": Decimal("4800000.00")}

#: (code, name, measure, target, direction): invented for the demo (the seeds call for "a suite of KPIs").
WIRRAL_KPIS = (
    ("missed-visits", "Missed visits", "missed visits per 1,000 planned visits", "0.5", "lower-is-better"),
    (
        "starts-within-48h",
        "New packages started promptly",
        "% of new packages started within 48 hours",
        "95",
        "higher-is-better",
    ),
    ("continuity-of-carer", "Continuity of carer", "% of visits by the person's regular carers", "80", "higher-is-better"),
)

WIRRAL_RATE = Decimal("15.60")  # "an aggregated rate of £15.60 per hour"

# -- Herefordshire -----------------------------------------------------------------------------

HEREFORDSHIRE = "herefordshire-hlah"
HEREFORDSHIRE_ACCOUNTANT = Actor("accountant@herefordshire.example", "herefordshire-council")

#: Planned hours from the seeds' tables 12.1 and 12.2: zone or lot -> (clients, weekly hours, annual hours).
#: Not recorded yet: the agreement has no place for planned hours (the activity issue will).
HEREFORDSHIRE_PLANNED_HOURS: dict[str, tuple[int, int, int]] = {
    "complex-north": (29, 1355, 70460),
    "complex-south": (29, 975, 50700),
    "zone-a": (161, 1682, 87452),
    "zone-b": (178, 2174, 113046),
    "zone-c": (152, 1696, 88169),
    "zone-d": (191, 2352, 122327),
    "zone-e": (86, 1295, 67359),
}

#: (zone or lot, primary, secondary or None): invented awards to the demo providers.
HEREFORDSHIRE_AWARDS = (
    ("zone-a", "hfd-provider-a", "hfd-provider-b"),
    ("zone-b", "hfd-provider-a", "hfd-provider-b"),
    ("zone-c", "hfd-provider-b", "hfd-provider-a"),
    ("zone-d", "hfd-provider-b", "hfd-provider-a"),
    ("zone-e", "hfd-provider-a", "hfd-provider-b"),
    ("complex-north", "hfd-provider-c", None),
    ("complex-south", "hfd-provider-c", None),
)

HEREFORDSHIRE_SERVICES = (ServiceType.STANDARD, ServiceType.COMPLEX, ServiceType.SLEEP_IN, ServiceType.LIVE_IN_24H)
HEREFORDSHIRE_BUDGET_2017 = Decimal("9094000.00")  # indicative revenue budget 2017/18
COMPLEX_BLEND = ((Decimal("0.7"), Decimal("12.80")), (Decimal("0.3"), Decimal("15.80")))



def _envelope(actor: Actor, on: date, reason: str, key: str) -> Envelope:
    return Envelope(actor, on, reason, f"demo:{key}")


def _organisation_steps() -> list[Step]:
    steps: list[Step] = []
    for org in ORGANISATIONS:
        envelope = Envelope(SYSTEM, org.since, reason="demo data", idempotency_key=f"demo:organisation:{org.code}")
        steps.append(
            (
                f"organisation {org.code}",
                lambda book, e=envelope, o=org: book.organisations.register_organisation(e, o.code, o.name, o.kind, o.member_of),
            )
        )
    for username, display_name, organisation, roles in USERS:
        envelope = Envelope(SYSTEM, WIRRAL_START, reason="demo data", idempotency_key=f"demo:user:{username}")
        steps.append(
            (
                f"user {username}",
                lambda book, e=envelope, u=(username, display_name, organisation, roles): book.organisations.register_user(
                    e, *u
                ),
            )
        )
    return steps


def _wirral_steps() -> list[Step]:
    def e(reason: str, key: str, on: date = WIRRAL_START, actor: Actor = WIRRAL_ACCOUNTANT) -> Envelope:
        return _envelope(actor, on, reason, f"{WIRRAL}:{key}")

    award = "January 2019 award"
    steps: list[Step] = [
        (
            "Wirral agreement",
            lambda book: book.agreements.register_agreement(
                e("joint commission agreed by the board, August 2018", "register"),
                WIRRAL,
                "Wirral homecare alliance",
                "alliance",
                WIRRAL_START,
                date(2024, 3, 31),
                "actual",
            ),
        )
    ]
    for commissioner, amount in WIRRAL_CONTRIBUTIONS.items():
        steps.append(
            (
                f"Wirral commissioner {commissioner}",
                lambda book, c=commissioner: book.agreements.join_commissioner(
                    e("joint commissioning under a section 75 agreement", f"commissioner:{c}"), WIRRAL, c
                ),
            )
        )
        steps.append(
            (
                f"Wirral contribution {commissioner}",
                lambda book, c=commissioner, a=amount: book.agreements.set_contribution(
                    e("estimated £12m pooled budget, council and CCG 60/40", f"contribution:{c}:2019-20"),
                    WIRRAL,
                    c,
                    "2019-20",
                    a,
                ),
            )
        )
    for zone, (name, districts) in WIRRAL_ZONES.items():
        steps.append(
            (
                f"Wirral {zone}",
                lambda book, z=zone, n=name, d=districts: book.agreements.add_zone(
                    e("four zones by postcode district", f"zone:{z}"), WIRRAL, z, n, d
                ),
            )
        )
    for service in ServiceType:
        steps.append(
            (
                f"Wirral service {service}",
                lambda book, s=service: book.agreements.add_service_type(
                    e("service types commissioned", f"service:{s}"), WIRRAL, s
                ),
            )
        )
    for zone, (primary, secondary) in WIRRAL_AWARDS.items():
        for provider, tier in ((primary, "primary"), (secondary, "secondary")):
            steps.append(
                (
                    f"Wirral award {zone} {provider}",
                    lambda book, z=zone, p=provider, t=tier: book.agreements.award_provider(
                        e(award, f"award:{z}:{p}"), WIRRAL, p, z, t
                    ),
                )
            )
    for code, name, measure, target, direction in WIRRAL_KPIS:
        steps.append(
            (
                f"Wirral KPI {code}",
                lambda book, k=(code, name, measure, target, direction): book.agreements.define_kpi(
                    e("a suite of KPIs (action point 5.22); targets invented for the demo", f"kpi:{k[0]}"),
                    WIRRAL,
                    *k,
                ),
            )
        )
    steps.append(
        (
            "Wirral rate card",
            lambda book: book.rates.publish_rates(
                e("aggregated rate of £15.60 per hour", "rates:2019-04-01"),
                WIRRAL,
                [rate_line(ServiceType.STANDARD, zone, hourly_rate=WIRRAL_RATE) for zone in WIRRAL_ZONES],
            ),
        )
    )
    steps.extend(_wirral_review_steps())
    return steps


def _wirral_review_steps() -> list[Step]:
    def e(reason: str, key: str, on: date, actor: Actor = WIRRAL_ACCOUNTANT) -> Envelope:
        return _envelope(actor, on, reason, f"{WIRRAL}:review:2020-21:{key}")

    return [
        (
            "Wirral 2020-21 rate review opened",
            lambda book: book.reviews.open_rate_review(
                e("annual review: the National Living Wage rises to £8.72 on 1 April 2020", "open", date(2020, 2, 3)),
                WIRRAL,
                "2020-21",
            ),
        ),
        (
            "Wirral 2020-21 uplift proposed",
            lambda book: book.reviews.propose_uplift(
                e("uplift for the 2020 wage floor", "propose", date(2020, 3, 2)),
                WIRRAL,
                "2020-21",
                median_cost=WIRRAL_RATE,
                pay_share=Decimal("0.65"),
                inflation=Decimal("0.02"),
                median_source="stated figure: the current £15.60 rate, until cost returns are accepted",
            ),
        ),
        (
            "Wirral 2020-21 provider comment",
            lambda book: book.reviews.comment_on_rate_review(
                e("provider consultation", "comment:premier-care", date(2020, 3, 16), PREMIER_CARE_FINANCE),
                WIRRAL,
                "2020-21",
                "premier-care",
                "Mileage and travel time have risen faster than 2%; please look at them in next year's cost returns.",
            ),
        ),
        (
            "Wirral 2020-21 decision",
            lambda book: book.reviews.decide_rate_review(
                e("decided at the joint commissioning panel", "decide", date(2020, 6, 15)),
                WIRRAL,
                "2020-21",
                "accepted",
                reasons="Passes on the National Living Wage rise in full; backdated to 1 April 2020, "
                "so arrears are owed on hours already paid at £15.60.",
                decided_by="Wirral joint commissioning panel (council and CCG)",
                effective_from=date(2020, 4, 1),
            ),
        ),
    ]


def _herefordshire_steps() -> list[Step]:
    def e(reason: str, key: str, on: date = HEREFORDSHIRE_START) -> Envelope:
        return _envelope(HEREFORDSHIRE_ACCOUNTANT, on, reason, f"{HEREFORDSHIRE}:{key}")

    places = [*HEREFORDSHIRE_ZONES, *HEREFORDSHIRE_LOTS]
    steps: list[Step] = [
        (
            "Herefordshire agreement",
            lambda book: book.agreements.register_agreement(
                e("Help to Live at Home: a five-year framework from July 2017", "register"),
                HEREFORDSHIRE,
                "Help to Live at Home",
                "framework",
                HEREFORDSHIRE_START,
                date(2022, 6, 30),
                "actual",
            ),
        ),
        (
            "Herefordshire commissioner",
            lambda book: book.agreements.join_commissioner(
                e("directly commissioned home care", "commissioner:herefordshire-council"),
                HEREFORDSHIRE,
                "herefordshire-council",
            ),
        ),
        (
            "Herefordshire budget",
            lambda book: book.agreements.set_contribution(
                e("indicative revenue budget 2017/18", "contribution:herefordshire-council:2017-18"),
                HEREFORDSHIRE,
                "herefordshire-council",
                "2017-18",
                HEREFORDSHIRE_BUDGET_2017,
            ),
        ),
    ]
    for zone, (name, districts) in HEREFORDSHIRE_ZONES.items():
        steps.append(
            (
                f"Herefordshire {zone}",
                lambda book, z=zone, n=name, d=districts: book.agreements.add_zone(
                    e("pathway O: five zones (Map 12.2); districts invented for the demo", f"zone:{z}"),
                    HEREFORDSHIRE,
                    z,
                    n,
                    d,
                ),
            )
        )
    for lot, (name, covers) in HEREFORDSHIRE_LOTS.items():
        steps.append(
            (
                f"Herefordshire {lot}",
                lambda book, lt=lot, n=name, c=covers: book.agreements.add_lot(
                    e("pathway D: a separate lot, split north/south (Map 12.1)", f"lot:{lt}"), HEREFORDSHIRE, lt, n, c
                ),
            )
        )
    for service in HEREFORDSHIRE_SERVICES:
        steps.append(
            (
                f"Herefordshire service {service}",
                lambda book, s=service: book.agreements.add_service_type(
                    e("services in scope (reablement is commissioned separately)", f"service:{s}"), HEREFORDSHIRE, s
                ),
            )
        )
    for zone, primary, secondary in HEREFORDSHIRE_AWARDS:
        for provider, tier in ((primary, "primary"), (secondary, "secondary")):
            if provider is None:
                continue
            steps.append(
                (
                    f"Herefordshire award {zone} {provider}",
                    lambda book, z=zone, p=provider, t=tier: book.agreements.award_provider(
                        e("framework award, invented for the demo", f"award:{z}:{p}", HEREFORDSHIRE_FRAMEWORK),
                        HEREFORDSHIRE,
                        p,
                        z,
                        t,
                    ),
                )
            )
    old_rates = [
        *(
            rate_line(service, zone, band=band, hourly_rate=rate)
            for service, zones in (
                (ServiceType.STANDARD, HEREFORDSHIRE_ZONES),
                (ServiceType.COMPLEX, HEREFORDSHIRE_LOTS),
            )
            for zone in zones
            for band, rate in (("urban", "14.76"), ("rural", "15.76"))
        ),
        *(
            rate_line(service, zone, hourly_rate="11.48")
            for service in (ServiceType.SLEEP_IN, ServiceType.LIVE_IN_24H)
            for zone in places
        ),
    ]
    new_rates = [
        *(rate_line(ServiceType.STANDARD, zone, hourly_rate="15.80") for zone in HEREFORDSHIRE_ZONES),
        *(rate_line(ServiceType.COMPLEX, lot, blend=COMPLEX_BLEND) for lot in HEREFORDSHIRE_LOTS),
        *(
            rate_line(service, zone, hourly_rate="12.80")
            for service in (ServiceType.SLEEP_IN, ServiceType.LIVE_IN_24H)
            for zone in places
        ),
        *(
            rate_line(line["service"], line["zone"], band=line["band"], withdraw=True)
            for line in old_rates
            if line["band"]
        ),
    ]
    steps.append(
        (
            "Herefordshire old rates",
            lambda book: book.rates.publish_rates(
                e("the old framework's rates: urban, rural (4+ miles from a town) and 24-hour sleep-in", "rates:old"),
                HEREFORDSHIRE,
                old_rates,
            ),
        )
    )
    steps.append(
        (
            "Herefordshire framework rates",
            lambda book: book.rates.publish_rates(
                e(
                    "the new framework's fixed rates: £15.80 (pro rata), £12.80 for 24-hour packages and sleep-ins; "
                    "complex lots blended; urban and rural bands withdrawn",
                    "rates:framework",
                    HEREFORDSHIRE_FRAMEWORK,
                ),
                HEREFORDSHIRE,
                new_rates,
            ),
        )
    )
    return steps


AUDIT_BODY = "partnership-audit"
WIRRAL_ADMIN = Actor("admin@wirral.example", "wirral-council")


def audit_steps() -> list[Step]:
    """The demo's audit body appointed to both agreements from their first day: Wirral's by its council's admin;
    Herefordshire's by the operator (the demo gives Herefordshire no admin). Recorded after the rest (only the
    checkpoint follows), so every earlier event keeps its position."""
    appointments = (
        (WIRRAL, WIRRAL_ADMIN, WIRRAL_START, "open-book auditing (Wirral action point 5.28)"),
        (HEREFORDSHIRE, SYSTEM, HEREFORDSHIRE_START, "annual open-book review of costs, audited (demo)"),
    )
    return [
        (
            f"{agreement} audited by {AUDIT_BODY}",
            lambda book, a=agreement, actor=actor, on=on, why=why: book.agreements.appoint_auditor(
                _envelope(actor, on, why, f"{a}:auditor:{AUDIT_BODY}"), a, AUDIT_BODY
            ),
        )
        for agreement, actor, on, why in appointments
    ]


AUDITOR = Actor("auditor@audit.example", AUDIT_BODY)
#: The demo's last day: Wirral's 2019-20 settlement is drafted (``demo.settlements``), the latest date it records.
DEMO_LAST_DAY = date(2020, 6, 30)


def checkpoint_step() -> Step:
    """The demo's last step: its auditor records a checkpoint of the head (``openbook checkpoint``'s use case,
    signed when the ledger has a signing key), so every statement built from the demo cites a recorded checkpoint
    that the standalone verifier checks. Its key makes a second load return this checkpoint, recording nothing."""
    envelope = _envelope(AUDITOR, DEMO_LAST_DAY, "demo loaded: the head attested", "checkpoint")
    return ("checkpoint of the head", lambda book: book.checkpoints.record_checkpoint(envelope))


def wirral_steps() -> list[Step]:
    """The demo's organisations, users and Wirral agreement alone (its rate and 2020-21 review): the start of a
    ledger built for one purpose (``demo.history``) without the rest of the demo."""
    return [*_organisation_steps(), *_wirral_steps()]


def steps() -> list[Step]:
    """Every demo command, in order, as (label, run): organisations to Wirral's 2019-20 settlement, then the audit
    body's appointments, then a checkpoint of the head (``checkpoint_step``)."""
    return [
        *_organisation_steps(),
        *_wirral_steps(),
        *_herefordshire_steps(),
        *return_steps(),
        *incentive_steps(),
        *settlement_steps(),
        *audit_steps(),
        checkpoint_step(),
    ]


def load_demo(book: Openbook, progress: Progress | None = None) -> int:
    """Record the whole demo; returns how many steps ran (``len(steps())``)."""
    return run_steps(book, steps(), progress)


#: Every demo user's password. Only ``openbook demo`` sets it (``give_demo_passwords``): a database not
#: made by it never has such a password, and ``openbook users set-password`` refuses one this short.
DEMO_PASSWORD = "demo"


def give_demo_passwords(book: Openbook) -> list[dict[str, Any]]:
    """Set ``DEMO_PASSWORD`` for every demo user (those the demo registered); returns them, as listed."""
    names = {u[0] for u in USERS} | {u[0] for u in PROVIDER_USERS}
    demo_users = [u for u in list_users(book.read_engine) if u["username"] in names]
    for user in demo_users:
        book.security.set_password(user["username"], DEMO_PASSWORD, check=False)
    return demo_users
