"""Issuing statements from the pages, listing and downloading what was issued, and an auditor checking a copy.

One demo for the module (SQLite). A module fixture issues both statements as
an accountant does (the partnership's settlement statement from its page, sent
twice as a double click sends it, and a provider's cost statement from the
list's form), noting the count of issues after each post, so each test reads
the same issues whatever order the tests run in: the accountant's posts record
one issue each; the provider then sees only its own, byte for byte, and
another organisation's is a 404; an auditor's upload of the issued copy
matches and a changed copy does not, recording nothing.
"""

from __future__ import annotations

import hashlib
import re
from io import BytesIO

import pytest
from sqlalchemy import select

from domain.statements.issued_statement import IssuedStatement
from ledger.projections.issued_statements import issued_statements
from tests.web.support import USERS, csrf_token, log_in

WIRRAL, YEAR = "wirral-homecare", "2019-20"
SETTLEMENT_PAGE = f"/accountant/settlements/{WIRRAL}/{YEAR}/1"
ISSUED = "/statements/issued"
COST_FORM = {"agreement": WIRRAL, "kind": "cost", "period": "2019-20-Q1", "provider": "premier-care",
             "idempotency_key": "web-test-cost-1"}  # fmt: skip


def _issue_button(page: str) -> dict[str, str]:
    """The settlement page's Issue form: every hidden field it posts (the statement named, CSRF, once-only key)."""
    form = page[page.index(f'action="{ISSUED}"'):]
    form = form[: form.index("</form>")]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
    fields.update({name: value for value, name in re.findall(r'<input[^>]*value="([^"]*)"[^>]*name="([^"]+)"', form)})
    return fields


def _issue_events(book) -> int:
    return len(book.ledger.recorder.select_notifications(start=1, limit=10_000, topics=[IssuedStatement.Issued.TOPIC]))


@pytest.fixture(scope="module")
def issued(app, demo_book) -> dict:
    """The settlement statement issued from its page (posted twice) and the cost statement from the list's form:
    the settlement page's form fields, each post's status, the count of issues before and after each post, and
    the digest issued of each kind."""
    accountant = log_in(app.test_client(), USERS["accountant"])
    fields = _issue_button(accountant.get(SETTLEMENT_PAGE).get_data(as_text=True))
    counts, statuses = [_issue_events(demo_book)], []
    for data in ({**fields, "reason": "to the partnership board"},) * 2 + ({**COST_FORM, "csrf_token": csrf_token(
            accountant, ISSUED)},):  # fmt: skip
        statuses.append(accountant.post(ISSUED, data=data).status_code)
        counts.append(_issue_events(demo_book))
    with demo_book.read_engine.connect() as conn:
        digests = {row.kind: row.digest for row in conn.execute(select(issued_statements))}
    return {"fields": fields, "statuses": statuses, "counts": counts, "digests": digests}


def test_an_accountant_issues_the_settlement_statement_from_its_page_once_however_often_it_is_sent(
    client_as, issued
):
    fields, before = issued["fields"], issued["counts"][0]
    assert {k: fields[k] for k in ("agreement", "kind", "period", "number")} == {
        "agreement": WIRRAL, "kind": "settlement", "period": YEAR, "number": "1"}  # fmt: skip
    assert issued["statuses"] == [302, 302, 302]
    assert issued["counts"] == [before, before + 1, before + 1, before + 2]  # the double click recorded nothing
    listed = client_as("accountant").get(ISSUED).get_data(as_text=True)
    assert set(re.findall(r"/statements/documents/([0-9a-f]{64})", listed)) == set(issued["digests"].values())
    digest = issued["digests"]["settlement"]
    pdf = client_as("accountant").get(f"/statements/documents/{digest}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == digest  # byte for byte the document issued
    assert "the partnership" in listed and "Settlement statement, 2019-20" in listed


def test_a_provider_sees_only_the_statements_issued_to_it(client_as, demo_book, issued):
    cost, partnership = issued["digests"]["cost"], issued["digests"]["settlement"]
    provider = client_as("provider")
    page = provider.get(ISSUED).get_data(as_text=True)
    assert re.findall(r"/statements/documents/([0-9a-f]{64})", page) == [cost]
    assert "Cost statement, 2019-20-Q1: Premier Care" in page
    assert "Settlement statement" not in page  # the partnership's statement is not the provider's
    assert 'action="/statements/issued"' not in page  # no Issue form: a provider issues nothing
    own = provider.get(f"/statements/documents/{cost}")
    assert hashlib.sha256(own.data).hexdigest() == cost
    assert provider.get(f"/statements/documents/{partnership}").status_code == 404
    assert client_as("other-provider").get(f"/statements/documents/{cost}").status_code == 404
    assert client_as("herefordshire-accountant").get(f"/statements/documents/{cost}").status_code == 404
    before = _issue_events(demo_book)
    refused = provider.post(ISSUED, data={**COST_FORM, "idempotency_key": "web-test-cost-2",
                                          "csrf_token": csrf_token(provider, ISSUED)})  # fmt: skip
    assert refused.status_code == 403 and _issue_events(demo_book) == before


def test_an_auditor_checks_a_copy_against_the_issued_digests_recording_nothing(client_as, demo_book, issued):
    digest = issued["digests"]["settlement"]
    issued = client_as("accountant").get(f"/statements/documents/{digest}").data
    auditor = client_as("auditor")
    head = demo_book.projections.head()

    def check(body: bytes) -> str:
        answer = auditor.post("/statements/check", data={"csrf_token": csrf_token(auditor, "/statements/check"),
                                                          "file": (BytesIO(body), "copy.pdf")})  # fmt: skip
        assert answer.status_code == 200
        return answer.get_data(as_text=True)

    assert 'data-matches="yes"' in check(issued) and digest in check(issued)
    changed = check(issued + b"\n")  # one byte more: a PDF reader would still open it, but it is not as issued
    assert 'data-matches="no"' in changed and hashlib.sha256(issued).hexdigest() not in changed
    assert demo_book.projections.head() == head
