"""The provider's cost returns in the browser: due and overdue, filing by form and by file, submit, amend, answer.

The tests build on one demo ledger in file order: Premier Care files its
2020-21-Q1 return by the form (after one refused try), submits and amends it,
uploads 2020-21-Q2 from the CSV template (after one refused file); Aspire
answers the accountant's query on its 2019-20-Q1 travel pay. Every refused
form or file is checked to record nothing, every accepted one to record once.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from openpyxl import load_workbook

from domain.envelope import Actor
from domain.returns.filing import CostLine, Volume
from domain.returns.unit_costs import shown
from ledger.authorisation import access_for
from ledger.files.cost_returns import template_csv
from ledger.queries import returns as views
from tests.web.support import USERS, csrf_token, log_in, post_form

AGREEMENT = "wirral-homecare"
BASE = f"/provider/returns/{AGREEMENT}/premier-care"
ASPIRE = "finance@aspire.example"


def _access(book, user: str = USERS["provider"], organisation: str = "premier-care"):
    return access_for(book.records, Actor(user=user, organisation=organisation), AGREEMENT)


def _sheet(book, period: str, provider: str = "premier-care", **who):
    return views.return_sheet(book.read_engine, _access(book, **who), provider, period)


def _returns(book) -> dict[str, dict]:
    return {row["period"]: row for row in views.list_returns(book.read_engine, _access(book))}


def _figures(book) -> dict[str, str]:
    """Premier Care's accepted 2019-20-Q1 figures, as a provider would type them for a new quarter."""
    sheet = _sheet(book, "2019-20-Q1")
    data = {f"line_{row['line']}": f"{row['amount']:f}" for row in sheet["lines"]}
    data |= {f"volume_{key}": str(value) for key, value in sheet["volumes"].items()}
    return data


def _error_beside(html: str, field: str) -> str:
    """The error message shown beside ``field`` (its id-linked paragraph), or fail."""
    found = re.search(rf'<p class="field-error" id="{field}-error-1">([^<]*)</p>', html)
    assert found, f"no error beside {field}"
    return found.group(1)


def test_the_menu_has_returns_and_the_list_shows_each_return_and_what_is_due(client_as, demo_book):
    client = client_as("provider")
    html = client.get("/provider/returns").get_data(as_text=True)
    assert '<a href="/provider/returns" aria-current="page">Returns</a>' in html
    filed = _returns(demo_book)["2019-20-Q1"]
    assert filed["status"] == "accepted"
    assert f"{BASE}/2019-20-Q1" in html and f"£{shown(filed['total_per_hour'])}" in html

    # 2020-21-Q1 ended on 30 June 2020: due 30 days later, overdue from the day after, in text not colour alone.
    due_on = date(2020, 6, 30) + timedelta(days=views.RETURN_DUE_DAYS)
    before = client.get(f"/provider/returns?on={due_on.isoformat()}").get_data(as_text=True)
    after = client.get(f"/provider/returns?on={(due_on + timedelta(days=2)).isoformat()}").get_data(as_text=True)
    assert f"{BASE}/2020-21-Q1/file" in before and due_on.isoformat() in before
    assert "Overdue" not in before and "overdue as on" not in before
    assert "Overdue by 2 days" in after and "1 return overdue" in after
    rows = views.returns_due(demo_book.read_engine, _access(demo_book), "premier-care", due_on + timedelta(days=2))
    assert [r["period"] for r in rows if r["overdue"]] == ["2020-21-Q1"]
    assert client.get("/provider/returns?on=30-06-2020").status_code == 400
    # Any other period (an annual return) from the list's own form: on to its page, or its form if not filed.
    chosen = client.get(f"/provider/returns/file?agreement={AGREEMENT}&period=2019-20-Q1")
    assert chosen.status_code == 302 and chosen.location.endswith(f"{BASE}/2019-20-Q1")
    year = client.get(f"/provider/returns/file?agreement={AGREEMENT}&period=2020-21")
    assert year.location.endswith(f"{BASE}/2020-21/file")
    assert client.get(f"/provider/returns/file?agreement={AGREEMENT}&period=Q5").status_code == 400


def test_the_template_downloads_in_both_formats(client_as):
    client = client_as("provider")
    as_csv = client.get("/provider/returns/template.csv")
    assert as_csv.status_code == 200 and as_csv.get_data(as_text=True) == template_csv()
    assert "attachment" in as_csv.headers["Content-Disposition"]
    as_xlsx = client.get("/provider/returns/template.xlsx")
    keys = [row[0].value for row in load_workbook(io.BytesIO(as_xlsx.data)).active.iter_rows()]
    assert "contact_pay" in keys and "typical_hourly_pay" in keys


def test_the_form_has_every_line_and_volume_labelled_and_grouped(client_as):
    html = client_as("provider").get(f"{BASE}/2020-21-Q1/file").get_data(as_text=True)
    for line in CostLine:
        assert f'<label for="line_{line.value}">{line.label} (£)</label>' in html
    for volume in Volume:
        assert f'<label for="volume_{volume.value}">{volume.label}</label>' in html
    assert html.count("<legend>") == 8  # six cost groups, the volumes, the filing itself
    assert html.index("<legend>On-costs</legend>") < html.index('for="line_pension"') < html.index(
        "<legend>Mileage and vehicles</legend>"
    )


def test_a_bad_field_is_shown_beside_it_and_records_nothing_then_the_fix_records_once(client_as, demo_book):
    client = client_as("provider")
    path = f"{BASE}/2020-21-Q1/file"
    key = str(uuid4())
    figures = _figures(demo_book)
    head = demo_book.projections.head()

    refused = post_form(client, path, {**figures, "line_pension": "18655.005", "idempotency_key": key, "save": "y"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert _error_beside(html, "line_pension") == "18655.005 has more than 2 decimal places"
    assert 'aria-invalid="true"' in html and 'value="18655.005"' in html  # the typed figures come back
    assert "Please correct the fields marked below. Nothing was saved." in html
    assert demo_book.projections.head() == head and "2020-21-Q1" not in _returns(demo_book)

    fixed = {**figures, "idempotency_key": key, "save": "y", "reason": "first quarter of 2020-21"}
    assert post_form(client, path, fixed).status_code == 302
    recorded = demo_book.projections.head()
    assert recorded > head
    # The double click: the same key records once (the form page now redirects to the return: any page's token).
    assert post_form(client, path, fixed, form_page="/provider/returns").status_code == 302
    assert demo_book.projections.head() == recorded
    row = _returns(demo_book)["2020-21-Q1"]
    assert (row["status"], row["revision"]) == ("draft", 1)
    sheet = _sheet(demo_book, "2020-21-Q1")
    assert sheet["totals"]["total_cost"] == _sheet(demo_book, "2019-20-Q1")["totals"]["total_cost"]

    page = client.get(f"{BASE}/2020-21-Q1").get_data(as_text=True)
    assert "draft" in page and "Submit for review" in page
    # Filing the same period again with a new key is a conflict beside nothing: shown above the form.
    again = post_form(
        client, path, {**figures, "idempotency_key": str(uuid4()), "save": "y"}, form_page="/provider/returns"
    )
    assert again.status_code == 409 and "already filed" in again.get_data(as_text=True)
    assert demo_book.projections.head() == recorded


def test_submit_records_once_and_a_second_submit_is_refused(client_as, demo_book):
    client = client_as("provider")
    path = f"{BASE}/2020-21-Q1/submit"
    key = str(uuid4())
    head = demo_book.projections.head()
    assert post_form(client, path, {"idempotency_key": key}, form_page=f"{BASE}/2020-21-Q1").status_code == 302
    submitted = demo_book.projections.head()
    assert submitted > head and _returns(demo_book)["2020-21-Q1"]["status"] == "submitted"
    assert post_form(client, path, {"idempotency_key": key}, form_page=f"{BASE}/2020-21-Q1").status_code == 302
    refused = post_form(client, path, {"idempotency_key": str(uuid4())}, form_page=f"{BASE}/2020-21-Q1")
    assert refused.status_code == 422 and "only a draft can be submitted" in refused.get_data(as_text=True)
    assert demo_book.projections.head() == submitted


def test_amending_a_submitted_return_needs_a_reason_beside_its_field(client_as, demo_book):
    client = client_as("provider")
    path = f"{BASE}/2020-21-Q1/amend"
    shown_form = client.get(path).get_data(as_text=True)
    assert 'name="line_contact_pay" type="text" value="377650.00"' in shown_form  # the current figures to change
    figures = {**_figures(demo_book), "line_contact_pay": "380000.00", "idempotency_key": str(uuid4()), "save": "y"}
    head = demo_book.projections.head()
    refused = post_form(client, path, figures)
    assert refused.status_code == 400
    assert _error_beside(refused.get_data(as_text=True), "reason") == "amending a submitted return needs a reason"
    assert demo_book.projections.head() == head
    assert post_form(client, path, {**figures, "reason": "contact pay corrected"}).status_code == 302
    sheet = _sheet(demo_book, "2020-21-Q1")
    assert (sheet["current_revision"], sheet["reason"]) == (2, "contact pay corrected")
    assert sheet["lines"][0]["amount"] == Decimal("380000.00")


def _filled_csv(book, bad: dict[str, str] | None = None) -> tuple[bytes, dict[str, int]]:
    """The CSV template filled with Premier Care's 2019-20-Q1 figures (``bad`` overrides); each key's row number."""
    figures = {key.split("_", 1)[1]: value for key, value in _figures(book).items()} | (bad or {})
    rows, numbers = [], {}
    for number, row in enumerate(csv.reader(io.StringIO(template_csv())), start=1):
        if row and row[0] in figures:
            row[1] = figures[row[0]]
            numbers[row[0]] = number
        rows.append(row)
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8"), numbers


def test_an_uploaded_csv_with_a_bad_row_names_row_and_column_and_records_nothing(client_as, demo_book):
    client = client_as("provider")
    path, page = f"{BASE}/2020-21-Q2/upload", f"{BASE}/2020-21-Q2/file"
    content, rows = _filled_csv(demo_book, {"mileage": "lots"})
    head = demo_book.projections.head()
    token = csrf_token(client, page)
    refused = client.post(path, data={"csrf_token": token, "idempotency_key": str(uuid4()), "save": "y",
                                      "file": (io.BytesIO(content), "q2.csv")})  # fmt: skip
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert f"q2.csv: row {rows['mileage']}, column B (amount): " in html
    assert _error_beside(html, "upload-file").startswith(f"q2.csv: row {rows['mileage']}, column B")
    assert demo_book.projections.head() == head and "2020-21-Q2" not in _returns(demo_book)

    good, _ = _filled_csv(demo_book)
    accepted = client.post(path, data={"csrf_token": token, "idempotency_key": str(uuid4()), "submit": "y",
                                       "file": (io.BytesIO(good), "q2.csv")})  # fmt: skip
    assert accepted.status_code == 302
    row = _returns(demo_book)["2020-21-Q2"]
    assert (row["status"], row["revision"]) == ("submitted", 1)
    assert demo_book.projections.head() > head


def test_the_sheet_shows_per_hour_figures_against_the_rate_paid_and_the_anonymised_market(client_as, demo_book):
    html = client_as("provider").get(f"{BASE}/2019-20-Q1").get_data(as_text=True)
    sheet = _sheet(demo_book, "2019-20-Q1")
    market = views.market(demo_book.read_engine, _access(demo_book), "2019-20-Q1")["market"]
    assert f"£{sheet['totals']['total_per_hour_shown']}" in html
    assert f"£{sheet['rate'].rate}" in html and f"-£{-shown(sheet['gap'])}" in html
    assert f"median £{shown(market['total']['median'])}" in html
    assert f"from {market['contributors']} providers" in html
    assert '<figure class="chart">' in html and "<svg" in html
    for other in ("Haven Care", "Aspire", "haven-care"):  # the market is anonymised
        assert other not in html


def test_aspire_answers_the_accountants_query_on_travel_pay(app, demo_book):
    client = log_in(app.test_client(), ASPIRE)
    base = f"/provider/returns/{AGREEMENT}/aspire/2019-20-Q1"
    who = {"user": ASPIRE, "organisation": "aspire"}
    asked = _sheet(demo_book, "2019-20-Q1", "aspire", **who)["queries"][0]
    assert (asked["line"], asked["answer"]) == ("travel_pay", None)
    sheet_page = client.get(base).get_data(as_text=True)
    assert "queried" in sheet_page and f"{base}/queries/{asked['query_id']}" in sheet_page
    assert f"Answer query {asked['query_id']}</a> on {CostLine('travel_pay').label}</li>" in sheet_page  # not the code
    path = f"{base}/queries/{asked['query_id']}"
    assert asked["question"] in client.get(path).get_data(as_text=True)

    head = demo_book.projections.head()
    key = str(uuid4())
    blank = post_form(client, path, {"idempotency_key": key, "answer": "  "})
    assert blank.status_code == 400 and _error_beside(blank.get_data(as_text=True), "answer") == "write your answer"
    assert demo_book.projections.head() == head
    answer = "Rural rounds in zone 4: the rota analysis is attached to our email of 5 August."
    assert post_form(client, path, {"idempotency_key": key, "answer": answer}).status_code == 302
    recorded = demo_book.projections.head()
    assert recorded > head
    assert post_form(client, path, {"idempotency_key": key, "answer": answer}).status_code == 302  # once
    assert demo_book.projections.head() == recorded
    answered = _sheet(demo_book, "2019-20-Q1", "aspire", **who)
    assert answered["queries"][0]["answer"] == answer and answered["status"] == "submitted"
    assert "Answer (finance@aspire.example" in client.get(base).get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    ["", "/file", "/amend", "/queries/Q1"],
)
def test_haven_care_cannot_open_premier_cares_return(client_as, path):
    client = client_as("other-provider")
    assert client.get(f"{BASE}/2019-20-Q1{path}").status_code == 404
    assert client.get(f"/provider/returns/{AGREEMENT}/haven-care/2019-20-Q1").status_code == 200  # its own


def test_haven_care_cannot_record_on_premier_cares_return(client_as, demo_book):
    client = client_as("other-provider")
    head = demo_book.projections.head()
    for action, data in (("submit", {}), ("file", {**_figures(demo_book), "save": "y"})):
        refused = post_form(client, f"{BASE}/2021-22-Q1/{action}", {**data, "idempotency_key": str(uuid4())},
                            form_page="/provider/returns")  # fmt: skip
        assert refused.status_code == 404, action
    assert demo_book.projections.head() == head


def test_an_accountant_opening_the_provider_pages_is_refused_by_role(client_as):
    client = client_as("accountant")
    for path in ("/provider/returns", f"{BASE}/2019-20-Q1", "/provider/returns/template.csv"):
        assert client.get(path).status_code == 403, path
    assert 'href="/provider/returns"' not in client.get("/account").get_data(as_text=True)  # not in its menu


def test_per_hour_figures_that_do_not_fall_on_a_penny_read_the_same_to_the_penny_everywhere(client_as, demo_book):
    """Mileage £60,000 over 45,500 hours is £1.318681… an hour: the working figures keep 4 places (£1.3187), but
    the provider's page, the accountant's page and the cost statement (and the charts in them) each show the
    figures to the penny, as docs/cost-returns.md says, so the provider and the council read one gap."""
    period = "2020-21-Q3"
    figures = {**_figures(demo_book), "line_mileage": "60000.00", "line_surplus": "-1000.00",
               "volume_contact_hours": "45500"}  # fmt: skip
    filed = post_form(client_as("provider"), f"{BASE}/{period}/file",
                      {**figures, "idempotency_key": str(uuid4()), "submit": "y"})  # fmt: skip
    assert filed.status_code == 302
    sheet = _sheet(demo_book, period)
    working = [sheet["gap"], sheet["totals"]["total_per_hour"]]
    assert all(value != shown(value) for value in working), working  # the case: neither falls on a penny
    gap, cost = (f"{'-' if v < 0 else ''}£{abs(shown(v))}" for v in working)
    pages = {
        "provider": client_as("provider").get(f"{BASE}/{period}").get_data(as_text=True),
        "accountant": client_as("accountant").get(f"/accountant/returns/{AGREEMENT}/premier-care/{period}")
        .get_data(as_text=True),
        "statement": client_as("provider").get(f"/statements/cost/{AGREEMENT}/premier-care/{period}?format=html")
        .get_data(as_text=True),
    }  # fmt: skip
    for who, html in pages.items():
        assert gap in html and cost in html, who
        assert not re.findall(r"£[\d,]+\.\d{3,}", html), (who, re.findall(r"£[\d,]+\.\d{3,}", html)[:5])


def test_a_period_outside_the_term_is_refused_before_its_form_is_shown(client_as, demo_book):
    """Nothing can be filed for 1999-00-Q1 under an agreement that starts in 2019: the provider is told so instead of
    a form of thirty figures that would be refused on save; the list's "another period" box says the same."""
    client = client_as("provider")
    head = demo_book.projections.head()
    for path in (f"{BASE}/1999-00-Q1/file", f"/provider/returns/file?agreement={AGREEMENT}&period=1999-00-Q1"):
        page = client.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 422, path
        assert f"1999-00-Q1 is outside the term of {AGREEMENT}" in html and 'name="line_contact_pay"' not in html
    assert client.get(f"{BASE}/2021-22-Q1/file").status_code == 200  # within the term: the form
    assert demo_book.projections.head() == head
