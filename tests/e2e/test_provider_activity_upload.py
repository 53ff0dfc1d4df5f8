"""A provider in the browser: Premier Care uploads its own activity file from the menu and watches the job's page
refresh itself until the import is done (a worker thread runs it, as in ``openbook serve``), then counts the visits
on its activity page; a file with a Haven Care row ends with that row named and nothing recorded; the upload and job
pages pass the accessibility check."""

from __future__ import annotations

from tests.e2e.accessibility import serious
from tests.e2e.conftest import log_in, screenshot
from tests.integration.activity_setup import visit, write_csv

WIRRAL = "wirral-homecare"
UPLOAD = f"/provider/activity/{WIRRAL}/upload"
LABEL = "Activity file (CSV or XLSX)"


def own_visits(count: int, prefix: str) -> list[list[str]]:
    return [visit(f"{prefix}{n:05}", "premier-care", "CH41 2AB", "2019-04-10", 30, 30) for n in range(count)]


def _april_visits(page) -> int:
    """Premier Care's visits in April 2019 as its activity page counts them (every zone and service)."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity", exact=True).click()
    page.get_by_label("Period").fill("2019-04")
    page.get_by_role("button", name="Show", exact=True).click()
    page.wait_for_url("**period=2019-04**")
    rows = page.locator("table[data-table=activity] tbody tr").all_inner_texts()
    return sum(int(row.split("\t")[3].replace(",", "")) for row in rows)


def test_premier_care_uploads_its_own_file_and_watches_it_finish(page, served, job_worker, tmp_path):
    base, book = served.url, served.book
    log_in(page, base, "finance@premiercare.example")
    before = _april_visits(page)
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
    page.get_by_role("link", name="Your activity").click()  # the result where the provider reads its activity
    assert _april_visits(page) == before + 500

    after = book.projections.head()
    page.get_by_role("link", name="Upload activity", exact=True).click()
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
