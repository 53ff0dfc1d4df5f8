"""The auditor's integrity page on a signed ledger, exports of a range run as jobs, the files to check them with, and
who an audit body's auditors may read: the agreements it is appointed to (issue 16)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.envelope import Actor, Envelope
from domain.errors import NotFound
from ledger.audit.checkpoint_checks import signature_check
from ledger.audit.signing import SigningKey
from ledger.authorisation import access_for
from ledger.bootstrap import open_openbook
from ledger.jobs.worker import Worker
from tests.support import DEMO_EVENTS, demo_copy
from tests.web.support import USERS, csrf_token, log_in, make_app, post_form

AUDITOR = Actor(USERS["auditor"], "partnership-audit")


@pytest.fixture(scope="module")
def signed(request, tmp_path_factory):
    """A copy of the demo reopened with a signing key, and one checkpoint the auditor recorded with it."""
    folder = tmp_path_factory.mktemp("signed")
    key = SigningKey.of(Ed25519PrivateKey.generate())
    book = open_openbook(demo_copy(request, "sqlite", folder), signing_key=key)
    recorded = book.checkpoints.record_checkpoint(Envelope(AUDITOR, date(2026, 1, 5), "start of the audit"))
    yield book, key, recorded, make_app(book, folder / "instance")
    book.close()


def test_the_page_shows_each_checkpoint_signed_and_matching_the_chain_and_the_public_key(signed):
    book, key, recorded, app = signed
    client = log_in(app.test_client(), USERS["auditor"])
    page = client.get("/auditor/integrity").get_data(as_text=True)
    position = recorded["checkpoint"]["position"]
    assert position == DEMO_EVENTS  # the head before the checkpoint's own event
    row = re.search(rf'<tr data-checkpoint="{position}">(.*?)</tr>', page, re.S).group(1)
    assert f"<code>{recorded['checkpoint']['hash']}</code>" in row
    assert f"signed with key {key.key_id}: the signature verifies" in row
    assert f"the chain hash stored at position {position} is the checkpoint&#39;s" in row
    assert f"<pre>{key.public_line}</pre>" in page
    assert "<code>python3 -I verify.py openbook-export.jsonl --public-key openbook.pub</code>" in page

    pem = client.get("/auditor/integrity/public-key.pem")
    assert pem.status_code == 200 and f'filename="openbook-{key.key_id}.pem"' in pem.headers["Content-Disposition"]
    loaded = serialization.load_pem_public_key(pem.data)
    assert loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == key.public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert key.public_line in client.get("/auditor/integrity/public-keys.txt").get_data(as_text=True)

    forged = {**recorded["checkpoint"], "events": recorded["checkpoint"]["events"] + 1}  # what it signed, altered
    assert signature_check(forged, key) == (f"signed with key {key.key_id}: the signature does NOT verify", False)
    assert signature_check({**forged, "signature": None}, key) == ("not signed", None)


def test_an_export_of_a_range_runs_as_a_job_and_the_downloaded_verifier_checks_it(signed, tmp_path):
    book, key, _recorded, app = signed
    client = log_in(app.test_client(), USERS["auditor"])
    token = csrf_token(client, "/auditor/integrity")
    backwards = client.post("/auditor/integrity/exports", data={"export-csrf_token": token, "export-start": "50",
                                                                "export-stop": "10"})  # fmt: skip
    assert backwards.status_code == 400 and "is before from 50" in backwards.get_data(as_text=True)
    zero = client.post("/auditor/integrity/exports", data={"export-csrf_token": token, "export-start": "0"})
    assert zero.status_code == 400

    asked = client.post("/auditor/integrity/exports", data={"export-csrf_token": token, "export-start": "1",
                                                            "export-stop": "50"})  # fmt: skip
    assert asked.status_code == 302
    waiting = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert 'http-equiv="refresh"' in waiting and "until the export ends" in waiting
    assert client.get(asked.headers["Location"] + "/file").status_code == 404  # not ready yet
    ran = Worker(book, beat=0.01).run_once()
    assert ran is not None and ran.kind == "export" and ran.state == "done", ran and ran.error
    done = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Ready: 50 events, positions 1 to 50" in done and f"signed with key {key.key_id}" in done

    export = client.get(asked.headers["Location"] + "/file")
    assert export.status_code == 200 and 'filename=openbook-export-1-50.jsonl' in export.headers["Content-Disposition"]
    verifier = client.get("/auditor/integrity/verify.py")
    assert verifier.status_code == 200 and 'filename="verify.py"' in verifier.headers["Content-Disposition"]
    (tmp_path / "export.jsonl").write_bytes(export.data)
    (tmp_path / "verify.py").write_bytes(verifier.data)
    (tmp_path / "keys.pub").write_bytes(client.get("/auditor/integrity/public-keys.txt").data)
    checked = subprocess.run([sys.executable, "-I", "verify.py", "export.jsonl", "--public-key", "keys.pub"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("OK: 50 events verified, positions 1 to 50")
    listed = client.get("/auditor/integrity").get_data(as_text=True)
    assert "Recent exports" in listed and "export the history, positions 1 to 50" in listed


def test_an_audit_body_reads_the_agreements_it_is_appointed_to_until_the_appointment_ends(client_as, demo_book):
    """The demo appoints partnership-audit to both agreements; its admin's form ends Wirral's, then appoints again."""
    auditor, admin = client_as("auditor"), client_as("admin")
    settlement = "/auditor/settlements/wirral-homecare/2019-20/1"
    assert auditor.get(settlement).status_code == 200
    assert "wirral-homecare" in auditor.get("/auditor/settlements").get_data(as_text=True)
    page = "/admin/agreements/wirral-homecare"
    assert re.search(r"<td>partnership-audit</td>\s*<td[^>]*>2019-04-01</td>", admin.get(page).get_data(as_text=True))

    def part(name: str, effective: str):
        key = re.search(rf'name="{name}-idempotency_key" type="hidden" value="([^"]+)"', admin.get(page).get_data(as_text=True))
        form = {f"{name}-idempotency_key": key.group(1), f"{name}-audit_body": "partnership-audit",
                f"{name}-effective": effective, f"{name}-reason": "audit tendered again"}  # fmt: skip
        return post_form(admin, f"{page}/{name}", form, form_page=page)

    assert part("end-auditor", "2024-04-01").status_code == 302
    with pytest.raises(NotFound):
        access_for(demo_book.records, AUDITOR, "wirral-homecare")
    assert auditor.get(settlement).status_code == 404  # as if it did not exist
    assert "wirral-homecare" not in auditor.get("/auditor/settlements").get_data(as_text=True)
    assert access_for(demo_book.records, AUDITOR, "herefordshire-hlah")  # still appointed there
    refused = part("end-auditor", "2024-05-01")  # no appointment left to end: shown beside the field
    assert refused.status_code == 400 and re.search(
        r'id="end-auditor-audit_body-error-1">partnership-audit is not appointed to audit wirral-homecare',
        refused.get_data(as_text=True),
    )
    assert part("auditor", "2024-04-02").status_code == 302
    assert auditor.get(settlement).status_code == 200
    assert client_as("accountant").post(f"{page}/auditor").status_code == 403  # an admin's page


def test_exports_older_than_their_retention_are_cleared_when_the_next_is_asked_for_never_a_queued_one(signed):
    book, _key, _recorded, app = signed
    exports = Path(app.config["OPENBOOK_INSTANCE"]) / "exports"
    days = app.config["OPENBOOK_EXPORT_RETENTION_DAYS"]
    assert days == 7  # the default setting

    def written(folder: Path, days_ago: float) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "openbook-export.jsonl").write_text("{}\n")
        when = time.time() - days_ago * 86400
        for entry in (folder / "openbook-export.jsonl", folder):
            os.utime(entry, (when, when))
        return folder

    expired, kept = written(exports / ("a" * 32), days + 0.1), written(exports / ("b" * 32), days - 0.1)
    foreign = written(exports / "operator-notes", days + 30)  # not a folder the page made: never touched
    client = log_in(app.test_client(), USERS["auditor"])
    token = csrf_token(client, "/auditor/integrity")

    def ask() -> str:
        asked = client.post("/auditor/integrity/exports", data={"export-csrf_token": token, "export-start": "1",
                                                                "export-stop": "5"})  # fmt: skip
        assert asked.status_code == 302
        return asked.headers["Location"].rsplit("/", 1)[1]

    first = ask()
    assert not expired.exists() and kept.exists() and foreign.exists()
    first_folder = written(Path(book.jobs.store.get(first).arguments["path"]).parent, days + 1)
    second = ask()
    assert first_folder.exists()  # its job is still queued: it will write there
    for _ in range(2):
        assert Worker(book, beat=0.01).run_once().state == "done"
    assert client.get(f"/auditor/integrity/exports/{first}/file").status_code == 200
    written(first_folder, days + 1)
    third = ask()
    assert not first_folder.exists() and Path(book.jobs.store.get(second).arguments["path"]).is_file()
    assert client.get(f"/auditor/integrity/exports/{first}/file").status_code == 404  # cleared: export again
    assert Worker(book, beat=0.01).run_once().id == third  # the queue left empty for the module's other tests
