"""``?as_at=`` on the pages (web/as_at.py): the worked examples, figures as known then against the live ones.

The crawl (test_crawl.py) holds the rule for every page: the box on each page
of figures, and as at a past position the banner, no recording form and links
that stay in the past. These are the figures themselves.
"""

from __future__ import annotations

import re

import pytest

from tests.web.support import csrf_token

RETURN = "/provider/returns/wirral-homecare/premier-care/2019-20-Q1"
STATEMENT = "/statements/cost/wirral-homecare/premier-care/2019-20-Q1?format=html"
RATE_CARD = "/accountant/rates/wirral-homecare"
STATUS = re.compile(r"<dt>Status</dt><dd><span class=\"badge[^\"]*\">(\w+)</span>")
#: The rate card's zone-1 standard rate in force on the page's date: the first row of the "rates" table naming both.
ZONE_1 = re.compile(r"<td>standard</td>\s*<td>zone-1</td>.*?<td class=\"num\">(£[\d.,]+)</td>", re.S)


def events(book, topic_part: str) -> list[tuple[int, str, object]]:
    """(position, topic, event) of every event whose topic contains ``topic_part``, in log order."""
    found = book.ledger.recorder.select_notifications(start=1, limit=book.projections.head())
    return [(n.id, n.topic, book.ledger.mapper.to_domain_event(n)) for n in found if topic_part in n.topic]


def _premier_q1(book) -> dict[str, int]:
    """The log position of each step of Premier Care's 2019-20-Q1 cost return (drafted, submitted, accepted)."""
    returns = events(book, "cost-return.")
    [premier] = {e.originator_id for _, t, e in returns
                 if t.endswith(".drafted") and e.provider == "premier-care" and e.period == "2019-20-Q1"}  # fmt: skip
    return {t.rsplit(".", 1)[1]: p for p, t, e in returns if e.originator_id == premier}


def test_a_providers_return_before_its_acceptance_shows_it_submitted(client_as, demo_book):
    steps = _premier_q1(demo_book)
    submitted, accepted = steps["submitted"], steps["accepted"]
    assert submitted < accepted
    client = client_as("provider")
    live = client.get(RETURN).get_data(as_text=True)
    then = client.get(f"{RETURN}?as_at={accepted - 1}").get_data(as_text=True)
    at_acceptance = client.get(f"{RETURN}?as_at={accepted}").get_data(as_text=True)
    assert STATUS.findall(live) == ["accepted"] and STATUS.findall(at_acceptance) == ["accepted"]
    assert STATUS.findall(then) == ["submitted"]
    assert f'data-as-at="{accepted - 1}"' in then and f", position {accepted - 1:,} (asked: {accepted - 1})" in then
    assert "data-as-at" not in live and 'id="as_at-position"' in live  # live: the box, no banner
    assert f'href="/provider/returns?as_at={accepted - 1}"' in then  # its links stay in the past
    statement = client.get(f"{STATEMENT}&as_at={accepted - 1}")  # and so does the statement it links to
    assert statement.status_code == 200 and "submitted" in statement.get_data(as_text=True)
    assert "submitted" not in client.get(STATEMENT).get_data(as_text=True)


def test_the_rate_card_as_at_the_time_of_the_reviews_decision_shows_the_old_rate(client_as, demo_book):
    """The 2020-21 decision (an uplift to £16.34 from 1 April 2020) is published on the card after the decision's
    event: as known at the moment that event was recorded, the card still shows £15.60 on 1 May 2020."""
    [(decided, _, decision)] = events(demo_book, "rate-review.decided")
    moment = decision.timestamp.isoformat()  # a time, resolved to the last position recorded by then
    client = client_as("accountant")
    live = client.get(RATE_CARD, query_string={"on": "2020-05-01"}).get_data(as_text=True)
    then = client.get(RATE_CARD, query_string={"on": "2020-05-01", "as_at": moment}).get_data(as_text=True)
    assert ZONE_1.findall(live)[0] == "£16.34" and ZONE_1.findall(then)[0] == "£15.60"
    assert f'data-as-at="{decided}"' in then
    # the page's GET forms (the date, pricing a visit) keep the moment; pricing reads the card now, so is refused
    assert then.count(f'<input type="hidden" name="as_at" value="{moment}">') >= 2
    priced = client.get(RATE_CARD, query_string={"as_at": moment, "visit_on": "2020-05-01", "service": "standard",
                                                 "zone": "zone-1", "planned": "60", "actual": "60"})  # fmt: skip
    assert "priced from the rate card as it is now" in priced.get_data(as_text=True)


def test_the_box_sends_one_of_a_date_and_a_position_and_a_past_page_records_nothing(client_as, demo_book):
    client = client_as("accountant")
    market = "/accountant/market/wirral-homecare/2019-20-Q1"
    assert client.get(f"{market}?as_at=&as_at=5").headers["Location"] == f"{market}?as_at=5"
    assert client.get(f"{market}?as_at=&as_at=").headers["Location"] == market
    assert client.get(f"{market}?as_at=2020-03-01&as_at=5").status_code == 400  # both: which?
    head = demo_book.projections.head()
    url = "/accountant/settlements/wirral-homecare/2019-20/1/review"
    token = csrf_token(client, "/accountant/settlements/wirral-homecare/2019-20/1")
    refused = client.post(f"{url}?as_at=5", data={"csrf_token": token, "idempotency_key": "as-at-review-1"})
    assert refused.status_code == 400 and "records nothing" in refused.get_data(as_text=True)
    assert demo_book.projections.head() == head


@pytest.mark.parametrize("page", ["/account", "/auditor/integrity"])
def test_a_page_not_kept_in_the_past_says_it_shows_the_ledger_now(client_as, page):
    role = "auditor"
    shown = client_as(role).get(f"{page}?as_at=5").get_data(as_text=True)
    assert 'data-as-at="live"' in shown and "shows the ledger as it is now" in shown


def test_a_providers_agreement_page_before_the_agreement_was_registered_is_404_not_500(client_as):
    provider = client_as("provider")
    assert provider.get("/provider/activity/wirral-homecare").status_code == 200
    before = provider.get("/provider/activity/wirral-homecare?as_at=1")  # the first event: no agreement yet
    assert before.status_code == 404
