"""The statements issued, read from their read model, with the reader's access; and a held copy checked.

An accountant (or auditor) of the agreement sees every issue under it; a
provider only the statements issued to it (``party`` its own code): never the
partnership's whole statement, another provider's or a commissioner's, which
are ``NotFound`` to it as if they did not exist. The bytes come from the
document store (``ledger.files.documents``), checked against the digest the
event recorded.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from domain.errors import NotFound
from domain.statements.issued_statement import check_digest
from ledger.authorisation import only_provider
from ledger.files.documents import Document, DocumentStore, digest_of
from ledger.projections.issued_statements import issued_statements
from ledger.queries.rows import read_rows

_T = issued_statements


def _not_found(digest: str) -> NotFound:
    return NotFound(f"issued statement {digest} is not found")


def _seen(access: object) -> Any:
    """The issues ``access`` may see: its agreement's; a provider's, only those issued to it."""
    provider = only_provider(access)
    query = select(_T).where(_T.c.agreement == access.agreement)  # type: ignore[attr-defined]
    return query if provider is None else query.where(_T.c.party == provider)


def issued_statements_under(engine: Engine, access: object) -> list[dict[str, Any]]:
    """The statements issued under the access's agreement that it may see, newest first."""
    return read_rows(engine, _seen(access).order_by(_T.c.issued_in.desc()))


def issued_agreement(engine: Engine, digest: str) -> str:
    """The agreement a statement was issued under (to ask for the reader's access to it), or ``NotFound``."""
    wanted = check_digest(digest)
    rows = read_rows(engine, select(_T.c.agreement).where(_T.c.digest == wanted))
    if not rows:
        raise _not_found(wanted)
    return str(rows[0]["agreement"])


def issued_statement(engine: Engine, access: object, digest: str) -> dict[str, Any]:
    """One issued statement, if the access may see it; else ``NotFound``, as if it had never been issued."""
    wanted = check_digest(digest)
    found = read_rows(engine, _seen(access).where(_T.c.digest == wanted))
    if not found:
        raise _not_found(wanted)
    return found[0]


def issued_document(engine: Engine, documents: DocumentStore, access: object, digest: str) -> Document:
    """The bytes of an issued statement the access may see, byte for byte as issued (checked against the digest)."""
    row = issued_statement(engine, access, digest)
    return documents.read(row["digest"])


def match_issued(engine: Engine, body: bytes) -> dict[str, Any] | None:
    """The issue whose digest is that of ``body`` (a copy someone holds), or None: it is no issued statement.

    It says nothing a holder of the bytes does not know already but whether
    they were issued, when and by whom; callers still show it only to whoever
    may see that issue (``reports.statements.issuing.check_copy``).
    """
    rows = read_rows(engine, select(_T).where(_T.c.digest == digest_of(body)))
    return rows[0] if rows else None
