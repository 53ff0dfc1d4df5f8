"""Bad files at every command that reads one: each refused with its kind, naming the file and the line or row, and
nothing recorded (the history's head is where it was). A UTF-8 byte-order mark is not bad: Excel's "CSV UTF-8"
writes one, and such a file is read as if it had none.

The entry points are ``openbook activity import``, ``openbook returns import`` (and ``amend``, the same reader)
and ``openbook kpis import``; the web's and the API's uploads reach the same readers (tests/web/test_bad_input.py).
Each gets every bad file of ``BAD`` (tests/bad_files.py), made from a good file of its own: a never-closed quote, a
row wider than its header, a workbook that is not one and one cut short, latin-1 text (refused:
``ledger/files/csv_text.py`` says why), UTF-16 with and without its BOM, an empty file, a header alone, and a file
over the entry point's stated limit.
The matrix runs on SQLite on one demo copy (refusals record nothing, so they can share it); the BOM case records,
and the activity import's runs on both databases.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from demo.partnerships import WIRRAL
from ledger.bootstrap import Openbook, open_openbook
from ledger.persistence.database import Database
from tests.bad_files import ACCENTED, BAD, ENTRIES, Entry, bad_file
from tests.support import demo_copy, ok_json


@pytest.fixture(scope="module")
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One demo copy on SQLite for every refusal (none records anything), and a ledger open on it to read its head."""
    database = demo_copy(request, "sqlite", tmp_path_factory.mktemp("bad-input"))
    book = open_openbook(database, create_tables=False)
    _opened[database.url.render_as_string(False)] = book
    yield database.url.render_as_string(False)
    book.close()


_opened: dict[str, Openbook] = {}


def _run(url: str, entry: Entry, path: Path):
    args = ["--database", url, "--as", entry.user, *entry.command, str(path), *entry.args, "--json"]
    return CliRunner().invoke(cli, args, env={"OPENBOOK_USER": None, **dict(entry.env)})


def _head(url: str) -> int:
    """The history's head: the position of the last event recorded."""
    if url in _opened:
        return _opened[url].projections.head()
    book = open_openbook(Database.from_url(url), create_tables=False)
    try:
        return book.projections.head()
    finally:
        book.close()


@pytest.mark.parametrize("case", BAD)
@pytest.mark.parametrize("entry_name", ENTRIES)
def test_a_bad_file_is_refused_naming_it_and_where_and_records_nothing(demo_url, tmp_path, entry_name, case):
    entry = ENTRIES[entry_name]
    name, content = bad_file(case, entry)
    path = tmp_path / name
    path.write_bytes(content)
    head = _head(demo_url)

    result = _run(demo_url, entry, path)

    assert result.exit_code == 1 and result.stdout == "", result.output
    error = json.loads(result.stderr)["error"]
    assert error["kind"] == "invalid-input", error
    said = " | ".join(error["problems"])
    expected = BAD[case].format(too_wide=entry.too_wide)
    assert re.search(rf"(^|\| ){re.escape(name)}:.*{expected}", said), said
    assert len(said) < 2_000  # one clear refusal, never the file read back as one enormous cell
    assert _head(demo_url) == head


def _accepted_with_a_bom(url: str, entry_name: str, tmp_path: Path) -> None:
    entry = ENTRIES[entry_name]
    path = tmp_path / "excel-utf8.csv"
    path.write_bytes(entry.good().encode("utf-8-sig"))
    head = _head(url)

    recorded = ok_json(_run(url, entry, path))

    assert _head(url) > head, recorded
    show = {"returns import": ("returns", "show", "--agreement", WIRRAL, "--provider", "premier-care", "--period",
                               "2020-21-Q2"),
            "kpis import": ("kpis", "history", "--agreement", WIRRAL, "--provider", "premier-care", "--period",
                            "2020-21-Q1")}.get(entry_name)  # fmt: skip
    if show is not None:
        shown = CliRunner().invoke(cli, ["--database", url, "--as", entry.user, *show, "--json"],
                                   env={"OPENBOOK_USER": None})  # fmt: skip
        assert ACCENTED in json.dumps(json.loads(shown.stdout), ensure_ascii=False), shown.stdout
    else:
        assert recorded["visits"] == 2, recorded


@pytest.mark.parametrize("entry_name", ENTRIES)
def test_a_utf8_file_with_a_byte_order_mark_is_read_as_without_one(demo_url, tmp_path, entry_name):
    """Excel's "CSV UTF-8" starts with a BOM: accepted, and the accented text after it read as written (each
    records, after the refusals above, which only compare the head before and after themselves)."""
    _accepted_with_a_bom(demo_url, entry_name, tmp_path)


def test_a_streamed_activity_file_with_a_byte_order_mark_is_imported_on_each_database(database_url, tmp_path):
    """The activity file is streamed from disk and recorded in bounded transactions: once on PostgreSQL too (the
    readers of the other files are the same on both)."""
    _accepted_with_a_bom(database_url, "activity import", tmp_path)


pytestmark = [pytest.mark.demo]
