"""Issued statements in the browser: an accountant sends out the settlement statement from its page and downloads
the copy kept; an auditor uploads that copy and is told it matches, and a changed copy that it does not. The pages
pass the accessibility check under the app's own Content-Security-Policy, and are photographed (test-artifacts/)."""

from __future__ import annotations

import hashlib

from tests.e2e.accessibility import serious
from tests.e2e.conftest import csp_refusals, log_in, screenshot

WIRRAL, YEAR = "wirral-homecare", "2019-20"
SETTLEMENT = f"/accountant/settlements/{WIRRAL}/{YEAR}/1"


def test_an_accountant_sends_out_a_statement_and_an_auditor_checks_the_copy(browser, served, tmp_path):
    base = served.url
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    refused = csp_refusals(page)
    log_in(page, base, "accountant@wirral.example")
    page.wait_for_url(base + "/accountant/")
    page.goto(base + SETTLEMENT)
    page.get_by_label("Why it is sent").fill("to the partnership board")
    page.get_by_role("button", name="Send out the settlement statement").click()
    page.wait_for_url(base + "/statements/issued")
    assert page.locator(".flash").inner_text().startswith("Issued: Settlement statement, 2019-20")
    assert serious(page) == [] and refused == []
    screenshot(page, "issued-statements")
    link = page.locator("table[data-table=issued] tbody tr a").first
    with page.expect_download() as downloading:
        link.click()
    copy = tmp_path / "copy.pdf"
    downloading.value.save_as(copy)
    digest = hashlib.sha256(copy.read_bytes()).hexdigest()
    assert digest in page.locator("table[data-table=issued]").inner_text()
    context.close()

    context = browser.new_context()
    page = context.new_page()
    refused = csp_refusals(page)
    log_in(page, base, "auditor@audit.example")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Check a statement").click()
    page.get_by_label("The statement to check (PDF)").set_input_files(str(copy))
    page.get_by_role("button", name="Check", exact=True).click()
    assert page.locator("[data-matches]").get_attribute("data-matches") == "yes"
    assert serious(page) == [] and refused == []
    screenshot(page, "statement-check")
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(copy.read_bytes() + b"\n")
    page.get_by_label("The statement to check (PDF)").set_input_files(str(changed))
    page.get_by_role("button", name="Check", exact=True).click()
    assert page.locator("[data-matches]").get_attribute("data-matches") == "no"
    context.close()
