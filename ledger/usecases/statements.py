"""Use case: issuing a statement — its bytes kept by digest, and an event recording which document left the system.

The caller builds the statement (``reports.statements.issuing`` renders the
PDF from the ledger's figures; the ledger never imports ``reports``) and hands
over its bytes with what it is. Here the bytes are stored first, in a
transaction of their own (``ledger.files.documents``), then the event is
recorded with a guard that checks, inside the recording transaction, that
they are still there and match: an event never names a document the store
cannot hand back. A crash in between leaves an unreferenced document, which
nothing lists or hands out.

The very same bytes issued again are the same issue: nothing is recorded and
the first issue is returned (``"new": false``). Claimed as another statement,
they are a ``Conflict``.
"""

from __future__ import annotations

from typing import Any

from domain.envelope import SYSTEM, Envelope
from domain.errors import InvalidInput, RuleBroken
from domain.statements.issued_statement import IssuedStatement, check_issue
from ledger.application import Ledger
from ledger.authorisation import authorise, provider_access
from ledger.files.documents import PDF, DocumentStore, check_stored, digest_of
from ledger.records import Records

#: What every PDF starts with: anything else handed over as a statement is not one.
_PDF_MAGIC = b"%PDF-"


class StatementUseCases:
    def __init__(self, ledger: Ledger, records: Records, documents: DocumentStore):
        self.ledger = ledger
        self.records = records
        self.documents = documents

    def issue_statement(
        self, envelope: Envelope, *, kind: str, agreement: str, party: str | None, period: str, title: str,
        document: bytes, head_position: int, sequence: int | None = None, run: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Issue ``document`` (a statement's PDF, built at ``head_position``) as the ``kind`` statement of
        ``agreement`` for ``party`` (a provider or commissioner; None: the partnership) and ``period``;
        ``sequence`` (a settlement's number) and ``run`` (an incentive assessment's), when the statement was built
        for one, name it too in the command as sent.

        Returns the issue: its fields, ``issued_by`` and ``new`` (false when these very bytes were issued before and
        nothing was recorded now)."""
        authorise(self.records, envelope.actor, "issue_statement", agreement=agreement)
        if not isinstance(document, bytes) or not document.startswith(_PDF_MAGIC):
            raise InvalidInput("document: a statement is issued as its PDF (the bytes must start with %PDF-)")
        claimed = {"kind": kind, "agreement": agreement, "party": party, "period": period, "title": title,
                   "digest": digest_of(document), "size": len(document), "head_position": head_position}  # fmt: skip
        fields = check_issue(**claimed)
        if fields["party"] is not None:
            provider_access(self.records, SYSTEM, fields["agreement"], fields["party"])  # a party to the agreement
        head = self.ledger.recorder.max_notification_id() or 0
        if fields["head_position"] > head:
            raise RuleBroken(f"head_position: {fields['head_position']} is beyond the history's head ({head})")
        digest = fields["digest"]
        earlier = self._issued(digest)
        if earlier is not None:
            earlier.check_same_issue(**claimed)
            return _summary(earlier, new=False)
        self.documents.store(document, PDF)

        def build() -> tuple[list[IssuedStatement], dict[str, Any]]:
            found = self._issued(digest)
            if found is not None:  # issued meanwhile (a retry whose first try committed): that issue stands
                found.check_same_issue(**claimed)
                return [], _summary(found, new=False)
            issued = IssuedStatement.issue(envelope, **claimed)
            return [issued], _summary(issued, new=True)

        # The command as sent is which statement, not its bytes: a retry with the same key rebuilds the PDF (a new
        # generated-at time, new bytes) and must get the first issue back, not a clash of keys. Settlement 2 or
        # another incentive run under the same key is another statement: a mismatch. (Only when given, so a key
        # sent before they were part of the command still matches its retry.)
        sent = {name: fields[name] for name in ("kind", "agreement", "party", "period")}
        sent |= {name: value for name, value in (("sequence", sequence), ("run", run)) if value is not None}
        return self.ledger._execute("issue_statement", sent, envelope, build, guard=lambda tx: check_stored(tx, digest))

    def _issued(self, digest: str) -> IssuedStatement | None:
        return self.records.find(IssuedStatement.create_id(digest))


def _summary(issued: IssuedStatement, *, new: bool) -> dict[str, Any]:
    return {
        "digest": issued.digest,
        "size": issued.size,
        "kind": issued.kind,
        "agreement": issued.agreement,
        "party": issued.party,
        "period": issued.period,
        "title": issued.title,
        "head_position": issued.head_position,
        "issued_by": issued.issued_by,
        "new": new,
    }
