"""Bad files at every upload of the web app and the API: the same bad files as the command line's
(tests/bad_files.py), each refused with the status its kind has (``web/errors.py``: invalid input is 400, a body
over ``OPENBOOK_MAX_UPLOAD_MB`` 413), the file named on the page or in the job's error with the line or row, and
nothing recorded; a UTF-8 byte-order mark is accepted.

The uploads: a provider's cost return (a form; refused at once, 400), an accountant's KPI results (a form; 400),
and activity files (the provider's and accountant's forms and the API's ``…/activity/files`` queue a job, whose
import then fails with ``invalid-input``: the job's error names the file and row, and the history's head is
unchanged). The activity case runs through the API, which the forms share the job with
(tests/web/test_provider_activity_upload.py covers the forms' queueing).
"""

from __future__ import annotations

import html
import io
import re
from uuid import uuid4

import pytest

from domain.envelope import SYSTEM
from ledger.jobs.worker import Worker
from ledger.settings import Settings
from tests.bad_files import ACCENTED, BAD, ENTRIES, bad_file
from tests.web.api_support import bearer, token_for
from tests.web.support import USERS, csrf_token, log_in, post_form
from web.app import create_app

WIRRAL = "wirral-homecare"
RETURN = f"/provider/returns/{WIRRAL}/premier-care/2020-21-Q2"
KPIS = f"/accountant/kpis/{WIRRAL}"
FILES = f"/api/v1/agreements/{WIRRAL}/activity/files"


def _key(page: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]+)"', page) or re.search(
        rf'<input[^>]*value="([^"]+)"[^>]*name="{name}"', page)  # fmt: skip
    assert found, f"no {name} on the page"
    return found.group(1)


def _said(response) -> str:
    """The page's text as a reader sees it (entities decoded)."""
    return html.unescape(response.get_data(as_text=True))


def _upload_return(client, name: str, content: bytes):
    data = {"idempotency_key": str(uuid4()), "save": "y", "file": (io.BytesIO(content), name)}
    return client.post(f"{RETURN}/upload", data={**data, "csrf_token": csrf_token(client, "/provider/returns")})


def _upload_kpis(client, name: str, content: bytes):
    page = client.get(KPIS).get_data(as_text=True)
    data = {"upload-idempotency_key": _key(page, "upload-idempotency_key"), "upload-file": (io.BytesIO(content), name)}
    return post_form(client, f"{KPIS}/import", data, form_page=KPIS)


#: Each form: who uploads, how, and a page that shows the accented text of the good file once it is recorded.
FORMS = {"returns import": ("provider", _upload_return, f"{RETURN}/amend"),
         "kpis import": ("accountant", _upload_kpis, f"{KPIS}?period=2020-21-Q1")}  # fmt: skip


@pytest.mark.parametrize("case", BAD)
@pytest.mark.parametrize("entry_name", FORMS)
def test_a_bad_file_uploaded_on_a_form_is_a_400_naming_it_and_records_nothing(client_as, demo_book, entry_name, case):
    role, upload, _ = FORMS[entry_name]
    name, content = bad_file(case, ENTRIES[entry_name])
    head = demo_book.projections.head()

    refused = upload(client_as(role), name, content)

    assert refused.status_code == 400
    expected = BAD[case].format(too_wide=ENTRIES[entry_name].too_wide)
    assert re.search(rf"{re.escape(name)}:.*{expected}", _said(refused), re.DOTALL), _said(refused)[-3000:]
    assert demo_book.projections.head() == head


@pytest.mark.parametrize("entry_name", FORMS)
def test_a_utf8_file_with_a_byte_order_mark_uploaded_on_a_form_is_recorded(client_as, demo_book, entry_name):
    """Excel's "CSV UTF-8" starts with a BOM: accepted, and the accented text after it shown as written."""
    role, upload, shown_on = FORMS[entry_name]
    client, head = client_as(role), demo_book.projections.head()

    recorded = upload(client, "excel-utf8.csv", ENTRIES[entry_name].good().encode("utf-8-sig"))

    assert recorded.status_code == 302, _said(recorded)[-3000:]
    assert demo_book.projections.head() > head
    assert ACCENTED in _said(client.get(shown_on))


@pytest.fixture(scope="module")
def provider_token(demo_book) -> str:
    return token_for(demo_book, USERS["provider"])


def _send(app, token: str, name: str, content: bytes):
    return app.test_client().post(FILES, data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data",
                                  headers=bearer(token, str(uuid4())))  # fmt: skip


@pytest.mark.parametrize("case", [case for case in BAD if case != "over-the-limit"])
def test_a_bad_activity_file_sent_to_the_api_fails_its_job_naming_it_and_records_nothing(app, demo_book,
                                                                                        provider_token, case):
    name, content = bad_file(case, ENTRIES["activity import"])
    head = demo_book.projections.head()

    queued = _send(app, provider_token, name, content)
    assert queued.status_code == 202, queued.get_json()
    ran = Worker(demo_book, beat=0.01).run_once()

    assert ran.id == queued.get_json()["job"] and ran.state == "failed", ran.result
    job = app.test_client().get(f"{FILES}/{ran.id}", headers=bearer(provider_token)).get_json()
    assert job["error"]["kind"] == "invalid-input"
    expected = BAD[case].format(too_wide=ENTRIES["activity import"].too_wide)
    assert re.search(rf"(^|\| ){re.escape(name)}:.*{expected}", " | ".join(job["error"]["problems"])), job["error"]
    assert demo_book.projections.head() == head


def test_an_activity_file_with_a_byte_order_mark_sent_to_the_api_is_imported(app, demo_book, provider_token):
    head = demo_book.projections.head()
    queued = _send(app, provider_token, "excel-utf8.csv", ENTRIES["activity import"].good().encode("utf-8-sig"))
    ran = Worker(demo_book, beat=0.01).run_once()
    assert ran.id == queued.get_json()["job"] and ran.state == "done", ran.error
    assert ran.result["visits"] == 2 and demo_book.projections.head() > head


def test_a_file_over_the_upload_limit_is_a_413_on_the_api_and_a_page_and_nothing_is_kept(demo_book, tmp_path,
                                                                                          provider_token):
    settings = Settings(secret_key="t" * 64, instance_path=str(tmp_path / "instance"), max_upload_mb=1)
    small = create_app({"OPENBOOK": demo_book, "SETTINGS": settings})
    jobs, head = len(demo_book.jobs.list_for(SYSTEM)), demo_book.projections.head()
    name, content = bad_file("over-the-limit", ENTRIES["activity import"])  # just over 1 MB

    refused = _send(small, provider_token, name, content)

    assert refused.status_code == 413
    assert refused.get_json()["kind"] == "http-413" and "at most 1 MB" in refused.get_json()["message"]
    page = _upload_return(log_in(small.test_client(), USERS["provider"]), "huge.csv", content)
    assert page.status_code == 413 and "at most 1 MB" in _said(page)
    assert len(demo_book.jobs.list_for(SYSTEM)) == jobs and demo_book.projections.head() == head
    uploads = tmp_path / "instance" / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []

