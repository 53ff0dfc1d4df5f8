"""Incentive schemes: an agreement's terms for paying providers to reduce hours.

Herefordshire (DOMAIN.md, "Incentives"): providers must reduce hours by at
least 5% a year; a payment is made for the reduction *beyond* 5%, and only if
*all* KPIs are met. The scheme states each part of such a rule so that an
assessment can show which terms it applied:

* **measure**: which hours are compared. ``payable-hours`` (the default) are
  the delivered hours as the agreement pays them (actual minutes under the
  default payment basis); ``actual-hours`` are the minutes carers were there,
  whatever the basis.
* **baseline**: the provider's hours in the previous financial year
  (``previous-year``, the default), or ``fixed`` hours per provider stated in
  the scheme (for a first year with no previous year on record).
* **minimum reduction**: a fraction (0.05 for 5%); only the reduction beyond
  it is paid.
* **payment**: ``per-hour`` (£ per eligible hour), or ``share-of-saving``
  (eligible hours × a stated hourly rate × a share).
* **KPI gate**: ``all`` KPIs of the agreement, or a ``named`` set.
* **cap**: the most one provider can be paid for one year (none by default).

Terms apply from a financial year (``from_year``) until amended: an
amendment from 2020-21 leaves the terms a 2019-20 assessment used as they
were, so re-running an old year never silently applies new terms. Every
change is its own event with a reason; nothing is edited.

The arithmetic itself is ``domain.incentives.reduction`` (``assess_reduction`` and
``assess_reduction_share_of_saving``); this module only holds the terms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.aggregate import LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.agreements.agreement import Agreement
from domain.bounds import MAX_HOURLY_RATE, MAX_HOURS
from domain.checks import (
    check_amount,
    check_choice,
    check_decimal,
    check_financial_year,
    check_hourly_rate,
    check_reason,
    check_year,
)
from domain.envelope import Envelope
from domain.errors import InvalidInput, NotFound, OpenbookError
from domain.incentives.reduction import ReductionAssessment, assess_reduction, assess_reduction_share_of_saving
from domain.money import EXACT, format_gbp, format_percent
from domain.organisations.organisation import check_code
from domain.periods import FinancialYear, financial_year_of, parse_financial_year

__all__ = [
    "BaselineRule",
    "IncentiveScheme",
    "KpiGate",
    "Measure",
    "PaymentRule",
    "SchemeTerms",
    "check_terms",
    "terms_applying",
    "terms_for",
    "default_from_year",
]


class Measure(StrEnum):
    PAYABLE_HOURS = "payable-hours"  # delivered hours as paid under the agreement's payment basis
    ACTUAL_HOURS = "actual-hours"  # the minutes carers were there, whatever the basis


class BaselineRule(StrEnum):
    PREVIOUS_YEAR = "previous-year"
    FIXED = "fixed"


class PaymentRule(StrEnum):
    PER_HOUR = "per-hour"
    SHARE_OF_SAVING = "share-of-saving"


class KpiGate(StrEnum):
    ALL = "all"
    NAMED = "named"


@dataclass(frozen=True)
class SchemeTerms:
    """The terms of a scheme from ``from_year`` on: exact Decimals, checked by ``check_terms``."""

    from_year: str
    measure: Measure = Measure.PAYABLE_HOURS
    baseline: BaselineRule = BaselineRule.PREVIOUS_YEAR
    fixed_baselines: Mapping[str, Decimal] = field(default_factory=dict)
    minimum_reduction: Decimal = Decimal("0.05")
    payment: PaymentRule = PaymentRule.PER_HOUR
    payment_per_hour: Decimal | None = None
    saving_rate: Decimal | None = None
    saving_share: Decimal | None = None
    kpi_gate: KpiGate = KpiGate.ALL
    kpis: tuple[str, ...] = ()
    cap: Decimal | None = None

    def as_fields(self) -> dict[str, Any]:
        """The terms as event fields: primitives, lists, dicts and Decimals only."""
        return {
            "from_year": self.from_year,
            "measure": self.measure.value,
            "baseline": self.baseline.value,
            "fixed_baselines": dict(sorted(self.fixed_baselines.items())),
            "minimum_reduction": self.minimum_reduction,
            "payment": self.payment.value,
            "payment_per_hour": self.payment_per_hour,
            "saving_rate": self.saving_rate,
            "saving_share": self.saving_share,
            "kpi_gate": self.kpi_gate.value,
            "kpis": list(self.kpis),
            "cap": self.cap,
        }

    @classmethod
    def from_fields(cls, data: Mapping[str, Any]) -> SchemeTerms:
        return cls(
            from_year=data["from_year"],
            measure=Measure(data["measure"]),
            baseline=BaselineRule(data["baseline"]),
            fixed_baselines=dict(data["fixed_baselines"]),
            minimum_reduction=data["minimum_reduction"],
            payment=PaymentRule(data["payment"]),
            payment_per_hour=data["payment_per_hour"],
            saving_rate=data["saving_rate"],
            saving_share=data["saving_share"],
            kpi_gate=KpiGate(data["kpi_gate"]),
            kpis=tuple(data["kpis"]),
            cap=data["cap"],
        )

    def same_as(self, other: SchemeTerms) -> bool:
        """Equal as recorded text (so 2.0 and 2.00 differ, as filed figures do)."""
        return _text(self.as_fields()) == _text(other.as_fields())

    def gate(self, kpis_in_force: Iterable[str]) -> tuple[str, ...]:
        """The KPIs a payment depends on, given the agreement's KPIs in force at the year end."""
        return tuple(kpis_in_force) if self.kpi_gate is KpiGate.ALL else self.kpis

    def assess(self, baseline_hours: Decimal, actual_hours: Decimal, missed: Iterable[str]) -> ReductionAssessment:
        """Apply the rule (``domain.incentives.reduction``) with these terms."""
        if self.payment is PaymentRule.PER_HOUR:
            return assess_reduction(
                baseline_hours, actual_hours, self.minimum_reduction, self.payment_per_hour or Decimal(0),
                tuple(missed), self.cap,
            )  # fmt: skip
        return assess_reduction_share_of_saving(
            baseline_hours, actual_hours, self.minimum_reduction, self.saving_rate or Decimal(0),
            self.saving_share or Decimal(0), tuple(missed), self.cap,
        )  # fmt: skip

    def describe(self) -> list[str]:
        """The terms in words, one line each."""
        if self.baseline is BaselineRule.FIXED:
            fixed = ", ".join(f"{p} {h:,} h" for p, h in sorted(self.fixed_baselines.items()))
            baseline = f"fixed hours stated in the scheme: {fixed}"
        else:
            baseline = "the provider's hours in the previous financial year"
        if self.payment is PaymentRule.PER_HOUR:
            payment = f"{format_gbp(self.payment_per_hour or 0)} per hour of reduction beyond the minimum"
        else:
            payment = (
                f"{format_percent(self.saving_share or Decimal(0))} of the saving at "
                f"{format_gbp(self.saving_rate or 0)} per hour of reduction beyond the minimum"
            )
        gate = "every KPI of the agreement" if self.kpi_gate is KpiGate.ALL else "the KPIs " + ", ".join(self.kpis)
        return [
            f"from {self.from_year}",
            f"measure: {self.measure.value}",
            f"baseline: {baseline}",
            f"minimum reduction: {self.minimum_reduction} ({format_percent(self.minimum_reduction)} of the baseline)",
            f"payment: {payment}",
            f"paid only if met: {gate}",
            f"cap per provider per year: {'none' if self.cap is None else format_gbp(self.cap)}",
        ]


def _text(value: Any) -> Any:
    """Fields with every Decimal as its exact text, for comparing terms as recorded."""
    if isinstance(value, dict):
        return sorted((k, _text(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_text(v) for v in value]
    return str(value) if isinstance(value, Decimal) else value


def _collect(problems: list[str], check: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one field's check, keeping its problem so every field's problem is reported at once."""
    try:
        return check(*args, **kwargs)
    except InvalidInput as error:
        problems.extend(error.problems)
    except OpenbookError as error:
        problems.append(str(error))
    return None


def _as_given(value: object, field_name: str, places: int, **limits: Any) -> Decimal:
    """An exact number kept as written ("0.05" stays "0.05"), refusing more than ``places`` decimal places."""
    number = check_decimal(value, field_name, **limits)
    if number.as_tuple().exponent < -places:  # type: ignore[operator]
        raise InvalidInput(f"{field_name}: {value!r} has more than {places} decimal places")
    return number


def _fraction(problems: list[str], value: object, field_name: str, *, below_one: bool) -> Decimal | None:
    number = _collect(problems, _as_given, value, field_name, 4, minimum=Decimal(0))
    if number is None:
        return None
    if number >= 1 if below_one else number > 1:
        as_fraction = EXACT.divide(number, Decimal(100)).normalize(EXACT)
        hint = f" (did you mean {as_fraction:f} for {number.normalize(EXACT):f}%?)" if number > 1 else ""
        limit = "less than 1" if below_one else "at most 1"
        problems.append(f"{field_name}: {number} must be a fraction {limit}, e.g. 0.05 for 5%{hint}")
        return None
    return number


def check_terms(
    *,
    from_year: FinancialYear | str,
    measure: object = Measure.PAYABLE_HOURS,
    baseline: object = BaselineRule.PREVIOUS_YEAR,
    fixed_baselines: Mapping[str, object] | None = None,
    minimum_reduction: object = None,
    payment: object = PaymentRule.PER_HOUR,
    payment_per_hour: object = None,
    saving_rate: object = None,
    saving_share: object = None,
    kpi_gate: object = KpiGate.ALL,
    kpis: Iterable[str] = (),
    cap: object = None,
    agreement: Agreement | None = None,
) -> SchemeTerms:
    """Checked terms, or one InvalidInput listing every field's problem (each naming its field).

    With ``agreement``, named KPIs must be KPIs the agreement has defined.
    """
    problems: list[str] = []
    year = _collect(problems, check_year, from_year)
    chosen_measure = _collect(problems, check_choice, Measure, measure, "measure")
    rule = _collect(problems, check_choice, BaselineRule, baseline, "baseline")
    fixed: dict[str, Decimal] = {}
    for provider, hours in (fixed_baselines or {}).items():
        code = _collect(problems, check_code, provider, "fixed_baselines")
        number = _collect(
            problems, check_decimal, hours, f"fixed_baselines[{provider}]", places=2, minimum=Decimal(0),
            above_minimum=True, maximum=MAX_HOURS,
        )  # fmt: skip
        if code is not None and number is not None:
            fixed[code] = number
    if rule is BaselineRule.FIXED and not fixed_baselines:
        problems.append("fixed_baselines: a fixed baseline states the hours of at least one provider")
    if rule is BaselineRule.PREVIOUS_YEAR and fixed_baselines:
        problems.append("fixed_baselines: only a fixed baseline states hours; the previous-year baseline reads them")
    if minimum_reduction is None:
        problems.append("minimum_reduction: required, a fraction such as 0.05 for 5%")
        minimum = None
    else:
        minimum = _fraction(problems, minimum_reduction, "minimum_reduction", below_one=True)
    how = _collect(problems, check_choice, PaymentRule, payment, "payment")
    per_hour = rate = share = None
    if how is PaymentRule.PER_HOUR:
        if payment_per_hour is None:
            problems.append("payment_per_hour: required for a per-hour payment, in pounds, e.g. 2.00")
        else:
            per_hour = _collect(problems, check_hourly_rate, payment_per_hour, "payment_per_hour")
        for name, value in (("saving_rate", saving_rate), ("saving_share", saving_share)):
            if value is not None:
                problems.append(f"{name}: only a share-of-saving payment has one; this payment is per-hour")
    elif how is PaymentRule.SHARE_OF_SAVING:
        if saving_rate is None:
            problems.append("saving_rate: required for a share of the saving, the hourly rate in pounds, e.g. 15.80")
        else:
            rate = _collect(
                problems, _as_given, saving_rate, "saving_rate", 4, minimum=Decimal(0), above_minimum=True,
                maximum=MAX_HOURLY_RATE,
            )
        if saving_share is None:
            problems.append("saving_share: required for a share of the saving, a fraction such as 0.5 for 50%")
        else:
            share = _fraction(problems, saving_share, "saving_share", below_one=False)
            if share is not None and share == 0:
                problems.append("saving_share: 0 would never pay anything; give a fraction above 0")
        if payment_per_hour is not None:
            problems.append("payment_per_hour: only a per-hour payment has one; this payment is a share of the saving")
    gate = _collect(problems, check_choice, KpiGate, kpi_gate, "kpi_gate")
    if isinstance(kpis, str):
        problems.append(f"kpis: give a list of KPI codes, not the single text {kpis!r}")
        named: list[str] = []
    else:
        named = [str(k).strip() for k in kpis]
    if gate is KpiGate.ALL and named:
        problems.append("kpis: the 'all' gate takes every KPI of the agreement; name KPIs only with the 'named' gate")
    if gate is KpiGate.NAMED:
        if not named:
            problems.append("kpis: the 'named' gate needs at least one KPI code")
        repeated = sorted({k for k in named if named.count(k) > 1})
        if repeated:
            problems.append(f"kpis: {', '.join(repeated)} named more than once")
        if agreement is not None:
            known = {k.code for k in agreement.kpis_on(date.max)}
            unknown = [k for k in named if k not in known]
            if unknown:
                problems.append(
                    f"kpis: {', '.join(unknown)} not a KPI of {agreement.code} "
                    f"(its KPIs: {', '.join(sorted(known)) or 'none'})"
                )
    limit = None
    if cap is not None:
        limit = _collect(problems, check_amount, cap, "cap")
    if problems:
        raise InvalidInput(problems)
    return SchemeTerms(
        from_year=year,
        measure=chosen_measure,
        baseline=rule,
        fixed_baselines=fixed,
        minimum_reduction=minimum,  # type: ignore[arg-type]
        payment=how,
        payment_per_hour=per_hour,
        saving_rate=rate,
        saving_share=share,
        kpi_gate=gate,
        kpis=tuple(dict.fromkeys(named)),
        cap=limit,
    )


class IncentiveScheme(LedgerAggregate):
    """An agreement's incentive scheme: its terms from each financial year, as defined and amended."""

    TOPIC = "openbook:incentive-scheme"

    class Defined(LedgerCreated):
        TOPIC = "openbook:incentive-scheme.defined"
        agreement: str
        terms: dict[str, Any]

    class Amended(LedgerEvent):
        TOPIC = "openbook:incentive-scheme.amended"
        terms: dict[str, Any]

        def apply(self, aggregate: IncentiveScheme) -> None:
            aggregate._add(self.terms, self.envelope)

    @staticmethod
    def create_id(agreement: str) -> UUID:
        return natural_id("incentive-scheme", agreement)

    def __init__(self, envelope: Envelope, agreement: str, terms: dict[str, Any]):
        self.agreement = agreement
        self.history: list[tuple[SchemeTerms, Envelope]] = []
        self._add(terms, envelope)

    def _add(self, terms: dict[str, Any], envelope: Envelope) -> None:
        self.history.append((SchemeTerms.from_fields(terms), envelope))

    @classmethod
    def define(cls, envelope: Envelope, agreement: str, terms: SchemeTerms) -> IncentiveScheme:
        """The agreement's first scheme; its terms apply from ``terms.from_year``."""
        return cls._create(
            cls.Defined, id=cls.create_id(agreement), envelope=envelope, agreement=agreement, terms=terms.as_fields()
        )

    def amend(self, envelope: Envelope, terms: SchemeTerms) -> bool:
        """New terms from ``terms.from_year``; returns False (recording nothing) if they are the terms already."""
        check_reason(envelope, "amending an incentive scheme")
        current = self._terms_from(terms.from_year)
        if current is not None and current.same_as(terms):
            return False
        self.trigger_event(self.Amended, envelope=envelope, terms=terms.as_fields())
        return True

    def _terms_from(self, year: str) -> SchemeTerms | None:
        return terms_applying(year, [terms for terms, _envelope in self.history])

    def terms_for(self, year: FinancialYear | str) -> SchemeTerms:
        return terms_for(self.agreement, [terms for terms, _envelope in self.history], year)


def terms_applying(year: FinancialYear | str, versions: Iterable[SchemeTerms]) -> SchemeTerms | None:
    """The version applying in ``year``: the latest ``from_year`` not after it; a later recording wins a tie.

    ``versions`` in the order recorded. The one rule, for the aggregate and for
    queries over the recorded versions.
    """
    wanted = parse_financial_year(check_financial_year(year))
    best: SchemeTerms | None = None
    for terms in versions:
        start = parse_financial_year(terms.from_year)
        if start <= wanted and (best is None or start >= parse_financial_year(best.from_year)):
            best = terms
    return best


def terms_for(agreement: str, versions: Sequence[SchemeTerms], year: FinancialYear | str) -> SchemeTerms:
    """The version applying in ``year`` (``terms_applying``), or ``NotFound`` saying when the scheme starts."""
    chosen = check_financial_year(year)
    found = terms_applying(chosen, versions)
    if found is None:
        first = min(parse_financial_year(t.from_year) for t in versions)
        raise NotFound(f"the incentive scheme of {agreement} applies from {first}, not in {chosen}")
    return found


def default_from_year(envelope: Envelope) -> str:
    """Terms apply from the financial year of the envelope's effective date unless stated."""
    return str(financial_year_of(envelope.effective_date))
