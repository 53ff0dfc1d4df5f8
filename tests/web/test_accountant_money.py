"""The accountants' money pages: the pool's position, payment runs and their CSV, the reconciliation, and a
settlement taken through review, both commissioners' approvals and issue, each POST recording once.

The demo's Wirral 2019-20 settlement is drafted by the council's accountant
(demo/settlements.py); the tests below build on each other in file order on
one demo (tests/web/conftest.py), as the CLI integration tests do.
"""

from __future__ import annotations

import csv
import html
import io
import re
from decimal import Decimal

from domain.envelope import Actor
from domain.money import format_gbp, total
from ledger.authorisation import access_for
from ledger.queries.reconcile import reconcile
from ledger.queries.settlements import payment_runs, payment_statement, pool_position, settlement
from tests.web.support import post_form

WIRRAL, YEAR = "wirral-homecare", "2019-20"
COUNCIL = Actor("accountant@wirral.example", "wirral-council")
POOL = f"/accountant/pool/{WIRRAL}/{YEAR}"
SETTLEMENT = f"/accountant/settlements/{WIRRAL}/{YEAR}/1"


def _access(book):
    return access_for(book.records, COUNCIL, WIRRAL)


def _key(client, path: str) -> str:
    """The idempotency key the form on ``path`` was shown with."""
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'<input[^>]*name="idempotency_key"[^>]*>', page)
    assert found, f"no recording form on {path}"
    return re.search(r'value="([^"]+)"', found.group(0)).group(1)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_pool_page_shows_pool_position_figures(client_as, demo_book):
    position = pool_position(demo_book.read_engine, _access(demo_book), YEAR)
    page = client_as("accountant").get(POOL)
    assert page.status_code == 200
    text = _text(page)
    for figure in ("budget", "target", "priced_to_date", "paid_to_date", "due", "forecast", "variance", "headroom"):
        shown = re.search(rf'data-figure="{figure}">([^<]+)', text).group(1).strip()
        assert shown == format_gbp(position[figure]), figure
    assert position["paid_to_date"] > 0 and position["forecast"] is not None  # the demo pays twelve months
    for row in position["providers"]:
        assert row["provider"] in text and format_gbp(row["due"]) in text
    for month in position["months"]:
        assert format_gbp(month["priced"]) in text
    chart = re.search(r'<figure class="chart">\s*(<svg.*?</svg>)', text, flags=re.S)
    assert chart and "Pooled budget position, 2019-20" in chart.group(1)
    assert ' style="' not in chart.group(1) and "<style" not in chart.group(1)  # the page's CSP allows neither
    assert format_gbp(position["forecast"]) in text.split("<figcaption>")[1] and "<figcaption>" in text
    through = _text(client_as("accountant").get(f"{POOL}?through=2019-09"))
    at_september = pool_position(demo_book.read_engine, _access(demo_book), YEAR, "2019-09")
    assert f'data-figure="paid_to_date">{format_gbp(at_september["paid_to_date"])}' in through
    assert at_september["paid_to_date"] < position["paid_to_date"]


def test_the_payment_run_csv_has_the_runs_lines_and_totals_to_the_penny(client_as, demo_book):
    month = "2019-05"
    paid = [r for r in payment_runs(demo_book.read_engine, _access(demo_book), YEAR) if r["month"] == month]
    statements = {r["provider"]: payment_statement(demo_book.read_engine, _access(demo_book), r["provider"], month)
                  for r in paid}  # fmt: skip
    client = client_as("accountant")
    page = _text(client.get(f"/accountant/payments/{WIRRAL}/runs/{month}"))
    assert f'data-figure="total">{format_gbp(total(r["amount"] for r in paid))}' in page
    exported = client.get(f"/accountant/payments/{WIRRAL}/runs/{month}/finance.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    lines = [r for r in rows if r["Line"]]
    expected = [(p, line["label"], line["amount"]) for p, s in statements.items() for line in s["lines"]]
    assert [(r["Provider"], r["Description"], Decimal(r["Amount"])) for r in lines] == expected
    totals = {r["Provider"]: Decimal(r["Amount"]) for r in rows if r["Description"].startswith("total paid to")}
    assert totals == {p: s["amount"] for p, s in statements.items()}
    for provider, amount in totals.items():  # each provider's lines add to its payment, to the penny
        assert total(Decimal(r["Amount"]) for r in lines if r["Provider"] == provider) == amount
    assert rows[-1]["Description"] == "run total" and Decimal(rows[-1]["Amount"]) == total(totals.values())
    assert all(r["Month paid for"] == month for r in rows)


def test_the_reconciliation_page_shows_each_identity_as_the_query_finds_it(client_as, demo_book):
    found = reconcile(demo_book.read_engine, _access(demo_book), YEAR)
    text = _text(client_as("accountant").get(f"/accountant/reconcile/{WIRRAL}/{YEAR}"))
    assert f'data-holds="{"yes" if found["holds"] else "no"}"' in text
    for i in found["identities"]:
        assert f"{i['number']}. {i['identity']}: " in text and f">{i['status']}</span>" in text
        if i["status"] != "not applicable":
            assert format_gbp(i["left"]["amount"]) in text and format_gbp(i["right"]["amount"]) in text
            for part in i["parts"]:  # each part as the query names it ("paid on account", "of which arrears …")
                assert f">{part['label']}<" in text
    assert "of which of which" not in text and "of which paid on account" not in text
    assert found["holds"] and all(i["status"] != "not applicable" for i in found["identities"])
    assert "Every identity holds." in text
    # A year with nothing recorded has no identity to check: it says so, not that every one holds.
    later = reconcile(demo_book.read_engine, _access(demo_book), "2020-21")
    assert all(i["status"] == "not applicable" for i in later["identities"])
    empty = _text(client_as("accountant").get(f"/accountant/reconcile/{WIRRAL}/2020-21"))
    assert "Nothing to check yet: no identity applies to this year." in empty and "holds (" not in empty


def test_the_settlement_page_shows_every_step(client_as, demo_book):
    view = settlement(demo_book.read_engine, _access(demo_book), WIRRAL, YEAR, 1)
    text = _text(client_as("ccg-accountant").get(SETTLEMENT))
    assert view["status"] == "draft" and 'data-status="draft"' in text
    assert "Awaiting approval by: NHS Wirral CCG, Wirral Council" in text  # names, not codes
    for step in view["statement"]["steps"]:
        assert step["formula"] in text and format_gbp(step["amount"]) in text
    for band in view["statement"]["bands"]:
        assert band["band"] in text
    assert f'data-figure="commissioner_cost">{format_gbp(view["statement"]["commissioner_cost"])}' in text
    listed = _text(client_as("accountant").get("/accountant/settlements"))
    assert format_gbp(view["statement"]["actual"]) in listed


def test_another_commissioners_accountant_gets_404_and_a_provider_403(client_as, demo_book):
    head = demo_book.projections.head()
    hereford = client_as("herefordshire-accountant")
    for path in (SETTLEMENT, POOL, f"/accountant/payments/{WIRRAL}/runs/2019-05/finance.csv",
                 f"/accountant/reconcile/{WIRRAL}/{YEAR}"):  # fmt: skip
        assert hereford.get(path).status_code == 404, path
    assert post_form(hereford, f"{SETTLEMENT}/approve", {"idempotency_key": "hereford-approves-1"},
                     form_page="/accountant/settlements").status_code == 404  # fmt: skip
    provider = client_as("provider")
    assert provider.get(SETTLEMENT).status_code == 403
    assert provider.get(POOL).status_code == 403
    assert post_form(provider, f"{SETTLEMENT}/approve", {"idempotency_key": "provider-approves-1"},
                     form_page="/account").status_code == 403  # fmt: skip
    assert demo_book.projections.head() == head


def _sign(client, what: str, demo_book, **fields: str):
    """POST ``what`` (review/approve/issue) from the settlement page's form; (response, head before, head after)."""
    data = {"idempotency_key": _key(client, SETTLEMENT), **fields}
    before = demo_book.projections.head()
    response = post_form(client, f"{SETTLEMENT}/{what}", data, form_page=SETTLEMENT)
    return response, data, before


def test_both_commissioners_approve_then_it_is_issued_each_post_recording_once(client_as, demo_book):
    council, ccg = client_as("accountant"), client_as("ccg-accountant")

    reviewed, _, before = _sign(ccg, "review", demo_book, note="figures checked against the runs")
    assert reviewed.status_code == 302 and demo_book.projections.head() > before

    approved, data, before = _sign(council, "approve", demo_book)
    assert approved.status_code == 302
    after_first = demo_book.projections.head()
    assert after_first > before
    again = post_form(council, f"{SETTLEMENT}/approve", data, form_page=SETTLEMENT)  # a double submit
    assert again.status_code == 302 and demo_book.projections.head() == after_first
    view = settlement(demo_book.read_engine, _access(demo_book), WIRRAL, YEAR, 1)
    assert list(view["approvals"]) == ["wirral-council"] and view["awaiting"] == ["wirral-ccg"]

    early, _, before = _sign(council, "issue", demo_book)  # the CCG has not approved yet
    assert early.status_code == 422
    assert "awaiting approval by wirral-ccg" in _text(early)
    assert demo_book.projections.head() == before
    assert settlement(demo_book.read_engine, _access(demo_book), WIRRAL, YEAR, 1) == view  # not issued

    ccg_approved, data, before = _sign(ccg, "approve", demo_book)
    assert ccg_approved.status_code == 302 and demo_book.projections.head() > before
    head = demo_book.projections.head()
    assert post_form(ccg, f"{SETTLEMENT}/approve", data, form_page=SETTLEMENT).status_code == 302
    assert demo_book.projections.head() == head

    issued, data, before = _sign(council, "issue", demo_book)
    assert issued.status_code == 302
    head = demo_book.projections.head()
    assert head > before
    assert post_form(council, f"{SETTLEMENT}/issue", data, form_page=SETTLEMENT).status_code == 302
    assert demo_book.projections.head() == head
    view = settlement(demo_book.read_engine, _access(demo_book), WIRRAL, YEAR, 1)
    assert view["status"] == "issued" and sorted(view["approvals"]) == ["wirral-ccg", "wirral-council"]
    page = _text(council.get(SETTLEMENT))
    assert 'data-status="issued"' in page and "Issued by accountant@wirral.example" in page


def test_a_refused_draft_or_run_shows_the_message_and_records_nothing(client_as, demo_book):
    council = client_as("accountant")
    year_page = f"/accountant/settlements/{WIRRAL}/{YEAR}"
    head = demo_book.projections.head()
    refused = post_form(council, f"{year_page}/draft", {"idempotency_key": _key(council, year_page)},
                        form_page=year_page)  # fmt: skip
    assert refused.status_code == 422 and "nothing has changed since settlement 1" in _text(refused)
    payments = f"/accountant/payments/{WIRRAL}/{YEAR}"
    run = post_form(council, f"{payments}/run", {"idempotency_key": _key(council, payments), "month": "2020-03"},
                    form_page=payments)  # fmt: skip
    text = _text(run)
    assert run.status_code == 422 and re.search(r'class="field-error"[^>]*>[^<]*was settled', text)
    bad_date = post_form(council, f"{year_page}/draft", {"idempotency_key": _key(council, year_page),
                         "effective": "31/02/2020"}, form_page=year_page)  # fmt: skip
    assert bad_date.status_code == 400
    assert re.search(r'id="effective-error-1">Not a valid date value', bad_date.get_data(as_text=True))
    no_key = post_form(council, f"{SETTLEMENT}/withdraw", {"reason": "no key"}, form_page=SETTLEMENT)
    assert no_key.status_code == 400  # refused by the form (a key is never made up for a POST), not by the ledger
    refused_too = post_form(council, f"{SETTLEMENT}/withdraw", {"reason": "issued by mistake",
                            "idempotency_key": "withdraw-after-issue"}, form_page=SETTLEMENT)  # fmt: skip
    assert refused_too.status_code == 422 and "never changes" in _text(refused_too)
    assert demo_book.projections.head() == head


def test_the_year_is_closed_once(client_as, demo_book):
    council = client_as("accountant")
    year_page = f"/accountant/settlements/{WIRRAL}/{YEAR}"
    data = {"idempotency_key": _key(council, year_page), "reason": "2019-20 settled and issued"}
    closed = post_form(council, f"{year_page}/close", data, form_page=year_page)
    assert closed.status_code == 302
    head = demo_book.projections.head()
    assert post_form(council, f"{year_page}/close", data, form_page=year_page).status_code == 302
    assert demo_book.projections.head() == head
    assert "was closed on" in _text(council.get(year_page))
    again = post_form(council, f"{year_page}/close", {"idempotency_key": _key(council, year_page)},
                      form_page=year_page)  # fmt: skip
    assert again.status_code == 409 and "already closed" in _text(again)
    assert demo_book.projections.head() == head


def test_a_late_change_is_re_settled_with_previous_new_and_difference(client_as, demo_book, tmp_path):
    from datetime import date

    from demo.visits import visit_rows, write_visits
    from domain.envelope import Envelope

    rows = visit_rows(demo_book.records.agreement(WIRRAL), 40, date(2020, 3, 1), date(2020, 3, 31), seed=7,
                      id_prefix="LATE-")  # fmt: skip
    late = Envelope(COUNCIL, date(2020, 9, 1), "late visits from call monitoring", "test:late-visits")
    demo_book.activity.import_activity(late, WIRRAL, write_visits(tmp_path / "late.csv", rows))
    council = client_as("accountant")
    assert "Out of date:" in _text(council.get(SETTLEMENT))

    year_page = f"/accountant/settlements/{WIRRAL}/{YEAR}"
    data = {"idempotency_key": _key(council, year_page), "reason": "late visits of March 2020"}
    drafted = post_form(council, f"{year_page}/draft", data, form_page=year_page)
    assert drafted.status_code == 302 and drafted.headers["Location"].endswith(f"{year_page}/2")
    head = demo_book.projections.head()
    assert post_form(council, f"{year_page}/draft", data, form_page=year_page).status_code == 302
    assert demo_book.projections.head() == head

    view = settlement(demo_book.read_engine, _access(demo_book), WIRRAL, YEAR, 2)
    assert view["previous"] == 1 and view["comparison"]
    text = _text(council.get(f"{year_page}/2"))
    assert "Re-settlement 2" in text and "Compared with settlement 1" in text
    changed = [(party, figure, row) for party, figures in view["comparison"]["providers"].items()
               for figure, row in figures.items() if row["difference"] != 0]  # fmt: skip
    assert changed  # the late visits change some provider's activity
    for party, figure, row in changed:
        assert format_gbp(row["previous"]) in text and format_gbp(row["new"]) in text
        assert format_gbp(row["difference"]) in text
    reconciled = reconcile(demo_book.read_engine, _access(demo_book), YEAR)
    page = _text(council.get(f"/accountant/reconcile/{WIRRAL}/{YEAR}"))
    assert f"Closed on {reconciled['closed']['closed_on']}" in page
    assert f"Settlement {reconciled['settlement']['sequence']} ({reconciled['settlement']['status']})" in page


def test_a_payment_run_is_recorded_once_and_pays_the_closed_years_late_change(client_as, demo_book):
    from datetime import date

    from demo.settlements import BANDS
    from domain.envelope import Envelope

    next_year = "2020-21"
    pool = Envelope(COUNCIL, date(2020, 4, 1), "the 2020-21 pooled budget", "test:pool-2020-21")
    demo_book.settlements.set_pooled_budget(pool, WIRRAL, next_year, target=Decimal("12000000.00"), bands=BANDS)
    council = client_as("accountant")
    payments = f"/accountant/payments/{WIRRAL}/{next_year}"
    data = {"idempotency_key": _key(council, payments), "month": "2020-04", "effective": "2020-05-10"}
    before = demo_book.projections.head()
    recorded = post_form(council, f"{payments}/run", data, form_page=payments)
    assert recorded.status_code == 302 and recorded.headers["Location"].endswith(f"/{WIRRAL}/runs/2020-04")
    head = demo_book.projections.head()
    assert head > before
    assert post_form(council, f"{payments}/run", data, form_page=payments).status_code == 302  # a double submit
    assert demo_book.projections.head() == head

    access = _access(demo_book)
    paid = payment_runs(demo_book.read_engine, access, next_year)
    assert paid and {r["month"] for r in paid} == {"2020-04"} and all(str(r["paid_on"]) == "2020-05-10" for r in paid)
    lines = [line for r in paid for line in payment_statement(demo_book.read_engine, access, r["provider"],
                                                              "2020-04")["lines"]]  # fmt: skip
    assert lines and all(line["closed_year"] == YEAR for line in lines)  # the late March visits, paid after close
    page = _text(council.get(f"/accountant/payments/{WIRRAL}/runs/2020-04"))
    assert f'data-figure="total">{format_gbp(total(r["amount"] for r in paid))}' in page
    for line in lines:
        assert line["label"] in page
