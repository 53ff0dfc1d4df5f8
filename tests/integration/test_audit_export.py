"""``openbook export`` and ``openbook verify`` on the demo: the format of docs/audit.md, and the copied verifier.

The export is checked against the store itself (raw SQL, not the ledger), and
``ledger/audit/verify.py`` is run as an auditor would: copied on its own into
an empty directory and run by the system's ``/usr/bin/python3 -I`` (no
virtualenv, no openbook). Its activity totals are compared with openbook's own
recomputation from the history (``ledger.audit.activity_totals``).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from ledger.audit import verify
from ledger.audit.activity_totals import recompute_totals_from_history
from ledger.audit.export import canonical
from ledger.bootstrap import open_openbook
from tests.integration.audit_setup import DemoSource, as_dba, demo_source, run, sql
from tests.support import DEMO_EVENTS

SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    yield from demo_source(request, tmp_path_factory)


@pytest.fixture(scope="module")
def exported(source: DemoSource, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole demo, exported once per database."""
    path = tmp_path_factory.mktemp("export") / "demo.jsonl"
    result = run(source_db(source), "export", "--out", str(path))
    assert result.exit_code == 0, result.stderr or result.output
    assert "exporting events" in result.stderr  # the progress bar
    assert result.stdout.startswith(f"exported {DEMO_EVENTS} events (positions 1 to {DEMO_EVENTS}) and 3 activity chunks to ")
    return path


def source_db(source: DemoSource) -> Any:
    from ledger.persistence.database import Database

    return Database.from_url(source.url)


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_export_is_canonical_json_lines_of_what_the_store_holds(source: DemoSource, exported: Path) -> None:
    db = source_db(source)
    text = exported.read_bytes()
    assert text.isascii() and text.endswith(b"\n")
    records = _records(exported)
    for line, record in zip(text.decode().splitlines(), records, strict=True):
        assert line == canonical(record)
    header, *body, checkpoint = records
    assert header == {
        "kind": "header", "format": "openbook-export/1", "chain": "openbook-chain/1", "from": 1, "to": DEMO_EVENTS,
        "previous": "0" * 64, "events_before": 0, "exported_at": header["exported_at"],
    }
    stored = {
        position: (topic, version, bytes(state), digest)
        for position, topic, version, state, digest in sql(
            db, "SELECT e.notification_id, e.topic, e.originator_version, e.state, h.hash FROM stored_events e "
            "JOIN event_hashes h ON h.notification_id = e.notification_id"
        )
    }
    events = [r for r in body if r["kind"] == "event"]
    assert [e["position"] for e in events] == sorted(stored) == list(range(1, DEMO_EVENTS + 1))
    for e in events:
        topic, version, state, digest = stored[e["position"]]
        assert (e["topic"], e["version"], base64.b64decode(e["stored"]), e["hash"]) == (topic, version, state, digest)
        assert (e["key_id"], e["signature"]) == (None, None)  # no signing key in the demo
    assert checkpoint == {
        "kind": "checkpoint", "format": "openbook-checkpoint/1", "position": DEMO_EVENTS, "hash": stored[DEMO_EVENTS][3],
        "recorded_at": checkpoint["recorded_at"], "events": DEMO_EVENTS, "key_id": None, "signature": None,
    }


def test_readable_fields_are_the_plain_form_of_the_stored_bytes(exported: Path) -> None:
    first = next(r for r in _records(exported) if r.get("topic") == "openbook:organisation.registered")
    assert first["envelope"] == {
        "actor": {"user": "system", "organisation": None}, "effective_date": "2019-04-01",
        "reason": "demo data", "idempotency_key": "demo:organisation:wirral-council",
    }
    assert first["payload"] == {"code": "wirral-council", "name": "Wirral Council", "kind": "council", "member_of": None}
    stamp = json.loads(base64.b64decode(first["stored"]))["timestamp"]
    assert stamp["_type_"] == "datetime_iso" and first["recorded_at"] == stamp["_data_"]
    imported = next(r for r in _records(exported) if r.get("topic") == "openbook:activity-import.imported")
    assert imported["payload"]["totals"][0]["hours"] == "511.40"  # a Decimal, exact text
    assert imported["payload"]["first_date"] == "2017-07-01"


def test_each_chunk_comes_once_before_the_first_event_that_names_it(exported: Path) -> None:
    seen: list[str] = []
    for record in _records(exported):
        if record["kind"] == "chunk":
            assert record["name"] not in seen
            assert verify.decode_chunk(record["text"])[0] == "visits"
            seen.append(record["name"])
        elif record.get("topic") == "openbook:activity-import.imported":
            assert set(record["payload"]["chunks"]) <= set(seen)
    assert len(seen) == 3


def test_the_copied_verifier_checks_the_export_with_the_system_python_alone(exported: Path, tmp_path: Path) -> None:
    alone = tmp_path / "auditor"
    alone.mkdir()
    shutil.copy(verify.__file__, alone / "verify.py")
    done = subprocess.run(
        [SYSTEM_PYTHON, "-I", "verify.py", str(exported), "--json"], cwd=alone, capture_output=True, text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "verified" and report["events"] == DEMO_EVENTS and report["head"]["position"] == DEMO_EVENTS
    assert report["signatures"] == {"unsigned": DEMO_EVENTS, "signed": 0, "first_signed": None, "checked": False}
    text = subprocess.run([SYSTEM_PYTHON, "-I", "verify.py", str(exported)], cwd=alone, capture_output=True, text=True)
    assert text.returncode == 0 and text.stdout.startswith(f"OK: {DEMO_EVENTS} events verified, positions 1 to {DEMO_EVENTS}, head ")
    broken = tmp_path / "broken.jsonl"
    lines = exported.read_text().splitlines()
    broken.write_text("\n".join(lines[:10] + lines[11:]) + "\n")  # an event line dropped from the file
    done = subprocess.run([SYSTEM_PYTHON, "-I", "verify.py", str(broken)], cwd=alone, capture_output=True, text=True)
    position = json.loads(lines[11])["position"]
    assert done.returncode == 1 and done.stdout.startswith(f"BROKEN at position {position} (line 11): hash mismatch")


def test_the_verifier_recomputes_the_activity_totals_openbook_shows(source: DemoSource, exported: Path) -> None:
    report = verify.verify_file(str(exported))
    by_month = report.totals
    assert len(by_month) > 20 and {row["month"] for row in by_month} >= {"2017-07", "2019-04", "2020-03"}
    summed: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in by_month:
        key = (row["agreement"], row["provider"], row["zone"], row["service"])
        for i, name in enumerate(("visits", "planned_minutes", "actual_minutes")):
            summed[key][i] += row[name]
    book = open_openbook(source_db(source))
    try:
        expected = recompute_totals_from_history(book)
    finally:
        book.close()
    assert {k: tuple(v) for k, v in summed.items()} == {
        k: (t.visits, t.planned_minutes, t.actual_minutes) for k, t in expected.items()
    }
    assert sum(v[0] for v in summed.values()) == 15600


def test_a_partial_export_chains_from_the_hash_before_it(source: DemoSource, tmp_path: Path) -> None:
    db = source_db(source)
    path = tmp_path / "part.jsonl"
    result = run(db, "export", "--out", str(path), "--from", "100", "--to", "150")
    assert result.exit_code == 0, result.stderr
    header, *_, checkpoint = _records(path)
    [(before,)] = sql(db, "SELECT hash FROM event_hashes WHERE notification_id = 99")
    [(at_150,)] = sql(db, "SELECT hash FROM event_hashes WHERE notification_id = 150")
    assert (header["from"], header["to"], header["previous"], header["events_before"]) == (100, 150, before, 99)
    assert (checkpoint["position"], checkpoint["hash"], checkpoint["events"]) == (150, at_150, 150)
    report = verify.verify_file(str(path))
    assert report.status == "verified" and report.events == 51 and report.first == 100
    assert any("partial export" in note for note in report.notes)
    beyond = tmp_path / "beyond.jsonl"  # nothing recorded after the head yet: an empty range still checks
    assert run(db, "export", "--out", str(beyond), "--from", str(DEMO_EVENTS + 1)).exit_code == 0
    header, checkpoint = _records(beyond)
    [(head,)] = sql(db, "SELECT hash FROM event_hashes WHERE notification_id = ?", (DEMO_EVENTS,))
    assert (header["previous"], checkpoint["position"], checkpoint["hash"], checkpoint["events"]) == (head, DEMO_EVENTS, head, DEMO_EVENTS)
    assert verify.verify_file(str(beyond)).status == "verified"


def test_only_auditors_and_the_operator_may_export(source: DemoSource, tmp_path: Path) -> None:
    db = source_db(source)
    refused = run(db, "--as", "accountant@wirral.example", "export", "--out", str(tmp_path / "x.jsonl"))
    assert refused.exit_code == 1 and "reading the event history: only an auditor" in refused.stderr
    assert not (tmp_path / "x.jsonl").exists()
    allowed = run(db, "--as", "auditor@audit.example", "export", "--out", str(tmp_path / "y.jsonl"))
    assert allowed.exit_code == 0, allowed.stderr
    refused = run(db, "--as", "accountant@wirral.example", "verify", "--database")
    assert refused.exit_code == 1 and "only an auditor" in refused.stderr


def test_verify_exit_codes_and_unusable_input(exported: Path, tmp_path: Path, source: DemoSource) -> None:
    db = source_db(source)
    assert run(db, "verify", str(exported)).exit_code == 0
    assert run(db, "verify", str(tmp_path / "absent.jsonl")).stdout.startswith("UNUSABLE: ")
    assert run(db, "verify", str(tmp_path / "absent.jsonl")).exit_code == 2
    lines = exported.read_text().splitlines()
    header = json.loads(lines[0])
    (tmp_path / "v2.jsonl").write_text("\n".join([canonical({**header, "format": "openbook-export/2"}), *lines[1:]]))
    wrong = run(db, "verify", str(tmp_path / "v2.jsonl"))
    assert wrong.exit_code == 2 and "export format 'openbook-export/2'" in wrong.stdout
    (tmp_path / "text.jsonl").write_text("not json\n")
    assert run(db, "verify", str(tmp_path / "text.jsonl")).exit_code == 2
    (tmp_path / "cut.jsonl").write_text("\n".join(lines[:-1]) + "\n")  # the final checkpoint lost
    cut = run(db, "verify", str(tmp_path / "cut.jsonl"))
    assert cut.exit_code == 1 and "without its final checkpoint" in cut.stdout
    (tmp_path / "extra.jsonl").write_text("\n".join([*lines, lines[5]]) + "\n")
    extra = run(db, "verify", str(tmp_path / "extra.jsonl"), "--json")
    assert extra.exit_code == 1 and json.loads(extra.stdout)["failure"]["reason"] == "extra line"
    edited = json.loads(lines[3])  # the line's payload no longer what was hashed
    edited["envelope"]["reason"] = "something else"
    (tmp_path / "edited.jsonl").write_text("\n".join([*lines[:3], canonical(edited), *lines[4:]]) + "\n")
    report = json.loads(run(db, "verify", str(tmp_path / "edited.jsonl"), "--json").stdout)
    assert report["failure"]["position"] == edited["position"]
    assert report["failure"]["reason"] == "payload not matching stored bytes"
    assert run(db, "verify").exit_code == 1  # neither a file nor --database
    nowhere = run(db, "export", "--out", str(tmp_path / "absent" / "x.jsonl"))
    assert nowhere.exit_code == 1 and "cannot write there" in nowhere.stderr


def test_the_export_carries_the_event_signatures_the_store_holds(source: DemoSource, tmp_path: Path) -> None:
    """Signatures are read from ``openbook_event_signatures`` (docs/audit.md: position, key id, signature)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    db = source.copy(tmp_path)
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    kid, public = verify.key_id(raw), "ed25519:" + base64.b64encode(raw).decode()
    sql(db, "CREATE TABLE IF NOT EXISTS openbook_event_signatures "
        "(position BIGINT PRIMARY KEY, key_id TEXT NOT NULL, signature TEXT NOT NULL)")
    for position, digest in sql(db, "SELECT notification_id, hash FROM event_hashes WHERE notification_id > 200"):
        sql(db, "INSERT INTO openbook_event_signatures VALUES (?, ?, ?)",
            (position, kid, key.sign(verify.event_message(digest)).hex()))
    path = tmp_path / "signed.jsonl"
    assert run(db, "export", "--out", str(path)).exit_code == 0
    events = [r for r in _records(path) if r["kind"] == "event"]
    assert [e["key_id"] is not None for e in events] == [e["position"] > 200 for e in events]
    checked = run(db, "verify", str(path), "--public-key", public)
    assert checked.exit_code == 0, checked.stdout
    assert f"{DEMO_EVENTS} events verified" in checked.stdout
    assert f"200 unsigned events before the first signed one (position 201), then {DEMO_EVENTS - 200} signed, checked" in checked.stdout
    live = run(db, "verify", "--database", "--public-key", public, "--json")
    assert live.exit_code == 0 and json.loads(live.stdout)["signatures"]["signed"] == DEMO_EVENTS - 200
    as_dba(db, [("DELETE FROM openbook_event_signatures WHERE position = ?", [215])])  # a signature lost: 215 broken
    live = run(db, "verify", "--database", "--public-key", public, "--json")
    assert live.exit_code == 1
    assert (json.loads(live.stdout)["failure"]["position"], json.loads(live.stdout)["failure"]["reason"]) == (
        215, "bad signature")


def test_the_copied_verifier_checks_signatures_with_the_systems_cryptography(exported: Path, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    kid = verify.key_id(raw)
    (tmp_path / "keys.pub").write_text("# openbook signing keys\ned25519:" + base64.b64encode(raw).decode() + "\n")
    lines = []
    for record in _records(exported):  # signed from position 101 on, and the checkpoint, as the application would
        if record["kind"] == "event" and record["position"] > 100:
            record.update(key_id=kid, signature=key.sign(verify.event_message(record["hash"])).hex())
        elif record["kind"] == "checkpoint":
            record["key_id"] = kid
            record["signature"] = key.sign(verify.checkpoint_message(record)).hex()
        lines.append(canonical(record))
    signed = tmp_path / "signed.jsonl"
    signed.write_text("\n".join(lines) + "\n")
    shutil.copy(verify.__file__, tmp_path / "verify.py")
    done = subprocess.run([SYSTEM_PYTHON, "-I", "verify.py", str(signed), "--public-key", "keys.pub"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"100 unsigned events before the first signed one (position 101), then {DEMO_EVENTS - 100} signed, checked" in done.stdout
    assert f"checkpoint: position {DEMO_EVENTS}, {DEMO_EVENTS} events, signed by key {kid}, checked" in done.stdout
    record = json.loads(lines[150])
    record["signature"] = record["signature"][:-2] + ("00" if record["signature"][-2:] != "00" else "11")
    (tmp_path / "bad.jsonl").write_text("\n".join([*lines[:150], canonical(record), *lines[151:]]) + "\n")
    done = subprocess.run([SYSTEM_PYTHON, "-I", "verify.py", "bad.jsonl", "--public-key", "keys.pub"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stdout.startswith(f"BROKEN at position {record['position']} (line 151): bad signature")


def test_with_the_signing_key_the_export_is_signed_and_extends_a_recorded_checkpoint(
    source: DemoSource, tmp_path: Path
) -> None:
    """The demo was recorded without a key; from the key's first use on every event is signed, and the export's
    final checkpoint too: the verifier checks them with the published key file."""
    db = source.copy(tmp_path)
    key = tmp_path / "signing.pem"
    assert run(db, "keys", "generate", "--out", str(key)).exit_code == 0
    kept = tmp_path / "checkpoint.json"
    recorded = run(db, "checkpoint", "--out", str(kept), signing_key=key)
    assert recorded.exit_code == 0, recorded.stderr
    assert json.loads(kept.read_text())["position"] == DEMO_EVENTS  # the head before the checkpoint's own event
    path = tmp_path / "signed.jsonl"
    assert run(db, "export", "--out", str(path), signing_key=key).exit_code == 0
    *_, last_event, checkpoint = _records(path)
    assert last_event["topic"] == "openbook:checkpoint.recorded" and last_event["signature"] is not None
    assert checkpoint["position"] == DEMO_EVENTS + 1 and checkpoint["signature"] is not None
    done = run(db, "verify", str(path), "--public-key", f"{key}.pub", "--since", str(kept), "--json")
    assert done.exit_code == 0, done.stdout
    report = json.loads(done.stdout)
    assert report["signatures"] == {"unsigned": DEMO_EVENTS, "signed": 1, "first_signed": DEMO_EVENTS + 1, "checked": True}
    assert report["checkpoint"]["signed"] == f"signed by key {checkpoint['key_id']}, checked"
    assert report["since"]["position"] == DEMO_EVENTS


def test_export_never_overwrites_an_existing_file_unless_forced(source: DemoSource, tmp_path: Path) -> None:
    db = source.copy(tmp_path)
    path = tmp_path / "evidence.jsonl"
    path.write_text("kept\n")
    refused = run(db, "export", "--out", str(path))
    assert refused.exit_code != 0 and "already exists" in refused.output + (refused.stderr or "")
    assert path.read_text() == "kept\n"
    forced = run(db, "export", "--out", str(path), "--force")
    assert forced.exit_code == 0, forced.output
    assert verify.verify_file(str(path)).events == DEMO_EVENTS
