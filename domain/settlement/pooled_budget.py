"""The pooled budget of one agreement for one financial year: its target, bands, caps and payment mechanism.

Council and CCG/ICB pool their money (section 75); the pool sets a target
spend for care, and after the year the under- or overspend against it is
shared in bands (``domain.settlement.gainshare``). This record holds the terms the
settlement is computed by, so they are agreed and on the record *before* the
year's figures are known:

* the **target**, the **bands** (a band set that does not cover all spend
  exactly once is refused, naming the gap or overlap) and optional **caps**
  on what the provider side can gain or lose;
* the **payment mechanism**: ``rate`` pays priced delivered activity
  monthly; ``capitated`` pays a fixed monthly sum per provider and zone on
  account, reconciled against priced activity at year end;
* the **excess surplus** terms: the agreed share of a provider's surplus
  above the agreement's maximum profit margin that is clawed back, and
  whether the margin is measured on the return's total (surplus ÷ total,
  the default, as ``domain.returns.unit_costs`` reports it) or on cost;
* optionally an agreed **split** of the provider side's amount among
  providers; without one it is split pro rata to priced activity.

The commissioners' contributions are *not* repeated here: they are the
agreement's (``Agreement.contributions``), and the settlement records which
version of the agreement it read them from.

Terms are stored as plain data (Decimal, None, text, lists, dicts) so the
history needs no value-object transcodings. A revision is a new event with
its reason; nothing is edited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.aggregate import LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.checks import check_amount, check_choice, check_decimal, check_financial_year, check_reason, check_year
from domain.envelope import Envelope
from domain.errors import InvalidInput, OpenbookError
from domain.money import EXACT, ZERO, format_gbp, format_percent, total
from domain.organisations.organisation import check_code
from domain.settlement.gainshare import Band, validate_bands

__all__ = [
    "Capitation",
    "MarginBasis",
    "PaymentMechanism",
    "PoolTerms",
    "PooledBudget",
    "bands_from_rows",
    "band_rows",
    "describe_band",
]


class PaymentMechanism(StrEnum):
    RATE = "rate"  # pay priced delivered activity monthly
    CAPITATED = "capitated"  # pay a fixed monthly sum per provider and zone on account


class MarginBasis(StrEnum):
    """What a maximum profit margin is a fraction of."""

    TOTAL = "total"  # surplus ÷ the return's total (cost + surplus): the margin on what was charged
    COST = "cost"  # surplus ÷ cost (the total less the surplus): a mark-up on cost


@dataclass(frozen=True)
class Capitation:
    """A fixed sum paid to ``provider`` each month on account for ``zone``."""

    provider: str
    zone: str
    monthly: Decimal

    def as_row(self) -> dict[str, Any]:
        return {"provider": self.provider, "zone": self.zone, "monthly": self.monthly}



def describe_band(band: Band) -> str:
    """'50% of the variance between 90% and 100% of target'."""
    return f"{format_percent(band.provider_share)} of the variance {band.describe()}"


def band_rows(bands: Iterable[Band]) -> list[dict[str, Any]]:
    return [{"lower": b.lower, "upper": b.upper, "provider_share": b.provider_share} for b in bands]


def bands_from_rows(rows: Iterable[Mapping[str, Any]]) -> tuple[Band, ...]:
    return tuple(Band(r["lower"], r["upper"], r["provider_share"]) for r in rows)


def _limit(value: object, field: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and value.strip() in ("", "-")):
        return None
    return check_decimal(value, field, minimum=Decimal(0))


def _band(value: object, index: int) -> Band:
    """A band from a Band, a (lower, upper, share) triple or a dict; limits may be None (open-ended)."""
    field = f"bands[{index}]"
    if isinstance(value, Band):
        lower, upper, share = value.lower, value.upper, value.provider_share
    elif isinstance(value, Mapping):
        lower, upper, share = value.get("lower"), value.get("upper"), value.get("provider_share")
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 3:
        lower, upper, share = value
    else:
        raise InvalidInput(f"{field}: {value!r} is not a band (lower, upper, provider share)")
    low = _limit(lower, f"{field}.lower")
    # Spend is never negative, so a band from 0% of target has no lower limit.
    if low == 0:
        low = None
    return Band(low, _limit(upper, f"{field}.upper"), check_decimal(share, f"{field}.provider_share"))


@dataclass(frozen=True)
class PoolTerms:
    """The terms a year's settlement is computed by (see the module docstring)."""

    target: Decimal
    bands: tuple[Band, ...]
    gain_cap: Decimal | None = None
    loss_cap: Decimal | None = None
    mechanism: PaymentMechanism = PaymentMechanism.RATE
    capitation: tuple[Capitation, ...] = ()
    clawback_share: Decimal = Decimal("1")
    margin_basis: MarginBasis = MarginBasis.TOTAL
    provider_split: tuple[tuple[str, Decimal], ...] = ()

    @classmethod
    def check(
        cls,
        *,
        target: object,
        bands: Iterable[object],
        gain_cap: object = None,
        loss_cap: object = None,
        mechanism: object = PaymentMechanism.RATE,
        capitation: Iterable[object] = (),
        clawback_share: object = Decimal("1"),
        margin_basis: object = MarginBasis.TOTAL,
        provider_split: Mapping[str, object] | None = None,
    ) -> PoolTerms:
        """Terms from a command's input, every problem reported at once, each naming its field."""
        problems: list[str] = []

        def attempt(check: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return check(*args, **kwargs)
            except OpenbookError as error:
                problems.append(str(error))
                return None

        chosen_target = attempt(check_amount, target, "target", above_zero=True)
        chosen_bands = [attempt(_band, b, i) for i, b in enumerate(bands)]
        if not any(b is None for b in chosen_bands):
            validated = attempt(validate_bands, chosen_bands)
            chosen_bands = list(validated) if validated is not None else [None]
        caps = [attempt(check_amount, c, n) if c is not None else None
                for c, n in ((gain_cap, "gain_cap"), (loss_cap, "loss_cap"))]  # fmt: skip
        chosen_mechanism = attempt(check_choice, PaymentMechanism, mechanism, "mechanism")
        sums = [attempt(_capitation, c, i) for i, c in enumerate(capitation)]
        keys = [(c.provider, c.zone) for c in sums if c is not None]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            problems.append(f"capitation: {', '.join(f'{p} in {z}' for p, z in repeated)} given more than once")
        if chosen_mechanism is PaymentMechanism.CAPITATED and not sums:
            problems.append("capitation: a capitated pool needs a monthly sum for at least one provider and zone")
        if chosen_mechanism is PaymentMechanism.RATE and sums:
            problems.append("capitation: a pool paid by rate has no capitated sums; choose mechanism capitated")
        share = attempt(check_decimal, clawback_share, "clawback_share", minimum=ZERO, maximum=Decimal(1))
        basis = attempt(check_choice, MarginBasis, margin_basis, "margin_basis")
        split = attempt(_split, provider_split or {})
        if problems:
            raise InvalidInput(problems)
        return cls(
            target=chosen_target,
            bands=tuple(chosen_bands),
            gain_cap=caps[0],
            loss_cap=caps[1],
            mechanism=chosen_mechanism,
            capitation=tuple(sorted(sums, key=lambda c: (c.provider, c.zone))),
            clawback_share=share,
            margin_basis=basis,
            provider_split=split,
        )

    def to_data(self) -> dict[str, Any]:
        """The terms as plain data for an event."""
        return {
            "target": self.target,
            "bands": band_rows(self.bands),
            "gain_cap": self.gain_cap,
            "loss_cap": self.loss_cap,
            "mechanism": self.mechanism.value,
            "capitation": [c.as_row() for c in self.capitation],
            "clawback_share": self.clawback_share,
            "margin_basis": self.margin_basis.value,
            "provider_split": {p: w for p, w in self.provider_split},
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PoolTerms:
        """Rebuild stored terms as recorded, without checking them again."""
        return cls(
            target=data["target"],
            bands=bands_from_rows(data["bands"]),
            gain_cap=data["gain_cap"],
            loss_cap=data["loss_cap"],
            mechanism=PaymentMechanism(data["mechanism"]),
            capitation=tuple(Capitation(c["provider"], c["zone"], c["monthly"]) for c in data["capitation"]),
            clawback_share=data["clawback_share"],
            margin_basis=MarginBasis(data["margin_basis"]),
            provider_split=tuple(sorted(data["provider_split"].items())),
        )

    def monthly_capitation(self) -> dict[str, Decimal]:
        """Each provider's capitated sum per month (all its zones together)."""
        found: dict[str, Decimal] = {}
        for c in self.capitation:
            found[c.provider] = EXACT.add(found.get(c.provider, ZERO), c.monthly)
        return found

    def describe(self) -> list[str]:
        """The terms in words, one line each, for people."""
        caps = (
            f"gain cap {format_gbp(self.gain_cap) if self.gain_cap is not None else 'none'}, "
            f"loss cap {format_gbp(self.loss_cap) if self.loss_cap is not None else 'none'}"
        )
        lines = [f"target {format_gbp(self.target)}; {caps}", "provider side's share:"]
        lines.extend(f"  {describe_band(b)}" for b in self.bands)
        lines.append(f"payment mechanism: {self.mechanism.value}")
        lines.extend(f"  {c.provider} {c.zone}: {format_gbp(c.monthly)} a month on account" for c in self.capitation)
        lines.append(
            f"excess surplus: {format_percent(self.clawback_share)} of surplus above the maximum profit margin "
            f"(margin on {self.margin_basis.value}) is clawed back"
        )
        if self.provider_split:
            split = ", ".join(f"{p} {w}" for p, w in self.provider_split)
            lines.append(f"provider side split as agreed: {split}")
        else:
            lines.append("provider side split pro rata to priced activity")
        return lines


def _capitation(value: object, index: int) -> Capitation:
    field = f"capitation[{index}]"
    if isinstance(value, Capitation):
        provider, zone, monthly = value.provider, value.zone, value.monthly
    elif isinstance(value, Mapping):
        provider, zone, monthly = value.get("provider"), value.get("zone"), value.get("monthly")
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 3:
        provider, zone, monthly = value
    else:
        raise InvalidInput(f"{field}: {value!r} is not (provider, zone, monthly sum)")
    return Capitation(
        check_code(str(provider or ""), f"{field}.provider"),
        check_code(str(zone or ""), f"{field}.zone"),
        check_amount(monthly, f"{field}.monthly"),
    )


def _split(split: Mapping[str, object]) -> tuple[tuple[str, Decimal], ...]:
    chosen = tuple(
        sorted((check_code(p, "provider_split"), check_decimal(w, f"provider_split.{p}", minimum=ZERO))
               for p, w in split.items())
    )  # fmt: skip
    if chosen and total(w for _, w in chosen) <= 0:
        raise InvalidInput("provider_split: the agreed weights must add up to more than zero")
    return chosen


class PooledBudget(LedgerAggregate):
    """The terms of one agreement's pool for one financial year, as set up and revised."""

    TOPIC = "openbook:pooled-budget"

    class SetUp(LedgerCreated):
        TOPIC = "openbook:pooled-budget.set-up"
        agreement: str
        financial_year: str
        terms: dict[str, Any]

    class Revised(LedgerEvent):
        """New terms, and which of them changed (the reason is in the envelope)."""

        TOPIC = "openbook:pooled-budget.revised"
        terms: dict[str, Any]
        changed: list[str]

        def apply(self, aggregate: PooledBudget) -> None:
            aggregate.terms = PoolTerms.from_data(self.terms)
            aggregate.revisions += 1

    @staticmethod
    def create_id(agreement: str, financial_year: str) -> UUID:
        return natural_id("pooled-budget", agreement, check_financial_year(financial_year))

    def __init__(self, envelope: Envelope, agreement: str, financial_year: str, terms: dict[str, Any]):
        self.agreement = agreement
        self.financial_year = financial_year
        self.terms = PoolTerms.from_data(terms)
        self.revisions = 0

    @property
    def natural_key(self) -> str:
        return f"{self.agreement} {self.financial_year}"

    @classmethod
    def set_up(cls, envelope: Envelope, agreement: str, financial_year: str, terms: PoolTerms) -> PooledBudget:
        year = check_year(financial_year)
        check_reason(envelope, "a pooled budget")
        return cls._create(
            cls.SetUp,
            id=cls.create_id(agreement, year),
            envelope=envelope,
            agreement=check_code(agreement, "agreement"),
            financial_year=year,
            terms=terms.to_data(),
        )

    def revise(self, envelope: Envelope, terms: PoolTerms) -> bool:
        """Record new terms with their reason; returns False (records nothing) if nothing changed."""
        check_reason(envelope, "revising a pooled budget")
        old, new = self.terms.to_data(), terms.to_data()
        changed = [key for key in new if new[key] != old[key]]
        if not changed:
            return False
        self.trigger_event(self.Revised, envelope=envelope, terms=new, changed=changed)
        return True
