"""The year's reconciliation: the figures that describe the same money, side by side, agreeing to the penny.

An accounting ledger is judged on whether its figures agree with each other.
For one agreement's financial year this checks four identities, each from
the read models other views already show (never an aggregate, never a write),
so a figure that drifted in one place is caught against another:

1. **priced activity = paid on account + still due**: the activity read
   model's priced activity against what the payment statements paid (their
   lines; an adjustment's arrears are an identified part of its amount, never
   added to it) and what the pool's position says is still due.
2. **payment runs = Σ payment statements**: each provider's payment in each
   month's run against the lines of its payment statement.
3. **settlement actual spend = priced activity + incentives**: the latest
   settlement's actual spend against priced activity as it stands and the
   incentive payments of the year's latest assessment run
   (``every_provider.assessed_incentives``, what the settlement's inputs read).
4. **Σ provider balances + paid on account = commissioners' cost**: the
   settlement's balances with the payments the runs made, against the cost it
   puts on the commissioners.

A closed year (docs/year-end.md) also shows its close and the closed-year
adjustments that paid its late changes; identity 4 counts them as paid on
account, and a year whose runs carried them shows them apart in identity 1.

Each identity shows its left and right side, their difference and either
"holds" or every difference named (which month, which provider, which
figure, and why it differs); one that cannot apply to the year (no pooled
budget, no settlement) says why. For accountants and auditors only: it shows
every provider's figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from domain.checks import check_financial_year
from domain.money import EXACT, ZERO, format_gbp, total
from domain.settlement.payment_ledger import ACTIVITY, ADJUSTMENT, ON_ACCOUNT, months_of
from ledger.authorisation import Access, accountants_only
from ledger.queries.every_provider import activity_rows, assessed_incentives, by_provider
from ledger.queries.settlements import (
    closed_year_paid,
    list_pools,
    list_settlements,
    payment_runs,
    payment_statement,
    pool_position,
    settlement,
    year_end,
)

HOLDS = "holds"
DIFFERS = "differs"
NOT_APPLICABLE = "not applicable"


@dataclass(frozen=True)
class Identity:
    """One identity of the year: both sides, what they are made of, and each difference named."""

    number: int
    name: str
    left_label: str
    left: Decimal
    right_label: str
    right: Decimal
    parts: tuple[tuple[str, Decimal], ...] = ()
    differences: tuple[str, ...] = ()
    not_applicable: str | None = None

    @property
    def difference(self) -> Decimal:
        return EXACT.subtract(self.left, self.right)

    @property
    def status(self) -> str:
        if self.not_applicable is not None:
            return NOT_APPLICABLE
        return DIFFERS if self.difference != 0 or self.differences else HOLDS

    @property
    def named(self) -> list[str]:
        """Every difference named, the sides' own first; empty when the identity holds or does not apply."""
        if self.not_applicable is not None:
            return []
        sides = [
            f"{self.left_label} {format_gbp(self.left)} differs from {self.right_label} {format_gbp(self.right)} "
            f"by {format_gbp(self.difference)}"
        ]
        return [*(sides if self.difference != 0 else []), *self.differences]

    @property
    def finding(self) -> str:
        """"holds", why it does not apply, or every difference named."""
        if self.not_applicable is not None:
            return f"{NOT_APPLICABLE}: {self.not_applicable}"
        return "; ".join(self.named) or HOLDS

    def as_json(self) -> dict[str, Any]:
        """Both sides and the difference; none of them for an identity that cannot apply (absent, not £0.00)."""
        applies = self.not_applicable is None
        return {
            "number": self.number,
            "identity": self.name,
            "left": {"label": self.left_label, "amount": self.left if applies else None},
            "right": {"label": self.right_label, "amount": self.right if applies else None},
            "parts": [{"label": label, "amount": amount} for label, amount in self.parts],
            "difference": self.difference if applies else None,
            "status": self.status,
            "finding": self.finding,
            "differences": self.named,
        }


def _not_applicable(number: int, name: str, left: str, right: str, why: str) -> Identity:
    return Identity(number, name, left, ZERO, right, ZERO, not_applicable=why)


@dataclass
class _Year:
    """What the identities read, once: priced activity, the runs, their statements and the pool's position."""

    agreement: str
    year: str
    priced: dict[str, Decimal]
    priced_by_month: dict[str, Decimal]
    pool: bool
    runs: list[dict[str, Any]] = field(default_factory=list)
    statements: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (month, provider) -> it
    position: dict[str, Any] = field(default_factory=dict)  # the pool's through March (pool_position)

    def lines(self) -> Iterable[dict[str, Any]]:
        for statement in self.statements.values():
            yield from statement["lines"]


def reconcile(engine: Engine, access: Access, financial_year: str) -> dict[str, Any]:
    """The year's four identities, each holding, named where it differs, or saying why it cannot apply."""
    agreement = accountants_only(access).agreement
    year = check_financial_year(financial_year)
    rows = activity_rows(engine, agreement, year)
    found = _Year(
        agreement, year, by_provider(rows),
        {m: total(r.spend for r in rows if r.month == m) for m in months_of(year)},
        pool=any(p["financial_year"] == year for p in list_pools(engine, agreement)),
    )  # fmt: skip
    if found.pool:
        found.runs = payment_runs(engine, access, year)
        found.statements = {
            (r["month"], r["provider"]): payment_statement(engine, access, r["provider"], r["month"])
            for r in found.runs
        }
        found.position = pool_position(engine, access, year, months_of(year)[-1])
    chosen = [s for s in list_settlements(engine, access, year) if s["status"] != "withdrawn"]
    drafted = settlement(engine, access, agreement, year, chosen[-1]["sequence"]) if chosen else None
    closed = _closed(engine, found)
    identities = [
        _still_due_paid_after_close(_priced_is_paid_and_due(found), closed),
        _runs_are_their_statements(found),
        _actual_is_priced_and_incentives(engine, access, found, drafted),
        _balances_and_paid_are_the_cost(found, drafted, closed),
    ]
    holds = all(i.status != DIFFERS for i in identities)
    return {
        "agreement": agreement,
        "financial_year": year,
        "pooled_budget": found.pool,
        "settlement": None if drafted is None else {"sequence": drafted["sequence"], "status": drafted["status"]},
        "closed": closed,
        "holds": holds,
        "verdict": _verdict(holds, identities),
        "identities": [i.as_json() for i in identities],
        "months": _months(found),
    }


def _verdict(holds: bool, identities: list[Identity]) -> str:
    """The reconciliation in one sentence, the same on the page and in the CLI: "holds" is said only of
    identities that apply, and a year where none applies yet says so rather than that every one holds."""
    applying = sum(i.not_applicable is None for i in identities)
    if not holds:
        return "An identity differs."
    if applying == len(identities):
        return "Every identity holds."
    if applying:
        return f"Every identity that applies holds ({applying} of {len(identities)}; the others do not apply yet)."
    return "Nothing to check yet: no identity applies to this year."


def _months(found: _Year) -> list[dict[str, Any]]:
    """Each month's priced activity as it stands and its run as paid, by what each line pays (``line_kind``).

    The month's own lines, the adjustments for earlier months (with the
    arrears they include) and sums paid on account under capitation, which
    are no adjustment: they pay no month's activity and re-price nothing.
    """
    shown = []
    for month in months_of(found.year):
        lines = [line for (m, _), s in found.statements.items() if m == month for line in s["lines"]]
        adjustments = [line for line in lines if line["kind"] == ADJUSTMENT]
        shown.append({
            "month": month,
            "priced": found.priced_by_month[month],
            "paid": total(line["amount"] for line in lines),
            "paid_for_the_month": total(line["amount"] for line in lines if line["kind"] == ACTIVITY),
            "adjustments": total(line["amount"] for line in adjustments),
            "arrears_in_adjustments": total(line["arrears"] for line in adjustments),
            "on_account": total(line["amount"] for line in lines if line["kind"] == ON_ACCOUNT),
        })  # fmt: skip
    return shown


def _priced_is_paid_and_due(found: _Year) -> Identity:
    """Priced activity (activity read model) = paid on account (payment statements' lines) + still due (position).

    An adjustment's arrears are part of its amount: shown, never added. A
    line that carries arrears outside an adjustment would count them twice,
    and an adjustment of £0.00 that claims arrears re-paid nothing at the new
    rate: each is named.
    """
    name, left_label = "priced activity = paid on account + still due", "priced activity"
    right_label = "paid on account + still due"
    if not found.pool:
        return _not_applicable(1, name, left_label, right_label,
                               f"no pooled budget of {found.agreement} for {found.year}: nothing is paid on account "
                               "through the ledger")  # fmt: skip
    priced = total(found.priced.values())
    paid = total(line["amount"] for line in found.lines() if not line.get("closed_year"))
    arrears = total(line["arrears"] for line in found.lines())
    earlier_years = _closed_year_lines_of_runs(found)
    position = found.position
    due = position["due"]
    differences = [
        f"{provider}'s payment statement for {month}, line {number} ({line['label']}), carries arrears "
        f"{format_gbp(line['arrears'])} outside an adjustment: they would be counted twice"
        for (month, provider), s in sorted(found.statements.items())
        for number, line in enumerate(s["lines"], 1)
        if line["arrears"] != 0 and line["kind"] != ADJUSTMENT
    ]
    differences.extend(
        f"{provider}'s payment statement for {month}, line {number} ({line['label']}), is an adjustment of "
        f"£0.00 that claims arrears {format_gbp(line['arrears'])}: it re-paid nothing, so it paid no arrears"
        for (month, provider), s in sorted(found.statements.items())
        for number, line in enumerate(s["lines"], 1)
        if line["kind"] == ADJUSTMENT and line["amount"] == 0 and line["arrears"] != 0
    )
    if position["priced_to_date"] != priced:
        differences.append(f"the pool's position has priced activity {format_gbp(position['priced_to_date'])}, "
                           f"the activity read model {format_gbp(priced)}")  # fmt: skip
    parts = (
        ("paid on account (Σ payment statements' lines)", paid),
        ("of which arrears identified in adjustments (included, not added)", arrears),
        ("still due (the pool's position: priced − paid by the runs)", due),
        *earlier_years,
    )
    return Identity(1, name, left_label, priced, right_label, EXACT.add(paid, due), parts, tuple(differences))


def _runs_are_their_statements(found: _Year) -> Identity:
    """Each provider's payment in each month's run = the lines of its payment statement, added up."""
    name, left_label, right_label = "payment runs = Σ payment statements", "payment runs", "Σ payment statements"
    if not found.pool:
        return _not_applicable(2, name, left_label, right_label,
                               f"no pooled budget of {found.agreement} for {found.year}: no payment runs")  # fmt: skip
    differences = []
    for (month, provider), s in sorted(found.statements.items()):
        lines = total(line["amount"] for line in s["lines"])
        if lines != s["amount"]:
            differences.append(
                f"{month} run pays {provider} {format_gbp(s['amount'])}, its payment statement's "
                f"{len(s['lines'])} lines add to {format_gbp(lines)} (difference {format_gbp(s['amount'] - lines)})"
            )
    runs = total(r["amount"] for r in found.runs)
    statements = total(line["amount"] for line in found.lines())
    return Identity(2, name, left_label, runs, right_label, statements, differences=tuple(differences))


def _actual_is_priced_and_incentives(
    engine: Engine, access: Access, found: _Year, drafted: dict[str, Any] | None
) -> Identity:
    """The settlement's actual spend = priced activity as it stands + the incentives the latest assessment pays.

    Both sides are taken as they stand now, so a settlement drafted before a
    late change (a correction, a backdated rate, a new assessment run) no
    longer agrees, whatever its state: the difference is named per provider,
    with the settlement's own note of what is out of date.
    """
    name, left_label = "settlement actual spend = priced activity + incentives", "settlement actual spend"
    right_label = "priced activity + incentives"
    if drafted is None:
        why = f"no settlement of {found.agreement} for {found.year} has been drafted"
        assessed_now = assessed_incentives(engine, found.agreement, found.year)
        if assessed_now is not None:
            why += (f"; the incentives of assessment run {assessed_now.run}, "
                    f"{format_gbp(total(assessed_now.payments.values()))}, are paid through it")  # fmt: skip
        return _not_applicable(3, name, left_label, right_label, why)
    sequence, statement = drafted["sequence"], drafted["statement"]
    references = drafted["references"].get("incentives")  # text, in a settlement drafted before they were read
    referenced = references.get("assessments", []) if isinstance(references, dict) else []
    reference = referenced[-1] if referenced else None
    latest = assessed_incentives(engine, found.agreement, found.year)
    incentives: dict[str, Decimal] = dict(latest.payments) if latest is not None else {}
    priced = total(found.priced.values())
    assessed_total = total(incentives.values())
    differences = []
    for provider, position in sorted(statement["providers"].items()):
        now = found.priced.get(provider, ZERO)
        if position["activity"] != now:
            differences.append(f"{provider}: settlement {sequence} was computed on priced activity "
                               f"{format_gbp(position['activity'])}, priced activity is now {format_gbp(now)}: "
                               "changed since, a re-settlement is due")  # fmt: skip
        if position.get("incentives", ZERO) != incentives.get(provider, ZERO):
            ran = "no assessment run" if reference is None else f"assessment run {reference['run']}"
            differences.append(f"{provider}: settlement {sequence} includes incentives "
                               f"{format_gbp(position.get('incentives', ZERO))} ({ran}), the latest assessment "
                               f"run {latest.run if latest else '-'} pays {format_gbp(incentives.get(provider, ZERO))}: "
                               "changed since, a re-settlement is due")  # fmt: skip
    for provider in sorted(set(found.priced) | set(incentives)):
        if provider not in statement["providers"]:
            differences.append(f"{provider}: not in settlement {sequence}, but has priced activity "
                               f"{format_gbp(found.priced.get(provider, ZERO))} and incentives "
                               f"{format_gbp(incentives.get(provider, ZERO))}")  # fmt: skip
    differences.extend(note["note"] for note in drafted["out_of_date"])
    which = "none assessed" if latest is None else f"assessment run {latest.run}, the latest"
    parts = (("priced activity (activity read model)", priced), (f"incentives ({which})", assessed_total))
    right = EXACT.add(priced, assessed_total)
    return Identity(3, name, left_label, statement["actual"], right_label, right, parts, tuple(differences))


def _balances_and_paid_are_the_cost(
    found: _Year, drafted: dict[str, Any] | None, closed: dict[str, Any] | None = None
) -> Identity:
    """Σ the settlement's provider balances + Σ paid on account by the runs = the settlement's commissioners' cost.

    Paid on account is what the payment runs paid, as they stand: a run
    recorded after the settlement was drafted is named, provider by provider.
    For a closed year it includes the closed-year adjustments (paid in later
    runs, or due in the next), as its re-settlement counts them.
    """
    name, left_label = "provider balances + paid on account = commissioners' cost", "provider balances + paid on account"
    right_label = "commissioners' cost"
    if drafted is None:
        return _not_applicable(4, name, left_label, right_label,
                               f"no settlement of {found.agreement} for {found.year} has been drafted")  # fmt: skip
    sequence, statement = drafted["sequence"], drafted["statement"]
    paid = {p["provider"]: p["paid_to_date"] for p in found.position["providers"]}
    for provider, amount in (closed or {}).get("counted_as_paid", {}).items():
        paid[provider] = EXACT.add(paid.get(provider, ZERO), amount)
    balances = total(p["balance"] for p in statement["providers"].values())
    paid_total = total(paid.values())
    differences = [
        f"{provider}: settlement {sequence} counted paid on account {format_gbp(position['paid'])}, the payment runs "
        f"paid {format_gbp(paid.get(provider, ZERO))}"
        for provider, position in sorted(statement["providers"].items())
        if position["paid"] != paid.get(provider, ZERO)
    ]
    differences.extend(
        f"{provider}: paid {format_gbp(amount)} on account, but not in settlement {sequence}"
        for provider, amount in sorted(paid.items())
        if provider not in statement["providers"] and amount != 0
    )
    costs = total(c["cost"] for c in statement["commissioners"].values())
    if costs != statement["commissioner_cost"]:
        differences.append(f"settlement {sequence}'s commissioners' costs add to {format_gbp(costs)}, its "
                           f"commissioners' cost is {format_gbp(statement['commissioner_cost'])}")  # fmt: skip
    parts: tuple[tuple[str, Decimal], ...] = (
        ("Σ provider balances (settlement)", balances), ("paid on account (payment runs)", paid_total),
    )  # fmt: skip
    if closed is not None:
        parts += (
            (f"of which closed-year adjustments paid in later runs ({closed['paid_where'] or 'none yet'})",
             total(closed["paid_in_later_runs"].values())),
            ("of which closed-year adjustments due in the next open run", total(closed["due_in_next_run"].values())),
        )  # fmt: skip
    left = EXACT.add(balances, paid_total)
    return Identity(4, name, left_label, left, right_label, statement["commissioner_cost"], parts, tuple(differences))


# -- closed years (docs/year-end.md) ---------------------------------------------------------------------


def _closed(engine: Engine, found: _Year) -> dict[str, Any] | None:
    """A closed year's close and its late changes: each provider's priced activity now less at close, the
    closed-year adjustments that paid it (run month and provider), and what the next open run will pay."""
    closed = year_end(engine, found.agreement, found.year)
    if closed is None:
        return None
    at_close: dict[str, Decimal] = dict(closed["activity"])
    adjustments = closed_year_paid(engine, found.agreement, closed_year=found.year)
    paid_later: dict[str, Decimal] = {}
    for line in adjustments:
        paid_later[line["provider"]] = EXACT.add(paid_later.get(line["provider"], ZERO), line["amount"])
    providers = sorted(set(at_close) | set(found.priced) | set(paid_later))
    changed = {p: EXACT.subtract(found.priced.get(p, ZERO), at_close.get(p, ZERO)) for p in providers}
    due = {p: EXACT.subtract(changed[p], paid_later.get(p, ZERO)) for p in providers}
    return {
        "closed_on": closed["closed_on"],
        "closed_by": closed["closed_by"],
        "settlement": closed["settlement"],
        "activity_at_close": at_close,
        "counted_as_paid": {p: v for p, v in changed.items() if v != 0},
        "adjustments": [
            {"provider": a["provider"], "month": a["month"], "amount": a["amount"], "label": a["label"]}
            for a in adjustments
        ],
        "paid_in_later_runs": paid_later,
        "paid_where": ", ".join(sorted({f"{a['month']} run" for a in adjustments})),
        "due_in_next_run": {p: v for p, v in due.items() if v != 0},
    }


def _still_due_paid_after_close(identity: Identity, closed: dict[str, Any] | None) -> Identity:
    """Identity 1 of a closed year: of what is still due, the closed-year adjustments later runs paid (and where)
    and what the next open run will pay, named as parts (included, not added)."""
    if closed is None or identity.not_applicable is not None or not closed["counted_as_paid"]:
        return identity
    parts = (
        (f"of still due, paid as closed-year adjustments in later runs ({closed['paid_where'] or 'none yet'})",
         total(closed["paid_in_later_runs"].values())),
        ("of still due, due as closed-year adjustments in the next open run",
         total(closed["due_in_next_run"].values())),
    )  # fmt: skip
    return replace(identity, parts=(*identity.parts, *parts))


def _closed_year_lines_of_runs(found: _Year) -> tuple[tuple[str, Decimal], ...]:
    """The closed-year adjustments this year's runs carry: paid, but for an earlier closed year, so shown apart
    from paid on account (never this year's activity); none in most years."""
    by_year: dict[str, Decimal] = {}
    for line in found.lines():
        if line.get("closed_year"):
            by_year[line["closed_year"]] = EXACT.add(by_year.get(line["closed_year"], ZERO), line["amount"])
    return tuple(
        (f"closed-year adjustments paid in this year's runs (for {year}, not this year's activity)", amount)
        for year, amount in sorted(by_year.items())
    )
