"""Use cases: KPI results, the incentive scheme, and assessing a year's incentives.

These are accountants' acts (DOMAIN.md: accountants "record KPI results,
assess incentives"), so each is checked by ``ledger.authorisation``
(``authorise``) and recorded through ``_execute`` (idempotency, one
atomic save, read models caught up).

An assessment needs three things recorded elsewhere: delivered hours (the ``activity_totals`` read model,
caught up first), KPI results (``KpiResults`` aggregates) and the scheme's
terms for the year. It gathers them per awarded provider and lets
``domain.incentives.incentive_assessment`` (and, through it, ``domain.incentives.reduction``) do
the arithmetic, so the rule lives in one place.

Reading is not here: the KPI dashboard, result histories, the scheme's sheet
and recorded assessments are ``ledger.queries.incentives``'s views.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from domain.activity.visits import hours
from domain.aggregate import LedgerAggregate
from domain.agreements.agreement import Agreement
from domain.agreements.terms import KpiUnit
from domain.checks import check_financial_year, check_reason, check_text
from domain.envelope import Envelope
from domain.errors import OpenbookError, RuleBroken
from domain.incentives.incentive_assessment import HoursFigure, IncentiveAssessment, assessment_line
from domain.incentives.incentive_scheme import (
    BaselineRule,
    IncentiveScheme,
    KpiGate,
    Measure,
    PaymentRule,
    SchemeTerms,
    check_terms,
    default_from_year,
)
from domain.incentives.kpi_results import KpiResult, KpiResults, find_kpi, kpi_standing
from domain.organisations.organisation import OrganisationKind, check_code
from domain.periods import FinancialYear, Period, parse_financial_year
from domain.returns.cost_return import check_period
from ledger.application import Ledger
from ledger.authorisation import authorise
from ledger.files.kpi_results import KpiRow, read_kpi_file, refuse
from ledger.jsonable import json_ready
from ledger.queries import every_provider as recorded_activity
from ledger.records import Records

__all__ = ["IncentiveUseCases"]

#: Which minutes of ``activity_totals`` each measure sums.
MINUTES_OF = {Measure.PAYABLE_HOURS: "payable_minutes", Measure.ACTUAL_HOURS: "actual_minutes"}


class IncentiveUseCases:
    """KPI results, incentive schemes and assessments; assessments read delivered activity's read model."""

    def __init__(self, ledger: Ledger, records: Records):
        self.ledger = ledger
        self.records = records

    # -- KPI results ---------------------------------------------------------------------------

    def _awarded_provider(self, agreement: Agreement, provider: str, period: Period) -> None:
        """KPI results are for a registered provider holding an award on some day of the period."""
        check_code(provider, "provider")
        self.records.registered_organisation(provider, (OrganisationKind.PROVIDER,), "provider")
        if provider not in {a.provider for a in agreement.awards_during(period.start, period.end)}:
            raise RuleBroken(
                f"provider: {provider} holds no award under {agreement.code} in {period} "
                f"({period.start.isoformat()} to {period.end.isoformat()})"
            )

    def _record_result(
        self, envelope: Envelope, found: Agreement, provider: str, period: Period, kpi: str, value: object,
        evidence: object, pending: dict[tuple[str, str], KpiResults],
    ) -> tuple[KpiResults, str, str]:  # fmt: skip
        """Record one result on the (loaded or new) record of the provider and period."""
        definition = find_kpi(found, kpi, period)
        key = (provider, str(period))
        record = pending.get(key)
        if record is None:
            record = self.records.find(KpiResults.create_id(found.code, provider, str(period)))
            if record is None:
                record = KpiResults.open(envelope, found.code, provider, period)
            pending[key] = record
        return record, definition.code, record.record(envelope, definition, value, evidence)

    def record_kpi_result(
        self,
        envelope: Envelope,
        agreement: str,
        provider: str,
        period: Period | str,
        kpi: str,
        value: Decimal | int | str,
        evidence: str,
    ) -> dict[str, Any]:
        """Record a provider's result for one KPI and period; recording it again with a new value corrects it.

        ``kpi`` is the KPI's code (or its name). Met or missed is judged
        against the KPI in force on the period's last day. A correction must
        say why (the envelope's reason); the same value and evidence again
        records nothing.
        """
        authorise(self.records, envelope.actor, "record_kpi_result", agreement=agreement, organisation=provider)
        chosen = check_period(period)
        payload = {
            "agreement": agreement, "provider": provider, "period": str(chosen), "kpi": kpi, "value": str(value),
            "evidence": evidence,
        }  # fmt: skip

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            found = self.records.agreement(agreement)
            found.check_period_in_term(chosen)
            self._awarded_provider(found, provider, chosen)
            record, code, outcome = self._record_result(envelope, found, provider, chosen, kpi, value, evidence, {})
            result = record.results[code]
            return ([record] if outcome != "unchanged" else []), json_ready(
                {"agreement": agreement, "provider": provider, "period": str(chosen), "outcome": outcome,
                 **_result_json(result)}
            )  # fmt: skip

        return self.ledger._execute("record_kpi_result", payload, envelope, build)

    def import_kpi_results(
        self,
        envelope: Envelope,
        agreement: str,
        source: str | os.PathLike[str] | bytes,
        file_name: str | None = None,
    ) -> dict[str, Any]:
        """Record every result in a CSV file (provider, period, kpi, value, evidence), or none of them.

        Every row is checked first; any problem refuses the whole file with
        one InvalidInput naming each row and column. Rows already recorded as
        they are are skipped; rows that change a recorded result are
        corrections, which need the envelope's reason.
        """
        authorise(self.records, envelope.actor, "import_kpi_results", agreement=agreement)
        read = read_kpi_file(source, file_name)
        payload = {"agreement": agreement, "file_name": read.name, "file_digest": read.digest}

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            found = self.records.agreement(agreement)
            problems: list[str] = []
            checked = [c for c in (self._check_row(envelope, found, row, problems) for row in read.rows) if c]
            seen: dict[tuple[str, str, str], int] = {}
            pending: dict[tuple[str, str], KpiResults] = {}
            outcomes = {"recorded": 0, "corrected": 0, "unchanged": 0}
            for row, period, code in checked:
                earlier = seen.setdefault((row.provider, str(period), code), row.number)
                if earlier != row.number:
                    problems.append(f"row {row.number}: repeats the provider, period and KPI of row {earlier}")
                    continue
                try:
                    _, _, outcome = self._record_result(
                        envelope, found, row.provider, period, code, row.value, row.evidence, pending
                    )
                except OpenbookError as error:
                    problems.append(f"row {row.number}: {error}")
                    continue
                outcomes[outcome] += 1
            if problems:
                raise refuse(read.name, problems)
            changed = [r for r in pending.values() if r.pending_events]
            return changed, {
                "agreement": agreement,
                "file_name": read.name,
                "file_digest": read.digest,
                "rows": len(read.rows),
                **outcomes,
                "message": (
                    f"{read.name}: {outcomes['recorded']} recorded, {outcomes['corrected']} corrected, "
                    f"{outcomes['unchanged']} already recorded as they are"
                ),
            }

        return self.ledger._execute("import_kpi_results", payload, envelope, build)

    def _check_row(
        self, envelope: Envelope, found: Agreement, row: KpiRow, problems: list[str]
    ) -> tuple[KpiRow, Period, str] | None:
        """A row's period and KPI code, or None after noting every problem in it by column."""
        before = len(problems)

        def check(column: str, run: Any) -> Any:
            try:
                return run()
            except OpenbookError as error:
                message = str(error)
                prefix = f"{column}: "
                problems.append(f"row {row.number}, column {column}: {message.removeprefix(prefix)}")
                return None

        period = check("period", lambda: found.check_period_in_term(check_period(row.period.strip())))
        code = definition = None
        if period is not None:
            check("provider", lambda: self._awarded_provider(found, row.provider.strip(), period))
            definition = check("kpi", lambda: find_kpi(found, row.kpi, period))
            code = definition.code if definition is not None else None
        unit = KpiUnit.NUMBER if definition is None else definition.unit  # an unknown KPI: any figure
        check("value", lambda: unit.check(row.value, "value"))
        check("evidence", lambda: check_text(row.evidence, "evidence"))
        if len(problems) > before or period is None or code is None:
            return None
        return KpiRow(row.number, row.provider.strip(), str(period), code, row.value, row.evidence), period, code

    # -- the scheme ------------------------------------------------------------------------------

    def incentive_scheme(self, agreement: str) -> IncentiveScheme:
        return self.records.get(IncentiveScheme.create_id(agreement), f"the incentive scheme of {agreement!r}")

    def set_incentive_scheme(
        self,
        envelope: Envelope,
        agreement: str,
        *,
        minimum_reduction: Decimal | str,
        from_year: FinancialYear | str | None = None,
        measure: Measure | str = Measure.PAYABLE_HOURS,
        baseline: BaselineRule | str = BaselineRule.PREVIOUS_YEAR,
        fixed_baselines: Mapping[str, Decimal | str] | None = None,
        payment: PaymentRule | str = PaymentRule.PER_HOUR,
        payment_per_hour: Decimal | str | None = None,
        saving_rate: Decimal | str | None = None,
        saving_share: Decimal | str | None = None,
        kpi_gate: KpiGate | str = KpiGate.ALL,
        kpis: Iterable[str] = (),
        cap: Decimal | str | None = None,
    ) -> dict[str, Any]:
        """Define the agreement's incentive scheme, or amend it from ``from_year`` (default: the envelope's year).

        Every field is checked and every problem reported at once, each
        naming its field. Setting the terms already in force records nothing.
        """
        authorise(self.records, envelope.actor, "set_incentive_scheme", agreement=agreement)
        year = from_year if from_year is not None else default_from_year(envelope)
        named = list(kpis) if not isinstance(kpis, str) else kpis
        fixed = None if fixed_baselines is None else {p: h for p, h in fixed_baselines.items()}
        raw = {
            "from_year": str(year), "measure": str(measure), "baseline": str(baseline),
            "fixed_baselines": None if fixed is None else {p: str(h) for p, h in fixed.items()},
            "minimum_reduction": str(minimum_reduction), "payment": str(payment),
            "payment_per_hour": _text(payment_per_hour), "saving_rate": _text(saving_rate),
            "saving_share": _text(saving_share), "kpi_gate": str(kpi_gate), "kpis": named, "cap": _text(cap),
        }  # fmt: skip

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            found = self.records.agreement(agreement)
            check_reason(envelope, "an incentive scheme")
            terms = check_terms(
                from_year=year, measure=measure, baseline=baseline, fixed_baselines=fixed,
                minimum_reduction=minimum_reduction, payment=payment, payment_per_hour=payment_per_hour,
                saving_rate=saving_rate, saving_share=saving_share, kpi_gate=kpi_gate, kpis=named, cap=cap,
                agreement=found,
            )  # fmt: skip
            for provider in terms.fixed_baselines:
                self.records.registered_organisation(provider, (OrganisationKind.PROVIDER,), "fixed_baselines")
            scheme: IncentiveScheme | None = self.records.find(IncentiveScheme.create_id(agreement))
            if scheme is not None:
                changed = scheme.amend(envelope, terms)
            else:
                scheme, changed = IncentiveScheme.define(envelope, agreement, terms), True
            result = {"agreement": agreement, "recorded": changed, **_terms_json(terms)}
            if not changed:
                result["message"] = f"the scheme's terms from {terms.from_year} are already these: nothing recorded"
            return ([scheme] if changed else []), json_ready(result)

        return self.ledger._execute("set_incentive_scheme", {"agreement": agreement, **raw}, envelope, build)

    # -- assessment ------------------------------------------------------------------------------

    def _hours_by_provider(self, agreement: str, year: FinancialYear, measure: Measure) -> dict[str, int]:
        column = MINUTES_OF[measure]
        found = recorded_activity.totals_by_provider(self.ledger.read_engine, agreement, str(year))
        return {provider: getattr(totals, column) for provider, totals in found.items()}

    def _standings(self, agreement: str, provider: str, year: FinancialYear, gate: Iterable[str]) -> list[Any]:
        """Each gate KPI's standing for the provider's year, from its results for the year and its quarters."""
        found: dict[str, list[tuple[str, KpiResult]]] = {}
        for period in (year, *year.quarters()):
            record: KpiResults | None = self.records.find(KpiResults.create_id(agreement, provider, str(period)))
            if record is not None:
                for code, result in record.results.items():
                    found.setdefault(code, []).append((str(period), result))
        return [kpi_standing(code, year, found.get(code, ())) for code in gate]

    def _assessment_lines(self, found: Agreement, terms: SchemeTerms, year: FinancialYear) -> list[Any]:
        providers = list(dict.fromkeys(a.provider for a in found.awards_during(year.start, year.end)))
        actual = self._hours_by_provider(found.code, year, terms.measure)
        unit = "payable" if terms.measure is Measure.PAYABLE_HOURS else "actual"
        previous = year.previous()
        if terms.baseline is BaselineRule.PREVIOUS_YEAR:
            before = self._hours_by_provider(found.code, previous, terms.measure)
        gate = terms.gate(k.code for k in found.kpis_on(year.end))
        lines = []
        for provider in providers:
            minutes = actual.get(provider, 0)
            now = HoursFigure(hours(minutes), f"{year} activity: {minutes:,} {unit} minutes ÷ 60", minutes)
            baseline: HoursFigure | None
            if terms.baseline is BaselineRule.FIXED:
                stated = terms.fixed_baselines.get(provider)
                baseline = None if stated is None else HoursFigure(stated, f"fixed in the scheme from {terms.from_year}")
            else:
                was = before.get(provider, 0)
                source = (
                    f"{previous} activity: {was:,} {unit} minutes ÷ 60"
                    if was
                    else f"no {unit} hours of {provider} recorded under {found.code} in {previous}"
                )
                baseline = HoursFigure(hours(was), source, was)
            standings = self._standings(found.code, provider, year, gate)
            lines.append(assessment_line(provider, terms, baseline, now, standings))
        return lines

    def assess_incentives(self, envelope: Envelope, agreement: str, financial_year: FinancialYear | str) -> dict[str, Any]:
        """Assess every awarded provider's incentive for a finished year, and record it with its inputs.

        Run again after a correction (KPI results, activity, the scheme), it
        records a new run with each provider's difference from the last; if
        nothing changed it records nothing and says so.
        """
        authorise(self.records, envelope.actor, "assess_incentives", agreement=agreement)
        chosen = check_financial_year(financial_year)
        year = parse_financial_year(chosen)
        payload = {"agreement": agreement, "financial_year": chosen}

        def build() -> tuple[list[LedgerAggregate], dict[str, Any]]:
            found = self.records.agreement(agreement)
            if envelope.effective_date <= year.end:
                raise RuleBroken(
                    f"financial_year: {chosen} runs to {year.end.isoformat()}; assess it once it is over "
                    f"(the assessment's effective date is {envelope.effective_date.isoformat()})"
                )
            terms = self.incentive_scheme(agreement).terms_for(chosen)
            # delivered hours as recorded up to now
            self.ledger.projections.bring_up_to_date("activity", purpose="assessing incentives")
            lines = self._assessment_lines(found, terms, year)
            if not lines:
                raise RuleBroken(f"no provider holds an award under {agreement} in {chosen}: nothing to assess")
            basis = f"activity, KPI results and the scheme as recorded up to event position {self.ledger.projections.head()}"
            assessment: IncentiveAssessment | None = self.records.find(IncentiveAssessment.create_id(agreement, chosen))
            if assessment is not None:
                changed = assessment.reassess(envelope, terms, lines, basis)
            else:
                assessment, changed = IncentiveAssessment.assess(envelope, agreement, chosen, terms, lines, basis), True
            result = assessment_json(assessment)
            result["recorded"] = changed
            if not changed:
                result["message"] = f"unchanged since run {assessment.run}: nothing new was recorded"
            return ([assessment] if changed else []), result

        return self.ledger._execute("assess_incentives", payload, envelope, build)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _terms_json(terms: SchemeTerms) -> dict[str, Any]:
    return {**terms.as_fields(), "described": terms.describe()}


def _result_json(result: KpiResult) -> dict[str, Any]:
    return {
        "kpi": result.kpi, "name": result.name, "value": result.value, "target": result.target,
        "direction": result.direction, "met": result.met, "evidence": result.evidence,
        "corrections": result.corrections, "previous_value": result.previous_value, "verdict": result.verdict,
    }  # fmt: skip


def assessment_json(assessment: IncentiveAssessment) -> dict[str, Any]:
    """An assessment's last run as JSON-able data, each line with its difference from the run before."""
    lines = []
    for line in assessment.lines:
        row = line.as_row()
        row["eligible"] = line.eligible
        row["previous_payment"] = assessment.previous.get(line.provider) if assessment.run > 1 else None
        row["difference"] = assessment.difference.get(line.provider) if assessment.run > 1 else None
        row["changes"] = [c for c in assessment.changes if c["provider"] == line.provider]
        lines.append(row)
    return json_ready(
        {
            "agreement": assessment.agreement,
            "financial_year": assessment.financial_year,
            "run": assessment.run,
            "assessed_by": assessment.assessed_by,
            "assessed_on": assessment.assessed_on,
            "assessed_at": assessment.modified_on,
            "terms": _terms_json(assessment.terms),
            "lines": lines,
            "total": assessment.total,
            "previous_total": assessment.previous_total,
            "difference": assessment.difference if assessment.run > 1 else {},
            "changes": assessment.changes,
            "basis": assessment.basis,
            "recorded": True,
        }
    )

