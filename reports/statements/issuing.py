"""Issuing statements, and reading back what was issued: one way for the CLI and the web app.

``issue`` builds the statement asked for with the issuer's access, renders its
PDF and hands the bytes to the ledger (``book.statements.issue_statement``),
which keeps them by digest and records the issue. The PDF returned is exactly
the bytes kept, so the copy written or sent is the issued document.

Reading follows the statements' own access (``ledger.queries.issued_statements``):
``fetch`` gives back an issued statement's bytes to whoever may see it, and
``check_copy`` tells whether a copy someone holds is an issued statement, and
which. Every refusal reads "not found", whoever asks and whatever the reason
(another organisation's issue, no part in the agreement, never issued): the
digest of a statement one may not see must not tell them it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.checks import check_choice
from domain.envelope import Actor, Envelope
from domain.errors import InvalidInput, NotAllowed, NotFound
from domain.statements.issued_statement import StatementKind, check_digest
from ledger.authorisation import Access, access_for, authorise, provider_access
from ledger.files.documents import Document, digest_of
from ledger.queries.issued_statements import issued_agreement, issued_document, issued_statement, match_issued
from reports.statements.cost import cost_statement
from reports.statements.frame import Statement
from reports.statements.incentive import incentive_statement
from reports.statements.payment import payment_statement
from reports.statements.rate_notice import rate_notice
from reports.statements.render import render_pdf
from reports.statements.settlement import settlement_statement

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook

__all__ = ["Asked", "BUILDERS", "build", "check_copy", "fetch", "issue", "reader_access"]


@dataclass(frozen=True)
class Asked:
    """Which statement: its kind, agreement and period (a year, a quarter or a month, as the kind has it), and the
    options its build command takes — the provider or commissioner it is for (none: the partnership's), the
    settlement's number, the incentive assessment's run."""

    kind: str
    agreement: str
    period: str
    provider: str | None = None
    commissioner: str | None = None
    sequence: int | None = None
    run: int | None = None

    @property
    def party(self) -> str | None:
        return self.provider or self.commissioner


def _settlement(book: Openbook, actor: Actor, a: Asked) -> Statement:
    if a.provider:
        access: Access = provider_access(book.records, actor, a.agreement, a.provider)
    else:
        access = access_for(book.records, actor, a.agreement)
    return settlement_statement(book, access, a.period, sequence=a.sequence, commissioner=a.commissioner)


def _provider(a: Asked) -> str:
    if not a.provider:
        raise InvalidInput(f"provider: a {a.kind} statement is one provider's: name the provider")
    return a.provider


def _cost(book: Openbook, actor: Actor, a: Asked) -> Statement:
    provider = _provider(a)
    return cost_statement(book, access_for(book.records, actor, a.agreement, provider), provider, a.period)


def _payment(book: Openbook, actor: Actor, a: Asked) -> Statement:
    provider = _provider(a)
    return payment_statement(book, access_for(book.records, actor, a.agreement, provider), provider, a.period)


def _incentive(book: Openbook, actor: Actor, a: Asked) -> Statement:
    access = access_for(book.records, actor, a.agreement, a.provider)
    return incentive_statement(book, access, a.period, provider=a.provider, run=a.run)


def _rate_notice(book: Openbook, actor: Actor, a: Asked) -> Statement:
    provider = _provider(a)
    return rate_notice(book, access_for(book.records, actor, a.agreement, provider), a.period, provider)


#: The builder of each kind that can be issued, given the issuer's actor and what was asked.
BUILDERS: dict[str, Callable[[Openbook, Actor, Asked], Statement]] = {
    StatementKind.SETTLEMENT: _settlement,
    StatementKind.COST: _cost,
    StatementKind.PAYMENT: _payment,
    StatementKind.INCENTIVE: _incentive,
    StatementKind.RATE_NOTICE: _rate_notice,
}


def build(book: Openbook, actor: Actor, asked: Asked) -> Statement:
    """The statement ``asked`` for, built with ``actor``'s access (as ``openbook statements KIND`` builds it)."""
    kind = check_choice(StatementKind, asked.kind, "kind")
    if asked.provider and asked.commissioner:
        raise InvalidInput("provider, commissioner: a statement is for one party; choose one")
    if asked.commissioner and kind is not StatementKind.SETTLEMENT:
        raise InvalidInput(f"commissioner: only a settlement statement is made for one commissioner, not a {kind}")
    builder = BUILDERS.get(kind)
    if builder is None:
        raise InvalidInput(f"kind: a {kind} cannot be issued yet (no statement builder for it)")
    return builder(book, actor, asked)


def issue(book: Openbook, envelope: Envelope, asked: Asked) -> tuple[dict[str, Any], bytes]:
    """Build the statement asked for, render its PDF and issue it: the issue (``issue_statement``'s answer) and the
    PDF's bytes, exactly as kept by the ledger (a retry with the command's idempotency key gets the first issue
    and its bytes back)."""
    # Asked first too, so a refused issuer is told before a PDF is built for nothing (the use case asks again).
    authorise(book.records, envelope.actor, "issue_statement", agreement=asked.agreement)
    statement = build(book, envelope.actor, asked)
    pdf = render_pdf(statement)
    issued = book.statements.issue_statement(
        envelope, kind=asked.kind, agreement=asked.agreement, party=asked.party, period=asked.period,
        title=statement.title, document=pdf, head_position=int(statement.provenance.head["position"]),
        sequence=asked.sequence, run=asked.run,
    )  # fmt: skip
    if issued["digest"] != digest_of(pdf):  # a retry (same key) answered with the first issue: its bytes, not ours
        pdf = book.statements.documents.read(issued["digest"]).body
    return issued, pdf


def reader_access(book: Openbook, actor: Actor, digest: str) -> Access:
    """The reader's access to the agreement a statement was issued under; ``NotFound`` (naming only the digest)
    when it was never issued or the reader has no part in that agreement."""
    wanted = check_digest(digest)
    try:
        return access_for(book.records, actor, issued_agreement(book.read_engine, wanted))
    except (NotFound, NotAllowed):
        raise NotFound(f"issued statement {wanted} is not found") from None


def fetch(book: Openbook, actor: Actor, digest: str) -> tuple[dict[str, Any], Document]:
    """An issued statement the reader may see, and its bytes exactly as issued (checked against the digest)."""
    access = reader_access(book, actor, digest)
    row = issued_statement(book.read_engine, access, digest)
    return row, issued_document(book.read_engine, book.statements.documents, access, digest)


def check_copy(book: Openbook, actor: Actor, body: bytes) -> dict[str, Any]:
    """Whether ``body`` (a copy someone holds) is a statement issued, as the reader may see: ``{"digest", "size",
    "matches", "issued"}`` — ``issued`` the issue it is (None when it is none the reader may see)."""
    digest = digest_of(body)
    found = match_issued(book.read_engine, body)
    issued = None
    if found is not None:
        try:
            issued = issued_statement(book.read_engine, reader_access(book, actor, digest), digest)
        except NotFound:
            issued = None
    return {"digest": digest, "size": len(body), "matches": issued is not None, "issued": issued}
