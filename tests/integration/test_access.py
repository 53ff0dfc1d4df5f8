"""Who may read what, through the command line, on the demo: an organisation sees nothing of an agreement it has
no part in, and a provider nothing of another provider's.

Every reading command that shows a provider's figures asks ``access_for``
once. A council that does not commission the agreement, or a provider with
no award under it (nor an alliance holding one), gets "not found" — as if
the agreement's figures did not exist — never an anonymised or partial view
that would still reveal the pool, the priced activity or the market.
"""

from __future__ import annotations

import json

import pytest

from tests.support import ok_json

WIRRAL = ["--agreement", "wirral-homecare"]
HEREFORDSHIRE = ["--agreement", "herefordshire-hlah"]

#: Reading commands that show figures under an agreement: (command words, their options), the agreement added.
pytestmark = pytest.mark.demo  # every test reads the demo

READS = [
    (("returns", "list"), ()),
    (("market",), ("--period", "2019-20-Q1")),
    (("activity", "totals"), ()),
    (("kpis", "dashboard"), ()),
    (("pool", "show"), ("--year", "2019-20")),
    (("payments", "list"), ("--year", "2019-20")),
    (("settle", "show"), ("--year", "2019-20")),
    (("settle", "list"), ()),
    (("incentives", "show"), ("--year", "2017-18")),
]


def _kind(result) -> str:
    assert result.exit_code == 1 and result.stdout == "", result.stdout
    return json.loads(result.stderr)["error"]["kind"]


@pytest.mark.parametrize(
    ("user", "agreement"),
    [
        ("accountant@herefordshire.example", WIRRAL),  # a council that does not commission Wirral
        ("finance@premiercare.example", HEREFORDSHIRE),  # a provider with no award under Herefordshire
    ],
    ids=["council-outside-wirral", "provider-outside-herefordshire"],
)
def test_an_organisation_outside_an_agreement_sees_none_of_its_figures(openbook, user, agreement):
    for words, options in READS:
        result = openbook(*words, *agreement, *options, "--json", as_user=user)
        assert _kind(result) == "not-found", words


def test_a_provider_reads_its_own_figures_and_not_anothers(openbook):
    premier = "finance@premiercare.example"
    own = ok_json(openbook("returns", "list", *WIRRAL, "--json", as_user=premier))
    assert {row["provider"] for row in own} == {"premier-care"}
    assert {row["provider"] for row in ok_json(openbook("activity", "totals", *WIRRAL, "--json", as_user=premier))} == {
        "premier-care"
    }
    settlement = ok_json(openbook("settle", "show", *WIRRAL, "--year", "2019-20", "--json", as_user=premier))
    assert list(settlement["statement"]["providers"]) == ["premier-care"]
    for command in (
        ("returns", "show", *WIRRAL, "--provider", "haven-care", "--period", "2019-20-Q1"),
        ("returns", "history", *WIRRAL, "--provider", "haven-care"),
        ("market", *WIRRAL, "--period", "2019-20-Q1", "--as-provider", "haven-care"),
        ("settle", "show", *WIRRAL, "--year", "2019-20", "--provider", "haven-care"),
        ("payments", "statement", *WIRRAL, "--provider", "haven-care", "--month", "2019-05"),
        ("activity", "totals", *WIRRAL, "--provider", "haven-care"),
    ):
        assert _kind(openbook(*command, "--json", as_user=premier)) == "not-found", command
    # Every provider's figures at once are for accountants: refused by role.
    for command in (("pool", "show", *WIRRAL, "--year", "2019-20"), ("settle", "list", *WIRRAL)):
        assert _kind(openbook(*command, "--json", as_user=premier)) == "not-allowed", command


def test_the_event_history_is_for_auditors_of_an_audit_body_and_the_operator(openbook):
    history = ("events", "--topic", "openbook:cost-return.drafted", "--json")
    for user in ("finance@premiercare.example", "accountant@wirral.example", "admin@wirral.example"):
        assert _kind(openbook(*history, as_user=user)) == "not-allowed", user
    for user in ("auditor@audit.example", None):  # an audit body's auditor; the system (the operator's own hand)
        drafted = ok_json(openbook(*history, as_user=user))
        assert {event["payload"]["provider"] for event in drafted} >= {"premier-care", "haven-care"}
