"""Demo cost returns: Wirral's providers open their books for 2019-20 Q1 (April to June 2019) and the rest of the year.

Its steps come after the partnerships' in ``demo.partnerships.steps`` (they need the
Wirral agreement, its awards and its £15.60 rate card). Every command carries an idempotency key,
so loading twice records nothing the second time.

What is from the seeds and DOMAIN.md, and what is invented:

* The providers and the alliance's members are the seeds' (the January 2019
  award); the alliance's three members file under the alliance's award.
  The council files its in-house costs the same way (Wirral action point 5.9).
* The figures are invented but plausible for 2019-20: the Homecare
  Association's 2020-21 breakdown (DOMAIN.md: £20.69 on a £8.72 wage)
  scaled to the 2019-20 National Living Wage of £8.21, then varied by
  provider: contact pay £8.21 to £8.50 an hour, travel, running costs and
  surplus differ, and one provider runs at a small deficit. Every provider's
  cost per contact hour is well above the £15.60 it is paid: the gap the
  open book was set up to expose.
* Carewatch's lowest hourly pay is £7.70 (apprentices under 25, below the
  National Living Wage, which then applied from 25): the breach is explained
  by the council's accountant before acceptance. Aspire's return has an open
  query on travel time. The in-house return is accepted by the CCG's
  accountant, so the council does not approve its own costs.
* Demo users for the providers that had none are added here (``.example``
  addresses, never real).

Five provider returns are accepted, so providers see the anonymised market
(the threshold is 5).

The five providers whose Q1 return is accepted then file Q2, Q3 and Q4 on
the same figures (``LATER_QUARTERS``: invented, as Q1's), accepted in turn
(Carewatch's apprentice-rate breach explained each time), so 2019-20 is a
complete year for them and the settlement computes their excess-surplus
clawback (docs/gain-share.md) instead of leaving it pending. Aspire's year
stays incomplete (its Q1 is queried) and the council's in-house return is
never clawed back from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from demo.steps import Step
from domain.envelope import SYSTEM, Actor, Envelope
from domain.money import EXACT
from domain.returns.filing import CostLine, CostReturnFiling

__all__ = ["DEMO_PERIOD", "DEMO_RETURNS", "LATER_QUARTERS", "return_steps"]

WIRRAL = "wirral-homecare"
DEMO_PERIOD = "2019-20-Q1"
FILED_ON = date(2019, 7, 19)
QUERIED_ON = date(2019, 8, 2)
EXPLAINED_ON = date(2019, 8, 6)
ACCEPTED_ON = date(2019, 8, 9)

#: The rest of 2019-20: (period, filed on, explained on, accepted on), each a few weeks after the quarter ends.
LATER_QUARTERS = (
    ("2019-20-Q2", date(2019, 10, 18), date(2019, 11, 5), date(2019, 11, 8)),
    ("2019-20-Q3", date(2020, 1, 17), date(2020, 2, 4), date(2020, 2, 7)),
    ("2019-20-Q4", date(2020, 4, 17), date(2020, 5, 5), date(2020, 5, 8)),
)

COUNCIL_ACCOUNTANT = Actor("accountant@wirral.example", "wirral-council")
CCG_ACCOUNTANT = Actor("accountant@wirralccg.example", "wirral-ccg")

#: Demo users for providers the base demo has none for: (username, display name, organisation).
PROVIDER_USERS = (
    ("finance@carewatch.example", "Carewatch Finance", "carewatch"),
    ("finance@communitycaring.example", "Community Caring Finance", "community-caring"),
    ("finance@professionalcarers.example", "Professional Carers Finance", "professional-carers"),
    ("finance@aspire.example", "Aspire Finance", "aspire"),
)

#: The 2020-21 breakdown scaled to the 2019-20 wage floor (× 8.21 / 8.72, to the penny): £19.53 an hour.
BASE_PER_HOUR: dict[str, str] = {
    "contact_pay": "8.21", "travel_pay": "1.60", "mileage": "1.28", "employer_ni": "0.66", "pension": "0.41",
    "holiday_pay": "1.19", "training": "0.29", "sickness_other_oncosts": "0.38", "ppe": "0.05",
    "office_staff": "2.45", "premises": "0.47", "it_rostering": "0.33", "insurance": "0.28",
    "regulator_fees": "0.24", "recruitment": "0.38", "other_business_costs": "0.75", "surplus": "0.56",
}  # fmt: skip


@dataclass(frozen=True)
class DemoReturn:
    """One demo return: who, by whom, the quarter's contact hours, and how its figures differ from the base."""

    provider: str
    filer: Actor
    contact_hours: int
    per_hour: dict[str, str]
    visit_minutes: str
    travel_minutes: str
    lowest_pay: str
    typical_pay: str
    outcome: str  # "accepted", "queried" or "explained-and-accepted"
    note: dict[str, str]


def _per_hour(**changes: str) -> dict[str, str]:
    return {**BASE_PER_HOUR, **changes}


DEMO_RETURNS: tuple[DemoReturn, ...] = (
    DemoReturn(
        "premier-care", Actor("finance@premiercare.example", "premier-care"), 45_500,
        _per_hour(contact_pay="8.30", travel_pay="1.52", office_staff="2.30", surplus="0.70"),
        "40", "7.2", "8.21", "8.40", "accepted", {"surplus": "after the group management charge"},
    ),
    DemoReturn(
        "haven-care", Actor("finance@havencare.example", "haven-care"), 38_200,
        _per_hour(contact_pay="8.40", travel_pay="1.78", mileage="1.45", surplus="0.42"),
        "35", "8.4", "8.25", "8.50", "accepted", {"mileage": "rural South Wirral runs at 30p a mile"},
    ),
    DemoReturn(
        "carewatch", Actor("finance@carewatch.example", "carewatch"), 21_300,
        _per_hour(contact_pay="8.21", training="0.34", office_staff="2.60", surplus="0.55"),
        "33", "7.9", "7.70", "8.30", "explained-and-accepted",
        {"contact_pay": "six apprentices aged 19 to 23 on the apprentice rate"},
    ),
    DemoReturn(
        "community-caring", Actor("finance@communitycaring.example", "community-caring"), 9_600,
        _per_hour(contact_pay="8.50", travel_pay="1.65", premises="0.62", surplus="-0.12"),
        "42", "7.0", "8.50", "8.75", "accepted", {"surplus": "a deficit this quarter: we pay above the floor"},
    ),
    DemoReturn(
        "professional-carers", Actor("finance@professionalcarers.example", "professional-carers"), 8_300,
        _per_hour(contact_pay="8.35", recruitment="0.52", it_rostering="0.41", surplus="0.48"),
        "38", "6.8", "8.30", "8.45", "accepted", {},
    ),
    DemoReturn(
        "aspire", Actor("finance@aspire.example", "aspire"), 6_900,
        _per_hour(contact_pay="8.28", travel_pay="2.15", mileage="1.62", surplus="0.61"),
        "31", "10.5", "8.28", "8.40", "queried", {"travel_pay": "long rural runs between West Wirral villages"},
    ),
    DemoReturn(
        "wirral-council", COUNCIL_ACCOUNTANT, 12_400,
        _per_hour(contact_pay="10.12", travel_pay="1.95", employer_ni="0.82", pension="1.71", holiday_pay="1.46",
                  sickness_other_oncosts="0.66", office_staff="3.10", premises="0.35", surplus="0"),
        "45", "8.0", "9.00", "10.12", "accepted",
        {"pension": "Local Government Pension Scheme, employer rate 17.1%", "surplus": "none: a council service"},
    ),
)  # fmt: skip


def _quarter_volumes(demo: DemoReturn) -> dict[str, str]:
    hours = Decimal(demo.contact_hours)
    with localcontext(EXACT):
        visits = (hours * 60 / Decimal(demo.visit_minutes)).to_integral_value()
        paid = (hours * Decimal("1.32")).quantize(Decimal("0.01"))
        fte = (paid / Decimal("487.5")).quantize(Decimal("0.01"))  # 13 weeks of 37.5 hours
        headcount = int((fte * Decimal("1.45")).to_integral_value())
    return {
        "contact_hours": str(hours),
        "visits": str(visits),
        "average_visit_minutes": demo.visit_minutes,
        "average_travel_minutes": demo.travel_minutes,
        "careworker_headcount": str(headcount),
        "careworker_fte": str(fte),
        "hours_paid": str(paid),
        "lowest_hourly_pay": demo.lowest_pay,
        "typical_hourly_pay": demo.typical_pay,
    }


def demo_filing(demo: DemoReturn, prepared_on: date = date(2019, 7, 15)) -> CostReturnFiling:
    """The quarter's figures: each line's rate per hour × contact hours, exact to the penny."""
    hours = Decimal(demo.contact_hours)
    lines = {line.value: str(EXACT.multiply(Decimal(demo.per_hour[line.value]), hours)) for line in CostLine}
    return CostReturnFiling.parse(
        {"lines": lines, "notes": demo.note, "volumes": _quarter_volumes(demo), "prepared_on": prepared_on}
    )




def _e(actor: Actor, on: date, reason: str, key: str, period: str = DEMO_PERIOD) -> Envelope:
    return Envelope(actor, on, reason, f"demo:{WIRRAL}:returns:{period}:{key}")


APPRENTICES = (
    "The £7.70 is paid to six apprentices under 25 on the apprentice rate; every worker aged 25 and over is paid "
    "at least £8.21 (payroll extract for the quarter's last month seen)."
)
ACCEPTED = "figures reconcile to the management accounts"


def _later_quarter_steps() -> list[Step]:
    """Q2 to Q4 for each provider whose Q1 was accepted: filed, (explained,) accepted."""
    steps: list[Step] = []
    for period, filed_on, explained_on, accepted_on in LATER_QUARTERS:
        for demo in DEMO_RETURNS:
            if demo.outcome == "queried" or demo.provider == "wirral-council":
                continue
            p = demo.provider
            steps.append((
                f"{p} files its {period} return",
                lambda book, d=demo, q=period, on=filed_on: book.returns.draft_cost_return(
                    _e(d.filer, on, "quarterly open-book cost return", f"{d.provider}:file", q),
                    WIRRAL, d.provider, q, demo_filing(d, on), submit=True,
                ),
            ))  # fmt: skip
            if demo.outcome == "explained-and-accepted":
                steps.append((
                    f"{p} {period} breach explained",
                    lambda book, d=demo, q=period, on=explained_on: book.returns.explain_wage_breach(
                        _e(COUNCIL_ACCOUNTANT, on, "checked the payroll extract", f"{d.provider}:explain", q),
                        WIRRAL, d.provider, q, APPRENTICES,
                    ),
                ))  # fmt: skip
            steps.append((
                f"{p} {period} accepted",
                lambda book, d=demo, q=period, on=accepted_on: book.returns.accept_cost_return(
                    _e(COUNCIL_ACCOUNTANT, on, ACCEPTED, f"{d.provider}:accept", q), WIRRAL, d.provider, q,
                ),
            ))  # fmt: skip
    return steps


def return_steps() -> list[Step]:
    """Every demo command for the returns, in order, as (label, run)."""
    steps: list[Step] = []
    for username, name, organisation in PROVIDER_USERS:
        envelope = Envelope(SYSTEM, date(2019, 4, 1), "demo data", f"demo:user:{username}")
        steps.append(
            (
                f"user {username}",
                lambda book, e=envelope, u=(username, name, organisation): book.organisations.register_user(e, *u, ["provider"]),
            )
        )
    for demo in DEMO_RETURNS:
        p = demo.provider
        reviewer = CCG_ACCOUNTANT if p == "wirral-council" else COUNCIL_ACCOUNTANT
        steps.append(
            (
                f"{p} files its {DEMO_PERIOD} return",
                lambda book, d=demo: book.returns.draft_cost_return(
                    _e(d.filer, FILED_ON, "quarterly open-book cost return", f"{d.provider}:file"),
                    WIRRAL, d.provider, DEMO_PERIOD, demo_filing(d), submit=True,
                ),
            )
        )  # fmt: skip
        if demo.outcome == "queried":
            steps.append(
                (
                    f"{p} queried",
                    lambda book, d=demo, r=reviewer: book.returns.query_cost_return(
                        _e(r, QUERIED_ON, "travel time well above the market", f"{d.provider}:query:travel_pay"),
                        WIRRAL, d.provider, DEMO_PERIOD, "travel_pay",
                        "Travel time is £2.15 per contact hour against about £1.60 elsewhere: "
                        "please send the rota analysis behind the 10.5 minutes a visit.",
                    ),
                )
            )  # fmt: skip
            continue
        if demo.outcome == "explained-and-accepted":
            steps.append(
                (
                    f"{p} breach explained",
                    lambda book, d=demo, r=reviewer: book.returns.explain_wage_breach(
                        _e(r, EXPLAINED_ON, "checked the payroll extract", f"{d.provider}:explain"),
                        WIRRAL, d.provider, DEMO_PERIOD,
                        "The £7.70 is paid to six apprentices under 25 on the apprentice rate; every worker aged 25 "
                        "and over is paid at least £8.21 (payroll extract for June 2019 seen).",
                    ),
                )
            )  # fmt: skip
        steps.append(
            (
                f"{p} accepted",
                lambda book, d=demo, r=reviewer: book.returns.accept_cost_return(
                    _e(r, ACCEPTED_ON, "figures reconcile to the management accounts", f"{d.provider}:accept"),
                    WIRRAL, d.provider, DEMO_PERIOD,
                ),
            )
        )  # fmt: skip
    return [*steps, *_later_quarter_steps()]
