"""What every statement is made of: one data structure that the one template renders as HTML and as PDF.

A statement is built by a builder (``reports.statements.settlement``, ``.cost``,
...) from the answers of ``ledger/queries`` — the access already applied — and
carries everything the page shows, already chosen: no template decides a
figure or who may see it. The parts:

* the heading: a title, the agreement, the period and the parties (each with its
  role: the agreement's commissioners, who issue every statement, and the
  providers it is about), which also run in every page's header;
* sections, each a list of blocks: ``Table`` (``reports.tables.Column`` specs
  and rows, the same specs the CSV and XLSX exports use, so money columns are
  money everywhere), ``Facts`` (labelled values), ``Figure`` (an SVG chart from
  ``reports.charts``) and ``Note`` (a sentence);
* the ``Provenance``: the head the statement was built at (checked and signed
  at build time when a signing key is configured, recording nothing), the latest
  recorded checkpoint, when it was generated, and the event positions its
  figures came from, so a reader can trace every statement back to the verified
  history (docs/statements.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Union

from ledger.audit.head_check import checked_head, current_head
from ledger.audit.signing import make_checkpoint
from ledger.queries.agreements import commissioners_of, get_agreement
from ledger.queries.as_at import AsAt, known_at
from ledger.queries.checkpoints import latest_recorded_checkpoint
from ledger.queries.organisations import list_organisations
from reports.tables import Column

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook

__all__ = [
    "Block", "Facts", "Figure", "Note", "Party", "Provenance", "Section", "Statement", "Table", "issued_by",
    "issuers", "names", "provenance", "reading",
]  # fmt: skip


@dataclass(frozen=True)
class Table:
    """A table: its columns (``reports.tables.Column``), rows keyed by each column's key, and which rows are totals.

    ``totals`` are row indexes drawn as totals (a rule above, bold), such as the
    provider side's amount after the bands; a caption says what the table is.
    """

    caption: str
    columns: Sequence[Column]
    rows: Sequence[Mapping[str, Any]]
    totals: frozenset[int] = frozenset()
    empty: str = "none"


@dataclass(frozen=True)
class Facts:
    """Labelled values (label, value, kind): kind ``money`` is formatted and aligned as money, else text."""

    items: Sequence[tuple[str, Any, str]]

    #: A text value longer than this makes the list full width; shorter ones keep to a steady 60% of the page.
    LONG_TEXT = 28

    @property
    def wide(self) -> bool:
        """Whether a value is a sentence (a basis, an explanation) that needs the page's width to read."""
        return any(isinstance(value, str) and len(value) > self.LONG_TEXT for _, value, _ in self.items)


@dataclass(frozen=True)
class Figure:
    """A chart as SVG text (``reports.charts``), with a caption; the SVG carries its own title and description."""

    caption: str
    svg: str


@dataclass(frozen=True)
class Note:
    """A sentence or two of explanation, or a warning (``warning=True``) such as "out of date"."""

    text: str
    warning: bool = False


Block = Union[Table, Facts, Figure, Note]


@dataclass(frozen=True)
class Section:
    heading: str
    blocks: Sequence[Block]


@dataclass(frozen=True)
class Party:
    """An organisation the statement is between or about: its role ("commissioner", "provider") and name."""

    role: str
    code: str
    name: str


@dataclass(frozen=True)
class Provenance:
    """Where the statement's figures came from, for its footer.

    ``head`` is the checkpoint of the head as built (``ledger.audit.head_check.current_head``:
    position, hash, events, and key id and signature when a key is configured);
    ``checkpoint`` the latest one recorded in the history (``recorded_in`` its
    own event's position), or None; ``built_from`` names the events the figures
    were read from, as (what, position).
    """

    generated_at: datetime
    head: Mapping[str, Any]
    checkpoint: Mapping[str, Any] | None
    built_from: Sequence[tuple[str, int]]

    @property
    def signed(self) -> bool:
        return bool(self.head.get("signature"))


@dataclass(frozen=True)
class Statement:
    """One statement, ready to render: title, agreement, period, parties, sections and provenance.

    ``author`` is what the PDF's metadata names as its author: the organisation
    that issues the statement, which for every kind is the same — the
    commissioners of the agreement, by name, in the order they joined it
    ("Wirral Council & NHS Wirral CCG"; ``issued_by(issuers(...))``). Not the
    provider a cost or payment statement is about, nor the user who drafted a
    settlement: they are named inside it. ``subject`` is a line under the title.
    """

    title: str
    agreement_code: str
    agreement_name: str
    period: str
    parties: Sequence[Party]
    sections: Sequence[Section]
    provenance: Provenance
    author: str
    subject: str = ""
    kind: str = field(default="statement")

    @property
    def header_parties(self) -> str:
        """The organisations for the running header: every commissioner, and the providers by name if few."""
        commissioners = [p.name for p in self.parties if p.role == "commissioner"]
        providers = [p.name for p in self.parties if p.role == "provider"]
        shown = providers if len(providers) <= 2 else [f"{len(providers)} providers"]
        return " · ".join([*commissioners, *shown])


def names(book: Openbook) -> dict[str, str]:
    """Each organisation's name by its code (read model): what statements print instead of codes."""
    return {row["code"]: row["name"] for row in list_organisations(book.read_engine)}


def issuers(book: Openbook, agreement: str, as_at: AsAt | None = None) -> list[Party]:
    """The agreement's commissioners as parties, in the order they joined it: who issues its statements."""
    called = names(book)
    return [Party("commissioner", c, called.get(c, c)) for c in commissioners_of(reading(book, as_at), agreement)]


def issued_by(commissioners: Sequence[Party]) -> str:
    """The author of a statement: its issuing commissioners' names, "A & B" (or "A, B & C"), or "openbook"."""
    shown = [p.name for p in commissioners]
    if len(shown) < 2:
        return shown[0] if shown else "openbook"
    return f"{', '.join(shown[:-1])} & {shown[-1]}"


def agreement_name(book: Openbook, code: str) -> str:
    return str(get_agreement(book.read_engine, code)["name"])


def reading(book: Openbook, as_at: AsAt | None) -> Any:
    """The engine a statement's queries read with: the live read models, or as known at ``as_at``."""
    return known_at(book.read_engine, as_at)


def _head_at(book: Openbook, as_at: AsAt | None, now: datetime) -> dict[str, Any]:
    """The head the figures were read at: the current head, or the last event at or before ``as_at`` — checked
    either way, and signed with the configured key, recording nothing."""
    if as_at is None:
        return current_head(book)
    position, chain_hash, events = checked_head(book.ledger.recorder, book.ledger.signing_key, upto=as_at.position)
    return make_checkpoint(position, chain_hash, events, now, book.ledger.signing_key)


def provenance(
    book: Openbook, built_from: Sequence[tuple[str, int]], *, as_at: AsAt | None = None, now: datetime | None = None
) -> Provenance:
    """The provenance of a statement built now: the head checked (and signed, with a key) recording nothing, and
    the latest recorded checkpoint — both as at ``as_at`` for a statement rebuilt as the ledger knew it then.

    The head is ``current_head`` — what ``openbook checkpoint --head`` prints:
    the history from the last vouched checkpoint to the head is checked first,
    so a statement is never built on, nor signs, a history that does not check.
    Every statement reads the read models as they stand at the head, so the
    head's position is always among the positions it was built from, after the
    builder's own (``built_from``).
    """
    generated = now or datetime.now(timezone.utc)
    recorded = latest_recorded_checkpoint(reading(book, as_at))
    checkpoint = None
    if recorded is not None:
        checkpoint = {**recorded["checkpoint"], "recorded_in": recorded["recorded_in"]}
    head = _head_at(book, as_at, generated)
    return Provenance(
        generated_at=generated,
        head=head,
        checkpoint=checkpoint,
        built_from=(*built_from, ("the read models, as at the head", head["position"])),
    )
