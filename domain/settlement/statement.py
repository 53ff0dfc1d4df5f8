"""The year-end risk and gain share settlement of a pooled budget: pure arithmetic, every step shown.

Accountants sign this and auditors check it, so the computation is a
function of recorded figures only (``SettlementInputs``), returns every step
as a line (label, formula, amount), and its parts add up to the whole to the
penny. The steps:

1. **Actual spend** = priced activity for the year + incentive payments (as
   the year's incentive assessment assessed them: paid through the settlement).
2. **Variance** = target − actual, shared in bands (``share_variance``): the
   provider side's amount is the sum over bands of the variance lying in the
   band × the band's provider share, each rounded once to the penny.
3. **Cap** (``apply_cap``): the provider side's amount is limited by the gain
   and loss caps; what the cap removes stays with the commissioners.
4. The capped amount is **split among providers** pro rata to their priced
   activity (or to the weights the pool's terms agree), with ``allocate``,
   so the parts add to the capped amount exactly.
5. **Excess surplus clawback**, per provider whose accepted cost returns for
   the year show a surplus above the agreement's maximum profit margin. Only
   a complete year is clawed back from (an accepted annual return, or all
   four quarters): a quarter never stands for the year, so while any quarter
   is missing the provider's line is *pending*, names the missing quarters
   and claws back nothing (the settlement still drafts, flagged). Otherwise
   ``base = total`` (surplus ÷ total is the margin; or ``base = total −
   surplus`` where the pool measures the margin on cost), ``permitted =
   max_margin × base``, ``excess = surplus − permitted``, and the clawback is
   ``max(0, excess) × clawback_share``, rounded once to the penny.
6. **Commissioners' cost** = actual + capped provider amount − clawbacks,
   split pro rata to their contributions to the pool with ``allocate``; each
   commissioner's pool balance is its contribution − its cost.
7. Each provider's **balance** = priced activity + incentives + share −
   clawback − paid on account: what the commissioners still owe it
   (negative: what it owes back). Σ balances + Σ paid = the commissioners'
   cost, to the penny.

A re-settlement is computed the same way from the corrected inputs and
compared party by party with the settlement it replaces (``compare``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from domain.errors import RuleBroken
from domain.money import EXACT, ZERO, allocate, format_gbp, format_percent, money_places, round_money, total
from domain.settlement.gainshare import Band, CappedAmount, GainShareOutcome, apply_cap, share_variance
from domain.settlement.pooled_budget import MarginBasis, band_rows, bands_from_rows, describe_band

__all__ = [
    "Clawback",
    "CommissionerPosition",
    "ProviderPosition",
    "ReturnFigures",
    "SettlementInputs",
    "SettlementStatement",
    "Step",
    "compare",
    "compute_clawback",
    "compute_settlement",
]




def _total(amounts: Mapping[str, Decimal]) -> Decimal:
    return total(amounts.values())


# -- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnFigures:
    """A provider's accepted cost returns for the year added together: what a clawback is computed on.

    ``sources`` names each return used (period and accepted revision);
    ``missing`` the quarters of the year with no accepted return (none once
    an annual return or all four quarters are accepted): while any is
    missing, the year is incomplete and its clawback is pending.
    """

    provider: str
    total: Decimal  # every line, surplus included
    surplus: Decimal
    sources: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    def as_row(self) -> dict[str, Any]:
        row = {"provider": self.provider, "total": self.total, "surplus": self.surplus, "sources": list(self.sources)}
        # A complete year's row is as it was before quarters were checked, so settlements drafted then still compare.
        return {**row, "missing": list(self.missing)} if self.missing else row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ReturnFigures:
        return cls(row["provider"], row["total"], row["surplus"], tuple(row["sources"]), tuple(row.get("missing", ())))


@dataclass(frozen=True)
class SettlementInputs:
    """Every figure a settlement is computed from, by value (the references are kept beside them)."""

    agreement: str
    financial_year: str
    target: Decimal
    bands: tuple[Band, ...]
    contributions: dict[str, Decimal]
    activity: dict[str, Decimal]  # priced activity per provider for the year
    paid: dict[str, Decimal] = field(default_factory=dict)  # paid on account per provider
    incentives: dict[str, Decimal] = field(default_factory=dict)  # incentive payments per provider
    gain_cap: Decimal | None = None
    loss_cap: Decimal | None = None
    provider_split: dict[str, Decimal] = field(default_factory=dict)  # agreed weights; empty: activity
    max_margin: Decimal | None = None
    margin_basis: MarginBasis = MarginBasis.TOTAL
    clawback_share: Decimal = Decimal("1")
    returns: dict[str, ReturnFigures] = field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        return {
            "agreement": self.agreement,
            "financial_year": self.financial_year,
            "target": self.target,
            "bands": band_rows(self.bands),
            "contributions": dict(sorted(self.contributions.items())),
            "activity": dict(sorted(self.activity.items())),
            "paid": dict(sorted(self.paid.items())),
            "incentives": dict(sorted(self.incentives.items())),
            "gain_cap": self.gain_cap,
            "loss_cap": self.loss_cap,
            "provider_split": dict(sorted(self.provider_split.items())),
            "max_margin": self.max_margin,
            "margin_basis": MarginBasis(self.margin_basis).value,
            "clawback_share": self.clawback_share,
            "returns": {p: r.as_row() for p, r in sorted(self.returns.items())},
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> SettlementInputs:
        return cls(
            agreement=data["agreement"],
            financial_year=data["financial_year"],
            target=data["target"],
            bands=bands_from_rows(data["bands"]),
            contributions=dict(data["contributions"]),
            activity=dict(data["activity"]),
            paid=dict(data["paid"]),
            incentives=dict(data["incentives"]),
            gain_cap=data["gain_cap"],
            loss_cap=data["loss_cap"],
            provider_split=dict(data["provider_split"]),
            max_margin=data["max_margin"],
            margin_basis=MarginBasis(data["margin_basis"]),
            clawback_share=data["clawback_share"],
            returns={p: ReturnFigures.from_row(r) for p, r in data["returns"].items()},
        )


# -- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One line of the statement. ``party`` is the provider or commissioner it is about ("" for the pool)."""

    label: str
    formula: str
    amount: Decimal
    party: str = ""

    def as_row(self) -> dict[str, Any]:
        return {"label": self.label, "formula": self.formula, "amount": self.amount, "party": self.party}


@dataclass(frozen=True)
class Clawback:
    """The excess surplus clawed back from one provider, with its arithmetic."""

    provider: str
    total: Decimal
    surplus: Decimal
    base: Decimal
    max_margin: Decimal
    permitted: Decimal
    excess: Decimal
    share: Decimal
    amount: Decimal
    formula: str
    pending: bool = False  # the year's returns are incomplete: nothing is clawed back yet


@dataclass(frozen=True)
class ProviderPosition:
    activity: Decimal
    incentives: Decimal
    share: Decimal  # of the capped provider-side amount
    clawback: Decimal
    paid: Decimal
    balance: Decimal  # activity + incentives + share − clawback − paid


@dataclass(frozen=True)
class CommissionerPosition:
    contribution: Decimal
    cost: Decimal
    pool_balance: Decimal  # contribution − cost: positive is money left in the pool for it


@dataclass(frozen=True)
class SettlementStatement:
    """The settlement's result: totals, each party's position, and every step."""

    target: Decimal
    actual: Decimal
    variance: Decimal
    outcome: GainShareOutcome
    capped: CappedAmount
    clawback_total: Decimal
    commissioner_cost: Decimal
    providers: dict[str, ProviderPosition]
    commissioners: dict[str, CommissionerPosition]
    clawbacks: tuple[Clawback, ...]
    steps: tuple[Step, ...]

    def parties(self) -> dict[str, dict[str, dict[str, Decimal]]]:
        """Each party's figures, as compared by a re-settlement."""
        return {
            "providers": {p: dict(vars(x)) for p, x in self.providers.items()},
            "commissioners": {c: dict(vars(x)) for c, x in self.commissioners.items()},
        }

    def to_data(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "actual": self.actual,
            "variance": self.variance,
            "bands": [
                {
                    "band": describe_band(line.band),
                    "lower": line.band.lower,
                    "upper": line.band.upper,
                    "provider_share": line.band.provider_share,
                    "spend_from": None if line.spend_range.low is None else money_places(line.spend_range.low),
                    "spend_to": None if line.spend_range.high is None else money_places(line.spend_range.high),
                    "variance_in_band": line.variance_in_band,
                    "provider_amount": line.provider_share_amount,
                }
                for line in self.outcome.bands
            ],
            "provider_amount_uncapped": self.capped.uncapped,
            "provider_amount": self.capped.capped,
            "removed_by_cap": self.capped.removed,
            "clawback_total": self.clawback_total,
            "commissioner_cost": self.commissioner_cost,
            "clawbacks": [dict(vars(c)) for c in self.clawbacks],
            **self.parties(),
            "steps": [s.as_row() for s in self.steps],
        }


# -- the computation ------------------------------------------------------------------------------


def compute_clawback(
    provider: str, figures: ReturnFigures, max_margin: Decimal, basis: MarginBasis, share: Decimal
) -> Clawback:
    """The excess surplus of one provider's accepted returns above the maximum margin, and the share clawed back.

    Pending (nothing clawed back) while quarters of the year are missing.
    """
    if figures.missing:
        first, *rest = figures.missing
        named = ", ".join([first, *(quarter.rsplit("-", 1)[-1] for quarter in rest)])
        formula = (
            f"pending: returns for {named} not accepted; no clawback is computed from an incomplete year "
            f"(surplus {format_gbp(figures.surplus)} on total {format_gbp(figures.total)} so far)"
        )
        return Clawback(
            provider, figures.total, figures.surplus, ZERO, max_margin, ZERO, ZERO, share, ZERO, formula, pending=True
        )
    base = figures.total if MarginBasis(basis) is MarginBasis.TOTAL else EXACT.subtract(figures.total, figures.surplus)
    if base <= 0:
        formula = f"no clawback: the returns' {MarginBasis(basis).value} is {format_gbp(base)}, so there is no margin"
        return Clawback(provider, figures.total, figures.surplus, base, max_margin, ZERO, ZERO, share, ZERO, formula)
    permitted = EXACT.multiply(max_margin, base)
    excess = EXACT.subtract(figures.surplus, permitted)
    amount = round_money(EXACT.multiply(max(excess, Decimal(0)), share))  # rounded once, from the exact excess
    margin = EXACT.divide(figures.surplus, base).quantize(Decimal("0.0001"), context=EXACT)
    what = "total" if MarginBasis(basis) is MarginBasis.TOTAL else "cost (total − surplus)"
    formula = (
        f"surplus {format_gbp(figures.surplus)} on {what} {format_gbp(base)} is a margin of {format_percent(margin)}; "
        f"permitted {format_percent(max_margin)} × {format_gbp(base)} = {format_gbp(round_money(permitted))}; "
    )
    if excess <= 0:
        formula += "no excess, so no clawback"
    else:
        formula += (
            f"excess {format_gbp(round_money(excess))} × clawback share {format_percent(share)} = {format_gbp(amount)}"
        )
    # The line shows permitted and excess to the penny, as money is shown (the formula too); the amount above was
    # computed from the exact excess, so nothing is rounded twice.
    return Clawback(
        provider, figures.total, figures.surplus, base, max_margin, round_money(permitted), round_money(excess), share,
        amount, formula,
    )  # fmt: skip


def _split(amount: Decimal, weights: Mapping[str, Decimal], what: str) -> dict[str, Decimal]:
    """``amount`` allocated to the keys of ``weights``, to the penny; zero needs no weights.

    Keys are taken in sorted order: ``allocate`` gives a tied odd penny to the
    earlier position, so the order must not depend on how the inputs were built.
    """
    keys = sorted(weights)
    if amount == 0:
        return {k: ZERO for k in keys}
    if not weights or _total(weights) <= 0:
        raise RuleBroken(f"{what}: there is nothing to split {format_gbp(amount)} by")
    return dict(zip(keys, allocate(amount, [weights[k] for k in keys]), strict=True))


def compute_settlement(inputs: SettlementInputs) -> SettlementStatement:
    """The settlement of ``inputs``, every step a line; parts add to wholes to the penny."""
    steps: list[Step] = []
    add = steps.append

    activity_total = _total(inputs.activity)
    incentive_total = _total(inputs.incentives)
    actual = EXACT.add(activity_total, incentive_total)
    for provider, amount in sorted(inputs.activity.items()):
        add(Step("provider's priced activity", f"Σ its priced visits of {inputs.financial_year}", amount, provider))
    add(Step("priced activity", "Σ providers' priced activity", activity_total))
    if inputs.incentives:
        for provider, amount in sorted(inputs.incentives.items()):
            add(Step("provider's incentive payments", "Σ its incentive payments for the year", amount, provider))
        add(Step("incentive payments", "Σ providers' incentive payments", incentive_total))
    add(Step("actual spend", f"{format_gbp(activity_total)} + incentives {format_gbp(incentive_total)}", actual))
    add(Step("target", "the pooled budget's target spend for care", inputs.target))

    outcome = share_variance(inputs.target, actual, inputs.bands)
    add(Step("variance", f"target {format_gbp(inputs.target)} − actual {format_gbp(actual)}", outcome.variance))
    for line in outcome.bands:
        low = "nothing" if line.spend_range.low is None else format_gbp(line.spend_range.low)
        high = "no limit" if line.spend_range.high is None else format_gbp(line.spend_range.high)
        add(
            Step(
                f"band {line.band.describe()} (spend {low} to {high})",
                f"variance in band {format_gbp(line.variance_in_band)} "
                f"× provider share {format_percent(line.band.provider_share)}",
                line.provider_share_amount,
            )
        )
    add(Step("provider side's amount before cap", "Σ band amounts", outcome.provider_share_amount))

    capped = apply_cap(outcome.provider_share_amount, inputs.gain_cap, inputs.loss_cap)
    caps = (
        f"gain cap {format_gbp(inputs.gain_cap) if inputs.gain_cap is not None else 'none'}, "
        f"loss cap {format_gbp(inputs.loss_cap) if inputs.loss_cap is not None else 'none'}"
    )
    add(Step("provider side's amount after cap", f"{format_gbp(capped.uncapped)} limited by {caps}", capped.capped))
    add(Step("removed by the cap (stays with the commissioners)", "before cap − after cap", capped.removed))

    if inputs.provider_split:
        weights, basis = dict(inputs.provider_split), "the agreed split"
    else:
        weights, basis = {p: a for p, a in inputs.activity.items() if a != 0}, "priced activity"
    shares = _split(capped.capped, weights, "provider side's amount")
    weight_total = _total(weights)
    show = format_gbp if not inputs.provider_split else str
    for provider, share in shares.items():
        add(
            Step(
                "provider share",
                f"{format_gbp(capped.capped)} × {basis} {show(weights[provider])} / {show(weight_total)} "
                "(allocate, to the penny)",
                share,
                provider,
            )
        )

    clawbacks: list[Clawback] = []
    if inputs.max_margin is not None:
        for provider, figures in sorted(inputs.returns.items()):
            found = compute_clawback(provider, figures, inputs.max_margin, inputs.margin_basis, inputs.clawback_share)
            clawbacks.append(found)
            sources = f" [{', '.join(figures.sources)}]" if figures.sources else ""
            label = "excess surplus clawback (pending)" if found.pending else "excess surplus clawback"
            add(Step(label, found.formula + sources, found.amount, provider))
    clawback_by = {c.provider: c.amount for c in clawbacks if c.amount}
    clawback_total = _total(clawback_by)

    with localcontext(EXACT):
        cost = actual + capped.capped - clawback_total
    add(
        Step(
            "commissioners' cost",
            f"actual {format_gbp(actual)} + provider side {format_gbp(capped.capped)} "
            f"− clawbacks {format_gbp(clawback_total)}",
            cost,
        )
    )
    contributions = dict(sorted(inputs.contributions.items()))
    if _total(contributions) <= 0:
        raise RuleBroken(
            f"contributions: the pool of {inputs.agreement} has no contributions for {inputs.financial_year}"
        )
    costs = _split(cost, contributions, "commissioners' cost")
    commissioners: dict[str, CommissionerPosition] = {}
    budget = _total(contributions)
    for commissioner, share in costs.items():
        contribution = contributions[commissioner]
        add(
            Step(
                "commissioner's cost",
                f"{format_gbp(cost)} × contribution {format_gbp(contribution)} / {format_gbp(budget)} (allocate)",
                share,
                commissioner,
            )
        )
        pool_balance = EXACT.subtract(contribution, share)
        commissioners[commissioner] = CommissionerPosition(contribution, share, pool_balance)
        add(Step("commissioner's pool balance", "contribution − cost", pool_balance, commissioner))

    providers: dict[str, ProviderPosition] = {}
    everyone = sorted(set(inputs.activity) | set(inputs.incentives) | set(inputs.paid) | set(shares) | set(clawback_by))
    for provider in everyone:
        a, i, s = inputs.activity.get(provider, ZERO), inputs.incentives.get(provider, ZERO), shares.get(provider, ZERO)
        c, p = clawback_by.get(provider, ZERO), inputs.paid.get(provider, ZERO)
        with localcontext(EXACT):
            balance = a + i + s - c - p
        providers[provider] = ProviderPosition(a, i, s, c, p, balance)
        add(
            Step(
                "provider balance",
                f"activity {format_gbp(a)} + incentives {format_gbp(i)} + share {format_gbp(s)} "
                f"− clawback {format_gbp(c)} − paid on account {format_gbp(p)}",
                balance,
                provider,
            )
        )

    _check_adds_up(capped.capped, shares, cost, commissioners, providers)
    add(Step("check: provider shares", "Σ provider shares = provider side's amount after cap", _total(shares)))
    add(Step("check: commissioners' costs", "Σ commissioners' costs = commissioners' cost", cost))
    add(
        Step(
            "check: balances and payments",
            "Σ provider balances + Σ paid on account = commissioners' cost",
            total(EXACT.add(x.balance, x.paid) for x in providers.values()),
        )
    )
    return SettlementStatement(
        target=inputs.target,
        actual=actual,
        variance=outcome.variance,
        outcome=outcome,
        capped=capped,
        clawback_total=clawback_total,
        commissioner_cost=cost,
        providers=providers,
        commissioners=commissioners,
        clawbacks=tuple(clawbacks),
        steps=tuple(steps),
    )


def _check_adds_up(
    capped: Decimal,
    shares: Mapping[str, Decimal],
    cost: Decimal,
    commissioners: Mapping[str, CommissionerPosition],
    providers: Mapping[str, ProviderPosition],
) -> None:
    """The statement's own checks. They hold by construction; a failure is a bug, never rounded away."""
    paid_out = total(EXACT.add(x.balance, x.paid) for x in providers.values())
    if (
        _total(shares) != capped
        or total(x.cost for x in commissioners.values()) != cost
        or paid_out != cost
    ):
        raise ArithmeticError("the settlement does not add up to the penny; nothing may be recorded")


def compare(previous: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, dict[str, dict[str, dict[str, Decimal]]]]:
    """Previous, new and difference of every figure of every party (``SettlementStatement.parties``)."""
    result: dict[str, dict[str, dict[str, dict[str, Decimal]]]] = {}
    for kind in ("providers", "commissioners"):
        before, after = previous.get(kind, {}), new.get(kind, {})
        rows: dict[str, dict[str, dict[str, Decimal]]] = {}
        for party in sorted(set(before) | set(after)):
            old, now = before.get(party, {}), after.get(party, {})
            rows[party] = {
                figure: {
                    "previous": old.get(figure, ZERO),
                    "new": now.get(figure, ZERO),
                    "difference": EXACT.subtract(now.get(figure, ZERO), old.get(figure, ZERO)),
                }
                for figure in sorted(set(old) | set(now))
            }
        result[kind] = rows
    return result
