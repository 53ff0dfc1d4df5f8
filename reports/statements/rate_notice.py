"""The rate notice: one rate review's decision as one provider is told it — the new rates, the arithmetic, its arrears.

Built from ``ledger.queries.rates`` (the review, its decision and the
proposal's uplift lines exactly as ``domain.rates.uplift`` kept them, and the
card the day before the new rates apply, for the old rates) and
``ledger.queries.activity.arrears`` (the last recorded calculation of a
backdated review, with each line's working). The arrears are read with the
provider's own access, so a notice never shows another provider's lines or
the partnership's total; a provider asking for another provider's notice is
told it is not found, as the queries answer. A review not yet decided has no
notice. See docs/statements.md.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from domain.checks import check_financial_year
from domain.errors import NotFound
from ledger.authorisation import Access, ProviderAccess, only_provider, provider_access, shown_provider
from ledger.queries.activity import arrears as arrears_view
from ledger.queries.activity import arrears_position
from ledger.queries.agreements import awards
from ledger.queries.as_at import AsAt
from ledger.queries.organisations import list_organisations
from ledger.queries.rates import list_rate_reviews, rate_review, rates_in_force
from reports.statements.frame import (
    Facts,
    Note,
    Party,
    Section,
    Statement,
    Table,
    agreement_name,
    issued_by,
    issuers,
    names,
    provenance,
    reading,
)
from reports.tables import Column

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook

__all__ = ["notice_providers", "rate_notice"]

_RATE_COLUMNS = [Column("service", "Service"), Column("zone", "Zone or lot"), Column("band", "Band"),
                 Column("old_rate", "Rate before", "money"), Column("hourly_rate", "New rate", "money")]  # fmt: skip
_UPLIFT_COLUMNS = [Column("label", "Step"), Column("formula", "Working"), Column("amount", "Amount", "number")]
_ARREARS_COLUMNS = [
    Column("line", "Service, zone or lot (band)"), Column("old_rate", "Old rate", "money"),
    Column("new_rate", "New rate", "money"), Column("working", "Working: hours, visits, each priced at both rates"),
    Column("amount", "Arrears", "money"),
]  # fmt: skip


def _decimal(value: Any) -> Decimal | None:
    """A figure of the arrears query's JSON-ready answer (exact decimal text) as the Decimal it was."""
    return None if value is None else Decimal(str(value))


def _decided(engine: Any, agreement: str, year: str) -> tuple[dict[str, Any], dict[str, Any], int]:
    """The review, its decision and the position of its last event; a review not decided has no notice."""
    review = rate_review(engine, agreement, year)
    if review["decision"] is None:
        raise NotFound(f"the {year} rate review of {agreement!r} is not decided yet: a rate notice states a decision")
    [row] = [r for r in list_rate_reviews(engine, agreement) if r["financial_year"] == year]
    return review, review["decision"], row["position"]


def notice_providers(book: Openbook, access: Access, financial_year: str, *, as_at: AsAt | None = None) -> list[str]:
    """The providers a decided review's notices go to: those holding an award when its rates apply (or when it was
    decided), the members of an alliance holding one (they deliver the care, are paid at its rates and read their
    own notice), and any owed arrears by its last calculation; a provider's access, only itself."""
    engine = reading(book, as_at)
    year = check_financial_year(financial_year)
    _, decision, _ = _decided(engine, access.agreement, year)
    own = only_provider(access)
    if own is not None:
        return [own]
    on = decision["effective_from"] or decision["decided_on"]
    found = {row["provider"] for row in awards(engine, access.agreement, on=on)}
    if decision["backdated"]:
        try:
            found |= set(arrears_view(engine, access, year)["providers"])
        except NotFound:  # not calculated yet
            pass
    found |= {row["code"] for row in list_organisations(engine, "provider") if row["member_of"] in found}
    return sorted(found)


def _rates(engine: Any, agreement: str, decision: dict[str, Any]) -> Table:
    before = {}
    if decision["effective_from"] is not None:
        day_before = decision["effective_from"] - timedelta(days=1)
        before = {(r["service"], r["zone"], r["band"]): r["hourly_rate"]
                  for r in rates_in_force(engine, agreement, day_before)}  # fmt: skip
    rows = [{**r, "band": r["band"] or "", "old_rate": before.get((r["service"], r["zone"], r["band"]))}
            for r in decision["rates"]]  # fmt: skip
    when = decision["effective_from"]
    caption = "The rates decided, per contact hour" + (f", from {when:%-d %B %Y}" if when else "")
    return Table(caption + " (rate before: the card the day before)", _RATE_COLUMNS, rows, empty="no rates decided")


def _arithmetic(review: dict[str, Any], decision: dict[str, Any]) -> list[Any]:
    """The arithmetic of the proposal the decision took up: the last one, step by step as the calculator kept it."""
    if not review["proposals"]:
        return [Note("The review was decided without a proposal.")]
    proposal = review["proposals"][-1]
    number = len(review["proposals"])
    blocks: list[Any] = [Note(f"Proposal {number}, {proposal['proposed_on']:%-d %B %Y} by {proposal['proposed_by']}: "
                              f"{proposal['basis']}.")]  # fmt: skip
    if proposal["lines"]:
        steps = [{**line, "amount": f"{line['amount']:f}"} for line in proposal["lines"]]  # as kept: 10.1400
        blocks.append(Table(f"Proposal {number}: the uplift arithmetic, line by line (working figures to 4 places, "
                            "each line using the figures above it)", _UPLIFT_COLUMNS, steps))  # fmt: skip
    else:
        blocks.append(Note("The proposed rates were stated with their basis, not worked out by the uplift calculator."))
    if decision["outcome"] == "amended":
        blocks.append(Note("The decision amended the proposed rates: the rates decided are those above, not the "
                           "proposal's.", warning=True))  # fmt: skip
    return blocks


def _arrears(engine: Any, access: ProviderAccess, year: str, name: str) -> tuple[list[Any], Any, list[tuple[str, int]]]:
    """The provider's arrears section, its total (None: not calculated yet) and the calculation's position."""
    try:
        found = arrears_view(engine, access, year)
    except NotFound:
        return [Note("The arrears of this backdated decision have not been calculated yet; they are stated once an "
                     "accountant has calculated them.", warning=True)], None, []  # fmt: skip
    lines = [{"line": f"{line['service']}, {line['zone']}" + (f" ({line['band']})" if line["band"] else ""),
              "working": line["working"], **{k: _decimal(line[k]) for k in ("old_rate", "new_rate", "amount")}}
             for line in found["lines"]]  # fmt: skip
    amount = _decimal(found["total"])
    lines.append({"line": f"owed to {name}", "old_rate": "", "new_rate": "", "working": "", "amount": amount})
    position = arrears_position(engine, access, year, found["calculations"])
    window = f"{found['window_start']} to {found['window_end']}"
    blocks: list[Any] = [
        Note(f"Visits from {window} (the rates applied from the first day; the decision was taken on "
             f"{found['decided_on']}), calculation {found['calculations']}: each visit paid at the old rate owes its "
             "price at the new rate less its price at the old, priced visit by visit."),
        Table("Arrears line by line", _ARREARS_COLUMNS, lines, frozenset({len(lines) - 1})),
        Note(f"Basis: {found['basis']}."),
    ]  # fmt: skip
    if len(lines) == 1:
        blocks.insert(1, Note(f"No visit of {name}'s in the window was paid at the old rate: no arrears are owed."))
    return blocks, amount, [(f"the arrears, calculation {found['calculations']}", position)]


def rate_notice(
    book: Openbook, access: Access, financial_year: str, provider: str, *, as_at: AsAt | None = None
) -> Statement:
    """``provider``'s notice of the decided ``financial_year`` rate review of the access's agreement."""
    engine = reading(book, as_at)
    agreement = access.agreement
    year = check_financial_year(financial_year)
    provider = shown_provider(access, provider)
    own = access if isinstance(access, ProviderAccess) else provider_access(book.records, access.actor, agreement,
                                                                             provider)  # fmt: skip
    review, decision, position = _decided(engine, agreement, year)
    name = names(book).get(provider, provider)
    backdated = bool(decision["backdated"])
    arrears_blocks, owed, arrears_from = _arrears(engine, own, year, name) if backdated else ([], None, [])
    when = decision["effective_from"]
    summary = Facts([
        ("Review", f"the {year} rate review (opened: {review['reason']})", "text"),
        ("Outcome", decision["outcome"], "text"),
        ("Decided on", decision["decided_on"], "date"),
        ("Decided by", decision["decided_by"], "text"),
        ("New rates apply from", when, "date"),
        ("Backdated", "yes: arrears are owed on visits already paid at the old rate" if backdated else "no", "text"),
        *([("Arrears owed to " + name, owed, "money")] if backdated else []),
    ])  # fmt: skip
    sections = [Section("The decision", [summary, *([Note(f"Reasons: {decision['reasons']}")]
                                                  if decision["reasons"] else [])])]  # fmt: skip
    if decision["outcome"] == "rejected":
        sections.append(Section("The rates", [Note("The review was rejected: the rates in force stay as they are.")]))
    else:
        sections.append(Section("The new rates", [_rates(engine, agreement, decision)]))
        sections.append(Section("How the rates were worked out", _arithmetic(review, decision)))
    if backdated:
        sections.append(Section(f"Arrears owed to {name}", arrears_blocks))
    title_agreement = agreement_name(book, agreement)
    commissioners = issuers(book, agreement, as_at)
    return Statement(
        title=f"Rate notice, {year}: {name}",
        agreement_code=agreement,
        agreement_name=title_agreement,
        period=year,
        parties=[*commissioners, Party("provider", provider, name)],
        sections=sections,
        provenance=provenance(book, [(f"the {year} rate review's decision", position), *arrears_from], as_at=as_at),
        author=issued_by(commissioners),
        subject=f"The {year} rate review as decided for {name}: the new rates by service and zone, from when they "
        "apply, the uplift arithmetic line by line" + (", and the arrears owed with each line's working."
                                                      if backdated else "."),
        kind="rate-notice",
    )
