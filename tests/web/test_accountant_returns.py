"""The accountants' returns workspace: the inbox, a return's page and its review actions, the market view.

Figures are compared with what the ledger's queries give for the same user
(``ledger.queries.returns``), never typed in. The tests that record build on
one demo in file order: Aspire's 2019-20-Q1 return (queried on travel pay in
the demo) is queried again, refused acceptance, rejected, reopened, answered
by Aspire and accepted, each action posted twice with one idempotency key.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import date
from html import escape, unescape

import pytest

from demo.returns import DEMO_RETURNS, demo_filing
from domain.envelope import Actor, Envelope
from domain.money import format_gbp
from domain.returns.unit_costs import format_per_hour, shown
from ledger.authorisation import access_for
from ledger.queries import returns as views
from tests.web.support import USERS, post_form

WIRRAL = "wirral-homecare"
Q1 = "2019-20-Q1"
ASPIRE = f"/accountant/returns/{WIRRAL}/aspire/{Q1}"
ACCOUNTANT = Actor(USERS["accountant"], "wirral-council")


def _access(book, actor=ACCOUNTANT):
    return access_for(book.records, actor, WIRRAL)


def _sheet(book, provider="aspire", period=Q1):
    return views.return_sheet(book.read_engine, _access(book), provider, period)


def _counts(html: str) -> dict[str, int]:
    return {state: int(n) for state, n in re.findall(r'data-state="([a-z]+)">(\d+)<', html)}


def _text(html: str) -> str:
    """The page's text with tags dropped and whitespace folded, to find a sentence across markup."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# -- the inbox ------------------------------------------------------------------------------------


def test_the_inbox_counts_each_state_as_list_returns_does_and_filters_by_get_parameters(client_as, demo_book):
    client = client_as("accountant")
    every = views.list_returns(demo_book.read_engine, _access(demo_book))
    page = client.get("/accountant/").get_data(as_text=True)
    assert _counts(page) == {s: Counter(r["status"] for r in every).get(s, 0) for s in _counts(page)}
    assert sum(_counts(page).values()) == len(every) and f"Returns ({len(every)})" in page

    quarter = views.list_returns(demo_book.read_engine, _access(demo_book), Q1)
    filtered = client.get(f"/accountant/?agreement={WIRRAL}&period={Q1}").get_data(as_text=True)
    assert _counts(filtered) == {s: Counter(r["status"] for r in quarter).get(s, 0) for s in _counts(filtered)}
    assert f"Returns ({len(quarter)})" in filtered

    queried = [r for r in every if r["status"] == "queried"]
    only = client.get(f"/accountant/?period={Q1}&state=queried").get_data(as_text=True)
    assert f"Returns ({len(queried)})" in only and queried[0]["provider_name"] == "Aspire"
    assert "Aspire" in only and "Haven Care" not in _text(only.split("<h2>The returns</h2>")[1])
    assert _counts(only) == _counts(filtered)  # the state chosen does not change what each state counts

    provider = client.get("/accountant/?provider=carewatch").get_data(as_text=True)
    assert f"Returns ({sum(1 for r in every if r['provider'] == 'carewatch')})" in provider

    refused = client.get("/accountant/?state=lost")
    assert refused.status_code == 400 and "Not a valid choice" in refused.get_data(as_text=True)


def test_the_inbox_exports_the_rows_it_shows(client_as, demo_book):
    every = views.list_returns(demo_book.read_engine, _access(demo_book), Q1)
    exported = client_as("ccg-accountant").get(f"/accountant/?period={Q1}&export=returns&format=csv")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert sorted(r["Provider"] for r in rows) == sorted(r["provider_name"] for r in every)
    by_name = {r["Provider"]: r for r in rows}
    aspire = next(r for r in every if r["provider"] == "aspire")
    assert by_name["Aspire"]["Cost per contact hour"] == str(shown(aspire["total_per_hour"]))
    assert by_name["Carewatch"]["Wage findings"] == "below the wage floor (explained)"


def test_another_commissioners_accountant_sees_none_of_wirrals_returns(client_as):
    page = client_as("herefordshire-accountant").get("/accountant/").get_data(as_text=True)
    assert "Aspire" not in page and sum(_counts(page).values()) == 0


# -- a return ------------------------------------------------------------------------------------


def test_aspires_return_shows_its_figures_the_market_the_gap_and_the_open_query(client_as, demo_book):
    sheet = _sheet(demo_book)
    market = views.market(demo_book.read_engine, _access(demo_book), Q1)["market"]
    html = client_as("accountant").get(ASPIRE).get_data(as_text=True)
    text = _text(html)
    [query] = sheet["queries"]
    assert query["line"] == "travel_pay" and query["answer"] is None
    assert escape(query["question"]) in html and "Careworker pay for travel time" in html
    assert sheet["status"] == "queried" and "queried" in text
    t = sheet["totals"]
    assert f"Total cost per contact hour {format_gbp(t['total_per_hour_shown'])}" in text
    assert f"On-costs {t['on_costs_percent_of_pay']}% of pay" in text
    assert f"Surplus {t['surplus_percent_of_cost']}% of cost" in text
    assert f"Travel {t['travel_minutes_per_contact_hour']} minutes per contact hour" in text
    assert f"{format_gbp(sheet['rate'].rate)}: {sheet['rate'].basis}" in text
    assert f"Gap (rate on the card − cost per hour) {format_gbp(shown(sheet['gap']))}" in text
    assert f"median {format_gbp(market['total']['median'])}" in text
    travel = market["lines"]["travel_pay"]
    assert (f"Careworker pay for travel time £14,835.00 {format_gbp(shown(sheet['lines'][1]['per_hour']))} "
            f"{format_gbp(shown(travel['lower']))} {format_gbp(shown(travel['median']))}") in text
    # under review with an open query: query, accept and reject are offered; no breach to explain; no reopen
    assert 'id="query-question"' in html and 'id="accept-reason"' in html and 'id="reject-reasons"' in html
    assert 'id="explain-explanation"' not in html and 'id="reopen-reason"' not in html


def test_a_wage_floor_breach_shows_with_its_explanation(client_as, demo_book):
    sheet = _sheet(demo_book, "carewatch")
    [finding] = [f for f in sheet["findings"] if f["kind"] == "nlw-breach"]
    text = _text(client_as("ccg-accountant").get(f"/accountant/returns/{WIRRAL}/carewatch/{Q1}").get_data(as_text=True))
    assert finding["message"] in text and f"explained by {finding['explained_by']}: {finding['explanation']}" in text
    assert "Reopen" in text and "Accept revision" not in text  # accepted: only reopening is offered


# -- review actions ------------------------------------------------------------------------------


def _post(client, action: str, data: dict[str, str], key: str, path: str = ASPIRE):
    return post_form(client, f"{path}/{action}", {f"{action}-idempotency_key": key, **data}, form_page=path)


def test_a_query_records_once_however_often_it_is_sent(client_as, demo_book):
    client = client_as("accountant")
    head = demo_book.projections.head()
    data = {"query-line": "mileage", "query-question": "Mileage is £1.62 an hour: how many miles a visit?"}
    first = _post(client, "query", data, "web-test-query-0001")
    assert first.status_code == 302 and first.headers["Location"].endswith(ASPIRE)
    assert demo_book.projections.head() == head + 1
    again = _post(client, "query", data, "web-test-query-0001")
    assert again.status_code == 302 and demo_book.projections.head() == head + 1
    queries = _sheet(demo_book)["queries"]
    assert [(q["query_id"], q["line"]) for q in queries] == [("Q1", "travel_pay"), ("Q2", "mileage")]
    page = client.get(ASPIRE).get_data(as_text=True)
    assert "Query Q2 sent on Mileage and vehicle costs" in page and escape(data["query-question"]) in page


def test_an_invalid_form_records_nothing_and_says_why_beside_the_field(client_as, demo_book):
    head = demo_book.projections.head()
    response = _post(client_as("accountant"), "query", {"query-line": "mileage", "query-question": ""},
                     "web-test-query-0002")  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and demo_book.projections.head() == head
    assert re.search(r'id="query-question-error-1">This field is required\.<', html)
    unknown = _post(client_as("accountant"), "query", {"query-line": "biscuits", "query-question": "Why?"},
                    "web-test-query-0003")  # fmt: skip
    assert unknown.status_code == 400 and "Not a valid choice" in unknown.get_data(as_text=True)
    assert demo_book.projections.head() == head


def test_accepting_with_open_queries_or_an_accepted_return_is_refused_and_records_nothing(client_as, demo_book):
    client = client_as("accountant")
    head = demo_book.projections.head()
    refused = _post(client, "accept", {}, "web-test-accept-0001")
    assert refused.status_code == 422 and demo_book.projections.head() == head
    shown_again = _text(refused.get_data(as_text=True))
    assert "has 2 open queries (Q1 on travel_pay, Q2 on mileage); answer them before accepting it" in shown_again
    assert "Nothing was recorded: see the form below" in shown_again
    premier = f"/accountant/returns/{WIRRAL}/premier-care/{Q1}"
    twice = _post(client, "accept", {}, "web-test-accept-0002", premier)
    assert twice.status_code == 422 and demo_book.projections.head() == head
    assert "is accepted; it cannot be accepted until it is under review" in _text(twice.get_data(as_text=True))


def test_an_accountant_cannot_review_their_own_organisations_in_house_costs(client_as, demo_book):
    head = demo_book.projections.head()
    own = f"/accountant/returns/{WIRRAL}/wirral-council/{Q1}"
    refused = _post(client_as("accountant"), "reopen", {"reopen-reason": "look again"}, "web-test-reopen-0001", own)
    assert refused.status_code == 403 and demo_book.projections.head() == head
    assert "cannot review wirral-council's own figures" in _text(refused.get_data(as_text=True))


def test_reject_reopen_and_accept_each_record_once(client_as, demo_book):
    client = client_as("accountant")
    head = demo_book.projections.head()
    reasons = {"reject-reasons": "Travel pay is not evidenced\n\nMileage per visit is missing"}
    for _ in range(2):
        assert _post(client, "reject", reasons, "web-test-reject-0001").status_code == 302
    sheet = _sheet(demo_book)
    assert demo_book.projections.head() == head + 1
    assert sheet["status"] == "rejected"
    assert sheet["rejection_reasons"] == ["Travel pay is not evidenced", "Mileage per visit is missing"]
    page = client.get(ASPIRE).get_data(as_text=True)
    assert "Travel pay is not evidenced" in page and 'id="reopen-reason"' in page

    for _ in range(2):
        assert _post(client, "reopen", {"reopen-reason": "new rota evidence"}, "web-test-reopen-0002").status_code == 302
    assert demo_book.projections.head() == head + 2 and _sheet(demo_book)["status"] == "queried"

    aspire = Actor("finance@aspire.example", "aspire")
    for query_id in ("Q1", "Q2"):
        envelope = Envelope(aspire, date.today(), None, f"test-answer-{query_id}")
        demo_book.returns.answer_cost_return_query(envelope, WIRRAL, "aspire", Q1, query_id, "rota analysis sent")
    answered = demo_book.projections.head()

    for _ in range(2):
        done = _post(client, "accept", {"accept-reason": "rota analysis seen"}, "web-test-accept-0003")
        assert done.status_code == 302
    sheet = _sheet(demo_book)
    assert demo_book.projections.head() == answered + 1
    assert sheet["status"] == "accepted" and sheet["accepted_revision"] == 1
    assert "Revision 1 accepted." in client.get(ASPIRE).get_data(as_text=True)

    again = _post(client, "accept", {}, "web-test-accept-0004")
    assert again.status_code == 422 and demo_book.projections.head() == answered + 1


# -- who may see what ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [ASPIRE, f"/accountant/market/{WIRRAL}/{Q1}", f"{ASPIRE}?revision=1"]
)  # fmt: skip
def test_another_commissioners_accountant_gets_404_for_wirrals_pages(client_as, path):
    assert client_as("herefordshire-accountant").get(path).status_code == 404


def test_another_commissioners_accountant_cannot_act_on_a_wirral_return(client_as, demo_book):
    head = demo_book.projections.head()
    client = client_as("herefordshire-accountant")
    response = _post(client, "query", {"query-line": "mileage", "query-question": "?"}, "web-test-query-0009",
                     path=f"/accountant/returns/{WIRRAL}/haven-care/{Q1}")  # fmt: skip
    assert response.status_code == 404 and demo_book.projections.head() == head


@pytest.mark.parametrize(
    "path", ["/accountant/", ASPIRE, "/accountant/market", f"/accountant/market/{WIRRAL}/{Q1}"]
)  # fmt: skip
def test_a_provider_user_gets_403_for_accountants_pages(client_as, path):
    assert client_as("provider").get(path).status_code == 403


def test_a_provider_user_cannot_post_a_review_action(client_as, demo_book):
    head = demo_book.projections.head()
    response = client_as("provider").post(f"/accountant/returns/{WIRRAL}/premier-care/{Q1}/reopen")
    assert response.status_code == 403 and demo_book.projections.head() == head


# -- the market ------------------------------------------------------------------------------------


def test_the_market_page_names_every_provider_for_accountants(client_as, demo_book):
    view = views.market(demo_book.read_engine, _access(demo_book), Q1)
    html = client_as("ccg-accountant").get(f"/accountant/market/{WIRRAL}/{Q1}").get_data(as_text=True)
    text = _text(html)
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert len(view["providers"]) == view["contributors"] >= 5
    for entry in view["providers"]:
        assert entry["name"] in svg  # the chart draws names on an accountant's page
        assert f"{entry['name']} {format_gbp(entry['total_per_hour_shown'])}" in text
    [in_house] = view["in_house"]
    assert f"{in_house['name']} {format_gbp(in_house['total_per_hour_shown'])}" in text
    total = view["market"]["total"]
    assert (f"lower quartile {format_per_hour(total['lower'])}, median {format_per_hour(total['median'])}, upper "
            f"quartile {format_per_hour(total['upper'])}") in text  # fmt: skip: to the penny, £19.765 as £19.77
    assert f"Providers see: {view['providers_would_see']}" in text


def test_choosing_a_market_goes_to_its_page(client_as):
    client = client_as("accountant")
    chosen = client.get(f"/accountant/market?agreement={WIRRAL}&period={Q1}")
    assert chosen.status_code == 302 and chosen.headers["Location"].endswith(f"/accountant/market/{WIRRAL}/{Q1}")
    index = client.get("/accountant/market").get_data(as_text=True)
    assert f'href="/accountant/market/{WIRRAL}/{Q1}"' in index
    assert 'href="/accountant/market"' in index  # the menu's entry


CAREWATCH = f"/accountant/returns/{WIRRAL}/carewatch/{Q1}"


def test_a_breach_explained_again_after_reopening_records_once(client_as, demo_book):
    client = client_as("accountant")
    assert _post(client, "reopen", {"reopen-reason": "payroll to check again"}, "web-test-reopen-0003",
                 CAREWATCH).status_code == 302  # fmt: skip
    page = client.get(CAREWATCH).get_data(as_text=True)
    assert 'id="explain-explanation"' in page and 'id="reopen-reason"' not in page
    head = demo_book.projections.head()
    because = {"explain-explanation": "Apprentices under 25 on the apprentice rate; September payroll seen."}
    for _ in range(2):
        assert _post(client, "explain", because, "web-test-explain-0001", CAREWATCH).status_code == 302
    assert demo_book.projections.head() == head + 1
    [finding] = [f for f in _sheet(demo_book, "carewatch")["findings"] if f["kind"] == "nlw-breach"]
    assert finding["explanation"] == because["explain-explanation"]
    assert escape(because["explain-explanation"]) in client.get(CAREWATCH).get_data(as_text=True)


def test_earlier_revisions_stay_readable_and_only_the_current_one_is_acted_on(client_as, demo_book):
    client = client_as("accountant")
    premier = f"/accountant/returns/{WIRRAL}/premier-care/{Q1}"
    assert _post(client, "reopen", {"reopen-reason": "office costs restated"}, "web-test-reopen-0004",
                 premier).status_code == 302  # fmt: skip
    [demo] = [d for d in DEMO_RETURNS if d.provider == "premier-care"]
    filing = demo_filing(demo).to_data()
    filing["lines"]["office_staff"] = "100000.00"
    demo_book.returns.amend_cost_return(
        Envelope(demo.filer, date.today(), "office costs restated", "test-amend-premier"), WIRRAL, "premier-care",
        Q1, filing,
    )  # fmt: skip
    current = _sheet(demo_book, "premier-care")
    first = views.return_sheet(demo_book.read_engine, _access(demo_book), "premier-care", Q1, 1)
    assert current["revision"] == 2 and current["accepted_revision"] is None
    assert current["totals"]["total_per_hour"] != first["totals"]["total_per_hour"]

    text = _text(client.get(premier).get_data(as_text=True))
    assert "Revision 2 of 2" in text and "Accept revision 2" in text
    assert f"2 {date.today().isoformat()}" in text and "office costs restated" in text
    assert f"Total cost per contact hour {format_gbp(current['totals']['total_per_hour_shown'])}" in text
    earlier = client.get(f"{premier}?revision=1").get_data(as_text=True)
    assert "Revision 1 of 2" in _text(earlier) and 'id="accept-reason"' not in earlier
    assert f"Total cost per contact hour {format_gbp(first['totals']['total_per_hour_shown'])}" in _text(earlier)
    assert client.get(f"{premier}?revision=3").status_code == 404
