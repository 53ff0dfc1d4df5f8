"""The provider portal's dashboard and read-only pages show the ledger's own figures, and only the provider's own.

Every figure asserted here is the query's answer for the same access (the
page adds nothing up): returns due, rates in force, the latest payment
statement and incentive result, activity totals, KPI results, assessments,
statements and settlements. Haven Care, under the same agreement, never sees
Premier Care's name or any of Premier Care's figures that are not also its
own; another provider's URL is 404; an accountant is refused the pages (403).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

from demo.partnerships import PREMIER_CARE_FINANCE
from demo.settlements import DEMO_YEAR, WIRRAL
from domain.envelope import Actor
from domain.money import format_gbp
from ledger.authorisation import access_for
from ledger.queries import activity as activity_views
from ledger.queries import incentives as incentive_views
from ledger.queries import returns as return_views
from ledger.queries import settlements as settlement_views
from ledger.queries.rates import rates_in_force
from tests.web.support import USERS, log_in

HAVEN_CARE_FINANCE = Actor(USERS["other-provider"], "haven-care")
ASPIRE_FINANCE = Actor("finance@aspire.example", "aspire")
ON = date(2020, 8, 15)  # after the demo's 2019-20 and the first quarter of 2020-21


def access(book, actor: Actor):
    return access_for(book.records, actor, WIRRAL)


def text_of(html: str) -> str:
    """The page's visible text, one space between words (what a reader reads, and what a leak would be)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.replace("&#39;", "'")))


# -- the dashboard ---------------------------------------------------------------------------------------


def test_the_dashboard_shows_the_queries_figures(client_as, demo_book):
    engine = demo_book.read_engine
    mine = access(demo_book, PREMIER_CARE_FINANCE)
    html = client_as("provider").get(f"/provider/?on={ON}").get_data(as_text=True)
    page = text_of(html)

    due = return_views.returns_due(engine, mine, "premier-care", ON)
    overdue = [r["period"] for r in due if r["overdue"]]
    assert overdue == ["2020-21-Q1"]  # Q1-Q4 of 2019-20 were filed before they fell due
    assert f'data-overdue="{len(overdue)}"' in html and "Overdue" in page and "2020-21-Q1" in page
    assert 'data-open-queries="0"' in html and "Returns with open queries" not in page
    for row in due:
        assert f"{row['period']} {row['due_on'].isoformat()} {row['status'] or 'not filed'}" in page
    assert "2020-21-Q1 2020-07-30 not filed overdue" in page  # the flag is a word, not a colour
    assert '<a href="/provider/returns/wirral-homecare/premier-care/2019-20-Q1">2019-20-Q1</a>' in html
    assert '<a href="/provider/returns/wirral-homecare/premier-care/2020-21-Q1/file">2020-21-Q1</a>' in html

    rates = rates_in_force(engine, WIRRAL, ON)
    assert rates
    for rate in rates:
        assert f"{rate['zone']} {rate['service']} {format_gbp(rate['hourly_rate'])}" in page

    last = settlement_views.payment_runs(engine, mine, DEMO_YEAR)[-1]
    statement = settlement_views.payment_statement(engine, mine, "premier-care", last["month"])
    assert f'data-payment-month="{statement["month"]}"' in html
    assert f"Amount {format_gbp(statement['amount'])}" in page
    assert f"to date {format_gbp(statement['cumulative_paid'])}" in page

    line = incentive_views.incentive_assessment(engine, mine, DEMO_YEAR)["lines"][0]
    assert line["provider"] == "premier-care" and line["payment"] > 0
    assert f"Payment {format_gbp(line['payment'])}" in page and line["reason"] in page


def test_an_alliance_member_sees_its_overdue_quarters_and_its_queried_return(app, demo_book):
    engine = demo_book.read_engine
    aspire = access(demo_book, ASPIRE_FINANCE)  # files under the alliance's award; only its Q1 return is filed
    html = log_in(app.test_client(), ASPIRE_FINANCE.user).get(f"/provider/?on={ON}").get_data(as_text=True)
    page = text_of(html)
    due = return_views.returns_due(engine, aspire, "aspire", ON)
    overdue = [r["period"] for r in due if r["overdue"]]
    assert overdue == ["2020-21-Q1", "2019-20-Q4", "2019-20-Q3", "2019-20-Q2"]
    assert f'data-overdue="{len(overdue)}"' in html and ", ".join(overdue) in page
    queried = [r for r in return_views.list_returns(engine, aspire) if r["open_queries"]]
    assert [r["period"] for r in queried] == ["2019-20-Q1"]
    assert f'data-open-queries="{queried[0]["open_queries"]}"' in html
    assert f"Returns with open queries · export CSV · XLSX Period State Open queries 2019-20-Q1 queried " \
           f"{queried[0]['open_queries']}" in page


def test_the_dashboard_on_an_earlier_date_shows_what_was_due_and_paid_by_then(client_as, demo_book):
    html = client_as("provider").get("/provider/?on=2019-09-01").get_data(as_text=True)
    assert 'data-overdue="0"' in html and 'data-payment-month="2019-07"' in html  # July's run was paid on 10 August
    assert "No incentive assessment is recorded yet." in html
    assert client_as("provider").get("/provider/?on=2019-13-01").status_code == 400


# -- the read-only pages ------------------------------------------------------------------------------


def test_activity_by_month_zone_and_service_is_the_totals_query_with_its_chart(client_as, demo_book):
    mine = access(demo_book, PREMIER_CARE_FINANCE)
    rows = activity_views.totals(demo_book.read_engine, mine, ("month", "zone", "service"), period="2019-20-Q1")
    client = client_as("provider")
    html = client.get("/provider/activity/wirral-homecare?period=2019-20-Q1").get_data(as_text=True)
    page = text_of(html)
    assert rows and '<figure class="chart">' in html and "<svg" in html
    for row in rows:
        assert f"{row['month']} {row['zone']} {row['service']} {row['visits']:,}" in page
        assert format_gbp(row["spend"]) in page
    exported = client.get("/provider/activity/wirral-homecare?period=2019-20-Q1&export=activity&format=csv")
    lines = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert len(lines) == len(rows) + 1
    assert sorted(Decimal(line[-2]) for line in lines[1:]) == sorted(row["spend"] for row in rows)
    assert client.get("/provider/activity").headers["Location"].endswith("/provider/activity/wirral-homecare")
    assert client.get("/provider/activity/wirral-homecare?period=2019").status_code == 400


def test_kpi_results_and_the_assessment_with_its_working(client_as, demo_book):
    engine = demo_book.read_engine
    mine = access(demo_book, PREMIER_CARE_FINANCE)
    client = client_as("provider")
    page = text_of(client.get("/provider/incentives/wirral-homecare").get_data(as_text=True))
    for result in incentive_views.kpi_dashboard(engine, mine)["rows"]:
        assert f"{result['period']} {result['name']} {result['value']} {result['target_words']}" in page

    assessed = incentive_views.incentive_assessment(engine, mine, DEMO_YEAR)
    (line,) = assessed["lines"]
    html = client.get(f"/provider/incentives/wirral-homecare/{DEMO_YEAR}").get_data(as_text=True)
    assert f'data-payment="{line["payment"]}"' in html
    assessment = text_of(html)
    assert line["working"] in assessment and all(note in assessment for note in line["kpi_notes"])
    assert client.get(f"/provider/incentives/wirral-homecare/{DEMO_YEAR}?run=9").status_code == 404

    history = incentive_views.kpi_history(engine, mine, "premier-care", DEMO_YEAR)
    shown = text_of(client.get(f"/provider/kpis/wirral-homecare/premier-care/{DEMO_YEAR}").get_data(as_text=True))
    assert history and all(entry["evidence"] in shown for entry in history)


def test_payment_statements_and_settlements_are_the_providers_own(client_as, demo_book):
    engine = demo_book.read_engine
    mine = access(demo_book, PREMIER_CARE_FINANCE)
    client = client_as("provider")
    runs = settlement_views.payment_runs(engine, mine, DEMO_YEAR)
    page = text_of(client.get("/provider/payments/wirral-homecare").get_data(as_text=True))
    for run in runs:
        assert f"{run['month']} {run['paid_on'].isoformat()} {run['mechanism']} {format_gbp(run['amount'])}" in page

    statement = settlement_views.payment_statement(engine, mine, "premier-care", "2019-05")
    html = client.get("/provider/payments/wirral-homecare/premier-care/2019-05").get_data(as_text=True)
    assert f'data-amount="{statement["amount"]}"' in html
    shown = text_of(html)
    assert all(format_gbp(line["amount"]) in shown for line in statement["lines"])

    settled = settlement_views.settlement(engine, mine, WIRRAL, DEMO_YEAR, 1)
    own = settled["statement"]["providers"]["premier-care"]
    html = client.get(f"/provider/settlements/wirral-homecare/{DEMO_YEAR}/1").get_data(as_text=True)
    assert f'data-balance="{own["balance"]}"' in html
    assert settled["awaiting"] == ["wirral-ccg", "wirral-council"]  # the draft awaits both; named as people say them
    assert "awaiting approval by NHS Wirral CCG, Wirral Council." in text_of(html)
    assert f"{DEMO_YEAR} 1 {settled['status']}" in page and format_gbp(own["share"]) in page


# -- only the provider's own --------------------------------------------------------------------------


def _premier_figures(book) -> set[str]:
    """Premier Care's own figures, as pounds, from every query these pages read."""
    engine, mine = book.read_engine, access(book, PREMIER_CARE_FINANCE)
    found = {r["spend"] for r in activity_views.totals(engine, mine, ("month", "zone", "service"))}
    found |= {r["spend"] for r in activity_views.totals(engine, mine, ("month",))}
    found |= {r["amount"] for r in settlement_views.payment_runs(engine, mine, DEMO_YEAR)}
    found |= {line["payment"] for line in incentive_views.incentive_assessment(engine, mine, DEMO_YEAR)["lines"]}
    own = settlement_views.settlement(engine, mine, WIRRAL, DEMO_YEAR)["statement"]["providers"]["premier-care"]
    found |= set(own.values())
    return {format_gbp(amount) for amount in found if amount}


def _haven_pages(book) -> list[str]:
    haven = access(book, HAVEN_CARE_FINANCE)
    months = [r["month"] for r in settlement_views.payment_runs(book.read_engine, haven, DEMO_YEAR)]
    assert months
    return [
        "/provider/", f"/provider/?on={ON}", "/provider/activity/wirral-homecare",
        "/provider/activity/wirral-homecare?period=2019-20-Q1", "/provider/incentives/wirral-homecare",
        f"/provider/incentives/wirral-homecare/{DEMO_YEAR}", f"/provider/kpis/wirral-homecare/haven-care/{DEMO_YEAR}",
        "/provider/payments/wirral-homecare", f"/provider/settlements/wirral-homecare/{DEMO_YEAR}/1",
        *(f"/provider/payments/wirral-homecare/haven-care/{month}" for month in months),
    ]  # fmt: skip


def _haven_figures(book) -> set[str]:
    """Every figure of Haven Care's own, and of the partnership's it shares, that its pages may show."""
    engine, haven = book.read_engine, access(book, HAVEN_CARE_FINANCE)
    runs = settlement_views.payment_runs(engine, haven, DEMO_YEAR)
    found = {r["amount"] for r in runs}
    for run in runs:
        statement = settlement_views.payment_statement(engine, haven, "haven-care", run["month"])
        found |= {statement[name] for name in ("cumulative_paid", "priced_activity_to_date", "priced_less_paid")}
        found |= {line["amount"] for line in statement["lines"]}
    found |= {r["spend"] for r in activity_views.totals(engine, haven, ("month", "zone", "service"))}
    found |= {r["spend"] for r in activity_views.totals(engine, haven, ("month",))}
    settled = settlement_views.settlement(engine, haven, WIRRAL, DEMO_YEAR)["statement"]
    found |= set(settled["providers"]["haven-care"].values())
    found |= {step["amount"] for step in settled["steps"]}
    return {format_gbp(amount) for amount in found}


def test_haven_care_never_sees_premier_cares_name_or_figures(client_as, demo_book):
    client = client_as("other-provider")
    leaks = _premier_figures(demo_book) - _haven_figures(demo_book)  # an amount both happen to have is no leak
    assert len(leaks) > 20
    for path in _haven_pages(demo_book):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        page = text_of(html)
        assert "Haven Care" in page, path  # the page is Haven Care's (the header names it)
        assert "premier" not in html.lower(), path  # nor in a link, an attribute or the chart
        assert not set(re.findall(r"£[\d,]+\.\d\d", page)) & leaks, path
    premier_sees = client_as("provider").get("/provider/payments/wirral-homecare").get_data(as_text=True)
    assert len(set(re.findall(r"£[\d,]+\.\d\d", text_of(premier_sees))) & leaks) > 10  # the check would bite
    for export in ("/provider/payments/wirral-homecare?export=payments&format=csv",
                   "/provider/activity/wirral-homecare?export=activity&format=csv"):  # fmt: skip
        text = client.get(export).get_data(as_text=True)
        assert "premier" not in text.lower()
        assert not {format_gbp(Decimal(x)) for x in re.findall(r"\b\d+\.\d\d\b", text)} & leaks, export


def test_another_providers_url_is_not_found(client_as):
    client = client_as("other-provider")
    for path in (
        "/provider/payments/wirral-homecare/premier-care/2019-05",
        f"/provider/kpis/wirral-homecare/premier-care/{DEMO_YEAR}",
        "/provider/activity/herefordshire-hlah",  # an agreement Haven Care has no part in
        "/provider/payments/herefordshire-hlah",
        "/provider/incentives/no-such-agreement",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Premier Care" not in response.get_data(as_text=True)


def test_accountants_are_refused_the_provider_pages_and_providers_get_the_menu(client_as, app):
    accountant = client_as("accountant")
    paths = ["/provider/", "/provider/activity", "/provider/incentives", "/provider/payments",
             "/provider/activity/wirral-homecare", f"/provider/incentives/wirral-homecare/{DEMO_YEAR}",
             "/provider/payments/wirral-homecare/premier-care/2019-05",
             f"/provider/settlements/wirral-homecare/{DEMO_YEAR}/1"]  # fmt: skip
    assert all(accountant.get(path).status_code == 403 for path in paths)
    menu = client_as("provider").get("/provider/").get_data(as_text=True)
    for label, path in (("Activity", "/provider/activity"), ("Incentives", "/provider/incentives"),
                        ("Payments", "/provider/payments")):  # fmt: skip
        assert f'<a href="{path}">{label}</a>' in menu
    assert 'href="/provider/activity"' not in accountant.get("/accountant/").get_data(as_text=True)
