"""A quarter's cost return from the provider's spreadsheet to the accountant's acceptance, in the browser.

Premier Care has not filed 2020-21-Q1 in the demo. Its finance officer
downloads the template, fills it in with one mistyped figure, is told the row
and column, fixes it, uploads again and submits; the council's accountant
finds it in the inbox and queries a line; the provider answers; the
accountant accepts. Haven Care, another provider under the same agreement,
never sees the return: not in its lists, and its guessed address is 404.

The tests build on each other in file order on one live server (as a user's
day does). Every main page is photographed (test-artifacts/) and checked by
axe under the app's own Content-Security-Policy, which must refuse nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from demo.returns import DEMO_RETURNS, demo_filing
from domain.money import format_gbp
from domain.returns.filing import CostReturnFiling
from domain.returns.unit_costs import shown, unit_costs
from tests.e2e.accessibility import serious
from tests.e2e.conftest import csp_refusals, log_in, screenshot

PREMIER = "finance@premiercare.example"
HAVEN = "finance@havencare.example"
ACCOUNTANT = "accountant@wirral.example"
PERIOD = "2020-21-Q1"
RETURN = f"/provider/returns/wirral-homecare/premier-care/{PERIOD}"
REVIEW = f"/accountant/returns/wirral-homecare/premier-care/{PERIOD}"
MISTYPED = "5824O.00"  # a letter O for a zero, as a tired hand types it


def _quarter() -> CostReturnFiling:
    """Premier Care's quarter as its books have it: the demo's invented 2019-20 figures, with pay raised to the
    2020-21 National Living Wage (£8.72) so the return carries no wage-floor finding."""
    premier = next(d for d in DEMO_RETURNS if d.provider == "premier-care")
    raised = replace(premier, per_hour={**premier.per_hour, "contact_pay": "8.80"}, lowest_pay="8.72",
                     typical_pay="8.90")  # fmt: skip
    return demo_filing(raised, prepared_on=date(2020, 7, 15))


def _figures(quarter: CostReturnFiling) -> dict[str, str]:
    data = quarter.to_data()
    return {key: f"{value}" for key, value in (data["lines"] | data["volumes"]).items()}


def _filled(template: str, figures: dict[str, str]) -> tuple[str, dict[str, int]]:
    """The downloaded template with ``figures`` typed into its second column; each key's row number."""
    rows, numbers = [], {}
    for number, row in enumerate(csv.reader(io.StringIO(template)), start=1):
        if row and row[0] in figures:
            row[1] = figures[row[0]]
            numbers[row[0]] = number
        rows.append(row)
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue(), numbers


def _check(page, name: str, refused: list[str]) -> None:
    """A main page: photographed, no serious accessibility violation, nothing refused by the CSP."""
    screenshot(page, f"cost-return-{name}")
    assert serious(page) == [], name
    assert refused == [], name


@pytest.fixture
def refused(page) -> list[str]:
    return csp_refusals(page)


def test_a_provider_uploads_the_template_is_told_the_bad_cell_fixes_it_and_submits(page, live_server, refused,
                                                                                    tmp_path: Path):  # fmt: skip
    log_in(page, live_server, PREMIER)
    page.wait_for_url(live_server + "/provider/")
    _check(page, "provider-dashboard", refused)
    page.get_by_role("link", name="Returns", exact=True).click()
    page.wait_for_url(live_server + "/provider/returns")
    _check(page, "provider-returns", refused)
    with page.expect_download() as downloading:
        page.get_by_role("link", name="template (CSV)").click()
    template = Path(downloading.value.path()).read_text(encoding="utf-8")
    assert downloading.value.suggested_filename == "cost-return-template.csv"

    page.get_by_role("link", name=f"File {PERIOD}").click()
    page.wait_for_url(live_server + RETURN + "/file")
    assert page.locator("h1").inner_text() == f"File the cost return for {PERIOD}"
    figures = _figures(_quarter())
    mistyped, rows = _filled(template, figures | {"mileage": MISTYPED})
    upload = tmp_path / "premier-q1.csv"
    upload.write_text(mistyped, encoding="utf-8")
    file_field = page.get_by_label("Filled-in cost return template (CSV or XLSX)")
    file_field.set_input_files(upload)
    page.get_by_role("button", name="Upload as draft").click()
    page.get_by_role("alert").get_by_role("link", name="its problems").click()  # from the top of a long page
    assert page.evaluate("() => window.scrollY") > 0
    # The problem as a screen reader announces it with the field: the error its aria-describedby points at.
    assert file_field.get_attribute("aria-invalid") == "true"
    described = file_field.get_attribute("aria-describedby").split()
    error = " ".join(page.locator(f"[id='{i}']").inner_text() for i in described if "-error-" in i)
    assert error.startswith(f"premier-q1.csv: row {rows['mileage']}, column B (amount): ")
    assert MISTYPED in error
    _check(page, "provider-return-upload-refused", refused)
    page.get_by_role("link", name="All returns").click()
    assert page.get_by_role("link", name=f"File {PERIOD}").count() == 1  # nothing was saved

    page.get_by_role("link", name=f"File {PERIOD}").click()
    upload.write_text(_filled(template, figures)[0], encoding="utf-8")
    page.get_by_label("Filled-in cost return template (CSV or XLSX)").set_input_files(upload)
    page.get_by_role("button", name="Upload as draft").click()
    page.wait_for_url(live_server + RETURN)
    flash = page.locator(".flash").inner_text()
    assert flash == f"premier-q1.csv is recorded as your return for {PERIOD}: draft, revision 1."

    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_url(live_server + RETURN)
    assert page.locator(".flash").inner_text() == f"Your return for {PERIOD} is submitted for review (revision 1)."
    facts = page.locator("dl.facts").first.inner_text()
    assert "submitted" in facts and "1 of 1" in facts
    per_hour = format_gbp(shown(unit_costs(_quarter()).total_per_hour))
    assert f"Total cost per contact hour\n{per_hour}" in page.locator("dl.facts").nth(1).inner_text()
    _check(page, "provider-return", refused)



QUESTION = "Mileage is £1.28 a contact hour again though fuel fell this spring: is it the same fleet lease?"
ANSWER = "Yes: the lease runs to March 2022 at a fixed price, so mileage per hour did not fall with fuel."


def _open_in_inbox(page, base: str) -> None:
    """From the accountant's inbox to the return, narrowing the list to the period as an accountant would."""
    page.get_by_role("link", name="Returns", exact=True).click()
    page.get_by_label("Period").select_option(PERIOD)
    page.get_by_role("button", name="Show returns").click()
    page.wait_for_url(f"**period={PERIOD}**")
    rows = page.locator("table[data-table=returns] tbody tr")
    assert rows.count() == 1 and "Premier Care" in rows.first.inner_text()
    page.get_by_role("link", name="Premier Care").click()
    page.wait_for_url(base + REVIEW)


def test_the_accountant_finds_the_submitted_return_in_the_inbox_and_queries_a_line(page, live_server, refused):
    log_in(page, live_server, ACCOUNTANT)
    page.wait_for_url(live_server + "/accountant/")
    _check(page, "accountant-inbox", refused)
    _open_in_inbox(page, live_server)
    assert page.locator("h1").inner_text() == f"Cost return: Premier Care, {PERIOD}"
    assert "submitted" in page.locator("dl.facts").first.inner_text()
    assert "not yet explained" not in page.locator("main").inner_text()  # nothing stands in the way of acceptance

    page.get_by_label("Line or volume queried").select_option(label="Mileage and vehicle costs")
    page.get_by_label("Question to the provider").fill(QUESTION)
    page.get_by_role("button", name="Send the query").click()
    page.wait_for_url(live_server + REVIEW)
    assert page.locator(".flash").inner_text().startswith("Query Q1 sent on Mileage and vehicle costs")
    assert "queried" in page.locator("dl.facts").first.inner_text()
    assert QUESTION in page.locator("table[data-table=queries] tbody").inner_text()
    _check(page, "accountant-return-review", refused)


def test_the_provider_answers_the_query_from_its_returns_list(page, live_server, refused):
    log_in(page, live_server, PREMIER)
    page.get_by_role("link", name="Returns", exact=True).click()
    filed = page.locator("table[data-table=returns-0] tbody tr", has_text=PERIOD)
    assert "queried" in filed.inner_text()
    filed.get_by_role("link", name=PERIOD).click()
    page.wait_for_url(live_server + RETURN)
    page.get_by_role("link", name="Answer query Q1").click()
    assert QUESTION in page.locator("dl.facts").inner_text()
    page.get_by_label("Your answer").fill(ANSWER)
    page.get_by_role("button", name="Send answer").click()
    page.wait_for_url(live_server + RETURN)
    assert page.locator(".flash").inner_text() == "Your answer to Q1 is recorded."
    assert f"Answer ({PREMIER}" in page.locator("article.query").inner_text()
    assert "submitted" in page.locator("dl.facts").first.inner_text()


def test_the_accountant_reads_the_answer_and_accepts(page, live_server, refused):
    log_in(page, live_server, ACCOUNTANT)
    page.wait_for_url(live_server + "/accountant/")
    _open_in_inbox(page, live_server)
    assert ANSWER in page.locator("table[data-table=queries] tbody").inner_text()
    page.get_by_label("Note for the record (optional)").fill("mileage explained by the fixed-price fleet lease")
    page.get_by_role("button", name="Accept revision 1").click()
    page.wait_for_url(live_server + REVIEW)
    assert page.locator(".flash").inner_text() == "Revision 1 accepted."
    assert "accepted" in page.locator("dl.facts").first.inner_text()
    assert page.get_by_role("button", name="Accept revision 1").count() == 0
    _check(page, "accountant-return-accepted", refused)


def test_another_provider_never_sees_the_return_by_its_lists_or_by_guessing_its_address(page, live_server, refused):
    log_in(page, live_server, HAVEN)
    page.wait_for_url(live_server + "/provider/")
    page.get_by_role("link", name="Returns", exact=True).click()
    page.wait_for_url(live_server + "/provider/returns")
    listed = page.locator("main").inner_text()
    assert "Premier Care" not in listed and "premier-care" not in page.content()
    assert page.get_by_role("link", name=f"File {PERIOD}").count() == 1  # its own quarter, still to file
    for guessed in (RETURN, RETURN + "/file", RETURN + "/amend", RETURN + "/queries/Q1"):
        answered = page.goto(live_server + guessed)
        assert answered.status == 404, guessed
        assert ANSWER not in page.content() and "Premier Care" not in page.content()
    assert page.goto(live_server + REVIEW).status == 403  # the accountants' page, by role
    assert refused == []
