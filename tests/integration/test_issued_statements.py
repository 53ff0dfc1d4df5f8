"""Issuing statements on the demo, on SQLite and PostgreSQL: one event, the bytes kept, read back byte for byte.

One demo copy per database for the module; the tests build on each other in
file order. An accountant issues Premier Care's settlement statement and the
partnership's; the very same bytes issued again record nothing; a provider
sees and fetches only what was issued to it (anything else is "not found",
worded as for a digest never issued); a changed copy does not check; a
document altered in the store is refused, never handed out; an event is never
recorded for a document the store does not hold; and the read model is what a
replay of the history gives. The CLI does the same from the command line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from cli.main import cli
from demo.partnerships import PREMIER_CARE_FINANCE, WIRRAL, WIRRAL_ACCOUNTANT
from domain.envelope import Actor, Envelope
from domain.errors import Conflict, IdempotencyMismatch, IntegrityFailure, NotFound
from domain.statements.issued_statement import IssuedStatement
from ledger.audit.read_models import read_model_differences
from ledger.authorisation import access_for
from ledger.bootstrap import Openbook, open_openbook
from ledger.projections.issued_statements import issued_statements
from ledger.queries.issued_statements import issued_statements_under
from reports.statements.issuing import Asked, check_copy, fetch, issue
from tests.support import demo_copy, drop_database

YEAR, ON = "2019-20", date(2020, 7, 20)
HAVEN = Actor("finance@havencare.example", "haven-care")
AUDITOR = Actor("auditor@audit.example", "partnership-audit")
HEREFORDSHIRE_ACCOUNTANT = Actor("accountant@herefordshire.example", "herefordshire-council")
PREMIERS = Asked("settlement", WIRRAL, YEAR, provider="premier-care")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def book(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Openbook]:
    database = demo_copy(request, request.param, tmp_path_factory.mktemp("issued"))
    opened = open_openbook(database)
    yield opened
    opened.close()
    drop_database(database)


def head(book: Openbook) -> int:
    return book.ledger.recorder.max_notification_id() or 0


def issued_events(book: Openbook) -> list[IssuedStatement.Issued]:
    found = book.ledger.recorder.select_notifications(start=1, limit=10_000, topics=[IssuedStatement.Issued.TOPIC])
    return [book.ledger.mapper.to_domain_event(n) for n in found]


def by(actor: Actor, reason: str = "sent out") -> Envelope:
    return Envelope(actor, ON, reason)


def premiers_pdf(book: Openbook) -> tuple[dict, bytes]:
    [row] = [r for r in issued_statements_under(book.read_engine, access_for(book.records, AUDITOR, WIRRAL))
             if r["party"] == "premier-care"]  # fmt: skip
    return row, book.statements.documents.read(row["digest"]).body


def test_issuing_records_one_event_and_the_stored_bytes_fetch_back_identical(book):
    before = head(book)
    issued, pdf = issue(book, by(WIRRAL_ACCOUNTANT, "to Premier Care's board"), PREMIERS)
    assert head(book) == before + 1 and issued["new"] is True
    [event] = issued_events(book)
    assert (event.kind, event.agreement, event.party, event.period) == ("settlement", WIRRAL, "premier-care", YEAR)
    assert (event.digest, event.size) == (hashlib.sha256(pdf).hexdigest(), len(pdf))
    assert event.head_position == before  # built at the head as it stood, before its own event
    assert event.title == "Settlement statement, 2019-20: Premier Care" and event.envelope.reason == "to Premier Care's board"
    row, document = fetch(book, PREMIER_CARE_FINANCE, event.digest)
    assert document.body == pdf and hashlib.sha256(document.body).hexdigest() == event.digest
    assert document.media_type == "application/pdf" and row["issued_in"] == before + 1


def test_the_same_bytes_issued_again_record_nothing_and_cannot_be_another_statement(book):
    row, pdf = premiers_pdf(book)
    before = head(book)
    same = dict(kind="settlement", agreement=WIRRAL, party="premier-care", period=YEAR, title=row["title"],
                document=pdf, head_position=row["head_position"])  # fmt: skip
    again = book.statements.issue_statement(by(WIRRAL_ACCOUNTANT, "sent again"), **same)
    assert again["new"] is False and again["digest"] == row["digest"] and head(book) == before
    with pytest.raises(Conflict, match="already issued as the settlement statement"):
        book.statements.issue_statement(by(WIRRAL_ACCOUNTANT), **{**same, "party": "haven-care"})
    assert head(book) == before and len(issued_events(book)) == 1


def test_a_provider_sees_and_fetches_only_the_statements_issued_to_it(book):
    partnership, _pdf = issue(book, by(WIRRAL_ACCOUNTANT), Asked("settlement", WIRRAL, YEAR))
    premiers, _ = premiers_pdf(book)
    own = issued_statements_under(book.read_engine, access_for(book.records, PREMIER_CARE_FINANCE, WIRRAL))
    assert [r["digest"] for r in own] == [premiers["digest"]]
    every = issued_statements_under(book.read_engine, access_for(book.records, AUDITOR, WIRRAL))
    assert [r["digest"] for r in every] == [partnership["digest"], premiers["digest"]]  # newest first
    never = "0" * 64
    with pytest.raises(NotFound) as unknown:
        fetch(book, PREMIER_CARE_FINANCE, never)
    for actor, digest in ((PREMIER_CARE_FINANCE, partnership["digest"]), (HAVEN, premiers["digest"]),
                          (HEREFORDSHIRE_ACCOUNTANT, premiers["digest"])):  # fmt: skip
        with pytest.raises(NotFound) as refused:
            fetch(book, actor, digest)
        assert str(refused.value) == str(unknown.value).replace(never, digest)  # as if it had never been issued


def test_a_changed_copy_does_not_check_and_an_altered_stored_document_is_refused(book):
    row, pdf = premiers_pdf(book)
    assert check_copy(book, AUDITOR, pdf)["issued"]["digest"] == row["digest"]
    assert check_copy(book, HAVEN, pdf)["matches"] is False  # not one the reader may see
    changed = check_copy(book, AUDITOR, pdf + b" ")
    assert changed["matches"] is False and changed["digest"] == hashlib.sha256(pdf + b" ").hexdigest()
    with book.ledger.write_engine.begin() as conn:
        conn.execute(text("UPDATE documents SET body = :body WHERE digest = :digest"),
                     {"body": pdf[:-1] + b"X", "digest": row["digest"]})  # fmt: skip
    try:
        with pytest.raises(IntegrityFailure, match="does not match its digest"):
            fetch(book, PREMIER_CARE_FINANCE, row["digest"])
    finally:
        with book.ledger.write_engine.begin() as conn:
            conn.execute(text("UPDATE documents SET body = :body WHERE digest = :digest"),
                         {"body": pdf, "digest": row["digest"]})  # fmt: skip


def test_no_event_names_a_document_the_store_does_not_hold(book, monkeypatch):
    before = head(book)
    monkeypatch.setattr(book.statements.documents, "store", lambda body, media_type: None)  # a crash, as seen later
    with pytest.raises(IntegrityFailure, match="nothing was recorded"):
        issue(book, by(WIRRAL_ACCOUNTANT), Asked("cost", WIRRAL, "2019-20-Q1", provider="premier-care"))
    assert head(book) == before


def test_the_read_model_is_the_replay_of_the_history(book):
    assert read_model_differences(book) == []
    with book.read_engine.connect() as conn:
        rows = {r.digest: r for r in conn.execute(select(issued_statements))}
    events = issued_events(book)
    assert len(rows) == len(events) == 2
    for e in events:  # every row as the event says, independently of the projection's code
        r = rows[e.digest]
        assert (r.kind, r.agreement, r.party, r.period, r.title, r.size, r.head_position, r.issued_on) == (
            e.kind, e.agreement, e.party, e.period, e.title, e.size, e.head_position, e.envelope.effective_date)


def test_the_command_line_issues_fetches_and_checks_byte_for_byte(book, tmp_path):
    url = book.database.url.render_as_string(hide_password=False)

    def run(*args: str, as_user: str = WIRRAL_ACCOUNTANT.user):
        return CliRunner().invoke(cli, ["--database", url, "--as", as_user, "statements", *args],
                                  env={"OPENBOOK_USER": None})  # fmt: skip

    sent, fetched = tmp_path / "sent.pdf", tmp_path / "fetched.pdf"
    issued = run("issue", "payment", "--agreement", WIRRAL, "--provider", "premier-care", "--month", "2019-05",
                 "--out", str(sent), "--reason", "May's statement")  # fmt: skip
    assert issued.exit_code == 0, issued.output
    digest = hashlib.sha256(sent.read_bytes()).hexdigest()
    assert f"sha256 {digest}" in issued.output
    assert run("fetch", digest, "--out", str(fetched), as_user=PREMIER_CARE_FINANCE.user).exit_code == 0
    assert fetched.read_bytes() == sent.read_bytes()
    matched = run("check", str(fetched), as_user=AUDITOR.user)
    assert matched.exit_code == 0 and matched.output.startswith("matches: Payment statement, 2019-05: Premier Care")
    fetched.write_bytes(sent.read_bytes() + b"\n")
    unmatched = run("check", str(fetched), as_user=AUDITOR.user)
    assert unmatched.exit_code == 1 and unmatched.output.startswith("no match:")
    listed = run("issued", "--agreement", WIRRAL, as_user=HAVEN.user)
    assert listed.exit_code == 0 and listed.output.strip() == "no statements issued that you may see"


def test_a_key_reused_for_another_settlement_number_or_incentive_run_is_a_mismatch(book):
    keyed = Envelope(WIRRAL_ACCOUNTANT, ON, "to Haven Care", idempotency_key="issue-havens-settlement-1")
    first = dict(kind="settlement", agreement=WIRRAL, party="haven-care", period=YEAR, title="Settlement 1",
                 document=b"%PDF-1.7 settlement 1", head_position=head(book), sequence=1)  # fmt: skip
    issued = book.statements.issue_statement(keyed, **first)
    before = head(book)
    rebuilt = {**first, "document": b"%PDF-1.7 settlement 1, generated again"}  # a retry rebuilds the PDF
    assert book.statements.issue_statement(keyed, **rebuilt)["digest"] == issued["digest"]  # the first stands
    with pytest.raises(IdempotencyMismatch):
        book.statements.issue_statement(keyed, **{**rebuilt, "sequence": 2})  # another statement: not a retry
    with pytest.raises(IdempotencyMismatch):
        book.statements.issue_statement(keyed, **{**rebuilt, "run": 2})
    assert head(book) == before
