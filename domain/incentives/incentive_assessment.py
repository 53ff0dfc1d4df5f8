"""Incentive assessments: a year's incentive payments per provider, with every input and the arithmetic.

An assessment is money owed, so it is *recorded*, like arrears: who ran it,
when (the event's own timestamp), the scheme's terms it applied, and per
provider the baseline and actual hours and where each came from, the KPIs in
the gate and which were missed (a KPI with no result counts as missed, and the
reason says so), then ``domain.incentives.reduction``' result: reduction, threshold,
eligible hours, payment, whether the cap bit, and the reason in words.

Assessments are never edited. Running the assessment again after data was
corrected (a KPI result, delivered hours, the scheme) records a new run
(``Reassessed``) with each provider's payment before and after and what
changed; if nothing changed, nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.aggregate import LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.envelope import Envelope
from domain.incentives.incentive_scheme import PaymentRule, SchemeTerms
from domain.incentives.kpi_results import KpiStanding
from domain.money import EXACT, ZERO, format_gbp, round_money, total

__all__ = ["AssessmentLine", "HoursFigure", "IncentiveAssessment", "assessment_line"]


@dataclass(frozen=True)
class HoursFigure:
    """Hours with where they came from; ``minutes`` is None for hours stated in the scheme."""

    hours: Decimal
    source: str
    minutes: int | None = None


def _h(value: Decimal) -> str:
    """Hours for people without needless zeros: 200.00 -> '200', 1234.5 -> '1,234.5'."""
    normal = value.normalize(EXACT)
    if normal.as_tuple().exponent > 0:  # type: ignore[operator]
        normal = normal.quantize(Decimal(1), context=EXACT)
    return f"{normal:,f}"


@dataclass(frozen=True)
class AssessmentLine:
    """One provider's assessment: inputs, the arithmetic, the outcome and the reason."""

    provider: str
    baseline_hours: Decimal | None
    baseline_source: str
    actual_hours: Decimal
    actual_source: str
    minimum_reduction: Decimal
    payment_per_hour: Decimal
    cap: Decimal | None
    kpis_in_gate: tuple[str, ...]
    missed_kpis: tuple[str, ...]
    kpi_notes: tuple[str, ...]
    reduction_hours: Decimal | None
    threshold_hours: Decimal | None
    eligible_hours: Decimal | None
    payment: Decimal
    capped: bool
    reason: str
    working: str

    @property
    def eligible(self) -> bool:
        """Whether the provider earned a payment (hours beyond the minimum and every gate KPI met)."""
        return self.payment > 0

    def as_row(self) -> dict[str, Any]:
        row = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name in ("kpis_in_gate", "missed_kpis", "kpi_notes"):
            row[name] = list(row[name])
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AssessmentLine:
        fields = dict(row)
        for name in ("kpis_in_gate", "missed_kpis", "kpi_notes"):
            fields[name] = tuple(fields[name])
        return cls(**fields)


def assessment_line(
    provider: str,
    terms: SchemeTerms,
    baseline: HoursFigure | None,
    actual: HoursFigure,
    standings: Sequence[KpiStanding],
) -> AssessmentLine:
    """Assess one provider's year with the scheme's terms (``domain.incentives.reduction`` does the arithmetic).

    Without a baseline (no hours in the previous year, or none stated for a
    fixed baseline) there is nothing to reduce from: no payment, and the
    reason says why.
    """
    gate = tuple(s.kpi for s in standings)
    missed = [s for s in standings if not s.met]
    notes = tuple(s.note for s in standings)
    per_hour = terms.payment_per_hour if terms.payment is PaymentRule.PER_HOUR else None
    if per_hour is None:
        per_hour = EXACT.multiply(terms.saving_rate or Decimal(0), terms.saving_share or Decimal(0))
    common = {
        "provider": provider,
        "baseline_source": baseline.source if baseline else "none",
        "actual_hours": actual.hours,
        "actual_source": actual.source,
        "minimum_reduction": terms.minimum_reduction,
        "payment_per_hour": per_hour,
        "cap": terms.cap,
        "kpis_in_gate": gate,
        "missed_kpis": tuple(s.kpi for s in missed),
        "kpi_notes": notes,
    }
    if baseline is None or baseline.hours <= 0:
        why = baseline.source if baseline else "the scheme states no baseline for this provider"
        return AssessmentLine(
            **common,
            baseline_hours=None if baseline is None else baseline.hours,
            reduction_hours=None,
            threshold_hours=None,
            eligible_hours=None,
            payment=ZERO,
            capped=False,
            reason=f"No payment: there is no baseline to reduce from ({why}).",
            working="no baseline, so no arithmetic",
        )
    result = terms.assess(baseline.hours, actual.hours, [s.label for s in missed])
    if terms.payment is PaymentRule.PER_HOUR:
        priced = f"{_h(result.eligible_hours)} h × {format_gbp(per_hour)}"
    else:
        priced = f"{_h(result.eligible_hours)} h × {format_gbp(terms.saving_rate or 0)} × {terms.saving_share}"
    # As domain.incentives.reduction rounds it: once, to the penny.
    earned = round_money(EXACT.multiply(result.eligible_hours, per_hour))
    working = (
        f"threshold = {_h(baseline.hours)} h × {terms.minimum_reduction} = {_h(result.threshold_hours)} h; "
        f"reduction = {_h(baseline.hours)} h − {_h(actual.hours)} h = {_h(result.reduction_hours)} h; "
        f"eligible = max(0, {_h(result.reduction_hours)} h − {_h(result.threshold_hours)} h) "
        f"= {_h(result.eligible_hours)} h; earned = {priced} = {format_gbp(earned)}"
    )
    if missed:
        working += f"; withheld, KPI missed: {', '.join(s.kpi for s in missed)}"
    elif result.capped:
        working += f"; capped at {format_gbp(result.payment)}"
    working += f"; payment {format_gbp(result.payment)}"
    return AssessmentLine(
        **common,
        baseline_hours=baseline.hours,
        reduction_hours=result.reduction_hours,
        threshold_hours=result.threshold_hours,
        eligible_hours=result.eligible_hours,
        payment=result.payment,
        capped=result.capped,
        reason=result.reason,
        working=working,
    )


#: Line fields whose change between runs is reported (the rest follow from them).
COMPARED = ("baseline_hours", "actual_hours", "missed_kpis", "eligible_hours", "payment", "capped")


def _changes(before: Iterable[AssessmentLine], after: Iterable[AssessmentLine]) -> list[dict[str, Any]]:
    old = {line.provider: line for line in before}
    new = {line.provider: line for line in after}
    found: list[dict[str, Any]] = []
    for provider in sorted(set(old) | set(new)):
        a, b = old.get(provider), new.get(provider)
        for name in COMPARED:
            was = None if a is None else getattr(a, name)
            now = None if b is None else getattr(b, name)
            if isinstance(was, tuple):
                was, now = ", ".join(was) or "none", ", ".join(now or ()) or "none"
            if str(was) != str(now):
                found.append({"provider": provider, "field": name, "before": _shown(was), "after": _shown(now)})
    return found


def _shown(value: Any) -> str | None:
    return None if value is None else str(value)


def _payments(lines: Iterable[AssessmentLine]) -> dict[str, Decimal]:
    return {line.provider: line.payment for line in sorted(lines, key=lambda x: x.provider)}


class IncentiveAssessment(LedgerAggregate):
    """An agreement's incentive assessment for one financial year, run and re-run."""

    TOPIC = "openbook:incentive-assessment"

    class Assessed(LedgerCreated):
        """The first run: the terms applied and every provider's line."""

        TOPIC = "openbook:incentive-assessment.assessed"
        agreement: str
        financial_year: str
        terms: dict[str, Any]
        lines: list[dict[str, Any]]
        total: Decimal
        basis: str

    class Reassessed(LedgerEvent):
        """A later run that differs: its lines, each provider's payment before and after, and what changed."""

        TOPIC = "openbook:incentive-assessment.reassessed"
        run: int
        terms: dict[str, Any]
        lines: list[dict[str, Any]]
        total: Decimal
        previous: dict[str, Decimal]
        difference: dict[str, Decimal]
        changes: list[dict[str, Any]]
        basis: str

        def apply(self, aggregate: IncentiveAssessment) -> None:
            aggregate.previous_total = aggregate.total
            aggregate.previous = dict(self.previous)
            aggregate.difference = dict(self.difference)
            aggregate.changes = list(self.changes)
            aggregate._set(self.run, self.terms, self.lines, self.total, self.basis, self.envelope)

    @staticmethod
    def create_id(agreement: str, financial_year: str) -> UUID:
        return natural_id("incentive-assessment", agreement, financial_year)

    def __init__(
        self,
        envelope: Envelope,
        agreement: str,
        financial_year: str,
        terms: dict[str, Any],
        lines: list[dict[str, Any]],
        total: Decimal,
        basis: str,
    ):
        self.agreement = agreement
        self.financial_year = financial_year
        #: Set by a re-run: the last run's payments and total, each provider's difference, what changed.
        self.previous: dict[str, Decimal] = {}
        self.previous_total: Decimal | None = None
        self.difference: dict[str, Decimal] = {}
        self.changes: list[dict[str, Any]] = []
        self._set(1, terms, lines, total, basis, envelope)

    def _set(
        self, run: int, terms: dict[str, Any], lines: list[dict[str, Any]], total: Decimal, basis: str,
        envelope: Envelope,
    ) -> None:  # fmt: skip
        self.run = run
        self.assessed_by = str(envelope.actor)
        self.assessed_on = envelope.effective_date
        self.reason = envelope.reason
        self.terms = SchemeTerms.from_fields(terms)
        self.lines = tuple(AssessmentLine.from_row(row) for row in lines)
        self.total = total
        self.basis = basis

    @property
    def payments(self) -> dict[str, Decimal]:
        return _payments(self.lines)

    @classmethod
    def assess(
        cls, envelope: Envelope, agreement: str, financial_year: str, terms: SchemeTerms,
        lines: Sequence[AssessmentLine], basis: str,
    ) -> IncentiveAssessment:  # fmt: skip
        """Record the year's first assessment."""
        return cls._create(
            cls.Assessed,
            id=cls.create_id(agreement, financial_year),
            envelope=envelope,
            agreement=agreement,
            financial_year=financial_year,
            terms=terms.as_fields(),
            lines=[line.as_row() for line in lines],
            total=total(line.payment for line in lines),
            basis=basis,
        )

    def reassess(self, envelope: Envelope, terms: SchemeTerms, lines: Sequence[AssessmentLine], basis: str) -> bool:
        """Record a new run if its terms or lines differ from the last run's; returns whether it did."""
        if terms.same_as(self.terms) and [x.as_row() for x in lines] == [x.as_row() for x in self.lines]:
            return False
        now = _payments(lines)
        before = self.payments
        everyone = sorted(set(now) | set(before))
        self.trigger_event(
            self.Reassessed,
            envelope=envelope,
            run=self.run + 1,
            terms=terms.as_fields(),
            lines=[line.as_row() for line in lines],
            total=total(line.payment for line in lines),
            previous=before,
            difference={p: EXACT.subtract(now.get(p, ZERO), before.get(p, ZERO)) for p in everyone},
            changes=_changes(self.lines, lines),
            basis=basis,
        )
        return True
