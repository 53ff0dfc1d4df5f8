"""KPI results: what each provider achieved against the agreement's KPIs, period by period.

Incentives are paid "only if all KPIs are met" (Herefordshire), so a KPI
result is evidence a payment depends on. That is why it is built this way:

* **One record per agreement, provider and period** (a financial year
  ``2018-19`` or quarter ``2018-19-Q3``), with a natural id, so the same
  result can never be recorded twice under two ids.
* **Met or missed is decided when the result is recorded**, against the KPI
  in force on the period's last day (the day the period's performance is
  complete), with ``Kpi.is_met``. The target and direction it was judged
  against are kept in the event, so the record shows the arithmetic even if
  the KPI is revised later.
* **A correction is a new event** with the value before and after and its
  reason; nothing is edited. Recording the same value and evidence again
  records nothing, so re-importing a file is harmless.
* **Every result says where its figure comes from** (``evidence``), because
  an auditor's first question about a missed KPI is "says who?".

Values are exact Decimals (a percentage is written 95, a rate 0.5).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from domain.aggregate import LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.agreements.agreement import Agreement
from domain.agreements.terms import Kpi, KpiDirection
from domain.checks import check_period_in_range, check_reason, check_text
from domain.envelope import Envelope
from domain.errors import InvalidInput, NotFound
from domain.periods import FinancialYear, Period, Quarter

__all__ = [
    "KpiResult",
    "KpiResults",
    "KpiStanding",
    "find_kpi",
    "kpi_standing",
    "target_words",
]

def target_words(direction: KpiDirection | str, target: Decimal) -> str:
    """'at least 95' or 'at most 0.5': the target as people say it."""
    return f"at least {target}" if KpiDirection(direction) is KpiDirection.HIGHER_IS_BETTER else f"at most {target}"


def find_kpi(agreement: Agreement, kpi: str, period: Period) -> Kpi:
    """The KPI (by code, or by name ignoring case) in force on the period's last day."""
    on = period.end
    in_force = agreement.kpis_on(on)
    wanted = (kpi or "").strip()
    for found in in_force:
        if found.code == wanted or found.name.casefold() == wanted.casefold():
            return found
    known = ", ".join(k.code for k in in_force) or "none"
    raise NotFound(f"kpi: {wanted!r} is not a KPI of {agreement.code} on {on.isoformat()} (its KPIs then: {known})")


@dataclass(frozen=True)
class KpiResult:
    """One KPI's result for a provider and period, as last recorded."""

    kpi: str
    name: str
    value: Decimal
    target: Decimal
    direction: str
    met: bool
    evidence: str
    recorded_on: date
    recorded_by: str
    corrections: int = 0
    previous_value: Decimal | None = None

    @property
    def against(self) -> str:
        """'0.8 against a target of at most 0.5'."""
        return f"{self.value} against a target of {target_words(self.direction, self.target)}"

    @property
    def verdict(self) -> str:
        """'0.8 against a target of at most 0.5 (missed)'."""
        return f"{self.against} ({'met' if self.met else 'missed'})"


class KpiResults(LedgerAggregate):
    """A provider's KPI results under one agreement for one period."""

    TOPIC = "openbook:kpi-results"

    class Opened(LedgerCreated):
        TOPIC = "openbook:kpi-results.opened"
        agreement: str
        provider: str
        period: str

    class Recorded(LedgerEvent):
        """A KPI's first result for the period, judged against the KPI then in force."""

        TOPIC = "openbook:kpi-results.recorded"
        kpi: str
        name: str
        value: Decimal
        target: Decimal
        direction: str
        met: bool
        evidence: str

        def apply(self, aggregate: KpiResults) -> None:
            aggregate._put(self, corrections=0, previous=None)

    class Corrected(LedgerEvent):
        """A later result for the same KPI and period, with what it replaces."""

        TOPIC = "openbook:kpi-results.corrected"
        kpi: str
        name: str
        value: Decimal
        target: Decimal
        direction: str
        met: bool
        evidence: str
        previous_value: Decimal
        previous_met: bool
        previous_evidence: str

        def apply(self, aggregate: KpiResults) -> None:
            before = aggregate.results[self.kpi]
            aggregate._put(self, corrections=before.corrections + 1, previous=self.previous_value)

    @staticmethod
    def create_id(agreement: str, provider: str, period: str) -> UUID:
        return natural_id("kpi-results", agreement, provider, period)

    def __init__(self, envelope: Envelope, agreement: str, provider: str, period: str):
        self.agreement = agreement
        self.provider = provider
        self.period = period
        self.results: dict[str, KpiResult] = {}

    def _put(self, event: Recorded | Corrected, *, corrections: int, previous: Decimal | None) -> None:
        self.results[event.kpi] = KpiResult(
            kpi=event.kpi,
            name=event.name,
            value=event.value,
            target=event.target,
            direction=event.direction,
            met=event.met,
            evidence=event.evidence,
            recorded_on=event.envelope.effective_date,
            recorded_by=str(event.envelope.actor),
            corrections=corrections,
            previous_value=previous,
        )

    @classmethod
    def open(cls, envelope: Envelope, agreement: str, provider: str, period: Period) -> KpiResults:
        if not isinstance(period, (FinancialYear, Quarter)):
            raise InvalidInput(f"period: {period!r} is not a financial year or quarter")
        check_period_in_range(period)
        return cls._create(
            cls.Opened,
            id=cls.create_id(agreement, provider, str(period)),
            envelope=envelope,
            agreement=agreement,
            provider=provider,
            period=str(period),
        )

    def record(self, envelope: Envelope, kpi: Kpi, value: object, evidence: object) -> str:
        """Record a result (or correct the last one); returns "recorded", "corrected" or "unchanged".

        A correction must say why (the envelope's reason).
        """
        number = kpi.unit.check(value, "value")
        note = check_text(evidence, "evidence")
        fields = {
            "kpi": kpi.code,
            "name": kpi.name,
            "value": number,
            "target": kpi.target,
            "direction": kpi.direction.value,
            "met": kpi.is_met(number),
            "evidence": note,
        }
        before = self.results.get(kpi.code)
        if before is None:
            self.trigger_event(self.Recorded, envelope=envelope, **fields)
            return "recorded"
        # Exact text, so "95.0" after "95" is a correction of what was filed, as money would be.
        before_key = (str(before.value), before.evidence, str(before.target), before.direction)
        if before_key == (str(number), note, str(kpi.target), kpi.direction.value):
            return "unchanged"
        check_reason(envelope, f"a correction of {self.provider}'s {kpi.code} result for {self.period}")
        self.trigger_event(
            self.Corrected,
            envelope=envelope,
            **fields,
            previous_value=before.value,
            previous_met=before.met,
            previous_evidence=before.evidence,
        )
        return "corrected"


@dataclass(frozen=True)
class KpiStanding:
    """Whether a KPI counts as met for a provider's year, and why, for the incentive gate."""

    kpi: str
    met: bool
    detail: str  # e.g. "2018-19: 0.8 against a target of at most 0.5"

    @property
    def note(self) -> str:
        """'missed-visits missed: 2018-19: 0.8 against a target of at most 0.5'."""
        return f"{self.kpi} {'met' if self.met else 'missed'}: {self.detail}"

    @property
    def label(self) -> str:
        """How a missed KPI is named in an assessment's reason: its code and why."""
        return f"{self.kpi} ({self.detail})"


def kpi_standing(kpi: str, year: FinancialYear, results: Iterable[tuple[str, KpiResult]]) -> KpiStanding:
    """A gate KPI's standing for the year from the provider's results for the year and its quarters.

    ``results`` are (period, result) pairs for this KPI. With no result the
    KPI counts as missed (nobody showed it was met); with several (the year
    and quarters), every one must be met.
    """
    found = sorted(results, key=lambda pair: pair[0])
    if not found:
        return KpiStanding(kpi, False, f"no result recorded for {year} or its quarters, so it counts as missed")
    missed = [(period, r) for period, r in found if not r.met]
    shown = "; ".join(f"{period}: {r.against}" for period, r in (missed or found))
    return KpiStanding(kpi, not missed, shown)
