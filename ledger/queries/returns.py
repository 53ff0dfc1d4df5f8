"""Read-side queries for cost returns: a return's sheet, lists, the market view, history, the rate paid.

Plain functions over the read models: each takes the read engine and the
reader's access (``ledger.authorisation.access_for``), never an aggregate or
the application. One entry point per view (``return_sheet``, ``list_returns``,
``history``, ``market``, ``rate_paid``); the access decides which of two
audiences it serves:

* **accountants** (``AccountantAccess``): every provider's returns by code and
  name, the market with each provider's figures beside the quartiles, any
  provider's history;
* **providers** (``ProviderAccess``): their own returns and history, and the
  market only as anonymised quartiles where at least 5 providers contributed
  (``domain.returns.market.for_provider``). Another provider's code is
  ``NotFound``, as if its figures did not exist.

**Which returns make the market.** Accepted returns only, at their accepted
revision, for exactly that agreement and period (a quarter's market never
mixes in annual returns). The council's in-house returns are shown to
accountants *beside* the market, never inside the providers' quartiles: the
quartiles describe what the independent market costs, and the in-house
service is what it is compared with (docs/cost-returns.md).

**The rate paid** (``rate_paid``): the gap = the rate on the card − total
cost per hour, and beside it, labelled apart, the average actually paid.

1. **The rate on the card** (what the gap is taken against): the agreement's
   standard service (the rate without a band) in each zone the provider (or
   its alliance) holds an award in, on each day of the period it held it.
   Read from the read models once per question (award rows, zone rows, the
   standard rate rows, the organisation) and worked out in Python with the
   domain's own rules (``awards_during``, ``Award.in_force_on``,
   ``Zone.is_lot``) and the rate card's rule for a rate in force
   (``queries.rates.rate_on``), so it equals ``Pricer.rate_for`` asked day by
   day. One rate throughout: that rate, with the card's places. Several rates
   (differing by zone or changing in the period): the range is shown and the
   gap is taken against their hours-weighted rate (``hours_weighted_rate``,
   4 dp): each zone-day weighted by the provider's payable hours in that zone
   and month of priced activity, spread evenly over the month's days; with no
   priced activity yet, every zone-day counts alike. The basis says which.
2. **The average paid per hour**, once priced activity exists (the
   ``activity_totals`` read model): Σ spend ÷ Σ payable hours over every zone
   and service, 4 dp half up. Visits are priced to the penny, so this differs
   from the card's rate by their rounding (and by bands and other services);
   it is shown apart and never used for the gap.
3. In-house returns are compared with the standard rate in every zone of the
   agreement (what the commissioners pay providers for the same care); no
   average paid.

Figures keep their exact places here (and in JSON); rounding is for display.

Figures are the read models' (``ledger/projections/cost_returns.py``, the
agreements', rates' and organisations' tables); nothing here changes anything.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select

from domain.agreements.terms import ServiceType, awards_during, awards_on, zones_on
from domain.errors import NotFound
from domain.money import EXACT, format_gbp
from domain.periods import FinancialYear, Period, Quarter, days_between, quarter_of
from domain.returns.cost_return import check_period
from domain.returns.filing import CostGroup, CostLine, lines_in
from domain.returns.market import (
    MIN_PROVIDERS,
    AnonymisedMarketView,
    NotEnoughProviders,
    Quartiles,
    for_provider,
    market_view,
)
from domain.returns.unit_costs import PER_HOUR_QUANTUM, UnitCosts, hours_weighted_rate, shown
from ledger.authorisation import Access, AccountantAccess, only_provider, shown_provider
from ledger.projections.activity import activity_totals
from ledger.projections.cost_returns import (
    cost_return_lines,
    cost_return_queries,
    cost_return_revisions,
    cost_returns,
    wage_floor_rates,
)
from ledger.projections.organisations import organisations
from ledger.projections.rates import rate_cards
from ledger.queries.agreements import agreement_terms, get_agreement
from ledger.queries.every_provider import Totals, activity_by_provider, provider_activity
from ledger.queries.rates import rate_history, rate_on
from ledger.queries.rows import read_rows

__all__ = [
    "RETURN_DUE_DAYS",
    "RatePaid",
    "history",
    "list_returns",
    "market",
    "rate_paid",
    "return_sheet",
    "returns_due",
    "wage_floors_added",
]

def _member_of(engine: Engine, provider: str) -> str | None:
    """The alliance ``provider`` belongs to (None if none); an unregistered organisation is ``NotFound``."""
    found = read_rows(engine, select(organisations.c.member_of).where(organisations.c.code == provider))
    if not found:
        raise NotFound(f"organisation {provider!r} is not registered")
    return found[0]["member_of"]


# -- the rate paid ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatePaid:
    """The card's rate the gap is taken against, how it was found, and the average paid shown apart."""

    rate: Decimal | None  # the rate on the card (hours-weighted where several applied)
    source: str  # "rate card" or "none"
    low: Decimal | None
    high: Decimal | None
    basis: str
    average_paid: Decimal | None = None  # Σ spend ÷ Σ payable hours of priced activity, never the gap's rate
    average_paid_basis: str | None = None

    @property
    def shown_rate(self) -> Decimal | None:
        """The rate as people see it: one card rate with the places its card states; an hours-weighted rate of
        several, to the penny (as every per-hour figure is shown: docs/cost-returns.md)."""
        if self.rate is None:
            return None
        return self.rate if self.low == self.high else shown(self.rate)


def _quarters(period: Period) -> list[str]:
    return [str(q) for q in period.quarters()] if isinstance(period, FinancialYear) else [str(period)]


def _average_paid(done: Totals, period: Period) -> tuple[Decimal, str] | None:
    """Σ spend ÷ Σ payable hours of the provider's priced activity in the period (``done``), if it has any."""
    if done.payable_minutes <= 0:
        return None
    average = EXACT.divide(EXACT.multiply(done.spend, 60), Decimal(done.payable_minutes)).quantize(
        PER_HOUR_QUANTUM, context=EXACT
    )
    basis = (
        f"average actually paid per hour in {period}: {format_gbp(done.spend)} for {done.payable_hours:,} payable "
        "hours (every zone and service, from priced activity; each visit priced to the penny)"
    )
    return average, basis


def _payable_minutes_by_zone_month(
    engine: Engine, agreement: str, provider: str, period: Period
) -> dict[tuple[str, str], int]:
    """The provider's payable minutes of priced activity per (zone, month) in the period: the card rate's weights."""
    t = activity_totals.c
    query = (
        select(t.zone, t.month, func.sum(t.payable_minutes))
        .where((t.agreement == agreement) & (t.provider == provider) & t.quarter.in_(_quarters(period)))
        .group_by(t.zone, t.month)
    )
    with engine.connect() as conn:
        return {(zone, month): int(minutes or 0) for zone, month, minutes in conn.execute(query)}


def _zones_in_force(
    engine: Engine, card: _Card, provider: str, period: Period, in_house: bool
) -> Callable[[date], set[str]]:
    """The zones whose rate counts on a day, from the award and zone rows read once.

    In-house costs: every zone (not lot) of the agreement in force that day.
    A provider: the zones it holds an award in that day; a member of an
    alliance that holds no award of its own in the period files under the
    alliance's, so the alliance's zones.
    """
    terms = card.terms
    member_of = card.members[provider] if provider in card.members else _member_of(engine, provider)
    if in_house:
        zones = [zone for zone in terms.zones if not zone.is_lot]
        return lambda day: {zone.code for zone in zones_on(zones, day)}
    during = awards_during(terms.awards, period.start, period.end)
    holders = {provider} if any(a.provider == provider for a in during) else {member_of}
    held = [a for a in terms.awards if a.provider in holders]
    return lambda day: {a.zone for a in awards_on(held, day)}


def _has_rate_card(engine: Engine, agreement: str) -> bool:
    return bool(read_rows(engine, select(rate_cards.c.id).where(rate_cards.c.agreement == agreement)))


@dataclass(frozen=True)
class _Card:
    """What the rate paid reads of an agreement whoever the provider: its terms and its standard rates without a
    band, by zone. Read once for a page of many providers (the market view, a provider's periods) rather than once a
    provider: the agreement's terms alone are a dozen queries."""

    agreement: str
    terms: Any
    standard: dict[str, list[dict[str, Any]]]
    has_card: bool
    members: dict[str, str | None]  # each organisation's alliance (None: none), read once for every provider


def _card(engine: Engine, agreement: str) -> _Card:
    standard: dict[str, list[dict[str, Any]]] = {}
    rates_published = rate_history(engine, agreement, ServiceType.STANDARD.value)
    for rate in rates_published:
        if rate["band"] is None:
            standard.setdefault(rate["zone"], []).append(rate)
    has_card = bool(rates_published) or _has_rate_card(engine, agreement)
    members = dict(_rows_pairs(engine, select(organisations.c.code, organisations.c.member_of))) if has_card else {}
    return _Card(agreement, agreement_terms(engine, agreement) if has_card else None, standard, has_card, members)


def _paid_by_rate_card(engine: Engine, card: _Card, provider: str, period: Period, in_house: bool) -> RatePaid:
    """The standard rate in the provider's awarded zones (every zone, in-house) over the period's days.

    Each read model is read once (``_card``); the days are walked in Python, asking the
    domain's award and zone rules and the rate card's rule for a rate without
    a band, as ``Pricer.rate_for(STANDARD, zone, day)`` would answer.
    """
    agreement, standard = card.agreement, card.standard
    if not card.has_card:
        return RatePaid(None, "none", None, None, f"{agreement} has no rates published yet")
    zones_on = _zones_in_force(engine, card, provider, period, in_house)
    rates: list[tuple[str, date, Decimal]] = []
    zones: set[str] = set()
    for day in days_between(period.start, period.end):
        for zone in sorted(zones_on(day)):
            rate = rate_on(standard.get(zone, []), day)
            if rate is None:
                continue
            rates.append((zone, day, rate["hourly_rate"]))
            zones.add(zone)
    if not rates:
        whose = "any zone" if in_house else f"{provider}'s awarded zones"
        return RatePaid(None, "none", None, None, f"no standard rate on the rate card for {whose} in {period}")
    low, high = min(r for _, _, r in rates), max(r for _, _, r in rates)
    where = ", ".join(sorted(zones))
    whose = f"zone{'s' if len(zones) > 1 else ''} {where}"
    if in_house:
        whose = f"every zone ({where}: in-house costs compared with what providers are paid)"
    if low == high:
        basis = f"agreement rate card: standard service {format_gbp(low)} an hour in {whose} throughout {period}"
        return RatePaid(low, "rate card", low, high, basis)
    weights = _payable_minutes_by_zone_month(engine, agreement, provider, period) if not in_house else {}
    days = Counter((zone, f"{day:%Y-%m}", rate) for zone, day, rate in rates)
    in_month = Counter((zone, f"{day:%Y-%m}") for zone, day, _ in rates)
    if any(weights.get(key) for key in in_month):
        # A zone-month's payable hours, spread evenly over its days in force, weight each day's rate.
        pairs = [
            (rate, EXACT.divide(Decimal(weights.get((zone, month), 0) * n), Decimal(60 * in_month[zone, month])))
            for (zone, month, rate), n in days.items()
        ]
        how = "weighted by the provider's payable hours in each zone and month of priced activity"
    else:
        pairs = [(rate, Decimal(1)) for _, _, rate in rates]
        how = "each zone and day counted alike: no priced activity is recorded yet"
    weighted = hours_weighted_rate(pairs)
    return RatePaid(
        weighted,
        "rate card",
        low,
        high,
        f"agreement rate card: standard service {format_gbp(low)} to {format_gbp(high)} an hour in {whose} "
        f"during {period}; several rates applied, so the gap uses their hours-weighted rate {format_gbp(weighted)} "
        f"({how})",
    )


def _rate_paid(
    engine: Engine, agreement: str, provider: str, period: Period | str, in_house: bool, card: _Card | None = None,
    done: Totals | None = None,
) -> RatePaid:
    """``card``: the agreement's, and ``done``: the provider's activity in the period, when the caller asks for
    many providers or periods (else each is read here)."""
    chosen = check_period(period)
    paid = _paid_by_rate_card(engine, card or _card(engine, agreement), provider, chosen, in_house)
    if not in_house and done is None:
        done = provider_activity(engine, agreement, provider, _quarters(chosen))
    average = None if in_house or done is None else _average_paid(done, chosen)
    if average is None:
        return paid
    return replace(paid, average_paid=average[0], average_paid_basis=average[1])


def rate_paid(engine: Engine, access: Access, provider: str, period: Period | str, in_house: bool) -> RatePaid:
    """The card's rate for ``provider`` in ``period``, and the average paid from priced activity (module docstring)."""
    return _rate_paid(engine, access.agreement, shown_provider(access, provider), period, in_house)


# -- unit costs from the read model ----------------------------------------------------------------


def _unit_costs(revision: dict[str, Any], lines: list[dict[str, Any]]) -> UnitCosts:
    """The revision's UnitCosts as the projection worked them out (``domain.returns.unit_costs.unit_costs``)."""
    amounts = {CostLine(r["line"]): r["amount"] for r in lines}
    return UnitCosts(
        contact_hours=revision["contact_hours"],
        amounts=amounts,
        total_cost=revision["total_cost"],
        per_line={CostLine(r["line"]): r["per_hour"] for r in lines},
        total_per_hour=revision["total_per_hour"],
        travel_minutes_per_contact_hour=revision["travel_minutes_per_contact_hour"],
        on_costs_percent_of_pay=revision["on_costs_percent_of_pay"],
        surplus_percent_of_cost=revision["surplus_percent_of_cost"],
        surplus_percent_of_total=revision["surplus_percent_of_total"],
    )


def _figures(costs: UnitCosts) -> dict[str, Any]:
    return {
        "contact_hours": costs.contact_hours,
        "total_cost": costs.total_cost,
        "total_per_hour": costs.total_per_hour,
        "total_per_hour_shown": shown(costs.total_per_hour),
        "per_line": {line.value: costs.per_line[line] for line in CostLine},
        "groups": {group.value: costs.per_group(group) for group in CostGroup},
        "travel_minutes_per_contact_hour": costs.travel_minutes_per_contact_hour,
        "on_costs_percent_of_pay": costs.on_costs_percent_of_pay,
        "surplus_percent_of_cost": costs.surplus_percent_of_cost,
        "surplus_percent_of_total": costs.surplus_percent_of_total,
    }


def _quartiles(q: Quartiles) -> dict[str, Decimal]:
    return {"lower": q.lower, "median": q.median, "upper": q.upper}


def _revision_costs(engine: Engine, return_id: str, revision: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return _revisions_costs(engine, [(return_id, revision)])[return_id, revision]


def _revisions_costs(
    engine: Engine, wanted: list[tuple[str, int]]
) -> dict[tuple[str, int], tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each (return id, revision) wanted: its revision row and its lines in order. Two queries however many are
    wanted (a page of every provider's return reads them all at once, not two queries a return)."""
    if not wanted:
        return {}
    r, ln = cost_return_revisions.c, cost_return_lines.c
    ids = sorted({return_id for return_id, _ in wanted})
    revisions = {(row["return_id"], row["revision"]): row
                 for row in read_rows(engine, select(cost_return_revisions).where(r.return_id.in_(ids)))}
    lines: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in read_rows(engine, select(cost_return_lines).where(ln.return_id.in_(ids)).order_by(ln.line_order)):
        lines.setdefault((row["return_id"], row["revision"]), []).append(row)
    found = {}
    for key in wanted:
        if key not in revisions:
            raise NotFound(f"revision: the return has no revision {key[1]}")
        found[key] = revisions[key], lines.get(key, [])
    return found


def _names(engine: Engine) -> dict[str, str]:
    return dict(_rows_pairs(engine, select(organisations.c.code, organisations.c.name)))


def _rows_pairs(engine: Engine, query: Any) -> list[tuple[Any, Any]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


# -- one return -------------------------------------------------------------------------------------


def _return_row(engine: Engine, agreement: str, provider: str, period: str) -> dict[str, Any]:
    c = cost_returns.c
    found = read_rows(
        engine, select(cost_returns).where((c.agreement == agreement) & (c.provider == provider) & (c.period == period))
    )
    if not found:
        raise NotFound(f"the cost return of {provider} for {agreement} {period} is not filed")
    return found[0]


def _sheet(engine: Engine, agreement: str, provider: str, period: Period | str, revision: int | None) -> dict[str, Any]:
    chosen = str(check_period(period))
    row = _return_row(engine, agreement, provider, chosen)
    number = row["revision"] if revision is None else revision
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= row["revision"]:
        raise NotFound(f"revision: the return has revisions 1 to {row['revision']}, not {number!r}")
    rev, lines = _revision_costs(engine, row["id"], number)
    costs = _unit_costs(rev, lines)
    paid = _rate_paid(engine, agreement, provider, chosen, row["in_house"])
    q = cost_return_queries.c
    queries = read_rows(engine, select(cost_return_queries).where(q.return_id == row["id"]).order_by(q.position))
    findings = []
    if rev["nlw_breach"]:
        findings.append(
            {
                "kind": "nlw-breach",
                "needs_explanation": True,
                "floor": rev["nlw_floor"],
                "message": rev["nlw_message"],
                "explained": rev["explanation"] is not None,
                "explanation": rev["explanation"],
                "explained_by": rev["explained_by"],
                "explained_on": rev["explained_on"],
            }
        )
    if rev["rlw_flag"]:
        findings.append({"kind": "rlw-flag", "floor": rev["rlw_floor"], "message": rev["rlw_message"]})
    if rev["no_floor_message"]:
        findings.append({"kind": "no-wage-floor", "message": rev["no_floor_message"]})
    explained = {"explained": rev["explanation"] is not None, "explanation": rev["explanation"],
                 "explained_by": rev["explained_by"], "explained_on": rev["explained_on"]}  # fmt: skip
    surplus = [json.loads(rev["surplus_finding"])] if rev["surplus_finding"] else []
    for found in [*json.loads(rev["plausibility"]), *surplus]:
        findings.append({**found, **(explained if found["needs_explanation"] else {})})
    return {
        "agreement": agreement,
        "provider": provider,
        "provider_name": _names(engine).get(provider, provider),
        "period": chosen,
        "in_house": row["in_house"],
        "status": row["status"],
        "revision": number,
        "current_revision": row["revision"],
        "accepted_revision": row["accepted_revision"],
        "submitted_on": row["submitted_on"],
        "accepted_on": row["accepted_on"],
        "rejected_on": row["rejected_on"],
        "rejection_reasons": row["rejection_reasons"].split("\n") if row["rejection_reasons"] else [],
        "recorded_on": rev["recorded_on"],
        "recorded_by": rev["recorded_by"],
        "reason": rev["reason"],
        "lines": [
            {
                "line": r["line"],
                "label": CostLine(r["line"]).label,
                "group": r["cost_group"],
                "amount": r["amount"],
                "per_hour": r["per_hour"],
                "note": r["note"],
            }
            for r in lines
        ],
        "groups": [
            {"group": g.value, "label": g.label, "lines": [ln.value for ln in lines_in(g)], "per_hour": costs.per_group(g)}
            for g in CostGroup
        ],
        "volumes": {
            key: rev[key]
            for key in (
                "contact_hours", "visits", "average_visit_minutes", "average_travel_minutes", "careworker_headcount",
                "careworker_fte", "hours_paid", "lowest_hourly_pay", "typical_hourly_pay",
            )
        },  # fmt: skip
        "totals": {
            "total_cost": costs.total_cost,
            "stated_total": rev["stated_total"],
            "contact_hours": costs.contact_hours,
            "total_per_hour": costs.total_per_hour,
            "total_per_hour_shown": shown(costs.total_per_hour),
            "travel_minutes_per_contact_hour": costs.travel_minutes_per_contact_hour,
            "on_costs_percent_of_pay": costs.on_costs_percent_of_pay,
            "surplus_percent_of_cost": costs.surplus_percent_of_cost,
            "surplus_percent_of_total": costs.surplus_percent_of_total,
        },
        "rate": paid,
        "gap": None if paid.rate is None else EXACT.subtract(paid.rate, costs.total_per_hour),
        "findings": findings,
        "queries": [{k: v for k, v in qr.items() if k not in ("return_id", "position")} for qr in queries],
    }


def return_sheet(
    engine: Engine, access: Access, provider: str, period: Period | str, revision: int | None = None
) -> dict[str, Any]:
    """A return under the access's agreement: lines per hour, totals, gap, findings, queries.

    An accountant may open any provider's return; a provider only its own
    (another's is ``NotFound``). Both see the same sheet.
    """
    return _sheet(engine, access.agreement, shown_provider(access, provider), period, revision)


# -- lists ------------------------------------------------------------------------------------------

_LIST_COLUMNS = (
    "agreement", "provider", "period", "in_house", "status", "revision", "accepted_revision", "open_queries",
    "submitted_on", "accepted_on", "total_per_hour", "travel_minutes_per_contact_hour", "on_costs_percent_of_pay",
    "surplus_percent_of_cost", "lowest_hourly_pay", "nlw_breach", "nlw_explained", "rlw_flag",
)  # fmt: skip


def _listed(engine: Engine, query: Any) -> list[dict[str, Any]]:
    names = _names(engine)
    rows = sorted(read_rows(engine, query), key=lambda r: (r["period_start"], r["period_end"], r["in_house"], r["provider"]))
    return [{**{k: r[k] for k in _LIST_COLUMNS}, "provider_name": names.get(r["provider"], r["provider"])} for r in rows]


def list_returns(engine: Engine, access: Access, period: Period | str | None = None) -> list[dict[str, Any]]:
    """The returns under the access's agreement (in a period, if given), with where each stands.

    An accountant sees every provider's; a provider only its own.
    """
    own = only_provider(access)
    c = cost_returns.c
    query = select(cost_returns).where(c.agreement == access.agreement)
    if own is not None:
        query = query.where(c.provider == own)
    if period is not None:
        query = query.where(c.period == str(check_period(period)))
    return _listed(engine, query)


# -- which returns fall due -------------------------------------------------------------------------

#: Days after a quarter ends by which its cost return falls due. Agreements record no such term, so every
#: agreement uses this; were one to record its own, ``returns_due`` is the one place that would read it.
RETURN_DUE_DAYS = 30


def _quarters_filed_in(engine: Engine, agreement: str, provider: str, last: Quarter) -> list[Quarter]:
    """The quarters of the term, up to ``last``, in which ``provider`` has a return to file.

    A commissioner files its in-house costs for every quarter of the term; a
    provider for each quarter in which it (or its alliance) held an award on
    at least one day: the rule ``CostReturnUseCases.filing_provider`` applies.
    """
    terms = agreement_terms(engine, agreement)
    end = min(get_agreement(engine, agreement)["term_end"], last.end)
    quarters, quarter = [], quarter_of(terms.term_start)
    while quarter.start <= end:
        quarters.append(quarter)
        quarter = quarter.next()
    if provider in {code for code, _ in terms.commissioners}:
        return quarters
    holders = {provider, _member_of(engine, provider)} - {None}
    held = [a for a in terms.awards if a.provider in holders]
    return [q for q in quarters if awards_during(held, q.start, q.end)]


def returns_due(engine: Engine, access: Access, provider: str, on: date) -> list[dict[str, Any]]:
    """Each quarter ended by ``on`` whose return ``provider`` owes, newest first: due date, status, overdue.

    A quarter's return falls due ``RETURN_DUE_DAYS`` after the quarter ends;
    it is overdue when ``on`` is past that day and no return has been
    submitted (none filed, or only a draft). ``status`` is the return's
    (``None``: not filed). Annual returns are asked for case by case and are
    listed with the returns, not here.
    """
    provider = shown_provider(access, provider)
    agreement = access.agreement
    c = cost_returns.c
    filed = {
        row["period"]: row
        for row in read_rows(engine, select(cost_returns).where((c.agreement == agreement) & (c.provider == provider)))
    }
    due = []
    for quarter in reversed(_quarters_filed_in(engine, agreement, provider, quarter_of(on).previous())):
        row = filed.get(str(quarter))
        due_on = quarter.end + timedelta(days=RETURN_DUE_DAYS)
        submitted = row is not None and row["state"] != "draft"
        due.append(
            {
                "agreement": agreement,
                "provider": provider,
                "period": str(quarter),
                "period_end": quarter.end,
                "due_on": due_on,
                "status": None if row is None else row["status"],
                "submitted_on": None if row is None else row["submitted_on"],
                "overdue": not submitted and on > due_on,
                "days_overdue": (on - due_on).days if not submitted and on > due_on else 0,
            }
        )
    return due


# -- the market -------------------------------------------------------------------------------------


def _accepted_costs(engine: Engine, agreement: str, period: str, in_house: bool) -> dict[str, UnitCosts]:
    c = cost_returns.c
    rows = read_rows(
        engine,
        select(cost_returns).where(
            (c.agreement == agreement) & (c.period == period) & (c.state == "accepted") & (c.in_house == in_house)
        ),
    )
    costs = _revisions_costs(engine, [(row["id"], row["accepted_revision"]) for row in rows])
    return {row["provider"]: _unit_costs(*costs[row["id"], row["accepted_revision"]]) for row in rows}


def _market_quartiles(view: Any) -> dict[str, Any]:
    return {
        "contributors": view.contributors,
        "method": view.method,
        "total": _quartiles(view.total),
        "lines": {line.value: _quartiles(q) for line, q in view.lines.items()},
        "groups": {group.value: _quartiles(q) for group, q in view.groups.items()},
    }


def _accountant_market(engine: Engine, access: AccountantAccess, period: Period | str) -> dict[str, Any]:
    """The market from accepted provider returns: quartiles, each provider by name, in-house beside it."""
    chosen = str(check_period(period))
    names = _names(engine)
    providers = _accepted_costs(engine, access.agreement, chosen, in_house=False)
    in_house = _accepted_costs(engine, access.agreement, chosen, in_house=True)
    card = _card(engine, access.agreement)
    activity = activity_by_provider(engine, access.agreement, _quarters(check_period(chosen)))
    none = Totals(0, 0, 0, 0, Decimal(0), 0)

    def entry(code: str, costs: UnitCosts, is_in_house: bool) -> dict[str, Any]:
        paid = _rate_paid(engine, access.agreement, code, chosen, is_in_house, card, activity.get(code, none))
        gap = None if paid.rate is None else EXACT.subtract(paid.rate, costs.total_per_hour)
        return {"provider": code, "name": names.get(code, code), **_figures(costs), "rate": paid, "gap": gap}

    result: dict[str, Any] = {
        "agreement": access.agreement,
        "period": chosen,
        "contributors": len(providers),
        "providers": [entry(code, providers[code], False) for code in sorted(providers)],
        "in_house": [entry(code, in_house[code], True) for code in sorted(in_house)],
        "in_house_note": "in-house costs are shown beside the market, not included in the providers' quartiles",
        "providers_would_see": (
            "anonymised quartiles" if len(providers) >= MIN_PROVIDERS
            else f"nothing: {len(providers)} of the {MIN_PROVIDERS} providers needed"
        ),
    }  # fmt: skip
    result["market"] = _market_quartiles(market_view(providers)) if providers else None
    return result


def _provider_market(engine: Engine, agreement: str, provider: str, period: Period | str) -> dict[str, Any]:
    """What a provider may see: its own return's figures and the anonymised market, or why there is none.

    ``own`` is the provider's return for the period (its accepted revision, or
    its current one with its status while under review); the market is built
    from accepted provider returns only and passed through ``for_provider``.
    """
    chosen = str(check_period(period))
    providers = _accepted_costs(engine, agreement, chosen, in_house=False)
    seen = for_provider(market_view(providers), provider).market if providers else NotEnoughProviders(0, MIN_PROVIDERS)
    result: dict[str, Any] = {"agreement": agreement, "period": chosen, "provider": provider}
    c = cost_returns.c
    mine = read_rows(
        engine,
        select(cost_returns).where((c.agreement == agreement) & (c.provider == provider) & (c.period == chosen)),
    )
    result["own"] = None
    if mine:
        row = mine[0]
        revision, lines = _revision_costs(engine, row["id"], row["accepted_revision"] or row["revision"])
        result["own"] = {"status": row["status"], "revision": revision["revision"], **_figures(_unit_costs(revision, lines))}
    if isinstance(seen, AnonymisedMarketView):
        result["market"] = _market_quartiles(seen)
    else:
        result["market"] = None
        result["not_enough_providers"] = {
            "contributors": seen.contributors,
            "required": seen.required,
            "message": f"no market figures: {_returns_accepted(seen.contributors)} for {chosen} and "
            f"at least {seen.required} are needed, so that no provider's costs can be read from the quartiles",
        }
    return result


def _returns_accepted(count: int) -> str:
    return "1 provider's return is accepted" if count == 1 else f"{count} providers' returns are accepted"


def market(engine: Engine, access: Access, period: Period | str) -> dict[str, Any]:
    """The market per agreement and period: an accountant's view, or what a provider sees.

    An ``AccountantAccess`` gets every provider's figures beside the
    quartiles; a ``ProviderAccess`` gets what its provider sees: its own
    figures and the anonymised market (an accountant checks what a provider
    is shown with ``provider_access`` for it).
    """
    own = only_provider(access)
    if own is None:
        return _accountant_market(engine, access, period)
    return _provider_market(engine, access.agreement, own, period)


# -- history -----------------------------------------------------------------------------------------


def history(engine: Engine, access: Access, provider: str) -> list[dict[str, Any]]:
    """A provider's cost per hour over time, per line, with the rate over the same periods.

    Each period at its accepted revision where accepted, else its current one.
    An accountant may follow any provider; a provider only itself.
    """
    provider = shown_provider(access, provider)
    agreement = access.agreement
    c = cost_returns.c
    rows = read_rows(engine, select(cost_returns).where((c.agreement == agreement) & (c.provider == provider)))
    card = _card(engine, agreement) if rows else None
    shown = _revisions_costs(engine, [(row["id"], row["accepted_revision"] or row["revision"]) for row in rows])
    periods = []
    for row in sorted(rows, key=lambda r: (r["period_start"], r["period_end"])):
        revision = row["accepted_revision"] or row["revision"]
        costs = _unit_costs(*shown[row["id"], revision])
        paid = _rate_paid(engine, agreement, provider, row["period"], row["in_house"], card)
        periods.append(
            {
                "period": row["period"],
                "period_start": row["period_start"],
                "period_end": row["period_end"],
                "status": row["status"],
                "revision": revision,
                "accepted": row["accepted_revision"] is not None,
                **_figures(costs),
                "rate": paid,
                "gap": None if paid.rate is None else EXACT.subtract(paid.rate, costs.total_per_hour),
            }
        )
    return periods


# -- reference data ------------------------------------------------------------------------------------


def wage_floors_added(engine: Engine) -> list[dict[str, Any]]:
    """The wage floors an admin added to the built-in tables, in the order recorded."""
    return read_rows(engine, select(wage_floor_rates).order_by(wage_floor_rates.c.position))
