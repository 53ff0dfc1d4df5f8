"""The accountants' agreements, rate cards and rate reviews in the browser, against the same queries as the CLI.

The tests build on one demo ledger in file order: the pages are first read
against the demo (Wirral's 2020-21 review, decided on 2020-06-15 and
backdated to 1 April, so 2020-05-01's rate is £16.34 today), then Wirral's
accountant publishes a rate, opens, proposes and decides the 2021-22 review
and calculates the 2020-21 arrears through the pages. Every refused form is
checked to record nothing and every accepted one to record once, a second
submission with the same idempotency key included.
"""

from __future__ import annotations

import html as html_text
import re
from datetime import date
from decimal import Decimal
from uuid import uuid4

from domain.envelope import Actor
from domain.money import format_gbp
from ledger.authorisation import access_for
from ledger.queries import activity as activity_views
from ledger.queries import rates as queries
from ledger.queries.agreements import agreement_history, agreement_sheet
from tests.web.support import USERS, csrf_token

AGREEMENT = "wirral-homecare"
RATES = f"/accountant/rates/{AGREEMENT}"
REVIEWS = f"{RATES}/reviews"


def _page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, path
    return html_text.unescape(response.get_data(as_text=True))


def _rows(html: str, name: str) -> list[list[str]]:
    """The text of each body row's cells in the table ``name``."""
    found = re.search(rf'<table data-table="{name}">(.*?)</table>', html, re.S)
    assert found, f"no table {name}"
    body = found.group(1).split("<tbody>")[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _error_beside(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error-1">([^<]*)</p>', html)
    assert found, f"no error beside {field}"
    return found.group(1)


#: Forms sharing a page name their fields with a prefix (``uplift-median_cost``): which, by the URL posted to.
PREFIXES = {"uplift": "uplift", "propose": "stated", "decide": "decide", "arrears": "arrears", "withdraw": "withdraw"}


def _post(client, path: str, data: dict[str, str], form_page: str):
    """POST ``data`` as the form at ``path`` names its fields, with the session's CSRF token."""
    prefix = PREFIXES.get(path.rsplit("/", 1)[-1])
    named = {f"{prefix}-{key}": value for key, value in data.items()} if prefix else data
    return client.post(path, data={**named, "csrf_token": csrf_token(client, form_page)})


def test_the_menu_has_agreements_and_rates_and_lists_only_the_organisations_agreements(client_as):
    html = _page(client_as("accountant"), "/accountant/agreements")
    assert '<a href="/accountant/agreements" aria-current="page">Agreements</a>' in html
    assert '<a href="/accountant/rates">Rates</a>' in html
    assert [row[1] for row in _rows(html, "agreements")] == [AGREEMENT]
    theirs = _page(client_as("herefordshire-accountant"), "/accountant/agreements")
    assert [row[1] for row in _rows(theirs, "agreements")] == ["herefordshire-hlah"]


def test_the_agreement_page_shows_the_agreement_as_on_the_date_asked(client_as, demo_book):
    client = client_as("accountant")
    for on in (date(2019, 5, 1), date(2020, 5, 1)):
        html = _page(client, f"/accountant/agreements/{AGREEMENT}?on={on.isoformat()}")
        sheet = agreement_sheet(demo_book.read_engine, AGREEMENT, on)
        assert f'value="{on.isoformat()}"' in html  # the date field of the GET form
        assert [row[0] for row in _rows(html, "zones")] == [z.code for z in sheet.agreement.zones]
        assert [(r[0], r[1], r[2]) for r in _rows(html, "awards")] == [
            (a.zone, a.tier, a.provider) for a in sheet.agreement.awards
        ]
        assert [row[0] for row in _rows(html, "kpis")] == [k.code for k in sheet.agreement.kpis]
        assert [(r[1], r[3]) for r in _rows(html, "rates")] == [
            (r["zone"], format_gbp(r["hourly_rate"])) for r in sheet.rates
        ]
        assert f"{sheet.agreement.term_start} to {sheet.agreement.term_end}" in html
    history = agreement_history(demo_book.read_engine, AGREEMENT)
    assert [(r[0], r[1]) for r in _rows(html, "changes")] == [(c.effective_date.isoformat(), c.what) for c in history]
    assert client.get(f"/accountant/agreements/{AGREEMENT}?on=01-05-2020").status_code == 400


def test_the_rate_card_on_2020_05_01_shows_the_rates_in_force_the_backdated_16_34(client_as, demo_book):
    html = _page(client_as("accountant"), f"{RATES}?on=2020-05-01")
    in_force = queries.rates_in_force(demo_book.read_engine, AGREEMENT, date(2020, 5, 1))
    shown = [(r[0], r[1], r[3], r[4]) for r in _rows(html, "rates")]
    assert shown == [
        (r["service"], r["zone"], format_gbp(r["hourly_rate"]), r["effective_from"].isoformat()) for r in in_force
    ]
    assert {r["hourly_rate"] for r in in_force} == {Decimal("16.34")}  # README: the backdated review's rate
    before = _rows(_page(client_as("accountant"), f"{RATES}?on=2020-03-31"), "rates")
    assert {row[3] for row in before} == {"£15.60"}
    history = _rows(html, "history")
    assert len(history) == len(queries.rate_history(demo_book.read_engine, AGREEMENT))
    assert ["standard", "zone-1", "", "£15.60", "2019-04-01", "until 2020-04-01"] == history[0][:6]


def test_the_rate_card_exports_and_sorts(client_as):
    client = client_as("accountant")
    response = client.get(f"{RATES}?on=2020-05-01&export=rates&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data(as_text=True).count("16.34") == 4
    html = _page(client, f"{RATES}?on=2020-05-01&rates-sort=zone&rates-dir=desc")
    assert [row[1] for row in _rows(html, "rates")] == ["zone-4", "zone-3", "zone-2", "zone-1"]


def test_pricing_a_visit_on_the_card_page_answers_as_rates_price(client_as, demo_book):
    client = client_as("accountant")
    asked = "service=standard&zone=zone-2&visit_on=2020-05-01&planned=30&actual=25"
    html = _page(client, f"{RATES}?{asked}")
    price = demo_book.rates.price_visit(AGREEMENT, "standard", "zone-2", date(2020, 5, 1), 30, 25)
    assert f"Price: {format_gbp(price.amount)}" in html and price.working in html
    refused = client.get(f"{RATES}?service=standard&zone=zone-2&visit_on=2020-05-01&planned=30&actual=2000")
    assert refused.status_code == 400
    assert "longer than 1440 minutes" in _error_beside(html_text.unescape(refused.get_data(as_text=True)), "actual")


def test_the_review_page_shows_every_uplift_step_the_comments_and_the_decision(client_as, demo_book):
    html = _page(client_as("accountant"), f"{REVIEWS}/2020-21")
    review = queries.rate_review(demo_book.read_engine, AGREEMENT, "2020-21")
    (proposal,) = review["proposals"]
    assert len(proposal["lines"]) == 8
    assert _rows(html, "uplift-1") == [[ln["label"], ln["formula"], f"{ln['amount']:,}"] for ln in proposal["lines"]]
    decision = review["decision"]
    assert [(r[1], r[3]) for r in _rows(html, "decided")] == [
        (r["zone"], format_gbp(r["hourly_rate"])) for r in decision["rates"]
    ]
    assert decision["backdated"] and f"Rates apply from</dt><dd>{decision['effective_from']}" in html
    assert decision["decided_by"] in html and decision["decided_on"].isoformat() in html
    (comment,) = review["comments"]
    assert _rows(html, "comments") == [[comment["on"].isoformat(), comment["provider"], comment["comment"]]]
    assert "The arrears have not been calculated yet." in html
    assert 'action="/accountant/rates/wirral-homecare/reviews/2020-21/decide"' not in html  # decided: no forms
    listed = _rows(_page(client_as("accountant"), REVIEWS), "reviews")
    assert listed == [["2020-21", "accepted", "2020-04-01", "yes: arrears are owed"]]


def test_another_commissioners_accountant_gets_404_and_a_provider_403(client_as):
    theirs = client_as("herefordshire-accountant")
    provider = client_as("provider")
    for path in (
        f"/accountant/agreements/{AGREEMENT}", RATES, f"{RATES}/publish", REVIEWS, f"{REVIEWS}/2020-21",
    ):  # fmt: skip
        assert theirs.get(path).status_code == 404, path
        assert provider.get(path).status_code == 403, path
    assert theirs.get("/accountant/rates/herefordshire-hlah").status_code == 200
    refused = _post(theirs, f"{REVIEWS}/2020-21/arrears", {"idempotency_key": str(uuid4())}, "/accountant/rates")
    assert refused.status_code == 404


def test_publishing_a_rate_refuses_bad_figures_beside_the_field_and_records_once(client_as, demo_book):
    client = client_as("accountant")
    form = {"service": "complex", "zone": "zone-1", "hourly_rate": "19.5x", "effective": "2021-04-01",
            "reason": "2021-22 complex care rate", "idempotency_key": str(uuid4())}  # fmt: skip
    head = demo_book.projections.head()
    refused = _post(client, f"{RATES}/publish", form, f"{RATES}/publish")
    assert refused.status_code == 400
    assert "hourly_rate" not in _error_beside(html_text.unescape(refused.get_data(as_text=True)), "hourly_rate")
    assert demo_book.projections.head() == head
    unknown = _post(client, f"{RATES}/publish", {**form, "hourly_rate": "19.50", "zone": "zone-9"}, f"{RATES}/publish")
    assert unknown.status_code == 404
    assert "zone-9 is not a zone" in _error_beside(unknown.get_data(as_text=True), "zone")
    assert demo_book.projections.head() == head

    form["hourly_rate"] = "19.50"
    published = _post(client, f"{RATES}/publish", form, f"{RATES}/publish")
    assert published.status_code == 302 and published.headers["Location"].endswith(f"{RATES}?on=2021-04-01")
    after = demo_book.projections.head()
    assert after > head
    assert _post(client, f"{RATES}/publish", form, f"{RATES}/publish").status_code == 302
    assert demo_book.projections.head() == after  # the same key: recorded once
    card = _rows(_page(client, f"{RATES}?on=2021-04-01"), "rates")
    assert ["complex", "zone-1", "", "£19.50", "2021-04-01"] in [row[:5] for row in card]


def _recorded_once(client, demo_book, path: str, form: dict[str, str], form_page: str) -> str:
    """POST ``form`` twice with the same key: it records the first time only; the page redirected to."""
    head = demo_book.projections.head()
    first = _post(client, path, form, form_page)
    assert first.status_code == 302, first.get_data(as_text=True)
    after = demo_book.projections.head()
    assert after > head
    again = _post(client, path, form, form_page)
    assert again.status_code == 302 and demo_book.projections.head() == after
    return first.headers["Location"]


def test_a_review_is_opened_proposed_and_decided_through_the_pages(client_as, demo_book):
    client = client_as("accountant")
    year, page = "2021-22", f"{REVIEWS}/2021-22"
    head = demo_book.projections.head()
    refused = _post(client, REVIEWS, {"financial_year": "2031-32", "reason": "too late",
                                      "idempotency_key": str(uuid4())}, REVIEWS)  # fmt: skip
    assert refused.status_code in (400, 422) and demo_book.projections.head() == head
    assert "2031-32" in _error_beside(html_text.unescape(refused.get_data(as_text=True)), "financial_year")

    opened = {"financial_year": year, "effective": "2021-02-01", "idempotency_key": str(uuid4()),
              "reason": "annual review: the National Living Wage rises to £8.91 on 1 April 2021"}  # fmt: skip
    assert _recorded_once(client, demo_book, REVIEWS, opened, REVIEWS).endswith(page)
    assert "not decided yet" in _page(client, page).lower()

    uplift = {"median_cost": "16.34", "pay_share": "0.65", "inflation": "0.015", "effective": "2021-03-01",
              "median_source": "stated figure: the current £16.34 rate", "service": "standard"}  # fmt: skip
    head = demo_book.projections.head()
    bad = _post(client, f"{page}/uplift", {**uplift, "pay_share": "1.5", "idempotency_key": str(uuid4())}, page)
    assert bad.status_code == 400 and demo_book.projections.head() == head
    assert "1.5" in _error_beside(html_text.unescape(bad.get_data(as_text=True)), "uplift-pay_share")
    _recorded_once(client, demo_book, f"{page}/uplift", {**uplift, "idempotency_key": str(uuid4())}, page)

    review = queries.rate_review(demo_book.read_engine, AGREEMENT, year)
    (proposal,) = review["proposals"]
    proposed = {r["hourly_rate"] for r in proposal["rates"]}
    assert len(proposed) == 1 and [r["zone"] for r in proposal["rates"]] == ["zone-1", "zone-2", "zone-3", "zone-4"]
    html = _page(client, page)
    assert _rows(html, "uplift-1") == [[ln["label"], ln["formula"], f"{ln['amount']:,}"] for ln in proposal["lines"]]
    assert proposal["lines"][0]["amount"] == Decimal("16.34") and proposal["lines"][-2]["amount"] in proposed

    decide = {"outcome": "amended", "reasons": "", "effective": "2021-05-10", "effective_from": "2021-04-01",
              "decided_by": "Wirral joint commissioning panel",
              "rates": "standard:zone-1=16.95\nnot a rate"}  # fmt: skip
    head = demo_book.projections.head()
    bad = _post(client, f"{page}/decide", {**decide, "idempotency_key": str(uuid4())}, page)
    assert bad.status_code == 400
    assert "line 2" in _error_beside(html_text.unescape(bad.get_data(as_text=True)), "decide-rates")
    no_reasons = _post(client, f"{page}/decide", {**decide, "rates": "standard:zone-1=16.95",
                                                  "idempotency_key": str(uuid4())}, page)  # fmt: skip
    assert no_reasons.status_code == 400 and demo_book.projections.head() == head
    assert "needs its reasons" in _error_beside(no_reasons.get_data(as_text=True), "decide-reasons")

    decide |= {"outcome": "accepted", "rates": "", "reasons": "Passes on the wage-floor rise in full"}
    _recorded_once(client, demo_book, f"{page}/decide", {**decide, "idempotency_key": str(uuid4())}, page)
    decision = queries.rate_review(demo_book.read_engine, AGREEMENT, year)["decision"]
    assert decision["outcome"] == "accepted" and decision["backdated"]
    assert decision["effective_from"] == date(2021, 4, 1) and decision["decided_on"] == date(2021, 5, 10)
    html = _page(client, page)
    assert [(r[1], r[3]) for r in _rows(html, "decided")] == [
        (r["zone"], format_gbp(r["hourly_rate"])) for r in decision["rates"]
    ]
    card = _rows(_page(client, f"{RATES}?on=2021-04-01"), "rates")
    assert {row[3] for row in card if row[0] == "standard"} == {format_gbp(p) for p in proposed}


def test_arrears_of_the_backdated_review_are_calculated_once_and_shown_per_provider(client_as, demo_book):
    client = client_as("accountant")
    page = f"{REVIEWS}/2020-21"
    _recorded_once(client, demo_book, f"{page}/arrears", {"idempotency_key": str(uuid4())}, page)
    access = access_for(demo_book.records, Actor(user=USERS["accountant"], organisation="wirral-council"), AGREEMENT)
    arrears = activity_views.arrears(demo_book.read_engine, access, "2020-21")
    html = _page(client, page)
    assert f"Total <strong>{format_gbp(Decimal(arrears['total']))}</strong>" in html
    owed = [[provider, format_gbp(Decimal(amount))] for provider, amount in arrears["providers"].items()]
    assert _rows(html, "arrears") == (owed or [["Nothing to show."]])
    assert len(_rows(html, "arrears-lines")) == max(len(arrears["lines"]), 1)
    assert arrears["basis"] in html and f"Calculation {arrears['calculations']}" in html


def test_a_blend_is_published_from_its_parts_and_shown_with_them(client_as, demo_book):
    client = client_as("herefordshire-accountant")
    card = "/accountant/rates/herefordshire-hlah"
    form = {"service": "complex", "zone": "complex-north", "effective": "2021-04-01", "blend_weight_1": "0.6",
            "blend_rate_1": "13.00", "blend_weight_2": "0.5", "blend_rate_2": "16.00",
            "reason": "2021-22 complex care blend", "idempotency_key": str(uuid4())}  # fmt: skip
    head = demo_book.projections.head()
    refused = _post(client, f"{card}/publish", form, f"{card}/publish")  # weights 0.6 + 0.5: not a whole
    assert refused.status_code in (400, 422) and demo_book.projections.head() == head
    assert "add up to 1.1" in _error_beside(refused.get_data(as_text=True), "blend_weight_1")
    _recorded_once(client, demo_book, f"{card}/publish", {**form, "blend_weight_2": "0.4"}, f"{card}/publish")
    (published,) = [
        r for r in queries.rates_in_force(demo_book.read_engine, "herefordshire-hlah", date(2021, 4, 1))
        if (r["service"], r["zone"]) == ("complex", "complex-north")
    ]
    assert published["hourly_rate"] == Decimal("0.6") * Decimal("13.00") + Decimal("0.4") * Decimal("16.00")
    rows = _rows(_page(client, f"{card}?on=2021-04-01"), "rates")
    assert ["complex", "complex-north", "", format_gbp(published["hourly_rate"]), "2021-04-01",
            " + ".join(f"{p['weight']} × £{p['rate']}" for p in published["blend"])] in rows  # fmt: skip


def test_stated_rates_are_proposed_from_the_rates_in_force_on_1_april(client_as, demo_book):
    client = client_as("accountant")
    page = f"{REVIEWS}/2022-23"
    opened = {"financial_year": "2022-23", "effective": "2022-02-01", "reason": "annual review",
              "idempotency_key": str(uuid4())}  # fmt: skip
    _recorded_once(client, demo_book, REVIEWS, opened, REVIEWS)
    html = _page(client, page)
    starting = queries.rates_in_force(demo_book.read_engine, AGREEMENT, date(2022, 4, 1))
    typed = re.search(r'<textarea[^>]*name="stated-rates"[^>]*>(.*?)</textarea>', html, re.S).group(1).strip()
    assert typed.splitlines() == [f"{r['service']}:{r['zone']}={r['hourly_rate']}" for r in starting]
    stated = {"rates": "standard:zone-1=17.40\nstandard:zone-2=17.45", "basis": "cost of care exercise, 2022",
              "effective": "2022-03-01", "idempotency_key": str(uuid4())}  # fmt: skip
    _recorded_once(client, demo_book, f"{page}/propose", stated, page)
    (proposal,) = queries.rate_review(demo_book.read_engine, AGREEMENT, "2022-23")["proposals"]
    assert proposal["basis"] == "cost of care exercise, 2022" and proposal["lines"] == []
    assert _rows(_page(client, page), "proposed-1") == [
        ["standard", "zone-1", "", "£17.40"], ["standard", "zone-2", "", "£17.45"]
    ]


def test_an_amended_decision_from_a_later_date_puts_its_own_rates_on_the_card_and_owes_no_arrears(client_as, demo_book):
    client = client_as("accountant")
    page = f"{REVIEWS}/2022-23"
    decide = {"outcome": "amended", "reasons": "zone 2 held at the zone 1 rate", "effective": "2022-03-20",
              "effective_from": "2022-04-01", "rates": "standard:zone-1=17.40\nstandard:zone-2=17.40",
              "idempotency_key": str(uuid4())}  # fmt: skip
    _recorded_once(client, demo_book, f"{page}/decide", decide, page)
    decision = queries.rate_review(demo_book.read_engine, AGREEMENT, "2022-23")["decision"]
    assert decision["outcome"] == "amended" and not decision["backdated"]
    html = _page(client, page)
    assert _rows(html, "decided") == [["standard", "zone-1", "", "£17.40"], ["standard", "zone-2", "", "£17.40"]]
    assert "<h2>Arrears</h2>" not in html
    card = {row[1]: row[3] for row in _rows(_page(client, f"{RATES}?on=2022-04-01"), "rates")}
    assert card["zone-1"] == card["zone-2"] == "£17.40"
    before = {row[1]: row[3] for row in _rows(_page(client, f"{RATES}?on=2022-03-31"), "rates")}
    assert before["zone-1"] != "£17.40"


def test_withdrawing_a_rate_ends_it_from_its_date_and_refuses_one_not_in_force(client_as, demo_book):
    client = client_as("accountant")
    form = {"service": "reablement", "zone": "zone-1", "effective": "2022-04-01",
            "reason": "complex care recommissioned", "idempotency_key": str(uuid4())}  # fmt: skip
    head = demo_book.projections.head()
    refused = _post(client, f"{RATES}/withdraw", form, f"{RATES}/publish")
    assert refused.status_code == 404 and demo_book.projections.head() == head
    assert "no rate for" in html_text.unescape(refused.get_data(as_text=True))
    _recorded_once(client, demo_book, f"{RATES}/withdraw", {**form, "service": "complex"}, f"{RATES}/publish")
    before = {(r[0], r[1]) for r in _rows(_page(client, f"{RATES}?on=2022-03-31"), "rates")}
    after = {(r[0], r[1]) for r in _rows(_page(client, f"{RATES}?on=2022-04-01"), "rates")}
    assert ("complex", "zone-1") in before and ("complex", "zone-1") not in after
    on_card = queries.rates_in_force(demo_book.read_engine, AGREEMENT, date(2022, 4, 1))
    assert after == {(r["service"], r["zone"]) for r in on_card}
