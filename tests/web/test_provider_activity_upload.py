"""A provider uploads its own activity file: a background job with a progress page, then the result or the rows.

On the demo (Premier Care's finance user, Wirral): a small file of Premier Care's visits is queued, its page
refreshes itself while queued, a worker runs it (as ``openbook worker --once`` would) and the page then shows the
visits and spend the ledger recorded; the form sent twice queues one job. A file with a Haven Care row fails the
job naming the row and column, and records nothing. Haven Care cannot open Premier Care's job (404), nor an
accountant the provider's pages (403). A file over the size limit is a 413 page, and nothing is kept or queued.
"""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest

from domain.envelope import SYSTEM
from domain.errors import NotFound
from ledger.authorisation import access_for
from ledger.jobs.worker import Worker
from ledger.queries import activity as views
from ledger.settings import Settings
from tests.integration.activity_setup import visit, write_csv
from tests.web.support import USERS, csrf_token, log_in
from web.app import create_app

AGREEMENT = "wirral-homecare"
FORM = f"/provider/activity/{AGREEMENT}/upload"
JOB_URL = re.compile(rf"{FORM}/([0-9a-f-]{{36}})$")

OWN = [
    visit("WEB-P1", "premier-care", "CH41 2AB", "2019-04-03", 30, 30),  # zone-1
    visit("WEB-P2", "premier-care", "CH44 1AA", "2019-04-04", 30, 45),  # zone-2
]


def form_fields(client, page: str = FORM) -> dict[str, str]:
    """The CSRF token and the form's idempotency key, as the browser has them once it shows the form."""
    html = client.get(page).get_data(as_text=True)
    found = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', html)
    assert found, "the upload form carries an idempotency key"
    return {"csrf_token": csrf_token(client, page), "idempotency_key": found.group(1)}


def upload(client, path, fields: dict[str, str]):
    with path.open("rb") as stream:
        return client.post(FORM, data={**fields, "file": (stream, path.name)}, content_type="multipart/form-data")


def job_of(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    found = JOB_URL.search(response.headers["Location"])
    assert found, response.headers["Location"]
    return found.group(1)


def recorded(book, visit_id: str) -> dict | None:
    try:
        return views.visit(book.read_engine, access_for(book.records, SYSTEM, AGREEMENT), visit_id)
    except NotFound:
        return None


def test_the_upload_form_says_the_format_and_the_size_limit(client_as):
    page = client_as("provider").get(FORM)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html
    assert "at most 150 MB" in html and "visit_id, provider, client_ref" in html and "<code>premier-care</code>" in html
    assert client_as("provider").get("/provider/activity-upload").headers["Location"].endswith(FORM)  # its one agreement


def test_premier_care_uploads_its_own_file_and_sees_the_result(client_as, demo_book, tmp_path):
    client = client_as("provider")
    fields = form_fields(client)
    path = write_csv(tmp_path / "april.csv", OWN)
    job = job_of(upload(client, path, fields))
    assert job_of(upload(client, path, fields)) == job  # the form sent twice: its one job
    assert [j.id for j in demo_book.jobs.list_for(demo_book.jobs.get(SYSTEM, job).actor)].count(job) == 1

    queued = client.get(f"{FORM}/{job}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in queued and "<progress" in queued
    assert 'data-state="queued"' in queued and "<script" not in queued
    before = demo_book.projections.head()

    ran = Worker(demo_book, beat=0.01).run_once()

    assert ran.id == job and ran.state == "done", ran.error
    assert demo_book.projections.head() > before
    one, two = recorded(demo_book, "WEB-P1"), recorded(demo_book, "WEB-P2")
    assert (one["provider"], two["provider"]) == ("premier-care", "premier-care")
    assert ran.result["visits"] == 2 and D(ran.result["spend"]) == one["price"] + two["price"] > 0
    done = client.get(f"{FORM}/{job}").get_data(as_text=True)
    assert "http-equiv" not in done and 'data-state="done"' in done and 'value="100"' in done
    assert re.search(r'data-figure="visits">2<', done)
    assert f'data-figure="spend">£{one["price"] + two["price"]:,.2f}<' in done
    assert "april.csv" in client.get(FORM).get_data(as_text=True)  # in the list of its uploads


def test_a_file_with_a_haven_care_row_fails_naming_the_row_and_records_nothing(client_as, demo_book, tmp_path):
    client = client_as("provider")
    rows = [visit("WEB-P3", "premier-care", "CH41 2AB", "2019-04-05", 30, 30),
            visit("WEB-H1", "haven-care", "CH60 3XY", "2019-04-05", 60, 55)]  # fmt: skip
    job = job_of(upload(client, write_csv(tmp_path / "mixed.csv", rows), form_fields(client)))
    before = demo_book.projections.head()

    failed = Worker(demo_book, beat=0.01).run_once()

    assert failed.id == job and failed.state == "failed" and failed.error["kind"] == "invalid-input"
    assert demo_book.projections.head() == before and recorded(demo_book, "WEB-P3") is None
    page = client.get(f"{FORM}/{job}").get_data(as_text=True)
    assert "Nothing was recorded" in page and "mixed.csv: 1 problem(s); nothing was recorded" in page
    assert "row 3, column provider: &#39;haven-care&#39; is not premier-care" in page


def test_haven_care_cannot_open_premier_cares_job_and_an_accountant_has_no_provider_upload(client_as, demo_book):
    job = next(j.id for j in demo_book.jobs.list_for(SYSTEM) if j.arguments.get("file_name") == "april.csv")
    assert client_as("provider").get(f"{FORM}/{job}").status_code == 200
    haven = client_as("other-provider")
    assert haven.get(f"{FORM}/{job}").status_code == 404
    assert "april.csv" not in haven.get(FORM).get_data(as_text=True)
    assert client_as("accountant").get(f"{FORM}/{job}").status_code == 403
    assert client_as("provider").get(f"{FORM}/00000000-0000-0000-0000-000000000000").status_code == 404


@pytest.fixture
def small_limit_app(demo_book, tmp_path):
    settings = Settings(secret_key="t" * 64, instance_path=str(tmp_path / "instance"), max_upload_mb=1)
    return create_app({"OPENBOOK": demo_book, "SETTINGS": settings})


def test_a_file_over_the_size_limit_is_a_413_page_and_nothing_is_kept(small_limit_app, demo_book, tmp_path):
    client = log_in(small_limit_app.test_client(), USERS["provider"])
    jobs = len(demo_book.jobs.list_for(SYSTEM))
    rows = [visit(f"BIG{n:06}", "premier-care", "CH41 2AB", "2019-04-06", 30, 30) for n in range(12_000)]
    path = write_csv(tmp_path / "big.csv", rows)
    assert path.stat().st_size > 1024 * 1024

    response = upload(client, path, form_fields(client))

    assert response.status_code == 413 and "File too large" in response.get_data(as_text=True)
    assert "at most 1 MB" in response.get_data(as_text=True)
    assert len(demo_book.jobs.list_for(SYSTEM)) == jobs
    uploads = tmp_path / "instance" / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []
