"""Cost returns: one provider's filed costs for one agreement and period, and how they are reviewed.

One return per provider, per agreement, per period (a quarter such as
``2019-20-Q2``, or a financial year for an annual review). The provider may
be the council itself, filing its in-house costs the same way (Wirral 5.9).

The workflow, every step its own event:

* **drafted** (revision 1) → **submitted** → accepted or rejected;
* while submitted, an accountant **queries** a line (or a volume) with a
  question, the provider **answers** it; the provider may **amend** the
  figures (a new revision) while drafted or submitted;
* **accepted** is refused while a query is open, or while the current
  revision has a finding that needs an explanation (lowest pay below the
  statutory wage floor; an implausible figure the bounds say must be
  explained, ``domain/returns/plausibility.py``) and no accountant has
  recorded an explanation of that revision's findings (**breach-explained**,
  its name from when the wage floor was the only such finding).
  An explanation belongs to the revision it explains: amended figures need
  their own;
* **rejected** needs reasons; an accepted or rejected return is changed only
  by **reopening** it with a reason, which puts it back under review.

Nothing is overwritten: every revision stays readable (``revision(n)``),
with who recorded it, when, and why. Filings are stored in events as plain
data (text keys, Decimal, int, date), and are rebuilt on replay without
being checked again, so tightening a rule later never changes history.

Who may do what (a provider drafts, submits, answers and amends; an
accountant queries, explains, accepts, rejects and reopens) is checked by
the application's authorisation, not here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.aggregate import Change, LedgerAggregate, LedgerCreated, LedgerEvent, natural_id
from domain.checks import check_period_in_range, check_text
from domain.envelope import Envelope
from domain.errors import InvalidInput, NotFound, RuleBroken
from domain.organisations.organisation import check_code
from domain.periods import Period, PeriodFormatError, parse_period
from domain.returns.filing import CostLine, CostReturnFiling, Volume
from domain.returns.plausibility import DEFAULT_BOUNDS, PlausibilityBounds, PlausibilityFinding, check_plausibility
from domain.returns.wage_checks import FindingKind, StatutoryFloorOn, WageFinding, check_wages

#: "the statutory floor on date D": the table the rules read (see ``domain.returns.wage_floors``).
FloorOn = StatutoryFloorOn

__all__ = ["BreachExplanation", "CostReturn", "Query", "ReturnStatus", "Revision", "check_period", "return_status"]


class ReturnStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    QUERIED = "queried"  # submitted, with at least one open query
    ACCEPTED = "accepted"
    REJECTED = "rejected"


def return_status(state: ReturnStatus | str, open_queries: int) -> ReturnStatus:
    """Where a return stands: its workflow state, shown as "queried" while submitted with open queries.

    The one rule, for the aggregate and for the read model.
    """
    chosen = ReturnStatus(state)
    if chosen is ReturnStatus.SUBMITTED and open_queries:
        return ReturnStatus.QUERIED
    return chosen


@dataclass(frozen=True)
class Revision:
    number: int
    filing: CostReturnFiling
    recorded_on: date
    recorded_by: str
    reason: str | None


@dataclass(frozen=True)
class Query:
    """An accountant's question on one line or volume of a revision, and the provider's answer."""

    query_id: str
    line: str
    question: str
    revision: int
    asked_on: date
    asked_by: str
    answer: str | None = None
    answered_on: date | None = None
    answered_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.answer is None


@dataclass(frozen=True)
class BreachExplanation:
    revision: int
    explanation: str
    recorded_on: date
    recorded_by: str



def check_period(value: Period | str) -> Period:
    """A financial quarter or year, from its canonical text ("2019-20-Q2", "2019-20")."""
    if not isinstance(value, str):
        return value
    try:
        return parse_period(value)
    except PeriodFormatError as error:
        raise InvalidInput(f"period: {error}") from None


def _queryable(line: object) -> str:
    """Queries are on a cost line or a volume, by key."""
    for choices in (CostLine, Volume):
        try:
            return choices(line).value
        except ValueError:
            continue
    raise InvalidInput(f"line: {line!r} is not a cost line or volume of a cost return")


def _reasons(reasons: Iterable[str] | str) -> list[str]:
    items = [reasons] if isinstance(reasons, str) else list(reasons)
    cleaned = [item.strip() for item in items if isinstance(item, str) and item.strip()]
    if not cleaned or len(cleaned) != len(items):
        raise InvalidInput("reasons: a rejection needs at least one reason, and no blank ones")
    return cleaned


class CostReturn(LedgerAggregate):
    """One provider's cost return for one agreement and period, with every revision kept."""

    TOPIC = "openbook:cost-return"

    class Drafted(LedgerCreated):
        TOPIC = "openbook:cost-return.drafted"
        agreement: str
        provider: str
        period: str
        in_house: bool
        filing: dict[str, Any]

    class Submitted(LedgerEvent):
        TOPIC = "openbook:cost-return.submitted"
        revision: int

        def apply(self, aggregate: CostReturn) -> None:
            aggregate._state = ReturnStatus.SUBMITTED
            aggregate._log(self, f"revision {self.revision} submitted")

    class Queried(LedgerEvent):
        TOPIC = "openbook:cost-return.queried"
        query_id: str
        line: str
        question: str
        revision: int

        def apply(self, aggregate: CostReturn) -> None:
            envelope = self.envelope
            aggregate._queries[self.query_id] = Query(
                self.query_id, self.line, self.question, self.revision, envelope.effective_date, str(envelope.actor)
            )
            aggregate._log(self, f"query {self.query_id} on {self.line}: {self.question}")

    class Answered(LedgerEvent):
        TOPIC = "openbook:cost-return.answered"
        query_id: str
        answer: str

        def apply(self, aggregate: CostReturn) -> None:
            asked = aggregate._queries[self.query_id]
            aggregate._queries[self.query_id] = Query(
                asked.query_id,
                asked.line,
                asked.question,
                asked.revision,
                asked.asked_on,
                asked.asked_by,
                self.answer,
                self.envelope.effective_date,
                str(self.envelope.actor),
            )
            aggregate._log(self, f"query {self.query_id} answered: {self.answer}")

    class Amended(LedgerEvent):
        TOPIC = "openbook:cost-return.amended"
        revision: int
        filing: dict[str, Any]

        def apply(self, aggregate: CostReturn) -> None:
            aggregate._add_revision(self.revision, self.filing, self.envelope)
            aggregate._log(self, f"amended: revision {self.revision}")

    class Accepted(LedgerEvent):
        TOPIC = "openbook:cost-return.accepted"
        revision: int

        def apply(self, aggregate: CostReturn) -> None:
            aggregate._state = ReturnStatus.ACCEPTED
            aggregate.accepted_revision = self.revision
            aggregate.rejection_reasons = ()
            aggregate._log(self, f"revision {self.revision} accepted")

    class Rejected(LedgerEvent):
        TOPIC = "openbook:cost-return.rejected"
        revision: int
        reasons: list[str]

        def apply(self, aggregate: CostReturn) -> None:
            aggregate._state = ReturnStatus.REJECTED
            aggregate.accepted_revision = None
            aggregate.rejection_reasons = tuple(self.reasons)
            aggregate._log(self, f"revision {self.revision} rejected: {'; '.join(self.reasons)}")

    class Reopened(LedgerEvent):
        TOPIC = "openbook:cost-return.reopened"
        reason: str

        def apply(self, aggregate: CostReturn) -> None:
            aggregate._state = ReturnStatus.SUBMITTED
            aggregate.accepted_revision = None
            aggregate.rejection_reasons = ()
            aggregate._log(self, f"reopened: {self.reason}")

    class BreachExplained(LedgerEvent):
        TOPIC = "openbook:cost-return.breach-explained"
        revision: int
        explanation: str

        def apply(self, aggregate: CostReturn) -> None:
            envelope = self.envelope
            aggregate._explanations[self.revision] = BreachExplanation(
                self.revision, self.explanation, envelope.effective_date, str(envelope.actor)
            )
            what = f"findings in revision {self.revision} explained: {self.explanation}"
            aggregate._log(self, what)

    @staticmethod
    def create_id(agreement: str, provider: str, period: Period | str) -> UUID:
        return natural_id("cost-return", agreement, provider, str(check_period(period)))

    def __init__(
        self, envelope: Envelope, agreement: str, provider: str, period: str, in_house: bool, filing: dict[str, Any]
    ):
        self.agreement = agreement
        self.provider = provider
        self.period: Period = parse_period(period)
        self.in_house = in_house
        self._state = ReturnStatus.DRAFT
        self._revisions: list[Revision] = []
        self._queries: dict[str, Query] = {}
        self._explanations: dict[int, BreachExplanation] = {}
        self.accepted_revision: int | None = None
        self.rejection_reasons: tuple[str, ...] = ()
        self._add_revision(1, filing, envelope)
        whose = "in-house costs of" if in_house else "cost return of"
        self._changes: list[Change] = [Change.of(envelope, f"{whose} {provider} for {agreement} {period} drafted")]

    def _add_revision(self, number: int, filing: dict[str, Any], envelope: Envelope) -> None:
        rebuilt = CostReturnFiling.from_data(filing)
        self._revisions.append(
            Revision(number, rebuilt, envelope.effective_date, str(envelope.actor), envelope.reason)
        )


    # -- commands ---------------------------------------------------------------------------

    @classmethod
    def draft(
        cls,
        envelope: Envelope,
        agreement: str,
        provider: str,
        period: Period | str,
        filing: CostReturnFiling,
        in_house: bool = False,
    ) -> CostReturn:
        """Start a return with its first revision. ``in_house``: the council's own costs."""
        check_code(agreement, "agreement")
        check_code(provider, "provider")
        chosen = str(check_period_in_range(check_period(period)))
        if not isinstance(filing, CostReturnFiling):
            raise TypeError("filing must be a CostReturnFiling; build it with CostReturnFiling.parse")
        return cls._create(
            cls.Drafted,
            id=cls.create_id(agreement, provider, chosen),
            envelope=envelope,
            agreement=agreement,
            provider=provider,
            period=chosen,
            in_house=bool(in_house),
            filing=filing.to_data(),
        )

    def submit(self, envelope: Envelope) -> None:
        self.check_draft("be submitted")
        self.trigger_event(self.Submitted, envelope=envelope, revision=self.current.number)

    def amend(self, envelope: Envelope, filing: CostReturnFiling) -> None:
        """A new revision with the full filing. Once submitted, the envelope must say why."""
        self.check_open_for_amendment()
        if self._state is not ReturnStatus.DRAFT and not (envelope.reason or "").strip():
            raise InvalidInput("reason: amending a submitted return needs a reason")
        if not isinstance(filing, CostReturnFiling):
            raise TypeError("filing must be a CostReturnFiling; build it with CostReturnFiling.parse")
        self.trigger_event(
            self.Amended, envelope=envelope, revision=self.current.number + 1, filing=filing.to_data()
        )

    def query(self, envelope: Envelope, line: CostLine | Volume | str, question: str) -> str:
        """An accountant's question on one line or volume; returns the new query's id (Q1, Q2, ...)."""
        self.check_under_review("be queried")
        chosen = _queryable(line)
        text = check_text(question, "question")
        query_id = f"Q{len(self._queries) + 1}"
        self.trigger_event(
            self.Queried,
            envelope=envelope,
            query_id=query_id,
            line=chosen,
            question=text,
            revision=self.current.number,
        )
        return query_id

    def answer(self, envelope: Envelope, query_id: str, answer: str) -> None:
        self.check_under_review("take answers")
        asked = self._queries.get(query_id)
        if asked is None:
            raise NotFound(f"query_id: {query_id} is not a query on {self.describe()}")
        if not asked.is_open:
            raise RuleBroken(f"query {query_id} on {self.describe()} was answered on {asked.answered_on.isoformat()}")
        self.trigger_event(self.Answered, envelope=envelope, query_id=query_id, answer=check_text(answer, "answer"))

    def explain_breach(
        self,
        envelope: Envelope,
        explanation: str,
        statutory_floor: FloorOn | None = None,
        bounds: PlausibilityBounds = DEFAULT_BOUNDS,
    ) -> None:
        """An accountant's explanation of the current revision's findings that need one.

        ``statutory_floor``: "floor on date" from the ledger's reference data
        (default the built-in tables), so the rule and the read models agree;
        ``bounds``: the plausibility bounds the agreement reads.
        """
        self.check_under_review("have a breach explained")
        if not self.findings_to_explain(statutory_floor, bounds):
            raise RuleBroken(
                f"revision {self.current.number} of {self.describe()} has no wage breach or implausible figure "
                "to explain"
            )
        self.trigger_event(
            self.BreachExplained,
            envelope=envelope,
            revision=self.current.number,
            explanation=check_text(explanation, "explanation"),
        )

    def accept(
        self, envelope: Envelope, statutory_floor: FloorOn | None = None, bounds: PlausibilityBounds = DEFAULT_BOUNDS
    ) -> None:
        """Accept the current revision; ``statutory_floor`` and ``bounds`` as for ``explain_breach``."""
        self.check_under_review("be accepted")
        self.check_no_open_queries()
        self.check_breach_explained(statutory_floor, bounds)
        self.trigger_event(self.Accepted, envelope=envelope, revision=self.current.number)

    def reject(self, envelope: Envelope, reasons: Iterable[str] | str) -> None:
        self.check_under_review("be rejected")
        self.trigger_event(self.Rejected, envelope=envelope, revision=self.current.number, reasons=_reasons(reasons))

    def reopen(self, envelope: Envelope, reason: str) -> None:
        """Put an accepted or rejected return back under review."""
        self.check_decided()
        self.trigger_event(self.Reopened, envelope=envelope, reason=check_text(reason, "reason"))

    # -- rules ---------------------------------------------------------------------------------

    def describe(self) -> str:
        return f"the cost return of {self.provider} for {self.agreement} {self.period}"

    def check_draft(self, what: str) -> None:
        if self._state is not ReturnStatus.DRAFT:
            raise RuleBroken(f"{self.describe()} is {self.status}; only a draft can {what}")

    def check_under_review(self, what: str) -> None:
        if self._state is not ReturnStatus.SUBMITTED:
            hint = "submit it first" if self._state is ReturnStatus.DRAFT else "reopen it (with a reason) first"
            raise RuleBroken(f"{self.describe()} is {self.status}; it cannot {what} until it is under review: {hint}")

    def check_open_for_amendment(self) -> None:
        if self._state in (ReturnStatus.ACCEPTED, ReturnStatus.REJECTED):
            raise RuleBroken(f"{self.describe()} is {self.status}; reopen it (with a reason) before amending it")

    def check_no_open_queries(self) -> None:
        still_open = self.open_queries
        if still_open:
            which = ", ".join(f"{q.query_id} on {q.line}" for q in still_open)
            raise RuleBroken(
                f"{self.describe()} has {len(still_open)} open "
                f"{'query' if len(still_open) == 1 else 'queries'} ({which}); answer them before accepting it"
            )

    def check_breach_explained(
        self, statutory_floor: FloorOn | None = None, bounds: PlausibilityBounds = DEFAULT_BOUNDS
    ) -> None:
        unexplained = self.findings_to_explain(statutory_floor, bounds)
        if unexplained and self.current.number not in self._explanations:
            said = [f"lowest hourly pay {f.message}" if isinstance(f, WageFinding) else f.message for f in unexplained]
            raise RuleBroken(
                f"{self.describe()} cannot be accepted: revision {self.current.number}'s " + "; its ".join(said)
            )

    def check_decided(self) -> None:
        if self._state not in (ReturnStatus.ACCEPTED, ReturnStatus.REJECTED):
            raise RuleBroken(
                f"{self.describe()} is {self.status}; only an accepted or rejected return can be reopened"
            )

    # -- questions -----------------------------------------------------------------------------

    @property
    def changes(self) -> tuple[Change, ...]:
        """The return's history, in the order it was recorded."""
        return tuple(self._changes)

    @property
    def status(self) -> ReturnStatus:
        return return_status(self._state, len(self.open_queries))

    @property
    def revisions(self) -> tuple[Revision, ...]:
        return tuple(self._revisions)

    def revision(self, number: int) -> Revision:
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(self._revisions):
            raise NotFound(f"revision: {self.describe()} has revisions 1 to {len(self._revisions)}, not {number!r}")
        return self._revisions[number - 1]

    @property
    def current(self) -> Revision:
        return self._revisions[-1]

    @property
    def filing(self) -> CostReturnFiling:
        """The current revision's figures."""
        return self.current.filing

    @property
    def accepted_filing(self) -> CostReturnFiling | None:
        """The accepted revision's figures (what market views use), or None unless accepted."""
        return None if self.accepted_revision is None else self.revision(self.accepted_revision).filing

    @property
    def queries(self) -> tuple[Query, ...]:
        return tuple(self._queries.values())

    @property
    def open_queries(self) -> tuple[Query, ...]:
        return tuple(q for q in self._queries.values() if q.is_open)

    def breach_explanation(self, revision: int | None = None) -> BreachExplanation | None:
        return self._explanations.get(self.current.number if revision is None else revision)

    def wage_findings(
        self,
        real_living_wage_commitment: Any = None,
        revision: int | None = None,
        statutory_floor: FloorOn | None = None,
    ) -> tuple[WageFinding, ...]:
        """Wage findings for a revision (default the current one); see ``wage_checks.check_wages``."""
        filing = self.filing if revision is None else self.revision(revision).filing
        return check_wages(filing, self.period.start, self.period.end, real_living_wage_commitment, statutory_floor)

    def plausibility_findings(
        self, revision: int | None = None, bounds: PlausibilityBounds = DEFAULT_BOUNDS
    ) -> tuple[PlausibilityFinding, ...]:
        """Plausibility findings for a revision (default the current one); see ``plausibility``."""
        filing = self.filing if revision is None else self.revision(revision).filing
        return check_plausibility(filing, bounds)

    def findings_to_explain(
        self, statutory_floor: FloorOn | None = None, bounds: PlausibilityBounds = DEFAULT_BOUNDS
    ) -> tuple[WageFinding | PlausibilityFinding, ...]:
        """The current revision's findings an accountant must explain before accepting it."""
        wages = self.wage_findings(statutory_floor=statutory_floor)
        plausibility = self.plausibility_findings(bounds=bounds)
        return tuple(f for f in (*wages, *plausibility) if f.needs_explanation)

    def nlw_breach(
        self, revision: int | None = None, statutory_floor: FloorOn | None = None
    ) -> WageFinding | None:
        findings = self.wage_findings(revision=revision, statutory_floor=statutory_floor)
        found = [f for f in findings if f.kind is FindingKind.NLW_BREACH]
        return found[0] if found else None

