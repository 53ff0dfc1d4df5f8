"""The accountants' activity, KPI and incentive pages: the CLI's own figures, recording once, refusals beside their
field with nothing recorded, another commissioner's agreement 404 and a provider 403.

The figures are compared with what the queries return (``ledger.queries.activity``,
``ledger.queries.incentives``) on the demo: Wirral 2019-20 (activity imported, KPI
results, an assessment) and Herefordshire 2017-18 (KPIs, a scheme of two
versions, an assessment). Tests that record build on each other in file order
on one demo (tests/web/conftest.py).
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from demo.visits import visit_rows
from domain.activity.visits import COLUMNS
from domain.envelope import Actor, Envelope
from domain.money import format_gbp, pounds_from_pence
from ledger.authorisation import access_for
from ledger.jobs.worker import Worker
from ledger.queries import activity as activity_views
from ledger.queries import incentives as incentive_views
from tests.web.support import post_form

WIRRAL, HEREFORDSHIRE = "wirral-homecare", "herefordshire-hlah"
COUNCIL = Actor("accountant@wirral.example", "wirral-council")
HEREFORDSHIRE_COUNCIL = Actor("accountant@herefordshire.example", "herefordshire-council")
KPIS = f"/accountant/kpis/{WIRRAL}"


def _access(book, actor=COUNCIL, agreement=WIRRAL):
    return access_for(book.records, actor, agreement)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _table(page: str, name: str) -> list[list[str]]:
    """The body rows of the table ``name`` on ``page``, each cell's text."""
    found = re.search(rf'<table data-table="{name}">.*?<tbody>(.*?)</tbody>', page, flags=re.S)
    assert found, f"no table {name}"
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(1), flags=re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
            for row in rows]  # fmt: skip


def _key(page: str, prefix: str = "") -> str:
    """The idempotency key the form (of ``prefix``) was shown with."""
    name = f"{prefix}-idempotency_key" if prefix else "idempotency_key"
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert found, f"no recording form {name}"
    return re.search(r'value="([^"]+)"', found.group(0)).group(1)


# -- activity ------------------------------------------------------------------------------------


def test_the_totals_page_shows_the_totals_query_by_month_zone_service_and_provider(client_as, demo_book):
    page = _text(client_as("accountant").get(f"/accountant/activity/{WIRRAL}"))
    for dimension in ("month", "zone", "service", "provider"):
        expected = activity_views.totals(demo_book.read_engine, _access(demo_book), (dimension,))
        shown = _table(page, f"by-{dimension}")
        assert len(shown) == len(expected) > 0, dimension
        for cells, row in zip(shown, expected, strict=True):
            assert cells[0] == row[dimension]
            assert cells[1] == f"{row['visits']:,}"
            assert cells[4] == format_gbp(row["spend"])
    months = activity_views.totals(demo_book.read_engine, _access(demo_book), ("month",))
    chart = re.search(r'<figure class="chart">\s*(<svg.*?</svg>)', page, flags=re.S)
    assert chart and format_gbp(months[0]["spend"]) in chart.group(1) and ' style="' not in chart.group(1)


def test_totals_for_a_quarter_and_a_provider_and_their_csv_match_the_query(client_as, demo_book):
    client = client_as("accountant")
    query = "period=2019-20-Q2&provider=premier-care"
    expected = activity_views.totals(demo_book.read_engine, _access(demo_book), ("month",), period="2019-20-Q2",
                                     provider="premier-care")  # fmt: skip
    assert [r["month"] for r in expected] == ["2019-07", "2019-08", "2019-09"]
    shown = _table(_text(client.get(f"/accountant/activity/{WIRRAL}?{query}")), "by-month")
    assert [(c[0], c[4]) for c in shown] == [(r["month"], format_gbp(r["spend"])) for r in expected]
    exported = client.get(f"/accountant/activity/{WIRRAL}?{query}&export=by-month&format=csv")
    assert exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [Decimal(r["Spend"]) for r in rows] == [r["spend"] for r in expected]


def test_a_period_that_is_not_one_is_shown_beside_the_filter(client_as):
    response = client_as("accountant").get(f"/accountant/activity/{WIRRAL}?period=2019-Q9")
    page = _text(response)
    assert response.status_code == 400
    assert re.search(r'<p class="field-error" id="period-error">[^<]*2019-Q9', page)
    assert 'aria-invalid="true"' in page


def test_the_imports_and_a_visit_show_what_the_queries_return(client_as, demo_book):
    client = client_as("accountant")
    recorded = activity_views.imports(demo_book.read_engine, _access(demo_book))
    shown = _table(_text(client.get(f"/accountant/activity/{WIRRAL}/imports")), "imports")
    assert [(c[2], c[3], c[9]) for c in shown] == [
        (r["file_name"], f"{r['rows']:,}", format_gbp(pounds_from_pence(r["spend_pence"]))) for r in recorded
    ]
    visit = activity_views.visit(demo_book.read_engine, _access(demo_book), "D1920-00000005")
    page = _text(client.get(f"/accountant/activity/{WIRRAL}/visits/D1920-00000005"))
    assert f'data-figure="price">{format_gbp(visit["price"])}' in page and visit["provider"] in page
    assert client.get(f"/accountant/activity/{WIRRAL}/visits/NO-SUCH-VISIT").status_code == 404
    found = client.get(f"/accountant/activity/{WIRRAL}/visits?visit=D1920-00000005")
    assert found.status_code == 302 and found.headers["Location"].endswith("/visits/D1920-00000005")


def test_arrears_of_a_year_without_a_review_say_so(client_as):
    response = client_as("accountant").get(f"/accountant/activity/{WIRRAL}/arrears/2019-20")
    assert response.status_code == 404 and "is not registered" in _text(response)
    assert f'href="/accountant/rates/{WIRRAL}/reviews/2019-20">the rate review\'s page</a>' in _text(response)


def _visits_file(book, rows: int, *, bad_provider: bool = False) -> bytes:
    """A small ECM export of invented Wirral visits for April 2020 (``demo.visits``), one row naming no provider."""
    found = book.records.agreement(WIRRAL)
    made = list(visit_rows(found, rows, date(2020, 4, 1), date(2020, 4, 30), seed=7, id_prefix="WEB"))
    if bad_provider:
        made[1][1] = "acme-care"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([list(COLUMNS), *made])
    return out.getvalue().encode()


def _upload_visits(client, content: bytes, name: str, key: str | None = None):
    path = f"/accountant/activity/{WIRRAL}/imports"
    key = key or _key(client.get(path).get_data(as_text=True))
    data = {"idempotency_key": key, "file": (io.BytesIO(content), name)}
    return post_form(client, path, data, form_page=path), key


def test_an_uploaded_ecm_export_is_imported_by_a_background_job_with_a_progress_page(client_as, demo_book, app):
    client = client_as("accountant")
    head = demo_book.projections.head()
    content = _visits_file(demo_book, 40)
    response, key = _upload_visits(client, content, "ecm-april-2020.csv")
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    job_page = response.headers["Location"]
    queued = _text(client.get(job_page))
    assert '<meta http-equiv="refresh" content="2">' in queued
    assert '<progress id="job-progress" max="100" value="0">' in queued
    assert demo_book.projections.head() == head  # queued, not yet run
    uploads = Path(app.config["OPENBOOK_INSTANCE"]) / "uploads"
    assert [p.name for p in uploads.glob("*/*")] == ["upload.csv"]  # stored under its own name, shown as sent

    ran = Worker(demo_book, beat=0.01).run_once()
    assert ran.state == "done" and ran.result["visits"] == 40
    done = _text(client.get(job_page))
    assert 'http-equiv="refresh"' not in done and 'value="100"' in done
    assert f'data-figure="visits">{40:,}' in done and ran.result["message"] in done
    assert f'data-figure="spend">{format_gbp(Decimal(ran.result["spend"]))}' in done
    assert demo_book.projections.head() > head
    recorded = activity_views.imports(demo_book.read_engine, _access(demo_book))
    assert recorded[-1]["file_name"] == "ecm-april-2020.csv" and recorded[-1]["visits"] == 40
    assert list(uploads.glob("*/*")) == []  # the job removed the upload when it ended
    imports = _text(client.get(f"/accountant/activity/{WIRRAL}/imports"))
    assert ["ecm-april-2020.csv", "done"] == [c for c in _table(imports, "uploads")[0]][2:4]

    after = demo_book.projections.head()
    again, _ = _upload_visits(client, content, "ecm-april-2020.csv", key)  # the form sent twice: its first job
    assert again.status_code == 302 and again.headers["Location"] == job_page
    assert Worker(demo_book, beat=0.01).run_once() is None and list(uploads.glob("*/*")) == []
    other, _ = _upload_visits(client, content, "the-same-file.csv")  # the same file in a new form
    second = Worker(demo_book, beat=0.01).run_once()
    assert second.state == "done" and second.result["recorded"] is False
    assert "already imported" in _text(client.get(other.headers["Location"]))
    assert demo_book.projections.head() == after  # recorded once


def test_the_arrears_page_shows_the_last_calculation_per_provider(client_as, demo_book):
    """The demo's 2020-21 review is backdated; with April 2020's visits imported above, its arrears are calculated
    (on the rate review's page; here through the same use case) and shown as ``activity arrears --last`` shows them."""
    envelope = Envelope(COUNCIL, date(2020, 7, 1), "arrears of the backdated review", "web-test-arrears-2020-21")
    demo_book.activity.calculate_arrears(envelope, WIRRAL, "2020-21")
    found = activity_views.arrears(demo_book.read_engine, _access(demo_book), "2020-21")
    assert Decimal(found["total"]) > 0
    page = _text(client_as("accountant").get(f"/accountant/activity/{WIRRAL}/arrears/2020-21"))
    assert f'data-figure="total">{format_gbp(Decimal(found["total"]))}' in page
    assert [(c[0], c[1]) for c in _table(page, "arrears-providers")] == [
        (provider, format_gbp(Decimal(amount))) for provider, amount in found["providers"].items()]  # fmt: skip
    lines = _table(page, "arrears-lines")
    expected = [(line["provider"], line["working"], format_gbp(Decimal(line["amount"]))) for line in found["lines"]]
    assert [(c[0], c[8], c[9]) for c in lines] == expected


def test_an_upload_with_a_bad_row_fails_its_job_with_the_rows_problems_and_records_nothing(client_as, demo_book):
    client = client_as("accountant")
    head = demo_book.projections.head()
    response, _ = _upload_visits(client, _visits_file(demo_book, 5, bad_provider=True), "bad.csv")
    failed = Worker(demo_book, beat=0.01).run_once()
    assert failed.state == "failed"
    page = _text(client.get(response.headers["Location"]))
    assert "bad.csv: 1 problem(s); nothing was recorded" in page
    assert re.search(r'<ul class="error" id="problems">\s*<li>row 3, column provider:', page)
    assert 'http-equiv="refresh"' not in page
    assert demo_book.projections.head() == head
    ccg = client_as("ccg-accountant")  # a commissioner of the agreement, but the job is the council's
    assert ccg.get(response.headers["Location"]).status_code == 404
    assert client_as("herefordshire-accountant").get(response.headers["Location"]).status_code == 404


def test_an_upload_without_a_file_is_refused_beside_the_field(client_as, demo_book):
    client = client_as("accountant")
    path = f"/accountant/activity/{WIRRAL}/imports"
    response = post_form(client, path, {"idempotency_key": _key(client.get(path).get_data(as_text=True))},
                         form_page=path)  # fmt: skip
    assert response.status_code == 400
    assert re.search(r'<p class="field-error" id="file-error-1">choose a file', _text(response))
    assert demo_book.jobs.list_for(COUNCIL, state="queued") == []


# -- incentives ----------------------------------------------------------------------------------


def _shown_working(page: str, provider: str) -> dict[str, str]:
    section = re.search(rf'<section class="card" id="working-{provider}">(.*?)</section>', page, flags=re.S)
    assert section, provider
    return dict(re.findall(r'data-figure="([a-z_]+)">([^<(]+)', section.group(1)))


def test_the_assessment_page_shows_the_herefordshire_2017_18_working(client_as, demo_book):
    assessment = incentive_views.incentive_assessment(
        demo_book.read_engine, _access(demo_book, HEREFORDSHIRE_COUNCIL, HEREFORDSHIRE), "2017-18"
    )
    page = _text(client_as("herefordshire-accountant").get(f"/accountant/incentives/{HEREFORDSHIRE}/2017-18"))
    assert f'data-figure="total">{format_gbp(assessment["total"])}' in page
    assert assessment["total"] > 0 and len(assessment["lines"]) == assessment["providers"]
    for line in assessment["lines"]:
        shown = _shown_working(page, line["provider"])
        assert shown["payment"].strip() == format_gbp(line["payment"])
        for name in ("baseline_hours", "actual_hours", "threshold_hours", "reduction_hours", "eligible_hours"):
            assert Decimal(shown[name].strip().removesuffix(" h").replace(",", "")) == line[name], name
        assert line["working"] in page and line["reason"] in page
        for note in line["kpi_notes"]:
            assert note in page
    assert any(line["missed_kpis"] for line in assessment["lines"])  # the demo's provider C misses a KPI
    assert "missed: missed-visits" in page
    scheme = incentive_views.scheme_sheet(demo_book.read_engine, _access(demo_book, HEREFORDSHIRE_COUNCIL,
                                                                         HEREFORDSHIRE))  # fmt: skip
    versions = _text(client_as("herefordshire-accountant").get(f"/accountant/incentives/{HEREFORDSHIRE}"))
    assert [v["from_year"] for v in scheme["versions"]] == ["2017-18", "2018-19"]
    for version in scheme["versions"]:
        for line in version["described"]:
            assert line in versions
    assert f"{format_gbp(assessment['total'])}" in versions


def test_the_wirral_assessment_page_shows_each_providers_payment(client_as, demo_book):
    assessment = incentive_views.incentive_assessment(demo_book.read_engine, _access(demo_book), "2019-20")
    page = _text(client_as("accountant").get(f"/accountant/incentives/{WIRRAL}/2019-20"))
    shown = _table(page, "assessment-lines")
    assert [(c[0], c[7]) for c in shown] == [(line["provider"], format_gbp(line["payment"]))
                                             for line in assessment["lines"]]  # fmt: skip


def test_assessing_a_year_again_with_nothing_changed_records_nothing(client_as, demo_book):
    client = client_as("accountant")
    path = f"/accountant/incentives/{WIRRAL}/2019-20"
    head = demo_book.projections.head()
    response = post_form(client, f"{path}/assess", {"idempotency_key": _key(client.get(path).get_data(as_text=True))},
                         form_page=path)  # fmt: skip
    assert response.status_code == 302
    assert "unchanged since run 1" in _text(client.get(path))
    assert demo_book.projections.head() == head


def test_assessing_a_year_not_over_is_refused_at_the_top_and_records_nothing(client_as, demo_book):
    client = client_as("accountant")
    path = f"/accountant/incentives/{WIRRAL}/2019-20"
    head = demo_book.projections.head()
    data = {"idempotency_key": _key(client.get(path).get_data(as_text=True)), "effective": "2019-10-01"}
    response = post_form(client, f"{path}/assess", data, form_page=path)
    assert response.status_code == 422
    assert re.search(r'<div class="form-errors" role="alert">\s*<p>[^<]*runs to 2020-03-31', _text(response))
    assert demo_book.projections.head() == head


SCHEME = f"/accountant/incentives/{HEREFORDSHIRE}"


def _scheme(client, key: str | None = None, **changes: str):
    """The scheme form as shown (the last version's terms), with ``changes``, posted."""
    page = client.get(SCHEME).get_data(as_text=True)
    form = re.search(r'<form method="post" action="[^"]*/scheme" id="scheme">(.*?)</form>', page, flags=re.S).group(1)
    data = {name: html.unescape(value) for name, value in re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"',
                                                                     form)}  # fmt: skip
    for name, options in re.findall(r'<select[^>]*name="([a-z_]+)"[^>]*>(.*?)</select>', form, flags=re.S):
        data[name] = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', options).group(1)
    textarea = re.search(r'<textarea[^>]*name="fixed_baselines"[^>]*>(.*?)</textarea>', form, flags=re.S).group(1)
    data["fixed_baselines"] = html.unescape(textarea).strip()
    data.pop("csrf_token", None)
    data.update(changes)
    if key:
        data["idempotency_key"] = key
    return post_form(client, f"{SCHEME}/scheme", data, form_page=SCHEME), data["idempotency_key"]


def test_the_scheme_form_holds_the_last_version_and_a_bad_term_is_shown_beside_its_field(client_as, demo_book):
    client = client_as("herefordshire-accountant")
    head = demo_book.projections.head()
    response, _ = _scheme(client, from_year="2019-20", minimum_reduction="lots", reason="a higher minimum")
    assert response.status_code == 400
    assert re.search(r'id="minimum_reduction-error-1">[^<]*lots', _text(response))
    missing, _ = _scheme(client, from_year="2019-20", payment_per_hour="", reason="no rate")
    assert missing.status_code == 400
    assert re.search(r'id="payment_per_hour-error-1">required for a per-hour payment', _text(missing))
    assert demo_book.projections.head() == head


def test_amending_the_scheme_records_a_version_once(client_as, demo_book):
    client = client_as("herefordshire-accountant")
    access = _access(demo_book, HEREFORDSHIRE_COUNCIL, HEREFORDSHIRE)
    response, key = _scheme(client, from_year="2019-20", payment_per_hour="3.00", reason="a higher rate from 2019-20")
    assert response.status_code == 302
    head = demo_book.projections.head()
    again, _ = _scheme(client, key, from_year="2019-20", payment_per_hour="3.00", reason="a higher rate from 2019-20")
    assert again.status_code == 302 and demo_book.projections.head() == head
    versions = incentive_views.scheme_sheet(demo_book.read_engine, access)["versions"]
    assert [(v["from_year"], v["payment_per_hour"]) for v in versions] == [
        ("2017-18", "2.00"), ("2018-19", "2.00"), ("2019-20", "3.00")]  # fmt: skip
    page = _text(client.get(SCHEME))
    assert "Version 3: from 2019-20" in page and "a higher rate from 2019-20" in page
    assert "£3.00 per hour of reduction beyond the minimum" in _text(client.get(f"{SCHEME}/2019-20"))


# -- KPI results ---------------------------------------------------------------------------------


def test_the_kpi_dashboard_shows_the_query_for_a_year(client_as, demo_book):
    data = incentive_views.kpi_dashboard(demo_book.read_engine, _access(demo_book), "2019-20")
    page = _text(client_as("accountant").get(f"{KPIS}?period=2019-20"))
    shown = _table(page, "kpi-results")
    assert [(c[0], c[2], c[3], c[5]) for c in shown] == [
        (r["provider"], r["kpi"], str(r["value"]), "met" if r["met"] else "missed") for r in data["rows"]
    ]
    summary = _table(page, "kpi-summary")
    assert [c[2] for c in summary] == ["all met" if s["all_met"] else "NOT all met" for s in data["summary"]]


def test_a_dashboard_period_that_is_not_one_is_shown_beside_the_filter(client_as):
    response = client_as("accountant").get(f"{KPIS}?period=2019-13")
    assert response.status_code == 400
    assert re.search(r'<p class="field-error" id="show-period-error">[^<]*2019-13', _text(response))


def _result(client, value: str, key: str | None = None, **extra: str):
    page = client.get(KPIS).get_data(as_text=True)
    data = {"record-idempotency_key": key or _key(page, "record"), "record-provider": "premier-care",
            "record-period": "2019-20-Q1", "record-kpi": "missed-visits", "record-value": value,
            "record-evidence": "ECM exception report, Q1 2019-20", **extra}  # fmt: skip
    return post_form(client, f"{KPIS}/results", data, form_page=KPIS), data["record-idempotency_key"]


def test_entering_a_kpi_result_records_once_however_often_it_is_sent(client_as, demo_book):
    client = client_as("accountant")
    before = demo_book.projections.head()
    first, key = _result(client, "0.3")
    assert first.status_code == 302 and "period=2019-20-Q1" in first.headers["Location"]
    after = demo_book.projections.head()
    assert after > before
    again, _ = _result(client, "0.3", key)
    assert again.status_code == 302
    assert demo_book.projections.head() == after
    rows = incentive_views.kpi_dashboard(demo_book.read_engine, _access(demo_book), "2019-20-Q1")["rows"]
    assert [(r["provider"], r["kpi"], r["value"]) for r in rows] == [("premier-care", "missed-visits", Decimal("0.3"))]
    page = _text(client.get(f"{KPIS}?period=2019-20-Q1"))
    assert ["premier-care", "2019-20-Q1", "missed-visits", "0.3"] == _table(page, "kpi-results")[0][:4]
    history = _table(_text(client.get(f"{KPIS}/history/premier-care/2019-20-Q1")), "kpi-history")
    assert [(c[1], c[2], c[3]) for c in history] == [("recorded", "missed-visits", "0.3")]


def test_a_bad_kpi_value_is_shown_beside_its_field_and_records_nothing(client_as, demo_book):
    client = client_as("accountant")
    head = demo_book.projections.head()
    response, _ = _result(client, "lots")
    page = _text(response)
    assert response.status_code == 400
    assert re.search(r'<p class="field-error" id="record-value-error-1">[^<]*lots', page)
    assert demo_book.projections.head() == head
    not_awarded, _ = _result(client, "0.2", **{"record-provider": "hfd-provider-a"})
    assert not_awarded.status_code in (400, 422)
    assert re.search(r'id="record-provider-error-1">', _text(not_awarded))
    assert demo_book.projections.head() == head


def test_a_correction_without_a_reason_is_refused_and_with_one_is_recorded(client_as, demo_book):
    client = client_as("accountant")
    head = demo_book.projections.head()
    refused, _ = _result(client, "0.4")
    assert refused.status_code == 400
    assert re.search(r'id="record-reason-error-1">[^<]*needs a reason', _text(refused))
    assert demo_book.projections.head() == head
    corrected, _ = _result(client, "0.4", **{"record-reason": "the ECM report was re-run"})
    assert corrected.status_code == 302
    history = incentive_views.kpi_history(demo_book.read_engine, _access(demo_book), "premier-care", "2019-20-Q1")
    assert [(r["what"], r["value"], r["previous_value"]) for r in history][-1] == ("corrected", Decimal("0.4"),
                                                                                  Decimal("0.3"))  # fmt: skip


def _upload(client, content: bytes, name: str = "kpis.csv"):
    page = client.get(KPIS).get_data(as_text=True)
    data = {"upload-idempotency_key": _key(page, "upload"), "upload-file": (io.BytesIO(content), name)}
    return post_form(client, f"{KPIS}/import", data, form_page=KPIS)


def test_a_kpi_file_with_a_bad_row_records_nothing_and_a_good_one_records_every_row(client_as, demo_book):
    client = client_as("accountant")
    head = demo_book.projections.head()
    header = "provider,period,kpi,value,evidence\n"
    good = "carewatch,2019-20-Q1,missed-visits,0.1,ECM report Q1\n"
    refused = _upload(client, (header + good + "carewatch,2019-20-Q1,starts-within-48h,many,brokerage\n").encode())
    page = _text(refused)
    assert refused.status_code == 400
    assert re.search(r'<ul class="error" id="problems">\s*<li>row 3, column value:', page)
    assert demo_book.projections.head() == head
    recorded = _upload(client, (header + good).encode())
    assert recorded.status_code == 302
    assert "1 recorded" in _text(client.get(KPIS))
    rows = incentive_views.kpi_dashboard(demo_book.read_engine, _access(demo_book), "2019-20-Q1")["rows"]
    assert ("carewatch", "missed-visits", Decimal("0.1")) in [(r["provider"], r["kpi"], r["value"]) for r in rows]


# -- who may see what ----------------------------------------------------------------------------

PAGES = [
    f"/accountant/activity/{WIRRAL}",
    f"/accountant/activity/{WIRRAL}/imports",
    f"/accountant/activity/{WIRRAL}/visits/D1920-00000005",
    f"/accountant/activity/{WIRRAL}/arrears/2019-20",
    KPIS,
    f"{KPIS}/history/premier-care/2019-20",
    f"/accountant/incentives/{WIRRAL}",
    f"/accountant/incentives/{WIRRAL}/2019-20",
    f"/accountant/activity/{WIRRAL}/jobs/00000000-0000-0000-0000-000000000000",
]


def test_another_commissioners_accountant_gets_404_on_wirrals_pages_and_posts(client_as, demo_book):
    client = client_as("herefordshire-accountant")
    for path in PAGES:
        assert client.get(path).status_code == 404, path
    head = demo_book.projections.head()
    posted = post_form(client, f"{KPIS}/results", {"record-idempotency_key": "a1b2c3d4-0000", "record-value": "1"},
                       form_page="/accountant/activity")  # fmt: skip
    assert posted.status_code == 404
    assessed = post_form(client, f"/accountant/incentives/{WIRRAL}/2019-20/assess",
                         {"idempotency_key": "a1b2c3d4-0001"}, form_page="/accountant/activity")  # fmt: skip
    assert assessed.status_code == 404
    scheme = post_form(client, f"/accountant/incentives/{WIRRAL}/scheme",
                       {"idempotency_key": "a1b2c3d4-0002", "minimum_reduction": "0.1"},
                       form_page="/accountant/activity")  # fmt: skip
    assert scheme.status_code == 404
    upload = post_form(client, f"/accountant/activity/{WIRRAL}/imports",
                       {"idempotency_key": "a1b2c3d4-0003", "file": (io.BytesIO(b"visit_id\n"), "x.csv")},
                       form_page="/accountant/activity")  # fmt: skip
    assert upload.status_code == 404
    assert demo_book.projections.head() == head
    assert demo_book.jobs.list_for(HEREFORDSHIRE_COUNCIL) == []
    own = _text(client.get("/accountant/activity"))
    assert HEREFORDSHIRE in own and WIRRAL not in own


def test_a_provider_is_refused_every_accountant_page(client_as):
    client = client_as("provider")
    for path in ["/accountant/activity", "/accountant/incentives", *PAGES]:
        assert client.get(path).status_code == 403, path


def test_the_accountants_menu_has_activity_and_incentives(client_as):
    page = _text(client_as("accountant").get("/accountant/activity"))
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', page, flags=re.S).group(1)
    assert 'href="/accountant/activity" aria-current="page">Activity</a>' in nav
    assert 'href="/accountant/incentives">Incentives</a>' in nav
