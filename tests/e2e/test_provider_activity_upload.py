"""A provider in the browser: Premier Care uploads its own activity file from the menu and watches the job's page
refresh itself until the import is done (a worker thread runs it, as in ``openbook serve``); a file with a Haven
Care row ends with that row named and nothing recorded; the upload and job pages pass the accessibility check."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from demo.partnerships import give_demo_passwords, load_demo
from ledger.bootstrap import open_openbook
from ledger.jobs.worker import start_worker_thread
from ledger.persistence.database import Database
from ledger.settings import Settings
from tests.e2e.accessibility import serious
from tests.e2e.conftest import log_in, screenshot
from tests.integration.activity_setup import visit, write_csv
from web.app import create_app

WIRRAL = "wirral-homecare"
UPLOAD = f"/provider/activity/{WIRRAL}/upload"
LABEL = "Activity file (CSV or XLSX)"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    """The web app on a demo ledger with a worker thread beside it, as ``openbook serve`` runs them; and the ledger."""
    folder = tmp_path_factory.mktemp("e2e-provider-upload")
    book = open_openbook(Database.from_url(f"sqlite:///{folder}/e2e.sqlite"))
    load_demo(book)
    give_demo_passwords(book)
    app = create_app({"OPENBOOK": book, "SETTINGS": Settings(secret_key="e" * 64, instance_path=f"{folder}/instance")})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    worker, stop = start_worker_thread(book, poll=0.2)
    try:
        yield f"http://127.0.0.1:{server.server_port}", book
    finally:
        stop.set()
        worker.join(timeout=30)
        server.shutdown()
        book.close()


def own_visits(count: int, prefix: str) -> list[list[str]]:
    return [visit(f"{prefix}{n:05}", "premier-care", "CH41 2AB", "2019-04-10", 30, 30) for n in range(count)]


def test_premier_care_uploads_its_own_file_and_watches_it_finish(audited_page, served, tmp_path):
    page = audited_page
    base, book = served
    log_in(page, base, "finance@premiercare.example")
    page.get_by_role("link", name="Upload activity", exact=True).click()
    page.wait_for_url(base + UPLOAD)
    assert serious(page) == []
    head = book.projections.head()

    page.get_by_label(LABEL).set_input_files(str(write_csv(tmp_path / "premier-april.csv", own_visits(500, "E2EP"))))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url(f"**{UPLOAD}/*")
    assert page.locator("progress").count() == 1
    page.wait_for_selector("[data-state=done]", timeout=60_000)  # the page refreshes itself until then
    assert page.locator("progress").get_attribute("value") == "100"
    assert page.locator("#job-result").inner_text() == "recorded 500 new visits from premier-april.csv"
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    assert serious(page) == []
    screenshot(page, "provider-activity-upload-done")
    assert book.projections.head() > head

    after = book.projections.head()
    page.get_by_role("link", name="Upload another file").click()
    rows = [*own_visits(3, "E2EQ"), visit("E2EH1", "haven-care", "CH60 3XY", "2019-04-10", 30, 30)]
    page.get_by_label(LABEL).set_input_files(str(write_csv(tmp_path / "mixed.csv", rows)))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_selector("[data-state=failed]", timeout=60_000)
    assert page.locator("#job-error").inner_text() == "mixed.csv: 1 problem(s); nothing was recorded"
    assert page.locator("#problems li").first.inner_text() == (
        "row 5, column provider: 'haven-care' is not premier-care: you may import only your own visits"
    )
    assert serious(page) == []
    screenshot(page, "provider-activity-upload-failed")
    assert book.projections.head() == after
