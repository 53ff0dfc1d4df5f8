"""The full-scale demo (``openbook demo --scale full``): five years of a £12m partnership, seeded and deterministic.

The plain demo (``demo.partnerships``) is small and hand-written, each figure
chosen to show one rule. This one is generated, to show openbook at the
volumes users will judge it on (issue 17, "Scale data"): one agreement,
"Northshire homecare", 2019-20 to 2023-24, a council and an ICB pooling about
£12m a year, 4 zones, 20 providers, about 1,000,000 visits a year. Everything
is recorded through the ledger's own use cases, as users would: visits as
monthly call-monitoring CSV files in the ECM export format (written to a
temporary folder and imported), cost returns filed by each provider's finance
user and reviewed by the council's accountant, and so on.

Each year it records (dated as it would happen; the steps run in date order):

* on 1 April the commissioners' 60/40 contributions and the pooled budget
  (DOMAIN.md's example bands, £250,000 caps, 3% profit cap), target growing
  about 4% a year; the incentive scheme (fixed baselines in the first year,
  the year before after that);
* each month's visits imported on the 5th of the next month and paid on the 10th (at CI's size, two months a
  file);
* each quarter every provider's cost return, filed by the provider six weeks after it and accepted
  by the council's accountant. The lines are the Homecare Association's
  breakdown per contact hour (``demo.returns.BASE_PER_HOUR``, at the 2019
  wage floor), raised each year with the National Living Wage (pay lines) or
  2% (the rest), varied per provider; the volumes are the quarter's imported
  visits. Every Q1, one provider's lowest pay is below the wage floor
  (apprentices: explained before acceptance); every Q3, one provider is queried
  on travel time and answers;
* from the second year, an April rate review: opened in February, the uplift
  calculator's proposal in March (median: the rate then in force), decided on
  15 June backdated to 1 April, and its arrears calculated (April and May were
  paid at the old rate);
* after the year: KPI results (one file), the incentive assessment, the
  settlement drafted by the council's accountant, reviewed by the ICB's,
  approved by both commissioners and issued, and the year closed.

At the end of the whole load the audit body's auditor records a checkpoint of
the head (``openbook checkpoint``'s use case, signed when the ledger has a
signing key), dated the last step's day.

Organisations, users and the agreement are invented (``.example`` addresses,
invented postcode districts). Randomness comes from ``random.Random`` seeded
with the seed and the step's own name, never the global generator or today's
date: the same seed and size give the same history, figure for figure.
Loading it twice on one database is refused (``AlreadyLoaded``).
"""

from __future__ import annotations

import calendar
import csv
import io
import random
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from demo.returns import BASE_PER_HOUR
from demo.steps import Progress, Step, run_steps
from domain.activity.visits import COLUMNS
from domain.agreements.agreement import Agreement
from domain.agreements.terms import ServiceType
from domain.envelope import SYSTEM, Actor, Envelope
from domain.errors import Conflict
from domain.money import EXACT
from domain.organisations.organisation import OrganisationKind as K
from domain.periods import parse_period
from domain.returns.filing import CostReturnFiling
from domain.returns.statutory_wages import national_living_wage_on
from ledger.files.kpi_results import COLUMNS as KPI_COLUMNS
from ledger.usecases.rates import rate_line

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook

__all__ = ["AGREEMENT", "DEFAULT_SEED", "SIZES", "AlreadyLoaded", "ScaleSize", "load_scale", "scale_steps"]


@dataclass(frozen=True)
class ScaleSize:
    """How big a history: providers (a multiple of the 4 zones), financial years from 2019-20, visits a year."""

    providers: int
    years: int
    visits_a_year: int
    #: Months in each imported file (1 or 2: a second month's file still arrives before the June decision, so
    #: April and May are paid at the old rate and owe arrears). Fewer, larger imports keep CI's load quick.
    months_a_file: int = 1


SIZES = {
    "small": ScaleSize(providers=4, years=2, visits_a_year=6_000, months_a_file=2),  # CI: loads in seconds
    "full": ScaleSize(providers=20, years=5, visits_a_year=1_000_000),  # make demo-full, make bench
}
DEFAULT_SEED = 2019

AGREEMENT = "northshire-homecare"
START = date(2019, 4, 1)
TERM_END = date(2024, 3, 31)
COUNCIL, ICB, AUDIT_BODY = "northshire-council", "northshire-icb", "northshire-audit"
ADMIN = Actor("admin@northshire.example", COUNCIL)
ACCOUNTANT = Actor("accountant@northshire.example", COUNCIL)
ICB_ACCOUNTANT = Actor("accountant@northshireicb.example", ICB)
AUDITOR = Actor("auditor@northshire-audit.example", AUDIT_BODY)

#: zone -> (name, postcode districts); invented.
ZONES: dict[str, tuple[str, tuple[str, ...]]] = {
    "north": ("Northshire North", ("NB1", "NB2", "NB3")),
    "east": ("Northshire East", ("NB4", "NB5", "NB6")),
    "south": ("Northshire South", ("NB7", "NB8", "NB9")),
    "west": ("Northshire West", ("NB10", "NB11", "NB12")),
}
#: Twenty invented providers; provider i works in zone i % 4, the first four are the zones' primaries.
PROVIDER_NAMES = (
    "Ashgrove Homecare", "Beacon Care Services", "Cedar Lodge Care", "Dovecote Home Support",
    "Elmfield Care at Home", "Fernhill Carers", "Greenacre Homecare", "Hawthorn Support",
    "Ivybridge Care", "Juniper Home Care", "Kingfisher Care", "Larkspur Homecare",
    "Meadowbank Care", "Northgate Carers", "Oakleaf Home Support", "Primrose Care",
    "Quayside Homecare", "Riverside Care Partners", "Sycamore Home Care", "Thornbury Care",
)  # fmt: skip
RATE = Decimal("15.60")
TARGET = Decimal("12000000")  # a year at 1,000,000 visits; scaled with the size's visits
BANDS = ((None, "0.9", "0.25"), ("0.9", "1", "0.5"), ("1", "1.1", "0.5"), ("1.1", None, "1"))
CAP = Decimal("250000.00")
KPIS = (
    ("missed-visits", "Missed visits", "missed visits per 1,000 planned visits", "0.5", "lower-is-better"),
    ("starts-within-48h", "New packages started promptly", "% of new packages started within 48 hours", "95",
     "higher-is-better"),
    ("continuity-of-carer", "Continuity of carer", "% of visits by the person's regular carers", "80",
     "higher-is-better"),
)  # fmt: skip
PLANNED_MINUTES = (30, 30, 30, 45, 45, 45, 60, 60)
ACTUAL_CHANGE = range(-4, 3)  # actual minutes = planned + one of these (mean -1)
#: Cost lines that are careworkers' pay or on-costs: raised each year with the wage floor; the rest by 2%.
PAY_LINES = {"contact_pay", "travel_pay", "employer_ni", "pension", "holiday_pay", "sickness_other_oncosts"}
VISIT_MINUTES_TRAVEL = "7.6"  # average travel minutes a visit, about 10.6 per contact hour
APPRENTICES = ("The lowest pay is the apprentice rate paid to apprentices in their first year; every other "
               "careworker is paid at least the National Living Wage (payroll extract seen).")  # fmt: skip


class AlreadyLoaded(Conflict):
    """The scale demo's agreement is already in this database: loading it again is refused, not repeated."""


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


@dataclass(frozen=True)
class Provider:
    code: str
    name: str
    zone: str
    primary: bool

    @property
    def finance(self) -> Actor:
        return Actor(f"finance@{self.code}.example", self.code)


def _years(size: ScaleSize) -> list[str]:
    return [f"{y}-{(y + 1) % 100:02d}" for y in range(START.year, START.year + size.years)]


def _months(year: str) -> list[tuple[int, int]]:
    first = int(year[:4])
    return [(first + (m < 4), m) for m in (*range(4, 13), 1, 2, 3)]


def _next_month(year: int, month: int, day: int) -> date:
    return date(year + (month == 12), month % 12 + 1, day)


@dataclass
class ScaleRun:
    """One load: the size, the seed, and what the imported visits add up to (the returns' volumes)."""

    size: ScaleSize
    seed: int
    providers: list[Provider] = field(init=False)
    #: (provider, quarter) -> [visits, minutes delivered], from the generated files
    delivered: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.size.providers % len(ZONES) or not 0 < self.size.providers <= len(PROVIDER_NAMES):
            raise ValueError(f"providers: a multiple of {len(ZONES)} up to {len(PROVIDER_NAMES)}")
        if not 0 < self.size.years <= 5:
            raise ValueError("years: 1 to 5 (the agreement runs 2019-20 to 2023-24)")
        if self.size.months_a_file not in (1, 2):
            raise ValueError("months_a_file: 1 or 2 (April and May must be paid before the June rate decision)")
        zones = list(ZONES)
        self.providers = [Provider(_slug(name), name, zones[i % 4], i < 4)
                          for i, name in enumerate(PROVIDER_NAMES[: self.size.providers])]  # fmt: skip

    def rng(self, *name: object) -> random.Random:
        """A generator for one named step: the steps' numbers do not depend on each other or their order."""
        return random.Random(":".join(map(str, (self.seed, *name))))

    # -- figures -----------------------------------------------------------------------------------

    def shares(self, year_index: int) -> list[float]:
        """Each provider's share of the year's visits: primaries weigh more; each year each drifts by -12% to +6%."""
        weights = [(3.0 if p.primary else 1.0) * self.rng("weight", p.code).uniform(0.8, 1.2) for p in self.providers]
        for year in range(1, year_index + 1):
            weights = [w * self.rng("drift", year, p.code).uniform(0.88, 1.06)
                       for w, p in zip(weights, self.providers, strict=True)]  # fmt: skip
        total = sum(weights)
        return [w / total for w in weights]

    def target(self, year_index: int) -> Decimal:
        """The year's pooled budget: £12m a year per 1,000,000 visits, about 4% more each year, to the £1,000."""
        rng = self.rng("target", year_index)
        growth = Decimal(str(round(1.04**year_index * rng.uniform(0.98, 1.02), 4)))
        scaled = TARGET * self.size.visits_a_year / 1_000_000 * growth
        return scaled.quantize(Decimal(1000)).quantize(Decimal("0.01"))

    def baselines(self) -> dict[str, Decimal]:
        """The first year's fixed baselines: each provider's expected hours raised by 0 to 12% (so some reduced
        by more than the 5% minimum, some less)."""
        mean_minutes = sum(PLANNED_MINUTES) / len(PLANNED_MINUTES) + sum(ACTUAL_CHANGE) / len(ACTUAL_CHANGE)
        hours = self.size.visits_a_year * mean_minutes / 60
        return {p.code: Decimal(round(share * hours * self.rng("baseline", p.code).uniform(1.0, 1.12)))
                for p, share in zip(self.providers, self.shares(0), strict=True)}  # fmt: skip

    def visit_rows(self, year_index: int, year: int, month: int) -> Iterator[list[str]]:
        """The month's visits, in date order; counts what each provider delivered in each quarter."""
        rng = self.rng("visits", year, month)
        days_in_year = 366 if calendar.isleap(int(_years(self.size)[year_index][:4]) + 1) else 365
        days = calendar.monthrange(year, month)[1]
        count = self.size.visits_a_year * days // days_in_year
        chosen = rng.choices(range(len(self.providers)), weights=self.shares(year_index), k=count)
        inward = [f"{d}{a}{b}" for d in "123456789" for a in "ABDEFGHJLNPQRSTUWXYZ" for b in "ABDEFGHJLN"]
        first = year - (month < 4)
        quarter = f"{first}-{(first + 1) % 100:02d}-Q{(month - 4) % 12 // 3 + 1}"
        tallies = [self.delivered.setdefault((p.code, quarter), [0, 0]) for p in self.providers]
        districts = [ZONES[p.zone][1] for p in self.providers]
        for i, index in enumerate(chosen):
            provider = self.providers[index]
            on = f"{year}-{month:02d}-{i * days // count + 1:02d}"
            planned = rng.choice(PLANNED_MINUTES)
            start = 7 * 60 + 15 * rng.randrange(56)
            arrived = start + rng.randrange(-5, 11)
            actual = planned + rng.choice(ACTUAL_CHANGE)
            tallies[index][0] += 1
            tallies[index][1] += actual
            yield [
                f"V{year}{month:02d}-{i:07d}", provider.code, f"C{index:02d}{rng.randrange(4000):04d}",
                f"{rng.choice(districts[index])} {rng.choice(inward)}", "standard",
                f"{on}T{start // 60:02d}:{start % 60:02d}", str(planned),
                f"{on}T{arrived // 60:02d}:{arrived % 60:02d}", str(actual),
                f"K{index:02d}{rng.randrange(250):03d}", "", "",
            ]  # fmt: skip

    def filing(self, provider: Provider, quarter: str, lowest_below_floor: bool) -> CostReturnFiling:
        """The quarter's return: the breakdown per contact hour, as this year and provider have it, × the hours
        the provider's imported visits delivered."""
        period = parse_period(quarter)
        floor = national_living_wage_on(period.start)
        base_floor = national_living_wage_on(START)
        years_on = period.start.year - START.year - (period.start.month < 4)
        rng = self.rng("costs", provider.code)  # the provider's own cost structure, the same every quarter
        premium = Decimal(rng.randrange(0, 40)) / 100
        per_hour: dict[str, Decimal] = {}
        for line, base in BASE_PER_HOUR.items():
            vary = Decimal(str(round(rng.uniform(0.9, 1.1), 3)))
            if line == "contact_pay":
                per_hour[line] = floor + premium
            elif line == "surplus":
                per_hour[line] = (Decimal(base) * Decimal(str(round(rng.uniform(-0.4, 1.4), 3)))).quantize(
                    Decimal("0.01"))
            elif line in PAY_LINES:
                per_hour[line] = (Decimal(base) * vary * floor / base_floor).quantize(Decimal("0.01"))
            else:
                per_hour[line] = (Decimal(base) * vary * Decimal("1.02") ** years_on).quantize(Decimal("0.01"))
        visits, minutes = self.delivered.get((provider.code, quarter), (0, 0))
        hours = (Decimal(minutes) / 60).quantize(Decimal("0.01"))
        paid = (hours * Decimal("1.32")).quantize(Decimal("0.01"))
        fte = (paid / Decimal("487.5")).quantize(Decimal("0.01"))  # 13 weeks of 37.5 hours
        lowest = floor - Decimal("1.50") if lowest_below_floor else floor
        return CostReturnFiling.parse({
            "lines": {line: str(EXACT.multiply(rate, hours).quantize(Decimal("0.01"))) for line, rate in per_hour.items()},
            "notes": {"contact_pay": "includes apprentices on the apprentice rate"} if lowest_below_floor else {},
            "volumes": {
                "contact_hours": str(hours), "visits": str(visits),
                "average_visit_minutes": str((Decimal(minutes) / max(visits, 1)).quantize(Decimal("0.1"))),
                "average_travel_minutes": VISIT_MINUTES_TRAVEL,
                "careworker_headcount": str(max(1, int(fte * Decimal("1.45")))), "careworker_fte": str(fte),
                "hours_paid": str(paid), "lowest_hourly_pay": str(lowest),
                "typical_hourly_pay": str(floor + premium),
            },
            "prepared_on": period.end + timedelta(days=14),
        })  # fmt: skip

    def kpi_file(self, year: str) -> bytes:
        """The year's KPI results as the accountant's file: mostly met; about one provider in five misses one."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(KPI_COLUMNS)
        for p in self.providers:
            rng = self.rng("kpis", year, p.code)
            misses = rng.randrange(len(KPIS)) if rng.random() < 0.2 else None
            for i, (code, _name, _measure, target, direction) in enumerate(KPIS):
                good = (i != misses)
                step = Decimal(str(round(rng.uniform(0.05, 0.3) if code == "missed-visits" else rng.uniform(1, 5), 1)))
                better = (direction == "lower-is-better") == good
                value = Decimal(target) - step if better else Decimal(target) + step
                writer.writerow([p.code, year, code, str(max(value, Decimal(0))), f"{code} report, {year}"])
        return out.getvalue().encode("utf-8")


def _e(actor: Actor, on: date, reason: str) -> Envelope:
    return Envelope(actor, on, reason)


# -- the steps, each dated ---------------------------------------------------------------------------------

Dated = tuple[date, str, Callable[["Openbook"], Any]]


def _setup(run: ScaleRun) -> list[Dated]:
    """Organisations, users, the agreement, its zones, awards, KPIs, profit cap and first rate card."""
    steps: list[Dated] = []

    def add(label: str, fn: Callable[[Openbook], Any], on: date = START) -> None:
        steps.append((on, label, fn))

    organisations = [(COUNCIL, "Northshire Council (demo)", K.COUNCIL), (ICB, "NHS Northshire ICB (demo)", K.ICB),
                     (AUDIT_BODY, "Northshire Partnership Audit (demo)", K.AUDIT_BODY),
                     *((p.code, p.name, K.PROVIDER) for p in run.providers)]  # fmt: skip
    for code, name, kind in organisations:
        add(f"organisation {code}",
            lambda b, c=code, n=name, k=kind: b.organisations.register_organisation(_e(SYSTEM, START, "scale demo"),
                                                                                      c, n, k))  # fmt: skip
    for actor, name, roles in _users(run):
        add(f"user {actor.user}",
            lambda b, a=actor, n=name, r=roles: b.organisations.register_user(_e(SYSTEM, START, "scale demo"), a.user,
                                                                            n, a.organisation, r))  # fmt: skip
    a = AGREEMENT
    add("agreement", lambda b: b.agreements.register_agreement(
        _e(ACCOUNTANT, START, "joint commission: a five-year homecare alliance"), a, "Northshire homecare alliance",
        "alliance", START, TERM_END, "actual"))  # fmt: skip
    for commissioner in (COUNCIL, ICB):
        add(f"commissioner {commissioner}", lambda b, c=commissioner: b.agreements.join_commissioner(
            _e(ACCOUNTANT, START, "section 75 pooled budget"), a, c))  # fmt: skip
    for zone, (name, districts) in ZONES.items():
        add(f"zone {zone}", lambda b, z=zone, n=name, d=districts: b.agreements.add_zone(
            _e(ACCOUNTANT, START, "four zones by postcode district"), a, z, n, d))  # fmt: skip
    add("service standard", lambda b: b.agreements.add_service_type(
        _e(ACCOUNTANT, START, "standard homecare"), a, ServiceType.STANDARD))  # fmt: skip
    for p in run.providers:
        add(f"award {p.zone} {p.code}", lambda b, p=p: b.agreements.award_provider(
            _e(ACCOUNTANT, START, "tender award"), a, p.code, p.zone, "primary" if p.primary else "secondary"))  # fmt: skip
    for kpi in KPIS:
        add(f"KPI {kpi[0]}", lambda b, k=kpi: b.agreements.define_kpi(_e(ACCOUNTANT, START, "the alliance's KPIs"), a, *k))
    add("profit cap", lambda b: b.agreements.set_profit_cap(
        _e(ACCOUNTANT, START, "open-book: a maximum permitted profit margin of 3%"), a, Decimal("0.03")))  # fmt: skip
    add("rate card", lambda b: b.rates.publish_rates(
        _e(ACCOUNTANT, START, "the tendered rate of £15.60 an hour"), a,
        [rate_line(ServiceType.STANDARD, zone, hourly_rate=RATE) for zone in ZONES]))  # fmt: skip
    add("auditor", lambda b: b.agreements.appoint_auditor(
        _e(ADMIN, START, "open-book auditing of the alliance"), a, AUDIT_BODY))  # fmt: skip
    return steps


def _users(run: ScaleRun) -> list[tuple[Actor, str, list[str]]]:
    return [
        (ADMIN, "Northshire Admin", ["admin"]),
        (ACCOUNTANT, "Northshire Council Accountant", ["accountant"]),
        (ICB_ACCOUNTANT, "Northshire ICB Accountant", ["accountant"]),
        (AUDITOR, "Partnership Auditor", ["auditor"]),
        *((p.finance, f"{p.name} Finance", ["provider"]) for p in run.providers),
    ]


def _year(run: ScaleRun, index: int, year: str) -> list[Dated]:
    a, steps = AGREEMENT, []
    first = date(int(year[:4]), 4, 1)

    def add(on: date, label: str, fn: Callable[[Openbook], Any]) -> None:
        steps.append((on, f"{year}: {label}", fn))

    target = run.target(index)
    for commissioner, share in ((COUNCIL, Decimal("0.6")), (ICB, Decimal("0.4"))):
        add(first, f"contribution {commissioner}", lambda b, c=commissioner, s=share: b.agreements.set_contribution(
            _e(ACCOUNTANT, first, "the year's pooled budget, council and ICB 60/40"), a, c, year, target * s))  # fmt: skip
    add(first, "pooled budget", lambda b: b.settlements.set_pooled_budget(
        _e(ACCOUNTANT, first, "section 75 pooled budget with risk and gain share bands"), a, year, target=target,
        bands=BANDS, gain_cap=CAP, loss_cap=CAP, mechanism="rate", clawback_share=Decimal("0.5")))  # fmt: skip
    if index == 0:
        add(first, "incentive scheme", lambda b: b.incentives.set_incentive_scheme(
            _e(ACCOUNTANT, first, "reduce hours by 5% a year; paid beyond 5% if every KPI is met; fixed baselines"),
            a, from_year=year, baseline="fixed", fixed_baselines=run.baselines(),
            minimum_reduction=Decimal("0.05"), payment_per_hour=Decimal("2.00")))  # fmt: skip
    elif index == 1:
        add(first, "incentive scheme", lambda b: b.incentives.set_incentive_scheme(
            _e(ACCOUNTANT, first, "from the second year, each year against the year before"), a, from_year=year,
            minimum_reduction=Decimal("0.05"), payment_per_hour=Decimal("2.00")))  # fmt: skip
    months = _months(year)
    for i in range(0, 12, run.size.months_a_file):
        group = months[i : i + run.size.months_a_file]
        imported, paid = _next_month(*group[-1], 5), _next_month(*group[-1], 10)
        add(imported, f"visits {group[0][0]}-{group[0][1]:02d}",
            lambda b, g=group, on=imported: _import_months(b, run, index, g, on))  # fmt: skip
        for y, m in group:
            add(paid, f"payments {y}-{m:02d}", lambda b, m=f"{y}-{m:02d}", on=paid: b.settlements.run_payments(
                _e(ACCOUNTANT, on, "monthly payment of priced activity"), a, m))  # fmt: skip
    for q in range(1, 5):
        steps.extend(_returns(run, f"{year}-Q{q}"))
    if index > 0:
        steps.extend(_review(year))
    after = date(int(year[:4]) + 1, 4, 30)
    add(after, "KPI results", lambda b: b.incentives.import_kpi_results(
        _e(ACCOUNTANT, after, "the year's KPI results"), a, run.kpi_file(year), f"kpi-results-{year}.csv"))  # fmt: skip
    assessed = after + timedelta(days=29)
    add(assessed, "incentive assessment", lambda b: b.incentives.assess_incentives(
        _e(ACCOUNTANT, assessed, "annual incentive assessment"), a, year))  # fmt: skip
    drafted = after + timedelta(days=61)
    add(drafted, "settlement drafted", lambda b: b.settlements.draft_settlement(
        _e(ACCOUNTANT, drafted, "year-end risk and gain share settlement"), a, year))  # fmt: skip
    reviewed = drafted + timedelta(days=7)
    add(reviewed, "settlement reviewed", lambda b: b.settlements.review_settlement(
        _e(ICB_ACCOUNTANT, reviewed, "checked against the ICB's ledger"), a, year, 1))  # fmt: skip
    for actor in (ACCOUNTANT, ICB_ACCOUNTANT):
        add(reviewed + timedelta(days=7), f"settlement approved {actor.organisation}",
            lambda b, x=actor: b.settlements.approve_settlement(
                _e(x, reviewed + timedelta(days=7), "approved by the joint commissioning board"), a, year, 1))  # fmt: skip
    issued = reviewed + timedelta(days=14)
    add(issued, "settlement issued", lambda b: b.settlements.issue_settlement(
        _e(ACCOUNTANT, issued, "issued to the alliance"), a, year, 1))  # fmt: skip
    add(issued + timedelta(days=10), "year closed", lambda b: b.settlements.close_year(
        _e(ACCOUNTANT, issued + timedelta(days=10), "year end"), a, year))  # fmt: skip
    return steps


def _returns(run: ScaleRun, quarter: str) -> list[Dated]:
    """Every provider's return for the quarter: filed, (queried and answered, or breach explained,) accepted."""
    a, steps = AGREEMENT, []
    end = parse_period(quarter).end
    filed, queried, answered, accepted = (end + timedelta(days=d) for d in (40, 50, 56, 60))  # after the files
    for i, p in enumerate(run.providers):
        rng = run.rng("return", quarter, p.code)
        breach = (quarter.endswith("Q1") and i == 2) or rng.random() < 0.02
        query = (quarter.endswith("Q3") and i == 1) or rng.random() < 0.03
        steps.append((filed, f"{quarter} {p.code} filed", lambda b, p=p, br=breach: b.returns.draft_cost_return(
            _e(p.finance, filed, "quarterly open-book cost return"), a, p.code, quarter,
            run.filing(p, quarter, br), submit=True)))  # fmt: skip
        if query:
            steps.append((queried, f"{quarter} {p.code} queried", lambda b, p=p: b.returns.query_cost_return(
                _e(ACCOUNTANT, queried, "travel time above the market"), a, p.code, quarter, "travel_pay",
                "Travel pay per contact hour is above the market's: please send the rota analysis.")))  # fmt: skip
            steps.append((answered, f"{quarter} {p.code} answered", lambda b, p=p: b.returns.answer_cost_return_query(
                _e(p.finance, answered, "answer to the accountant's query"), a, p.code, quarter, "Q1",
                "Rural runs in the zone's outer districts: the rota analysis is attached to our covering email.")))  # fmt: skip
        if breach:
            steps.append((answered, f"{quarter} {p.code} breach explained", lambda b, p=p: b.returns.explain_wage_breach(
                _e(ACCOUNTANT, answered, "checked the payroll extract"), a, p.code, quarter, APPRENTICES)))  # fmt: skip
        steps.append((accepted, f"{quarter} {p.code} accepted", lambda b, p=p: b.returns.accept_cost_return(
            _e(ACCOUNTANT, accepted, "figures reconcile to the management accounts"), a, p.code, quarter)))  # fmt: skip
    return steps


def _review(year: str) -> list[Dated]:
    """The year's rate review: opened in February, uplift proposed in March, decided in June backdated to April,
    arrears calculated."""
    a = AGREEMENT
    first = int(year[:4])
    opened, proposed = date(first, 2, 3), date(first, 3, 2)
    decided, owed = date(first, 6, 15), date(first, 6, 20)
    return [
        (opened, f"{year}: rate review opened", lambda b: b.reviews.open_rate_review(
            _e(ACCOUNTANT, opened, "annual review: the wage floor rises on 1 April"), a, year)),
        (proposed, f"{year}: uplift proposed", lambda b: b.reviews.propose_uplift(
            _e(ACCOUNTANT, proposed, "uplift for the new wage floor"), a, year,
            median_cost=_rate_in_force(b, date(first, 4, 1) - timedelta(days=1)), pay_share=Decimal("0.65"),
            inflation=Decimal("0.02"), median_source="stated figure: the rate in force")),
        (decided, f"{year}: rate review decided", lambda b: b.reviews.decide_rate_review(
            _e(ACCOUNTANT, decided, "decided at the joint commissioning board"), a, year, "accepted",
            reasons="Passes on the wage floor rise; backdated to 1 April, so arrears are owed.",
            decided_by="Northshire joint commissioning board", effective_from=date(first, 4, 1))),
        (owed, f"{year}: arrears calculated", lambda b: b.activity.calculate_arrears(
            _e(ACCOUNTANT, owed, "arrears of the backdated rates"), a, year)),
    ]  # fmt: skip


def _rate_in_force(book: Openbook, on: date) -> Decimal:
    return book.rates.rate_for(AGREEMENT, ServiceType.STANDARD, "north", on).hourly_rate


def _import_months(book: Openbook, run: ScaleRun, index: int, months: list[tuple[int, int]], on: date) -> Any:
    """Write the months' call-monitoring export to a temporary file and import it, as a user would."""
    with tempfile.TemporaryDirectory(prefix="openbook-scale-") as work:
        path = Path(work) / f"northshire-visits-{months[0][0]}-{months[0][1]:02d}.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(COLUMNS)
            for year, month in months:
                writer.writerows(run.visit_rows(index, year, month))
        return book.activity.import_activity(
            _e(ACCOUNTANT, on, "the providers' electronic call monitoring export"), AGREEMENT, path
        )


def scale_steps(size: ScaleSize, seed: int = DEFAULT_SEED) -> list[Step]:
    """Every command of the scale demo as (label, run), in date order (stable: same-day steps as listed), then a
    checkpoint of the head."""
    run = ScaleRun(size, seed)
    dated = _setup(run)
    for index, year in enumerate(_years(size)):
        dated.extend(_year(run, index, year))
    ordered = sorted(dated, key=lambda s: s[0])
    attested = _e(AUDITOR, ordered[-1][0], "scale demo loaded: the head attested")  # on the last step's day

    def checkpoint(book: Openbook) -> Any:
        return book.checkpoints.record_checkpoint(attested)

    return [*((label, fn) for _on, label, fn in ordered), ("checkpoint of the head", checkpoint)]


def scale_users(size: ScaleSize) -> list[str]:
    """The usernames the scale demo registers (``openbook demo --scale`` gives them the demo password)."""
    return [actor.user for actor, _name, _roles in _users(ScaleRun(size, DEFAULT_SEED))]


def load_scale(book: Openbook, size: ScaleSize, seed: int = DEFAULT_SEED, progress: Progress | None = None) -> int:
    """Record the scale demo on ``book``; returns how many commands ran. Refused if it is loaded already."""
    steps = scale_steps(size, seed)
    if book.records.find(Agreement.create_id(AGREEMENT)) is not None:
        raise AlreadyLoaded(
            f"{AGREEMENT} is already in this database: the scale demo loads once; use a new database for another"
        )
    return run_steps(book, steps, progress)
