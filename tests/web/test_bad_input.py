"""Bad files at every upload of the web app and the API: the same bad files as the command line's
(tests/bad_files.py), each refused with the status its kind has (``web/errors.py``: invalid input is 400, a body
over ``OPENBOOK_MAX_UPLOAD_MB`` 413), the file named on the page or in the job's error with the line or row, and
nothing recorded; a UTF-8 byte-order mark is accepted.

The uploads: a provider's cost return (a form; refused at once, 400), an accountant's KPI results (a form; 400),
and activity files (the provider's and accountant's forms and the API's ``…/activity/files`` queue a job, whose
import then fails with ``invalid-input``: the job's error names the file and row, and the history's head is
unchanged). The activity case runs through the API, which the forms share the job with
(tests/web/test_provider_activity_upload.py covers the forms' queueing).
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, timezone
from uuid import uuid4

import pytest
from openpyxl import load_workbook

from domain.envelope import SYSTEM
from ledger.jobs.worker import Worker
from ledger.settings import Settings
from tests.bad_files import ACCENTED, BAD, ENTRIES, bad_file
from tests.web.api_support import bearer, token_for
from tests.web.support import USERS, csrf_token, log_in, post_form
from web.app import create_app

WIRRAL = "wirral-homecare"
RETURN = f"/provider/returns/{WIRRAL}/premier-care/2020-21-Q2"
KPIS = f"/accountant/kpis/{WIRRAL}"
FILES = f"/api/v1/agreements/{WIRRAL}/activity/files"


def _key(page: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]+)"', page) or re.search(
        rf'<input[^>]*value="([^"]+)"[^>]*name="{name}"', page)  # fmt: skip
    assert found, f"no {name} on the page"
    return found.group(1)


def _said(response) -> str:
    """The page's text as a reader sees it (entities decoded)."""
    return html.unescape(response.get_data(as_text=True))


def _upload_return(client, name: str, content: bytes):
    data = {"idempotency_key": str(uuid4()), "save": "y", "file": (io.BytesIO(content), name)}
    return client.post(f"{RETURN}/upload", data={**data, "csrf_token": csrf_token(client, "/provider/returns")})


def _upload_kpis(client, name: str, content: bytes):
    page = client.get(KPIS).get_data(as_text=True)
    data = {"upload-idempotency_key": _key(page, "upload-idempotency_key"), "upload-file": (io.BytesIO(content), name)}
    return post_form(client, f"{KPIS}/import", data, form_page=KPIS)


#: Each form: who uploads, how, and a page that shows the accented text of the good file once it is recorded.
FORMS = {"returns import": ("provider", _upload_return, f"{RETURN}/amend"),
         "kpis import": ("accountant", _upload_kpis, f"{KPIS}?period=2020-21-Q1")}  # fmt: skip


@pytest.mark.parametrize("case", BAD)
@pytest.mark.parametrize("entry_name", FORMS)
def test_a_bad_file_uploaded_on_a_form_is_a_400_naming_it_and_records_nothing(client_as, demo_book, entry_name, case):
    role, upload, _ = FORMS[entry_name]
    name, content = bad_file(case, ENTRIES[entry_name])
    head = demo_book.projections.head()

    refused = upload(client_as(role), name, content)

    assert refused.status_code == 400
    expected = BAD[case].format(too_wide=ENTRIES[entry_name].too_wide)
    assert re.search(rf"{re.escape(name)}:.*{expected}", _said(refused), re.DOTALL), _said(refused)[-3000:]
    assert demo_book.projections.head() == head


@pytest.mark.parametrize("entry_name", FORMS)
def test_a_utf8_file_with_a_byte_order_mark_uploaded_on_a_form_is_recorded(client_as, demo_book, entry_name):
    """Excel's "CSV UTF-8" starts with a BOM: accepted, and the accented text after it shown as written."""
    role, upload, shown_on = FORMS[entry_name]
    client, head = client_as(role), demo_book.projections.head()

    recorded = upload(client, "excel-utf8.csv", ENTRIES[entry_name].good().encode("utf-8-sig"))

    assert recorded.status_code == 302, _said(recorded)[-3000:]
    assert demo_book.projections.head() > head
    assert ACCENTED in _said(client.get(shown_on))


@pytest.fixture(scope="module")
def provider_token(demo_book) -> str:
    return token_for(demo_book, USERS["provider"])


def _send(app, token: str, name: str, content: bytes):
    return app.test_client().post(FILES, data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data",
                                  headers=bearer(token, str(uuid4())))  # fmt: skip


@pytest.mark.parametrize("case", [case for case in BAD if case != "over-the-limit"])
def test_a_bad_activity_file_sent_to_the_api_fails_its_job_naming_it_and_records_nothing(app, demo_book,
                                                                                        provider_token, case):
    name, content = bad_file(case, ENTRIES["activity import"])
    head = demo_book.projections.head()

    queued = _send(app, provider_token, name, content)
    assert queued.status_code == 202, queued.get_json()
    ran = Worker(demo_book, beat=0.01).run_once()

    assert ran.id == queued.get_json()["job"] and ran.state == "failed", ran.result
    job = app.test_client().get(f"{FILES}/{ran.id}", headers=bearer(provider_token)).get_json()
    assert job["error"]["kind"] == "invalid-input"
    expected = BAD[case].format(too_wide=ENTRIES["activity import"].too_wide)
    assert re.search(rf"(^|\| ){re.escape(name)}:.*{expected}", " | ".join(job["error"]["problems"])), job["error"]
    assert demo_book.projections.head() == head


def test_an_activity_file_with_a_byte_order_mark_sent_to_the_api_is_imported(app, demo_book, provider_token):
    head = demo_book.projections.head()
    queued = _send(app, provider_token, "excel-utf8.csv", ENTRIES["activity import"].good().encode("utf-8-sig"))
    ran = Worker(demo_book, beat=0.01).run_once()
    assert ran.id == queued.get_json()["job"] and ran.state == "done", ran.error
    assert ran.result["visits"] == 2 and demo_book.projections.head() > head


def test_a_file_over_the_upload_limit_is_a_413_on_the_api_and_a_page_and_nothing_is_kept(demo_book, tmp_path,
                                                                                          provider_token):
    settings = Settings(secret_key="t" * 64, instance_path=str(tmp_path / "instance"), max_upload_mb=1)
    small = create_app({"OPENBOOK": demo_book, "SETTINGS": settings})
    jobs, head = len(demo_book.jobs.list_for(SYSTEM)), demo_book.projections.head()
    name, content = bad_file("over-the-limit", ENTRIES["activity import"])  # just over 1 MB

    refused = _send(small, provider_token, name, content)

    assert refused.status_code == 413
    assert refused.get_json()["kind"] == "http-413" and "at most 1 MB" in refused.get_json()["message"]
    page = _upload_return(log_in(small.test_client(), USERS["provider"]), "huge.csv", content)
    assert page.status_code == 413 and "at most 1 MB" in _said(page)
    assert len(demo_book.jobs.list_for(SYSTEM)) == jobs and demo_book.projections.head() == head
    uploads = tmp_path / "instance" / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []



# -- hostile text: escaped on every page, in every export and in a statement's HTML ----------------------------

SCRIPT = "<script>alert(1)</script><b>x</b>"
SCRIPT_SHOWN = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;"
FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+44 1234", "@SUM(A1:A9)", "-2 visits missed"]


def test_kpi_evidence_with_html_and_formulas_is_escaped_on_the_page_and_in_its_csv_and_xlsx(client_as, demo_book):
    """Evidence is free text from a file: shown as text on the dashboard, and a quote before every formula start
    in both exports (ledger/files/formulas.py), the HTML left as the text it is there."""
    rows = [("premier-care", "missed-visits", "0.4", SCRIPT), ("premier-care", "starts-within-48h", "96", FORMULAS[0]),
            ("premier-care", "continuity-of-carer", "83", FORMULAS[1]), ("haven-care", "missed-visits", "0.5",
            FORMULAS[2]), ("haven-care", "starts-within-48h", "95", FORMULAS[3])]  # fmt: skip
    out = io.StringIO()
    csv.writer(out).writerows([["provider", "period", "kpi", "value", "evidence"],
                               *[[p, "2020-21-Q3", k, v, e] for p, k, v, e in rows]])  # fmt: skip
    client = client_as("accountant")
    assert _upload_kpis(client, "hostile.csv", out.getvalue().encode()).status_code == 302

    page = client.get(f"{KPIS}?period=2020-21-Q3").get_data(as_text=True)
    assert SCRIPT_SHOWN in page and "<script>alert" not in page and "<b>x</b>" not in page

    exported = client.get(f"{KPIS}?period=2020-21-Q3&export=kpi-results&format=csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    evidence = {row["Evidence"] for row in csv.DictReader(io.StringIO(exported.get_data(as_text=True)))}
    assert evidence >= {SCRIPT, *("'" + text for text in FORMULAS)}

    workbook = client.get(f"{KPIS}?period=2020-21-Q3&export=kpi-results&format=xlsx")
    sheet = load_workbook(io.BytesIO(workbook.get_data())).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert {c.value for c in cells} >= {SCRIPT, *("'" + text for text in FORMULAS)}
    assert not any(c.data_type == "f" or str(c.value or "").startswith(("=", "+", "@")) for c in cells)


def test_a_cost_return_note_with_html_is_shown_as_text(client_as, demo_book):
    text = ENTRIES["returns import"].good().replace(ACCENTED, SCRIPT)
    client = client_as("provider")
    base = f"/provider/returns/{WIRRAL}/premier-care/2020-21-Q3"
    data = {"idempotency_key": str(uuid4()), "save": "y", "file": (io.BytesIO(text.encode()), "q3.csv")}
    assert client.post(f"{base}/upload", data={**data, "csrf_token": csrf_token(client, "/provider/returns")}
                       ).status_code == 302  # fmt: skip
    for page in (client.get(f"{base}/amend"), client_as("accountant").get(f"/accountant/returns/{WIRRAL}/premier-care/"
                                                                          "2020-21-Q3")):  # fmt: skip
        shown = page.get_data(as_text=True)
        assert page.status_code == 200 and "<script>alert" not in shown and "<b>x</b>" not in shown
    assert SCRIPT_SHOWN in client.get(f"{base}/amend").get_data(as_text=True)  # the note, as text, in its field


def test_a_statements_html_shows_user_text_as_text():
    """What WeasyPrint reads for the PDF: every place user text reaches (title, parties, headings, tables, facts,
    notes) escaped by the statement templates' autoescape; only our own charts' SVG is markup."""
    from reports.statements import Facts, Note, Provenance, Section, Statement, Table
    from reports.statements.frame import Party
    from reports.statements.render import render_html
    from reports.tables import Column

    statement = Statement(
        title=f"Statement {SCRIPT}", agreement_code="wirral-homecare", agreement_name=f"Wirral {SCRIPT}",
        period="2019-20-Q1", parties=[Party("provider", "premier-care", f"Premier {SCRIPT}")],
        sections=[Section(f"Section {SCRIPT}", [Facts([(f"Label {SCRIPT}", SCRIPT, "text")]), Note(SCRIPT),
                                                 Table(f"Caption {SCRIPT}", [Column("text", "Text")],
                                                       [{"text": SCRIPT}])])],
        provenance=Provenance(datetime(2020, 7, 1, tzinfo=timezone.utc), {"position": 1, "hash": "ab" * 32,
                                                                           "events": 1}, None, [("head", 1)]),
        author=f"Premier {SCRIPT}", subject=SCRIPT,
    )  # fmt: skip
    html_text = render_html(statement)
    assert "<script>" not in html_text and "<b>x</b>" not in html_text
    assert html_text.count(SCRIPT_SHOWN) >= 9


def test_a_charts_labels_are_text_in_its_svg():
    """Pages include charts with ``|safe`` and statements with ``figure_svg``: that is sound only because every
    label (a provider's name on the accountants' market chart) is escaped by the SVG writer itself."""
    from reports.charts.svg import render

    def draw(figure):
        axes = figure.add_subplot()
        axes.plot([1, 2], [1, 2], label=SCRIPT)
        axes.set_xlabel(SCRIPT)
        axes.legend()

    svg = render(draw, title=SCRIPT, desc=SCRIPT, size=(3, 2))
    assert "<script>" not in svg and "<b>x</b>" not in svg and svg.count("&lt;script&gt;") >= 4


#: A body, and the field its first problem names: JSON that cannot be read is "body"; an empty body is read as no
#: fields, UTF-16 JSON is read (RFC 8259's predecessor allowed it; ``json.loads`` detects it) and so is a UTF-8 BOM,
#: so their problem is the first field missing.
BODIES = [(b'{"provider": "caf\xe9"}', "body"), (b'{"provider": ', "body"), (b"", "provider"),
          ('{"provider": "premier-care"}'.encode("utf-16"), "period"), (b"\xef\xbb\xbf{}", "provider")]


@pytest.mark.parametrize(("body", "field"), BODIES)
def test_a_json_body_that_cannot_be_read_or_is_empty_is_a_400_naming_what_and_records_nothing(app, demo_book, body, field):
    token, head = token_for(demo_book, USERS["provider"]), demo_book.projections.head()
    answer = app.test_client().post(f"/api/v1/agreements/{WIRRAL}/returns", data=body,
                                    content_type="application/json", headers=bearer(token, str(uuid4())))  # fmt: skip
    assert answer.status_code == 400, answer.get_data(as_text=True)
    error = answer.get_json()
    assert error["kind"] == "invalid-input" and error["fields"][0]["field"] == field, error
    assert demo_book.projections.head() == head
