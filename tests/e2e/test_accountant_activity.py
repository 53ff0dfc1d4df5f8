"""An accountant in the browser: uploads the ECM export and watches its job's progress page refresh itself until
the import is done (a worker thread runs it, as in ``openbook serve``); a file with a bad row ends with the
problems by row and nothing recorded; the activity, KPI and incentive pages pass the accessibility check."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from demo.visits import visit_rows, write_visits
from tests.e2e.accessibility import serious
from tests.e2e.conftest import log_in, screenshot

WIRRAL = "wirral-homecare"
IMPORTS = f"/accountant/activity/{WIRRAL}/imports"


def _export(book, folder: Path, rows: int, *, bad: bool = False) -> Path:
    made = list(visit_rows(book.records.agreement(WIRRAL), rows, date(2020, 4, 1), date(2020, 5, 31), seed=11,
                           id_prefix="E2E"))  # fmt: skip
    if bad:
        made[3][1] = "acme-care"
    return write_visits(folder / ("bad-export.csv" if bad else "ecm-export.csv"), iter(made))


def test_an_accountant_uploads_the_ecm_export_and_watches_it_finish(page, served, job_worker, tmp_path):
    base, book = served.url, served.book
    log_in(page, base, "accountant@wirral.example")
    page.get_by_role("link", name="Activity", exact=True).click()
    page.get_by_role("link", name="Imports and upload").click()
    page.wait_for_url(base + IMPORTS)
    head = book.projections.head()

    page.get_by_label("ECM export (CSV or XLSX)").set_input_files(str(_export(book, tmp_path, 2000)))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url(f"**/accountant/activity/{WIRRAL}/jobs/*")
    assert page.locator("progress").count() == 1
    page.wait_for_selector("[data-state=done]", timeout=60_000)  # the page refreshes itself until then
    assert page.locator("progress").get_attribute("value") == "100"
    assert page.locator("#job-result").inner_text() == "recorded 2,000 new visits from ecm-export.csv"
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    screenshot(page, "accountant-activity-import-done")
    assert book.projections.head() > head

    page.get_by_role("link", name=f"Every import of {WIRRAL}").click()
    page.wait_for_url(f"**/activity/{WIRRAL}/imports")
    files = page.locator("table[data-table=imports] tbody tr td:nth-child(3)").all_inner_texts()
    assert files[-1] == "ecm-export.csv"

    after = book.projections.head()
    page.get_by_label("ECM export (CSV or XLSX)").set_input_files(str(_export(book, tmp_path, 50, bad=True)))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_selector("[data-state=failed]", timeout=60_000)
    assert page.locator("#job-error").inner_text() == "bad-export.csv: 1 problem(s); nothing was recorded"
    assert page.locator("#problems li").first.inner_text().startswith("row 5, column provider:")
    screenshot(page, "accountant-activity-import-failed")
    assert book.projections.head() == after


def test_the_activity_kpi_and_incentive_pages_have_no_serious_accessibility_violation(page, live_server):
    base = live_server
    log_in(page, base, "accountant@wirral.example")
    page.wait_for_url(base + "/accountant/")
    for path in ("/accountant/activity", f"/accountant/activity/{WIRRAL}", IMPORTS,
                 f"/accountant/activity/{WIRRAL}/visits/D1920-00000005", f"/accountant/kpis/{WIRRAL}?period=2019-20",
                 "/accountant/incentives", f"/accountant/incentives/{WIRRAL}",
                 f"/accountant/incentives/{WIRRAL}/2019-20"):  # fmt: skip
        page.goto(base + path)
        assert serious(page) == [], path
    screenshot(page, "accountant-incentive-assessment")
    page.goto(f"{base}/accountant/kpis/{WIRRAL}")
    page.locator("#record-period").fill("2019-20-Q2")
    page.get_by_label("Value").fill("lots")
    page.get_by_label("Evidence").fill("a report")
    page.get_by_role("button", name="Record the result").click()  # the form re-shown with its error
    assert "lots" in page.locator("#record-value-error-1").inner_text()
    assert serious(page) == []
