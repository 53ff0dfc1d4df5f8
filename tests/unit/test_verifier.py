"""``ledger/audit/verify.py`` on small exports built here: the activity rule, signatures, checkpoints, keys.

The verifier must not import openbook, so it restates a few of openbook's
names (the chunk columns, the activity topics); the first tests keep those
equal to the domain's, and its plain form equal to what the ledger's own
transcoder reads back.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.activity.activity_import import ActivityImport
from domain.activity.visits import CORRECTIONS_KIND, FIELDS, VISITS_KIND, encode_chunk
from domain.envelope import Actor, Envelope
from ledger.audit import verify
from ledger.audit.export import canonical
from ledger.persistence.transcoding import stored_transcoder

AGGREGATE = "6d27c759-2332-56ac-9f75-2c832b33f647"


def test_the_verifier_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(verify.__file__).read_text())
    top = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert top - {"__future__", "cryptography"} <= set(__import__("sys").stdlib_module_names)


def test_the_verifier_names_what_the_domain_names() -> None:
    assert verify.VISIT_FIELDS == FIELDS
    assert verify.CHUNK_HEADERS[VISITS_KIND] + "\n" == encode_chunk(VISITS_KIND, [])
    assert verify.CHUNK_HEADERS[CORRECTIONS_KIND] + "\n" == encode_chunk(CORRECTIONS_KIND, [])
    assert (verify.IMPORTED, verify.CORRECTED) == (ActivityImport.Imported.TOPIC, ActivityImport.Corrected.TOPIC)


def test_the_plain_form_is_the_transcoders_values_as_text() -> None:
    envelope = Envelope(Actor("a@b.example", "wirral-council"), date(2019, 4, 1), "why", None)
    stored = stored_transcoder().encode({
        "timestamp": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc), "envelope": envelope,
        "rate": Decimal("1.50"), "id": UUID(AGGREGATE), "rows": [{"on": date(2020, 1, 1)}],
    })
    assert verify.plain_form(stored) == {
        "timestamp": "2026-01-02T03:04:05.000006+00:00",
        "envelope": {"actor": {"user": "a@b.example", "organisation": "wirral-council"},
                     "effective_date": "2019-04-01", "reason": "why", "idempotency_key": None},
        "rate": "1.50", "id": UUID(AGGREGATE).hex, "rows": [{"on": "2020-01-01"}],
    }


# -- a small export, built by the rules -----------------------------------------------------------


class Export:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.previous = "0" * 64
        self.position = 0

    def chunk(self, kind: str, lines: list[str]) -> str:
        text = encode_chunk(kind, lines)
        name = hashlib.sha256(text.encode()).hexdigest()
        self.records.append({"kind": "chunk", "name": name, "text": text})
        return name

    def event(self, topic: str, version: int, payload: dict[str, Any], sign: Ed25519PrivateKey | None = None) -> None:
        self.position += 1
        envelope = {"actor": {"user": "x", "organisation": None}, "effective_date": "2020-01-01", "reason": None,
                    "idempotency_key": None}
        state = {"timestamp": {"_type_": "datetime_iso", "_data_": "2026-01-01T00:00:00+00:00"},
                 "originator_topic": "openbook:activity-import",
                 "envelope": {"_type_": "openbook.envelope", "_data_": envelope}, **payload}
        stored = json.dumps(state, separators=(",", ":")).encode()
        digest = verify.chain_hash(self.previous, self.position, topic, AGGREGATE, version, stored)
        self.previous = digest
        self.records.append({
            "kind": "event", "position": self.position, "topic": topic, "aggregate_id": AGGREGATE, "version": version,
            "recorded_at": "2026-01-01T00:00:00+00:00", "envelope": envelope, "payload": payload,
            "stored": base64.b64encode(stored).decode(), "hash": digest,
            "key_id": _kid(sign) if sign else None,
            "signature": sign.sign(verify.event_message(digest)).hex() if sign else None,
        })

    def checkpoint(self, sign: Ed25519PrivateKey | None = None) -> dict[str, Any]:
        c = {"format": "openbook-checkpoint/1", "position": self.position, "hash": self.previous,
             "recorded_at": "2026-01-01T00:00:01+00:00", "events": self.position,
             "key_id": _kid(sign) if sign else None, "signature": None}
        if sign:
            c["signature"] = sign.sign(verify.checkpoint_message(c)).hex()
        return c

    def write(self, path: Path, sign_checkpoint: Ed25519PrivateKey | None = None) -> Path:
        header = {"kind": "header", "format": "openbook-export/1", "chain": "openbook-chain/1", "from": 1,
                  "to": self.position, "previous": "0" * 64, "events_before": 0,
                  "exported_at": "2026-01-01T00:00:02+00:00"}
        lines = [header, *self.records, {"kind": "checkpoint", **self.checkpoint(sign_checkpoint)}]
        path.write_text("".join(canonical(r) + "\n" for r in lines))
        return path


def _public(key: Ed25519PrivateKey) -> str:
    return "ed25519:" + base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def _kid(key: Ed25519PrivateKey) -> str:
    return verify.key_id(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def _visit(visit_id: str, zone: str, start: str, planned: int, actual: int, provider: str = "p1") -> str:
    return "\t".join([visit_id, provider, "CH41", zone, "standard", "", "C1", "K1", start, str(planned), start,
                      str(actual)]) + "\n"


def test_activity_totals_count_each_visit_as_last_recorded(tmp_path: Path) -> None:
    e = Export()
    first = e.chunk(VISITS_KIND, [_visit("V1", "zone-a", "2020-01-05T09:00", 30, 28),
                                  _visit("V2", "zone-a", "2020-01-06T09:00", 60, 61),
                                  _visit("V3", "zone-a", "2020-02-01T09:00", 45, 45)])
    e.event(verify.IMPORTED, 1, {"agreement": "wirral", "chunks": [first]})
    e.event("openbook:organisation.registered", 1, {"code": "x"})
    fixes = e.chunk(CORRECTIONS_KIND, ["V2\tplanned_minutes\t60\t90\n", "V3\tplanned_start\t2020-02-01T09:00\t"
                                       "2020-03-01T09:00\n"])
    e.event(verify.CORRECTED, 2, {"corrections": [], "chunks": [fixes]})
    e.event(verify.CORRECTED, 3, {"corrections": [["V1", "zone", "zone-a", "zone-b"], ["V1", "actual_minutes",
                                                                                         "28", "31"]], "chunks": []})
    report = verify.verify_file(str(e.write(tmp_path / "x.jsonl")))
    assert report.status == "verified", report.lines()
    assert [(t["zone"], t["month"], t["visits"], t["planned_minutes"], t["actual_minutes"]) for t in report.totals] == [
        ("zone-a", "2020-01", 1, 90, 61), ("zone-a", "2020-03", 1, 45, 45), ("zone-b", "2020-01", 1, 30, 31),
    ]
    assert all(t["agreement"] == "wirral" and t["provider"] == "p1" for t in report.totals)


def test_a_chunk_named_by_no_event_is_an_extra_line(tmp_path: Path) -> None:
    e = Export()
    e.event("openbook:organisation.registered", 1, {"code": "x"})
    e.chunk(VISITS_KIND, [_visit("V1", "zone-a", "2020-01-05T09:00", 30, 28)])
    report = verify.verify_file(str(e.write(tmp_path / "x.jsonl")))
    assert report.status == "broken" and report.failure["reason"] == "extra line"


def test_signed_events_and_checkpoint_with_rotated_keys(tmp_path: Path) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    e = Export()
    e.event("openbook:organisation.registered", 1, {"code": "a"})  # before any key: unsigned, not broken
    e.event("openbook:organisation.registered", 1, {"code": "b"}, sign=old)
    e.event("openbook:organisation.registered", 1, {"code": "c"}, sign=new)  # the key rotated
    path = e.write(tmp_path / "x.jsonl", sign_checkpoint=new)
    keyfile = tmp_path / "keys.pub"
    keyfile.write_text(f"# published keys\n{_public(old)}\n\n{_public(new)}\n")
    report = verify.verify_file(str(path), keys=verify.public_keys([str(keyfile)]))
    assert report.status == "verified", report.lines()
    assert report.signatures == {"unsigned": 1, "signed": 2, "first_signed": 2, "checked": True}
    assert report.checkpoint["signed"] == f"signed by key {_kid(new)}, checked"
    only_old = verify.verify_file(str(path), keys=verify.public_keys([_public(old)]))
    assert (only_old.failure["position"], only_old.failure["reason"]) == (3, "bad signature")
    unchecked = verify.verify_file(str(path))
    assert unchecked.status == "verified" and "NOT checked" in "\n".join(unchecked.lines())

    lines = path.read_text().splitlines()
    checkpoint = json.loads(lines[-1])
    checkpoint["signature"] = "00" * 64  # a checkpoint whose signature does not cover what it says
    (tmp_path / "y.jsonl").write_text("\n".join([*lines[:-1], canonical(checkpoint)]) + "\n")
    report = verify.verify_file(str(tmp_path / "y.jsonl"), keys=verify.public_keys([str(keyfile)]))
    assert (report.failure["position"], report.failure["reason"]) == (3, "bad signature")
    assert report.failure["detail"].startswith("the final checkpoint: the signature does not verify")


def test_since_a_signed_checkpoint(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    e = Export()
    e.event("openbook:organisation.registered", 1, {"code": "a"}, sign=key)
    kept = e.checkpoint(sign=key)
    e.event("openbook:organisation.registered", 1, {"code": "b"}, sign=key)
    path = e.write(tmp_path / "x.jsonl")
    keys = verify.public_keys([_public(key)])
    (tmp_path / "cp.json").write_text(json.dumps(kept))
    report = verify.verify_file(str(path), keys=keys, since=verify.load_checkpoint(str(tmp_path / "cp.json")))
    assert report.status == "verified" and report.since["position"] == 1
    (tmp_path / "bad.json").write_text(json.dumps({**kept, "events": 7}))
    report = verify.verify_file(str(path), keys=keys, since=verify.load_checkpoint(str(tmp_path / "bad.json")))
    assert report.status == "unusable" and "signature does not verify" in report.failure["detail"]
    report = verify.verify_file(str(path), since=verify.load_checkpoint(str(tmp_path / "bad.json")))
    assert (report.failure["position"], report.failure["reason"]) == (1, "checkpoint not extended")


def test_the_command_line_exit_codes(tmp_path: Path, capsys: Any) -> None:
    e = Export()
    e.event("openbook:organisation.registered", 1, {"code": "a"})
    path = e.write(tmp_path / "x.jsonl")
    assert verify.main([str(path)]) == 0
    assert capsys.readouterr().out.startswith("OK: 1 events verified, positions 1 to 1")
    assert verify.main([str(path), "--public-key", "ed25519:AAAA"]) == 2
    assert "32" in capsys.readouterr().out
    assert verify.main([str(tmp_path)]) == 2  # a directory
    capsys.readouterr()
    lines = path.read_text().splitlines()
    (tmp_path / "swap.jsonl").write_text("\n".join([lines[0], lines[1], lines[1], lines[2]]) + "\n")
    assert verify.main([str(tmp_path / "swap.jsonl"), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["failure"]["reason"] == "positions not increasing"


def test_the_verifier_checks_what_openbook_signs() -> None:
    """verify.py restates the signed messages, key ids and key lines (it imports nothing from openbook)."""
    from datetime import datetime, timezone

    from ledger.audit import signing

    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert verify.key_id(raw) == signing.key_id(public)
    assert verify.parse_public_key(signing.public_key_line(public)) == raw
    assert verify.event_message("ab" * 32) == signing.event_message("ab" * 32)
    key = signing.SigningKey.of(private)
    checkpoint = signing.make_checkpoint(7, "cd" * 32, 7, datetime(2026, 11, 30, 9, 41, tzinfo=timezone.utc), key)
    assert verify.checkpoint_message(checkpoint) == signing.checkpoint_message(checkpoint)
    public.verify(bytes.fromhex(checkpoint["signature"]), verify.checkpoint_message(checkpoint))  # raises if not


# -- every line exactly canonical; malformed input broken (or unusable), never a crash --------------------------------


def _lines(e: Export, tmp_path: Path) -> list[str]:
    return e.write(tmp_path / "x.jsonl").read_text().splitlines()


def _rewritten(tmp_path: Path, lines: list[str], index: int, text: str) -> verify.Report:
    path = tmp_path / "changed.jsonl"
    path.write_text("\n".join([*lines[:index], text, *lines[index + 1:]]) + "\n")
    return verify.verify_file(str(path))


def _failure(report: verify.Report) -> tuple[Any, Any]:
    assert report.status == "broken", report.lines()
    return report.failure["position"], report.failure["reason"]


def test_an_event_line_must_be_exactly_its_canonical_serialisation(tmp_path: Path) -> None:
    e = Export()
    e.event("openbook:organisation.registered", 1, {"code": "a", "class_version": 2})
    e.event("openbook:organisation.registered", 1, {"code": "b"})
    lines = _lines(e, tmp_path)
    assert verify.verify_file(str(tmp_path / "x.jsonl")).status == "verified"
    first = json.loads(lines[1])
    # 2.0 == 2 in Python, but not the stored bytes' JSON: the line is canonical, its payload is not the stored one
    as_float = lines[1].replace('"class_version":2', '"class_version":2.0')
    assert as_float != lines[1] and _failure(_rewritten(tmp_path, lines, 1, as_float)) == (
        1, "payload not matching stored bytes")
    noted = canonical({**first, "note": "added"})
    assert _failure(_rewritten(tmp_path, lines, 1, noted)) == (1, "malformed line")
    report = _rewritten(tmp_path, lines, 1, lines[1][:-1] + ',"topic":"openbook:organisation.registered"}')
    assert _failure(report) == (1, "line not canonical") and "appears twice" in report.failure["detail"]
    spaced = json.dumps(first, sort_keys=True)  # ", " and ": " separators
    assert _failure(_rewritten(tmp_path, lines, 1, spaced)) == (1, "line not canonical")
    unsorted = json.dumps(dict(reversed(first.items())), separators=(",", ":"))
    assert _failure(_rewritten(tmp_path, lines, 1, unsorted)) == (1, "line not canonical")
    as_true = canonical({**json.loads(lines[2]), "version": True})  # true is not the version 1
    assert _failure(_rewritten(tmp_path, lines, 2, as_true)) == (2, "malformed line")
    chunk_spaced = lines[-1].replace(",", ", ", 1)  # the final checkpoint, re-spaced
    assert _failure(_rewritten(tmp_path, lines, len(lines) - 1, chunk_spaced)) == (2, "line not canonical")


def test_a_malformed_header_is_unusable_not_a_crash(tmp_path: Path) -> None:
    e = Export()
    e.event("openbook:organisation.registered", 1, {"code": "a"})
    lines = _lines(e, tmp_path)
    header = json.loads(lines[0])
    for change in ({"from": "1"}, {"events_before": True}, {"to": -1}, {"from": 0}, {"note": "x"}):
        report = _rewritten(tmp_path, lines, 0, canonical({**header, **change}))
        assert report.status == "unusable" and report.exit_code == 2, (change, report.lines())
        assert report.failure["detail"].startswith("header:"), report.failure


def test_malformed_activity_payloads_are_broken_at_their_position(tmp_path: Path) -> None:
    e = Export()
    chunk = e.chunk(VISITS_KIND, [_visit("V1", "zone-a", "2020-01-05T09:00", 30, 28)])
    e.event(verify.IMPORTED, 1, {"agreement": "wirral", "chunks": [chunk]})
    e.event(verify.CORRECTED, 2, {"corrections": [["V1", "zone", "zone-a"]], "chunks": []})  # 3 fields, not 4
    assert _failure(verify.verify_file(str(e.write(tmp_path / "x.jsonl")))) == (2, "malformed line")
    for payload in ({"corrections": [["V1", "actual_minutes", "28", "thirty"]], "chunks": []},
                    {"corrections": "V1", "chunks": []}, {"corrections": [], "chunks": 7}):
        e = Export()
        chunk = e.chunk(VISITS_KIND, [_visit("V1", "zone-a", "2020-01-05T09:00", 30, 28)])
        e.event(verify.IMPORTED, 1, {"agreement": "wirral", "chunks": [chunk]})
        e.event(verify.CORRECTED, 2, payload)
        assert _failure(verify.verify_file(str(e.write(tmp_path / "x.jsonl")))) == (2, "malformed line"), payload


def test_since_the_checkpoint_of_the_empty_history(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    e = Export()
    empty = e.checkpoint(sign=key)
    assert (empty["position"], empty["events"], empty["hash"]) == (0, 0, "0" * 64)
    e.event("openbook:organisation.registered", 1, {"code": "a"}, sign=key)
    e.event("openbook:organisation.registered", 1, {"code": "b"}, sign=key)
    (tmp_path / "empty.json").write_text(json.dumps(empty))
    since, keys = verify.load_checkpoint(str(tmp_path / "empty.json")), verify.public_keys([_public(key)])
    report = verify.verify_file(str(e.write(tmp_path / "x.jsonl")), keys=keys, since=since)
    assert report.status == "verified", report.lines()
    assert report.since == {"position": 0, "events": 0, "hash": "0" * 64}
    lines = _lines(e, tmp_path)
    stripped = canonical({**json.loads(lines[1]), "key_id": None, "signature": None})
    path = tmp_path / "stripped.jsonl"
    path.write_text("\n".join([lines[0], stripped, *lines[2:]]) + "\n")
    # signed from the empty history on: the first event's signature removed is caught, not reported "unsigned"
    assert _failure(verify.verify_file(str(path), keys=keys, since=since)) == (1, "bad signature")
    assert verify.verify_file(str(path), keys=keys).status == "verified"  # without the held checkpoint it cannot tell


def test_a_signed_since_checkpoint_requires_every_later_event_signed(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    e = Export()
    e.event("openbook:organisation.registered", 1, {"code": "a"})
    held = e.checkpoint(sign=key)
    e.event("openbook:organisation.registered", 1, {"code": "b"})  # its signature stripped by whoever rewrote it
    (tmp_path / "held.json").write_text(json.dumps(held))
    path = e.write(tmp_path / "x.jsonl")
    keys = verify.public_keys([_public(key)])
    assert verify.verify_file(str(path), keys=keys).status == "verified"
    report = verify.verify_file(str(path), keys=keys, since=verify.load_checkpoint(str(tmp_path / "held.json")))
    assert _failure(report) == (2, "bad signature")
    assert "the --since checkpoint (position 1) is signed" in report.failure["detail"]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 300) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=8,
)


def _fuzz_export(tmp_path: Path) -> list[str]:
    e = Export()
    visits = e.chunk(VISITS_KIND, [_visit("V1", "zone-a", "2020-01-05T09:00", 30, 28)])
    e.event(verify.IMPORTED, 1, {"agreement": "wirral", "chunks": [visits]})
    fixes = e.chunk(CORRECTIONS_KIND, ["V1\tplanned_minutes\t30\t45\n"])
    e.event(verify.CORRECTED, 2, {"corrections": [["V1", "zone", "zone-a", "zone-b"]], "chunks": [fixes]})
    e.event("openbook:checkpoint.recorded", 1, e.checkpoint())
    return _lines(e, tmp_path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_mutated_line_makes_the_verifier_raise(tmp_path: Path, data: st.DataObject) -> None:
    """Whatever one line is changed to, verify_file reports verified, broken or unusable: it never raises."""
    lines = _fuzz_export(tmp_path)
    index = data.draw(st.integers(0, len(lines) - 1))
    record = json.loads(lines[index])
    how = data.draw(st.sampled_from(["set", "drop", "text"]))
    if how == "set":
        record[data.draw(st.sampled_from([*record, "note"]))] = data.draw(_JSON)
        text = canonical(record)
    elif how == "drop":
        record.pop(data.draw(st.sampled_from(sorted(record))))
        text = canonical(record)
    else:
        at = data.draw(st.integers(0, len(lines[index])))
        text = lines[index][:at] + data.draw(st.text(max_size=3)) + lines[index][at + 1:]
    path = tmp_path / "mutated.jsonl"
    path.write_text("\n".join([*lines[:index], text, *lines[index + 1:]]) + "\n", encoding="utf-8")
    report = verify.verify_file(str(path))
    assert report.status in ("verified", "broken", "unusable")
    if text != lines[index] and json.loads(lines[index])["kind"] == "event":  # every byte of an event line counts
        assert report.status != "verified", text


def _ordinary_export(tmp_path: Path, key: Ed25519PrivateKey) -> tuple[list[str], dict[str, Any]]:
    """Events the file check takes without parsing their lines (unsigned, then signed; an escaped non-ASCII reason),
    around a recorded checkpoint it leaves to the general path; and a checkpoint held at position 2."""
    e = Export()
    e.event("openbook:organisation.registered", 1, {"code": "a", "reason": "£14.01 an hour", "rate": "14.01"})
    e.event("openbook:organisation.registered", 2, {"code": "b", "band": None, "minutes": [30, 45]})
    held = e.checkpoint()
    e.event("openbook:organisation.registered", 3, {"code": "c"}, sign=key)
    e.event("openbook:checkpoint.recorded", 1, e.checkpoint(sign=key), sign=key)
    e.event("openbook:organisation.registered", 4, {"code": "d"}, sign=key)
    return _lines(e, tmp_path), held


def test_the_file_check_takes_ordinary_event_lines_without_parsing_them(tmp_path: Path, monkeypatch: Any) -> None:
    """Only the header, the recorded checkpoint's event and the final checkpoint take the general path."""
    key = Ed25519PrivateKey.generate()
    lines, _held = _ordinary_export(tmp_path, key)
    general: list[str] = []
    text_line = verify.Verifier.text_line
    monkeypatch.setattr(verify.Verifier, "text_line", lambda self, text: (general.append(text), text_line(self, text)))
    report = verify.verify_file(str(tmp_path / "x.jsonl"), keys=verify.public_keys([_public(key)]))
    assert (report.status, report.events, report.first, report.signatures) == (
        "verified", 5, 1, {"unsigned": 2, "signed": 3, "first_signed": 3, "checked": True})
    assert general == [lines[0], lines[4], lines[-1]]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_file_check_reports_what_the_general_path_reports(tmp_path: Path, data: st.DataObject) -> None:
    """Whatever one line of an export is changed to, ``verify_file`` (which builds an ordinary event's canonical line
    from its stored bytes and compares, instead of parsing the line) reports exactly what the general path, parsing
    every line, reports on the same lines: the same status, failure, counts and head."""
    key = Ed25519PrivateKey.generate()
    lines, held = _ordinary_export(tmp_path, key)
    index = data.draw(st.integers(0, len(lines) - 1))
    record = json.loads(lines[index])
    how = data.draw(st.sampled_from(["set", "drop", "text", "same"]))
    if how == "set":
        record[data.draw(st.sampled_from([*record, "note"]))] = data.draw(_JSON | st.integers())
        text = canonical(record)
    elif how == "drop":
        record.pop(data.draw(st.sampled_from(sorted(record))))
        text = canonical(record)
    elif how == "text":
        at = data.draw(st.integers(0, len(lines[index])))
        text = lines[index][:at] + data.draw(st.text(max_size=3)) + lines[index][at + 1:]
    else:
        text = lines[index]
    content = "\n".join([*lines[:index], text, *lines[index + 1:]]) + "\n"
    path = tmp_path / "mutated.jsonl"
    path.write_text(content, encoding="utf-8")
    options = data.draw(st.sampled_from([{}, {"keys": verify.public_keys([_public(key)])}, {"since": held}]))
    assert verify.verify_file(str(path), **options).as_json() == verify.verify_records(
        content.split("\n")[:-1], **options).as_json()
