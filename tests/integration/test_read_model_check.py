"""The read-model check: replay the history into scratch tables and list every live row that differs.

On the demo (both databases; one demo per database, as loading it is the slow
part): untouched, nothing is listed; then a settlement's figure and a cost
return revision's total edited in the database are listed with their key,
column, live and replayed values (a past version in a ``__history`` table,
which only --as-at reads, by its key and ``recorded_from``), and a deleted and a re-keyed row as rows on
one side only. The check writes nothing live, and on PostgreSQL its scratch
schema is gone afterwards. A command recorded while the replay runs is
replayed too before the comparison.
"""

from __future__ import annotations

import json

import pytest

from ledger.audit.read_models import Difference, read_model_differences
from tests.integration.test_event_store import env, record_history


@pytest.mark.demo
def test_an_untouched_demo_lists_nothing_and_each_edited_row_is_listed(book, raw_sql, database):
    seen: list[tuple[str, int, int]] = []

    assert read_model_differences(book, progress=lambda *step: seen.append(step)) == []

    reached = {name: position for name, position, _until in seen}
    assert reached == book.projections.positions()  # every read model replayed as far as the live one
    if not database.is_sqlite:
        assert raw_sql("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, 'openbook_replay_')") == []

    [(agreement, year, sequence, provider_amount)] = raw_sql(
        "SELECT agreement, financial_year, sequence, provider_amount FROM settlements"
    )
    return_id, revision, total = raw_sql(
        "SELECT return_id, revision, total_cost FROM cost_return_revisions ORDER BY return_id, revision"
    )[0]
    [(user, shown)] = raw_sql("SELECT username, display_name FROM users ORDER BY username LIMIT 1")
    # A past version, read only by --as-at (rates show --as-at P): the history is compared too, by its own key.
    [(entry, recorded_from, rate)] = raw_sql(
        "SELECT position, recorded_from, hourly_rate FROM rate_entries__history ORDER BY position LIMIT 1"
    )
    raw_sql(
        "UPDATE rate_entries__history SET hourly_rate = '99.99' WHERE position = ? AND recorded_from = ?",
        (entry, recorded_from),
    )
    raw_sql("UPDATE settlements SET provider_amount = '999999.00'")
    raw_sql(
        "UPDATE cost_return_revisions SET total_cost = '1.00' WHERE return_id = ? AND revision = ?",
        (return_id, revision),
    )
    raw_sql("DELETE FROM users WHERE username = ?", (user,))
    raw_sql("UPDATE organisations SET code = 'forged-care' WHERE code = 'premier-care'")

    found = read_model_differences(book)

    settlement = {"agreement": agreement, "financial_year": year, "sequence": sequence}
    assert Difference("settlements", settlement, "provider_amount", "999999.00", provider_amount) in found
    revised = {"return_id": return_id, "revision": revision}
    assert Difference("cost_return_revisions", revised, "total_cost", "1.00", total) in found
    [gone] = [d for d in found if d.table == "users"]
    assert (gone.key, gone.column, gone.live, gone.replayed["display_name"]) == ({"username": user}, None, None, shown)
    rekeyed = {(d.key["code"], d.live is None, d.replayed is None) for d in found if d.table == "organisations"}
    assert rekeyed == {("forged-care", False, True), ("premier-care", True, False)}
    version = {"position": entry, "recorded_from": recorded_from}
    assert Difference("rate_entries__history", version, "hourly_rate", "99.99", rate) in found
    # The settlement's and the cost return's edits are live-only: their histories still hold the recorded figures.
    assert len(found) == 6
    assert raw_sql("SELECT provider_amount FROM settlements") == [("999999.00",)]  # nothing live was rewritten


def test_a_command_recorded_during_the_replay_is_replayed_too_before_comparing(book):
    """The live read models move on while the replay runs: the check catches the replay up and compares again."""
    record_history(book)
    recorded: list[int] = []
    steps: list[tuple[str, int, int]] = []

    def record_once(name: str, reached: int, until: int) -> None:
        steps.append((name, reached, until))
        if not recorded:
            book.organisations.register_organisation(env("during"), "delta-care", "Delta Care", "provider")
            recorded.append(book.projections.head())

    assert read_model_differences(book, progress=record_once) == []
    assert recorded == [7] and book.projections.positions()["organisations"] == 7
    assert ("organisations", 6, 6) in steps and ("organisations", 7, 7) in steps  # replayed to 6, then on to 7


def test_openbook_verify_read_models_exits_1_and_names_each_edited_row(book, raw_sql, openbook):
    """The command line: 0 with every row matching; after a row is edited by hand, 1 with the row named."""
    record_history(book)
    book.projections.catch_up()

    clean = openbook("verify", "--read-models", "--json")
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout) == {"read_models": "match", "head": 6, "differences": []}

    raw_sql("UPDATE organisations SET name = 'Forged Care' WHERE code = 'gamma-care'")
    edited = openbook("verify", "--read-models")
    assert edited.exit_code == 1
    assert "1 difference from a replay of the history to position 6" in edited.stdout
    assert "organisations (code=gamma-care): name is 'Forged Care', the replay gives 'Gamma Care'" in edited.stdout

    mixed = openbook("verify", "--read-models", "--database")
    assert mixed.exit_code != 0 and "checks the live read models alone" in mixed.stderr
