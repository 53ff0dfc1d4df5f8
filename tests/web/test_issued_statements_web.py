"""Issuing statements from the pages, listing and downloading what was issued, and an auditor checking a copy.

One demo for the module (SQLite); the tests build on each other in file order:
an accountant issues the partnership's settlement statement from its page and
a provider's cost statement from the list's form; the provider then sees only
its own, byte for byte, and another organisation's is a 404; an auditor's
upload of the issued copy matches and a changed copy does not, recording nothing.
"""

from __future__ import annotations

import hashlib
import re
from io import BytesIO

from domain.statements.issued_statement import IssuedStatement
from tests.web.support import csrf_token

WIRRAL, YEAR = "wirral-homecare", "2019-20"
SETTLEMENT_PAGE = f"/accountant/settlements/{WIRRAL}/{YEAR}/1"
ISSUED = "/statements/issued"


def _issue_button(page: str) -> dict[str, str]:
    """The settlement page's Issue form: every hidden field it posts (the statement named, CSRF, once-only key)."""
    form = page[page.index(f'action="{ISSUED}"'):]
    form = form[: form.index("</form>")]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
    fields.update({name: value for value, name in re.findall(r'<input[^>]*value="([^"]*)"[^>]*name="([^"]+)"', form)})
    return fields


def _issue_events(book) -> int:
    return len(book.ledger.recorder.select_notifications(start=1, limit=10_000, topics=[IssuedStatement.Issued.TOPIC]))


def test_an_accountant_issues_the_settlement_statement_from_its_page_once_however_often_it_is_sent(
    client_as, demo_book
):
    accountant = client_as("accountant")
    fields = _issue_button(accountant.get(SETTLEMENT_PAGE).get_data(as_text=True))
    assert {k: fields[k] for k in ("agreement", "kind", "period", "number")} == {
        "agreement": WIRRAL, "kind": "settlement", "period": YEAR, "number": "1"}  # fmt: skip
    sent = accountant.post(ISSUED, data={**fields, "reason": "to the partnership board"})
    assert sent.status_code == 302, sent.get_data(as_text=True)
    assert _issue_events(demo_book) == 1
    again = accountant.post(ISSUED, data={**fields, "reason": "to the partnership board"})  # a double click
    assert again.status_code == 302 and _issue_events(demo_book) == 1
    listed = accountant.get(ISSUED).get_data(as_text=True)
    [digest] = re.findall(r"/statements/documents/([0-9a-f]{64})", listed)
    pdf = accountant.get(f"/statements/documents/{digest}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == digest  # byte for byte the document issued
    assert "the partnership" in listed and "Settlement statement, 2019-20" in listed


def test_a_provider_sees_only_the_statements_issued_to_it(client_as, demo_book):
    accountant = client_as("accountant")
    form = {"agreement": WIRRAL, "kind": "cost", "period": "2019-20-Q1", "provider": "premier-care",
            "idempotency_key": "web-test-cost-1", "csrf_token": csrf_token(accountant, ISSUED)}  # fmt: skip
    assert accountant.post(ISSUED, data=form).status_code == 302
    assert _issue_events(demo_book) == 2
    provider = client_as("provider")
    page = provider.get(ISSUED).get_data(as_text=True)
    digests = re.findall(r"/statements/documents/([0-9a-f]{64})", page)
    assert len(digests) == 1 and "Cost statement, 2019-20-Q1: Premier Care" in page
    assert "Settlement statement" not in page  # the partnership's statement is not the provider's
    assert 'action="/statements/issued"' not in page  # no Issue form: a provider issues nothing
    own = provider.get(f"/statements/documents/{digests[0]}")
    assert hashlib.sha256(own.data).hexdigest() == digests[0]
    everyone = re.findall(r"/statements/documents/([0-9a-f]{64})", accountant.get(ISSUED).get_data(as_text=True))
    [partnership] = set(everyone) - set(digests)
    assert provider.get(f"/statements/documents/{partnership}").status_code == 404
    assert client_as("other-provider").get(f"/statements/documents/{digests[0]}").status_code == 404
    assert client_as("herefordshire-accountant").get(f"/statements/documents/{digests[0]}").status_code == 404
    refused = provider.post(ISSUED, data={**form, "csrf_token": csrf_token(provider, ISSUED)})
    assert refused.status_code == 403 and _issue_events(demo_book) == 2


def test_an_auditor_checks_a_copy_against_the_issued_digests_recording_nothing(client_as, demo_book):
    accountant = client_as("accountant")
    [digest, *_] = re.findall(r"/statements/documents/([0-9a-f]{64})", accountant.get(ISSUED).get_data(as_text=True))
    issued = accountant.get(f"/statements/documents/{digest}").data
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
