"""Read-side queries for the pool: its running position, payments, and settlements for people.

Each query that shows a provider's figures takes an access value from
``ledger.authorisation`` (callers get theirs from ``access_for``): the pool's
position and the list of settlements are for ``AccountantAccess`` only (a
provider is refused by role, ``NotAllowed``); with a ``ProviderAccess`` a
payment statement, the payment runs and a settlement narrow themselves to
the provider's own figures, and another provider's statement is
``NotFound``, as if it did not exist.

Priced activity is read from the activity read model (``activity_totals``,
whole pence, summed in SQL); payments from ``payments`` (exact decimal text,
summed here); the pool's terms and each settlement as the settlements read
model keeps them (``ExactJSON``: read back as the aggregate holds them);
contributions from the agreements read model. The position's forecast is the
run rate: priced spend to date ÷ months elapsed × 12
(``domain.settlement.payment_ledger.run_rate_forecast``).

No query here loads an aggregate; ``settlement_view`` shapes one the draft
command has just made, in the same shape as ``settlement``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select

from domain.checks import check_financial_year
from domain.errors import NotAllowed, NotFound
from domain.money import EXACT, ZERO, format_gbp, total
from domain.periods import parse_financial_year
from domain.settlement.gainshare import apply_cap, share_variance
from domain.settlement.payment_ledger import check_month, line_kind, months_of, run_rate_forecast, year_of_month
from domain.settlement.pooled_budget import PoolTerms
from domain.settlement.provider_view import provider_comparison, provider_statement
from domain.settlement.settlement import Settlement, Signature, awaiting_approval
from ledger.authorisation import Access, accountants_only, only_provider, shown_provider
from ledger.projections.cost_returns import cost_returns
from ledger.projections.settlements import (
    SETTLEMENT_LIST_COLUMNS,
    payment_lines,
    payments,
    pooled_budgets,
    settlements,
    year_ends,
)
from ledger.queries.agreements import contributions as agreement_contributions
from ledger.queries.every_provider import activity_rows, assessed_incentives, by_provider, unpriced_visits

FORECAST_METHOD = (
    "run rate: priced spend from April to the last month elapsed ÷ months elapsed × 12, "
    "rounded once to the penny"
)



# -- payments ----------------------------------------------------------------------------------


def payment_runs(engine: Engine, access: Access, financial_year: str) -> list[dict[str, Any]]:
    """Every provider's payment of each month's run in the year; for a provider, its own payments."""
    p = payments.c
    year = check_financial_year(financial_year)  # "2019" is refused, not answered with no payments
    query = (
        select(payments)
        .where((p.agreement == access.agreement) & (p.financial_year == year))
        .order_by(p.month, p.provider)
    )
    own = only_provider(access)
    if own is not None:
        query = query.where(p.provider == own)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def payment_statement(engine: Engine, access: Access, provider: str, month: str) -> dict[str, Any]:
    """One provider's payment for one month: its lines, the amount, and the year's cumulative payments.

    Priced less paid compares the year's priced activity with what was paid on account of it: the cumulative
    payments less any closed-year adjustments they include, which pay an earlier, closed year.
    """
    provider = shown_provider(access, provider)
    chosen = check_month(month)
    year = year_of_month(chosen)
    p, pl = payments.c, payment_lines.c
    key = (p.agreement == access.agreement) & (p.provider == provider)
    with engine.connect() as conn:
        payment = conn.execute(select(payments).where(key & (p.month == chosen))).first()
        if payment is None:
            raise NotFound(f"no payment to {provider} under {access.agreement} for {chosen} is recorded")
        lines = conn.execute(
            select(payment_lines)
            .where((pl.agreement == access.agreement) & (pl.provider == provider) & (pl.month == chosen))
            .order_by(pl.line)
        ).all()
        earlier = conn.execute(
            select(p.month, p.amount).where(key & (p.financial_year == year) & (p.month <= chosen)).order_by(p.month)
        ).all()
    rows = activity_rows(engine, access.agreement, year)
    priced = by_provider([r for r in rows if r.provider == provider], chosen).get(provider, ZERO)
    cumulative = total(amount for _, amount in earlier)
    closed = total(a["amount"] for a in closed_year_paid(engine, access.agreement, paid_in=year)
                   if a["provider"] == provider and a["month"] <= chosen)  # fmt: skip
    return {
        "agreement": access.agreement,
        "provider": provider,
        "month": chosen,
        "financial_year": year,
        "mechanism": payment.mechanism,
        "paid_on": payment.paid_on,
        "recorded_by": payment.recorded_by,
        "basis": payment.basis,
        "event_position": payment.position,
        "lines": [
            {
                "label": r.label, "kind": line_kind(payment.mechanism, r.activity_month), "zone": r.zone,
                "service": r.service, "activity_month": r.activity_month, "visits": r.visits,
                "payable_minutes": r.payable_minutes, "amount": r.amount, "arrears": r.arrears,
                "closed_year": r.closed_year,
            }  # fmt: skip
            for r in lines
        ],
        "amount": payment.amount,
        "months_paid": [{"month": m, "amount": a} for m, a in earlier],
        "cumulative_paid": cumulative,
        "priced_activity_to_date": priced,
        "closed_year_adjustments_to_date": closed,  # in the cumulative paid, but for a closed year (docs/year-end.md)
        "priced_less_paid": EXACT.subtract(priced, EXACT.subtract(cumulative, closed)),
    }


# -- the running position ----------------------------------------------------------------------


def pool_terms(engine: Engine, agreement: str, financial_year: str) -> PoolTerms:
    """The pool's terms as last set up or revised: the domain's own ``PoolTerms.from_data`` of what was recorded."""
    year = check_financial_year(financial_year)
    c = pooled_budgets.c
    with engine.connect() as conn:
        found = conn.execute(
            select(c.terms).where((c.agreement == agreement) & (c.financial_year == year))
        ).scalar()
    if found is None:
        raise NotFound(f"the {year} pooled budget of {agreement!r} is not registered")
    return PoolTerms.from_data(found)


def contributions(engine: Engine, agreement: str, financial_year: str) -> dict[str, Decimal]:
    """Each commissioner's contribution to the pool in the year, as the agreements read model holds it."""
    return {r["commissioner"]: r["amount"] for r in agreement_contributions(engine, agreement, financial_year)}


def pool_position(engine: Engine, access: Access, year: str, through_month: str | None = None) -> dict[str, Any]:
    """Budget, target, priced and paid to date, due, forecast to year end at the run rate, and variance.

    For accountants only: it shows every provider's figures.
    """
    agreement = accountants_only(access).agreement
    year = check_financial_year(year)
    terms = pool_terms(engine, agreement, year)
    contributed = contributions(engine, agreement, year)
    rows = activity_rows(engine, agreement, year)
    runs = _runs(engine, agreement, year)
    months = months_of(year)
    if through_month is not None:
        last = check_month(through_month, year, "through_month")
    else:
        active = [r.month for r in rows] + [month for month, _, _ in runs]
        last = max(active) if active else None
    elapsed = months.index(last) + 1 if last else 0
    priced = by_provider(rows, last) if last else {}
    paid_to_date: dict[str, Decimal] = {}
    for month, provider, amount in runs:
        if last and month <= last:
            paid_to_date[provider] = EXACT.add(paid_to_date.get(provider, ZERO), amount)
    priced_total = total(priced.values())
    paid_total = total(paid_to_date.values())
    forecast = run_rate_forecast(priced_total, elapsed)
    budget = total(contributed.values())
    projected = None
    if forecast is not None:
        outcome = share_variance(terms.target, forecast, terms.bands)
        capped = apply_cap(outcome.provider_share_amount, terms.gain_cap, terms.loss_cap)
        projected = {"uncapped": capped.uncapped, "capped": capped.capped, "removed_by_cap": capped.removed}
    providers = sorted(set(priced) | {provider for _, provider, _ in runs})
    return {
        "agreement": agreement,
        "financial_year": year,
        "mechanism": terms.mechanism.value,
        "terms": terms.describe(),
        "contributions": contributed,
        "budget": budget,
        "target": terms.target,
        "through_month": last,
        "months_elapsed": elapsed,
        "priced_to_date": priced_total,
        "paid_to_date": paid_total,
        "due": EXACT.subtract(priced_total, paid_total),
        "forecast": forecast,
        "forecast_method": FORECAST_METHOD,
        "variance": None if forecast is None else EXACT.subtract(terms.target, forecast),
        "headroom": None if forecast is None else EXACT.subtract(budget, forecast),
        "projected_provider_amount": projected,
        "unpriced_visits": unpriced_visits(engine, agreement, year),
        "providers": [
            {
                "provider": p,
                "priced_to_date": priced.get(p, ZERO),
                "paid_to_date": paid_to_date.get(p, ZERO),
                "due": EXACT.subtract(priced.get(p, ZERO), paid_to_date.get(p, ZERO)),
            }
            for p in providers
        ],
        "months": [
            {
                "month": m,
                "priced": total(r.spend for r in rows if r.month == m),
                "paid": total(amount for month, _, amount in runs if month == m),
            }
            for m in months
        ],
    }


def _runs(engine: Engine, agreement: str, financial_year: str) -> list[tuple[str, str, Decimal]]:
    """(month, provider, amount) of every payment of the year on account of the year's own activity: a payment
    less any closed-year adjustment it carries, which pays an earlier, closed year (docs/year-end.md)."""
    p = payments.c
    chosen = (p.agreement == agreement) & (p.financial_year == financial_year)
    query = select(p.month, p.provider, p.amount).where(chosen)
    with engine.connect() as conn:
        found = [(r[0], r[1], r[2]) for r in conn.execute(query)]
    adjusted = {(line["month"], line["provider"]): line["amount"]
                for line in closed_year_paid(engine, agreement, paid_in=financial_year)}  # fmt: skip
    if not adjusted:
        return found
    return [(m, provider, EXACT.subtract(amount, adjusted.get((m, provider), ZERO))) for m, provider, amount in found]


# -- closed years --------------------------------------------------------------------------------


def year_end(engine: Engine, agreement: str, financial_year: str) -> dict[str, Any] | None:
    """The close of the agreement's year as recorded (settlement, date, who, figures at close); None if open."""
    c = year_ends.c
    with engine.connect() as conn:
        row = conn.execute(
            select(year_ends).where((c.agreement == agreement) & (c.financial_year == financial_year))
        ).first()
    return None if row is None else dict(row._mapping)


def closed_year_paid(
    engine: Engine, agreement: str, *, closed_year: str | None = None, paid_in: str | None = None
) -> list[dict[str, Any]]:
    """Closed-year adjustment lines (month, provider, closed year, amount, label) of the agreement's runs: those
    paying ``closed_year``, or those in the runs of the year ``paid_in``, in month order."""
    pl = payment_lines.c
    query = select(pl.month, pl.provider, pl.closed_year, pl.amount, pl.label).where(
        (pl.agreement == agreement) & (pl.closed_year != "")
    )
    if closed_year is not None:
        query = query.where(pl.closed_year == closed_year)
    if paid_in is not None:
        query = query.where(pl.month.in_(months_of(paid_in)))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query.order_by(pl.month, pl.provider, pl.line))]


# -- lists --------------------------------------------------------------------------------------


def list_pools(engine: Engine, agreement: str | None = None) -> list[dict[str, Any]]:
    c = pooled_budgets.c
    query = select(pooled_budgets).order_by(c.agreement, c.financial_year)
    if agreement:
        query = query.where(c.agreement == agreement)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def list_settlements(engine: Engine, access: Access, financial_year: str | None = None) -> list[dict[str, Any]]:
    """Every settlement of the agreement (of one year, if given) with its headline figures: for accountants.

    Each says what was recorded after it that changes its figures (``out_of_date``, as ``settlement`` says
    it), so the list never shows as current a settlement that ``settle show`` marks out of date.
    """
    agreement = accountants_only(access).agreement
    c = settlements.c
    query = select(settlements).where(c.agreement == agreement).order_by(c.financial_year, c.sequence)
    if financial_year:
        query = query.where(c.financial_year == check_financial_year(financial_year))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    listed = []
    for row in rows:
        recorded = _recorded(row)
        headline = {name: row._mapping[name] for name in SETTLEMENT_LIST_COLUMNS}
        listed.append({
            **headline,
            "commissioners": list(recorded.commissioners),  # lists as lists, not the read model's joined text
            "approved_by": [{"commissioner": c, "user": s.user, "on": s.on} for c, s in recorded.approvals.items()],
            "out_of_date": _out_of_date(engine, recorded),
        })  # fmt: skip
    return listed


def latest_sequence(engine: Engine, agreement: str, financial_year: str) -> int:
    """The number of the latest settlement of the agreement's year (what a command acts on by default)."""
    c = settlements.c
    query = select(func.max(c.sequence)).where(
        (c.agreement == agreement) & (c.financial_year == check_financial_year(financial_year))
    )
    with engine.connect() as conn:
        found = conn.execute(query).scalar()
    if found is None:
        raise NotFound(f"no settlement of {agreement!r} for {check_financial_year(financial_year)} has been drafted")
    return int(found)


# -- a settlement for people ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Recorded:
    """What a settlement shows, from its aggregate or its read model: ``_shown`` gives it one shape."""

    agreement: str
    financial_year: str
    sequence: int
    previous: int | None
    status: str
    commissioners: tuple[str, ...]
    drafted: Signature
    reviewed: Signature | None
    approvals: Mapping[str, Signature]
    issued: Signature | None
    withdrawn: Signature | None
    superseded_by: int | None
    statement: Mapping[str, Any]
    comparison: Mapping[str, Any] | None
    inputs: Mapping[str, Any]
    references: Mapping[str, Any]


def _signature(sig: Signature | None) -> dict[str, Any] | None:
    if sig is None:
        return None
    return {"user": sig.user, "organisation": sig.organisation, "on": sig.on, "note": sig.note}


def _shown(s: _Recorded, access: Access, out_of_date: list[dict[str, Any]]) -> dict[str, Any]:
    """The settlement as its reader may see it: everything for accountants, a provider's own view for a provider.

    A provider sees its own lines and the totals the partnership shares, never
    a figure summed over providers beyond those (``domain.settlement.provider_view``).
    """
    statement = dict(s.statement)
    view: dict[str, Any] = {
        "agreement": s.agreement,
        "financial_year": s.financial_year,
        "sequence": s.sequence,
        "previous": s.previous,
        "status": s.status,
        "commissioners": list(s.commissioners),
        "drafted": _signature(s.drafted),
        "reviewed": _signature(s.reviewed),
        "approvals": {c: _signature(sig) for c, sig in s.approvals.items()},
        "awaiting": list(awaiting_approval(s.commissioners, s.approvals)),
        "issued": _signature(s.issued),
        "withdrawn": _signature(s.withdrawn),
        "superseded_by": s.superseded_by,
        "out_of_date": out_of_date,
    }
    own = only_provider(access)
    if own is not None:
        # a note about one provider's figures (a pending clawback, a closed year's late change) is that provider's
        view["out_of_date"] = [note for note in out_of_date if note.get("provider") in (None, own)]
        view["statement"] = provider_statement(statement, own)
        if s.comparison is not None:
            view["comparison"] = provider_comparison(s.comparison, own)
        return view
    view["statement"] = statement
    view["comparison"] = s.comparison
    view["inputs"] = s.inputs
    view["references"] = s.references
    return view


def settlement_view(settlement: Settlement, access: Access) -> dict[str, Any]:
    """A settlement aggregate a command has just made or loaded, in the shape ``settlement`` (the query) gives.

    What was recorded after it (``out_of_date``) is the query's to say, from the read models: here, nothing.
    """
    s = settlement
    recorded = _Recorded(
        agreement=s.agreement, financial_year=s.financial_year, sequence=s.sequence, previous=s.previous,
        status=s.status.value, commissioners=tuple(s.commissioners), drafted=s.drafted, reviewed=s.reviewed,
        approvals=s.approvals, issued=s.issued, withdrawn=s.withdrawn, superseded_by=s.superseded_by,
        statement=s.statement, comparison=s.comparison, inputs=s.inputs, references=s.references,
    )  # fmt: skip
    return _shown(recorded, access, [])


def _signature_of(fields: dict[str, Any] | None) -> Signature | None:
    """A step's signature from the read model: the ``Signature`` the aggregate holds."""
    return None if fields is None else Signature(**fields)


def _recorded(row: Any) -> _Recorded:
    approvals = {c: Signature(**sig) for c, sig in row.approvals.items()}
    return _Recorded(
        agreement=row.agreement, financial_year=row.financial_year, sequence=row.sequence, previous=row.previous,
        status=row.status, commissioners=tuple(row.commissioners.split()),
        drafted=Signature(**row.drafted),
        reviewed=_signature_of(row.reviewed), approvals=approvals, issued=_signature_of(row.issued),
        withdrawn=_signature_of(row.withdrawn), superseded_by=row.superseded_by,
        statement=row.statement,
        comparison=row.comparison,
        inputs=row.inputs, references=row.input_references,
    )  # fmt: skip


def settlement(
    engine: Engine, access: Access, agreement: str, financial_year: str, sequence: int | None = None
) -> dict[str, Any]:
    """Settlement number ``sequence`` (default the latest) of the agreement's year, as its reader may see it.

    Accountants see it all (statement, inputs, references, comparison, every
    signature); a provider sees its own lines and the pool's, never another
    provider's figures.
    """
    if agreement != access.agreement:
        raise NotAllowed(f"{access.actor}'s access is to {access.agreement}'s figures, not {agreement}'s")
    year = check_financial_year(financial_year)
    c = settlements.c
    query = select(settlements).where((c.agreement == agreement) & (c.financial_year == year))
    if sequence is None:
        query = query.order_by(c.sequence.desc()).limit(1)
    else:
        query = query.where(c.sequence == sequence)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        if sequence is None:
            raise NotFound(f"no settlement of {agreement!r} for {year} has been drafted")
        raise NotFound(f"settlement {sequence} of {agreement!r} for {year} is not registered")
    recorded = _recorded(row)
    view = _shown(recorded, access, _out_of_date(engine, recorded))
    view["event_position"] = row.position  # the last event recorded on it: what a statement cites it by
    return view


def _out_of_date(engine: Engine, s: _Recorded) -> list[dict[str, Any]]:
    """What was recorded after an issued settlement that changes its figures, each named; empty if nothing.

    An issued settlement never changes, so a later fact is settled by a
    re-settlement. Read here: an incentive assessment whose last run pays
    other amounts than the settlement was computed from (a run that changes
    no payment changes no figure); the missing quarters of a provider whose
    clawback was pending, now accepted; and, once the year is closed, a
    provider's priced activity or cost returns changed since
    (docs/year-end.md). Each note names what changed and the re-settlement
    that includes it, if one was drafted.
    """
    if s.status != "issued":
        return []
    later = _later_settlements(engine, s)
    return [*_incentives_out_of_date(engine, s, later), *_pending_clawbacks_out_of_date(engine, s, later),
            *_closed_year_out_of_date(engine, s), *_closed_year_returns_out_of_date(engine, s)]  # fmt: skip


def _later_settlements(engine: Engine, s: _Recorded) -> list[Any]:
    """The year's settlements drafted after ``s``, not withdrawn, in order: re-settlements that may include a fact."""
    c = settlements.c
    with engine.connect() as conn:
        return conn.execute(
            select(c.sequence, c.status, c.inputs)
            .where((c.agreement == s.agreement) & (c.financial_year == s.financial_year) & (c.sequence > s.sequence))
            .where(c.status != "withdrawn")
            .order_by(c.sequence)
        ).all()


def _closed_year_returns_out_of_date(engine: Engine, s: _Recorded) -> list[dict[str, Any]]:
    """A closed year's issued settlement whose clawback read cost returns that have changed since: a return of
    the year reopened, accepted at another revision, or newly accepted (the returns read model against the
    settlement's references). Its clawback is the re-settlement's to compute: a re-settlement follows."""
    if s.inputs.get("max_margin") is None or year_end(engine, s.agreement, s.financial_year) is None:
        return []  # without a profit cap no return was read: none changes the figures
    year = parse_financial_year(s.financial_year)
    periods = {str(year), *(str(q) for q in year.quarters())}
    used = {(r["provider"], r["period"]): r["accepted_revision"] for r in s.references.get("cost_returns", [])}
    c = cost_returns.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.provider, c.period, c.state, c.accepted_revision)
            .where((c.agreement == s.agreement) & (c.period.in_(periods)) & (c.in_house.is_(False)))
        ).all()
    now = {(r.provider, r.period): r.accepted_revision if r.state == "accepted" else None for r in rows}
    notes = []
    for provider, period in sorted(set(used) | {k for k, v in now.items() if v is not None}):
        was, is_now = used.get((provider, period)), now.get((provider, period))
        if was == is_now:
            continue
        then = f"accepted revision {was}" if was is not None else "no accepted return"
        today = f"accepted revision {is_now}" if is_now is not None else "not accepted (under review again)"
        notes.append({
            "what": "closed-year cost return", "provider": provider, "id": None, "run": None,
            "note": f"{s.financial_year} was closed; {provider}'s {period} cost return: settlement {s.sequence} used "
            f"{then}, now {today}: its excess surplus clawback changes in a re-settlement",
        })  # fmt: skip
    return notes


def _closed_year_out_of_date(engine: Engine, s: _Recorded) -> list[dict[str, Any]]:
    """A closed year's issued settlement whose providers' priced activity has changed since (a late or corrected
    visit, a backdated rate): named per provider, with the closed-year adjustment that pays the difference."""
    closed = year_end(engine, s.agreement, s.financial_year)
    if closed is None:
        return []
    now = by_provider(activity_rows(engine, s.agreement, s.financial_year))
    then = {p: v["activity"] for p, v in s.statement["providers"].items()}
    changed = {p: (then.get(p, ZERO), now.get(p, ZERO)) for p in sorted(set(then) | set(now))
               if then.get(p, ZERO) != now.get(p, ZERO)}  # fmt: skip
    if not changed:
        return []
    c = settlements.c
    with engine.connect() as conn:
        later = conn.execute(
            select(c.sequence, c.status)
            .where((c.agreement == s.agreement) & (c.financial_year == s.financial_year) & (c.sequence > s.sequence))
            .where(c.status != "withdrawn")
            .order_by(c.sequence)
        ).all()
    then_note = (
        f"settlement {later[-1].sequence} ({later[-1].status}) re-settles it" if later
        else "draft the settlement again: a re-settlement follows"
    )
    return [
        {
            "what": "closed-year change", "provider": provider, "id": closed["id"], "run": None,
            "note": f"{s.financial_year} was closed on {closed['closed_on'].isoformat()}; {provider}'s priced activity "
            f"was {format_gbp(was)} in settlement {s.sequence}, is now {format_gbp(is_now)}: the difference "
            f"{format_gbp(EXACT.subtract(is_now, was))} is paid as a closed-year adjustment in the next open payment "
            f"run; {then_note}",
        }  # fmt: skip
        for provider, (was, is_now) in changed.items()
    ]


def _then(including: list[Any]) -> str:
    if including:
        return f"settlement {including[0].sequence} ({including[0].status}) includes it"
    return "draft the settlement again: a re-settlement includes it"


def _incentives_out_of_date(engine: Engine, s: _Recorded, later: list[Any]) -> list[dict[str, Any]]:
    """The year's assessment if its last run pays other incentives (a run that changes no payment changes no figure)."""
    assessed = assessed_incentives(engine, s.agreement, s.financial_year)
    if assessed is None or assessed.payments == dict(s.inputs["incentives"]):
        return []
    including = [r for r in later if dict(r.inputs["incentives"]) == assessed.payments]
    what = (
        f"the {s.financial_year} incentive assessment of {s.agreement} (run {assessed.run}, effective "
        f"{assessed.effective_date.isoformat()}) pays other incentives than this settlement was computed from"
    )
    return [
        {"what": "incentive assessment", "id": assessed.id, "run": assessed.run, "note": f"{what}; {_then(including)}"}
    ]


def _pending_clawbacks_out_of_date(engine: Engine, s: _Recorded, later: list[Any]) -> list[dict[str, Any]]:
    """Each provider whose clawback was pending (quarters missing) and whose year is now complete.

    A pending clawback claws back nothing because the year was incomplete;
    once the missing quarters (or the annual return) are accepted, the
    clawback can be computed, so the settlement no longer states the year's
    figures. A quarter accepted while others are still missing changes no
    figure (the clawback stays pending), so it marks nothing. Read from the
    cost returns read model: accepted, not a commissioner's in-house return.
    """
    if year_end(engine, s.agreement, s.financial_year) is not None:
        return []  # a closed year: its returns' changes are named by _closed_year_returns_out_of_date
    found = []
    r = cost_returns.c
    for provider, row in sorted(s.inputs.get("returns", {}).items()):
        missing = list(row.get("missing", ()))
        if not missing:
            continue
        with engine.connect() as conn:
            accepted = set(
                conn.execute(
                    select(r.period).where(
                        (r.agreement == s.agreement) & (r.provider == provider) & r.accepted_revision.is_not(None)
                        & ~r.in_house & r.period.in_([*missing, s.financial_year])
                    )
                ).scalars()
            )  # fmt: skip
        if s.financial_year not in accepted and not set(missing) <= accepted:
            continue
        now = [f"the annual return for {s.financial_year}"] if s.financial_year in accepted else missing
        complete = [x for x in later if provider in x.inputs.get("returns", {})]
        including = [x for x in complete if not x.inputs["returns"][provider].get("missing")]
        what = (
            f"{provider}'s excess-surplus clawback was pending (returns for {', '.join(missing)} not accepted); "
            f"{', '.join(now)} {'is' if len(now) == 1 else 'are'} accepted now, so the clawback can be computed"
        )
        found.append({"what": "cost returns", "provider": provider, "periods": missing,
                      "note": f"{what}; {_then(including)}"})  # fmt: skip
    return found
