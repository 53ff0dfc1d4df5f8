"""Each bound of domain/bounds.py refuses one step beyond it, naming the field and the bound; nothing is recorded.

And the other side: an event recorded before the bounds existed (text longer
than any bound, a date outside them, a KPI without a unit) still replays
through the read models, so no stored event can jam them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import select

from domain.agreements.agreement import Agreement
from domain.bounds import (
    EARLIEST_DATE,
    FILE_NAME_LENGTH,
    LATEST_DATE,
    MAX_AMOUNT,
    MAX_HOURLY_RATE,
    NAME_LENGTH,
    TEXT_LENGTH,
)
from domain.envelope import SYSTEM, Envelope
from domain.errors import InvalidInput, RuleBroken
from domain.organisations.organisation import Organisation
from ledger.projections.agreements import agreement_kpis
from ledger.projections.organisations import organisations
from tests.integration import agreement_setup
from tests.integration.activity_setup import visit, write_csv
from tests.integration.agreement_setup import WIRRAL, on
from tests.integration.returns_setup import filing_data, finance

LONG_NAME = "N" * (NAME_LENGTH + 1)
LONG_TEXT = "T" * (TEXT_LENGTH + 1)
WHEN = date(2019, 6, 1)


@pytest.fixture
def wirral(book):
    """Wirral (agreement_setup, which registers its accountant) and premier-care's finance user."""
    agreement_setup.wirral(book)
    book.organisations.register_user(Envelope(SYSTEM, WHEN), finance("premier-care").user, "Finance", "premier-care",
                                     ["provider"])  # fmt: skip
    return book


def _kpi(book: Any, **changes: Any) -> None:
    kpi = {"kpi": "continuity", "name": "Continuity", "measure": "% of visits by regular carers", "target": "80",
           "direction": "higher-is-better", **changes}  # fmt: skip
    book.agreements.define_kpi(on(WHEN, "KPIs"), WIRRAL, **kpi)


def _result(book: Any, kpi: str, value: str) -> None:
    book.incentives.record_kpi_result(on(WHEN, "results"), WIRRAL, "premier-care", "2019-20", kpi, value, "ECM")


def _filing(**lines: str) -> dict[str, Any]:
    data = filing_data()
    data["lines"].update(lines)
    return data


#: (what, the command one step beyond a bound, the refusal's message): each names its field and the bound.
BEYOND: list[tuple[str, Callable[[Any, Any], Any], str]] = [
    ("an organisation's name", lambda b, tmp: b.organisations.register_organisation(
        Envelope(SYSTEM, WHEN), "long-care", LONG_NAME, "provider"), "name: is 201 characters long; at most 200 are allowed"),
    ("a user's display name", lambda b, tmp: b.organisations.register_user(
        Envelope(SYSTEM, WHEN), "long@wirral.example", LONG_NAME, "wirral-council", ["auditor"]),
     "display_name: is 201 characters long; at most 200 are allowed"),
    ("an agreement's name", lambda b, tmp: b.agreements.register_agreement(
        on(WHEN), "long", LONG_NAME, "framework", WHEN, WHEN), "name: is 201 characters long; at most 200"),
    ("a reason", lambda b, tmp: b.agreements.add_service_type(on(WHEN, LONG_TEXT), WIRRAL, "complex"),
     "reason: is 2001 characters long; at most 2000 are allowed"),
    ("the latest effective date", lambda b, tmp: b.agreements.add_service_type(
        on(LATEST_DATE + timedelta(days=1)), WIRRAL, "complex"),
     "effective_date: 2099-04-01 is outside the dates the ledger records (1990-04-01 to 2099-03-31)"),
    ("the earliest effective date", lambda b, tmp: b.agreements.add_service_type(
        on(EARLIEST_DATE - timedelta(days=1)), WIRRAL, "complex"),
     "effective_date: 1990-03-31 is outside the dates the ledger records (1990-04-01 to 2099-03-31)"),
    ("an effective date far away", lambda b, tmp: b.agreements.add_service_type(on(date(9999, 12, 31)), WIRRAL, "complex"),
     "effective_date: 9999-12-31 is outside the dates the ledger records"),
    ("a term's end", lambda b, tmp: b.agreements.register_agreement(
        on(WHEN), "forever", "Forever", "framework", WHEN, date(2999, 3, 31)),
     "term_end: 2999-03-31 is outside the dates the ledger records (1990-04-01 to 2099-03-31)"),
    ("an hourly rate", lambda b, tmp: b.rates.publish_rate(
        on(WHEN), WIRRAL, "standard", "zone-1", hourly_rate=MAX_HOURLY_RATE + D("0.01"), effective_from=WHEN),
     "hourly_rate: 1000.01 must be at most 1000.00"),
    ("an absurd hourly rate", lambda b, tmp: b.rates.publish_rate(
        on(WHEN), WIRRAL, "standard", "zone-1", hourly_rate=D("999999999999.99"), effective_from=WHEN),
     "hourly_rate: 999999999999.99 must be at most 1000.00"),
    ("a blend's rate", lambda b, tmp: b.rates.publish_rate(
        on(WHEN), WIRRAL, "standard", "zone-1", blend=[("0.5", "1000.01"), ("0.5", "15.60")], effective_from=WHEN),
     "blend[0].rate: 1000.01 must be at most 1000.00"),
    ("a contribution", lambda b, tmp: b.agreements.set_contribution(
        on(WHEN, "pool"), WIRRAL, "wirral-council", "2019-20", MAX_AMOUNT + D("0.01")),
     "amount: 10000000000.01 must be at most 10000000000.00"),
    ("a contribution of £1e32", lambda b, tmp: b.agreements.set_contribution(
        on(WHEN, "pool"), WIRRAL, "wirral-council", "2019-20", D("1e32")), "amount: "),
    ("a financial year after the last", lambda b, tmp: b.agreements.set_contribution(
        on(WHEN, "pool"), WIRRAL, "wirral-council", "2099-00", D("1.00")),
     "financial_year: 2099-00 is outside the financial years the ledger records (1990-91 to 2098-99)"),
    ("a financial year before the first", lambda b, tmp: b.agreements.set_contribution(
        on(WHEN, "pool"), WIRRAL, "wirral-council", "1989-90", D("1.00")),
     "financial_year: 1989-90 is outside the financial years the ledger records (1990-91 to 2098-99)"),
    ("a cost return's period", lambda b, tmp: b.returns.draft_cost_return(
        Envelope(finance("premier-care"), WHEN), WIRRAL, "premier-care", "2999-00-Q1", filing_data()),
     "period: 2999-00-Q1 is outside the financial years the ledger records (1990-91 to 2098-99)"),
    ("a cost-return line", lambda b, tmp: b.returns.draft_cost_return(
        Envelope(finance("premier-care"), WHEN), WIRRAL, "premier-care", "2019-20-Q1",
        _filing(premises="10000000000.01")),
     "premises: 10000000000.01 is beyond 10,000,000,000.00, the largest amount a return may hold"),
    ("a cost-return line of £1e30", lambda b, tmp: b.returns.draft_cost_return(
        Envelope(finance("premier-care"), WHEN), WIRRAL, "premier-care", "2019-20-Q1",
        _filing(premises="1000000000000000000000000000000.00")), "premises: "),
    ("a percent KPI's target", lambda b, tmp: _kpi(b, target="100.01"),
     "target: 100.01 is outside 0 to 100, the range of a percent KPI"),
    ("a count KPI's target", lambda b, tmp: _kpi(b, kpi="missed", measure="number of missed visits", target="0.5",
                                           direction="lower-is-better"),
     "target: 0.5 is not a whole number, as a count KPI's figures are"),
    ("a KPI's name", lambda b, tmp: _kpi(b, name=LONG_NAME), "name: is 201 characters long; at most 200"),
    ("a KPI's measure", lambda b, tmp: _kpi(b, measure="%" + LONG_TEXT[1:]), "measure: is 2001 characters long"),
    ("a file name", lambda b, tmp: b.activity.import_activity(
        on(WHEN), WIRRAL, write_csv(tmp / "v.csv", [visit("V1", "premier-care", "CH41 2AB", "2019-05-01", 30, 30)]),
        file_name="f" * (FILE_NAME_LENGTH + 1)), "file_name: is 256 characters long; at most 255 are allowed"),
]


@pytest.mark.parametrize(("what", "command", "message"), BEYOND, ids=[what for what, _, _ in BEYOND])
def test_one_step_beyond_a_bound_is_refused_naming_the_field_and_the_bound(wirral, tmp_path, what, command, message):
    head = wirral.projections.head()
    with pytest.raises(InvalidInput) as refused:
        command(wirral, tmp_path)
    assert message in str(refused.value), what
    assert wirral.projections.head() == head  # nothing recorded


@pytest.mark.parametrize(
    ("kpi", "value", "message"),
    [
        ("missed", "-5", "value: -5 is outside 0 to 1000000000, the range of a rate KPI"),
        ("continuity", "1000000000", "value: 1000000000 is outside 0 to 100, the range of a percent KPI"),
        ("continuity", "100.01", "value: 100.01 is outside 0 to 100, the range of a percent KPI"),
    ],
)
def test_a_kpi_result_outside_its_units_range_is_refused(wirral, kpi, value, message):
    _kpi(wirral)
    _kpi(wirral, kpi="missed", name="Missed visits", measure="missed visits per 1,000 planned", target="0.5",
         direction="lower-is-better")  # fmt: skip
    head = wirral.projections.head()
    with pytest.raises(InvalidInput, match=message):
        _result(wirral, kpi, value)
    assert wirral.projections.head() == head
    _result(wirral, "continuity", "100")  # the bound itself is accepted
    _result(wirral, "missed", "0")


def test_a_rate_outside_the_agreements_term_is_refused(wirral):
    """Wirral's term ends on 31 March 2024: a rate effective in 2050 could never apply."""
    with pytest.raises(RuleBroken, match=r"date: 2050-04-01 is outside the term of wirral-homecare \(2019-04-01 to 2024-03-31\)"):
        wirral.rates.publish_rate(on(WHEN), WIRRAL, "standard", "zone-1", hourly_rate=D("16.00"),
                                  effective_from=date(2050, 4, 1))  # fmt: skip


def test_the_values_at_the_bounds_are_accepted(wirral):
    wirral.agreements.set_contribution(on(WHEN, "pool"), WIRRAL, "wirral-council", "2019-20", MAX_AMOUNT)
    wirral.rates.publish_rate(on(WHEN), WIRRAL, "standard", "zone-1", hourly_rate=MAX_HOURLY_RATE, effective_from=WHEN)
    wirral.agreements.add_service_type(on(LATEST_DATE, "T" * TEXT_LENGTH), WIRRAL, "complex")
    assert wirral.rates.rate_for(WIRRAL, "standard", "zone-1", WHEN).hourly_rate == D("1000.00")


def test_an_event_stored_before_the_bounds_still_replays(book):
    """Written straight to the ledger, past the commands' checks: longer text than any bound, a date before the
    first the ledger records, and a KPI defined before KPIs had units (a version 1 event, without one)."""
    long_name = "Ünïcödé " * 1000  # 8,000 characters
    before = Envelope(SYSTEM, date(1985, 1, 1), "R" * 10_000)
    found = Organisation._create(Organisation.Registered, id=Organisation.create_id("old-care"), envelope=before,
                                 code="old-care", name=long_name.strip(), kind="provider", member_of=None)  # fmt: skip
    book.ledger.save(found)
    agreement = Agreement.register(on(date(2019, 4, 1)), WIRRAL, "Wirral", "alliance", date(2019, 4, 1), date(2024, 3, 31))
    agreement.define_kpi(on(date(2019, 4, 1), "KPIs"), "missed", "Missed visits", "missed visits per 1,000", "0.5",
                         "lower-is-better")  # fmt: skip
    stored = [book.ledger.mapper.to_stored_event(e) for e in agreement.collect_events()]
    state = json.loads(stored[1].state)
    assert state.pop("class_version") == 2 and state.pop("unit") == "rate"
    stored[1] = type(stored[1])(stored[1].originator_id, stored[1].originator_version, stored[1].topic,
                                json.dumps(state).encode("utf-8"))  # fmt: skip
    book.ledger.recorder.insert_events(stored)

    book.projections.catch_up()
    with book.read_engine.connect() as conn:
        assert conn.execute(select(organisations.c.name).where(organisations.c.code == "old-care")).scalar_one() == (
            long_name.strip()
        )
        assert conn.execute(select(agreement_kpis.c.kpi, agreement_kpis.c.unit)).one() == ("missed", "rate")
    (kpi,) = book.records.agreement(WIRRAL).kpis_on(date(2019, 4, 1))
    assert kpi.unit.value == "rate"
    book.projections.rebuild()
    with book.read_engine.connect() as conn:
        assert len(conn.execute(select(organisations.c.name)).scalar_one()) == len(long_name.strip())


def test_events_refuses_a_limit_or_position_out_of_range(openbook):
    for args, message in (
        (("--limit", "-1"), "error: --limit: -1 must be from 1 to 10,000"),
        (("--limit", "0"), "error: --limit: 0 must be from 1 to 10,000"),
        (("--after", str(2**63)), "error: --after: 9223372036854775808 is not a position"),
        (("--after", "-1"), "error: --after: -1 is not a position"),
    ):
        result = openbook("events", *args)
        assert result.exit_code == 1 and message in result.stderr, (args, result.stderr, result.output)
        assert "Traceback" not in result.stderr
    assert openbook("events", "--after", str(2**63 - 1)).exit_code == 0


def test_the_sweep_refuses_a_grace_beyond_ten_years_in_one_line(openbook):
    refused = openbook("activity", "sweep", "--older-than-hours", "1e12")
    assert refused.exit_code == 2 and "Traceback" not in refused.stderr  # was an OverflowError traceback
    assert "--older-than-hours" in refused.stderr and "87840" in refused.stderr
    assert openbook("activity", "sweep", "--older-than-hours", "87840").exit_code == 0


def test_a_header_only_activity_file_is_an_error(wirral, tmp_path):
    head = wirral.projections.head()
    empty = write_csv(tmp_path / "empty.csv", [])
    with pytest.raises(InvalidInput, match="empty.csv: no visits: it has a header but no rows"):
        wirral.activity.import_activity(on(WHEN, "ECM"), WIRRAL, empty)
    assert wirral.projections.head() == head


def test_an_xlsx_formula_without_a_stored_value_is_reported_by_row_and_column(wirral, tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    row = visit("V1", "premier-care", "CH41 2AB", "2019-05-01", 30, 30)
    sheet.append(["visit_id", "provider", "client_ref", "postcode", "service", "planned_start", "planned_minutes",
                  "actual_start", "actual_minutes", "carer_ref"])  # fmt: skip
    sheet.append([*row[:6], "=15*2", *row[7:10]])  # written by a program: the formula has no stored result
    path = tmp_path / "visits.xlsx"
    workbook.save(path)
    head = wirral.projections.head()
    with pytest.raises(InvalidInput, match=r"visits.xlsx: row 2, column planned_minutes: a formula without a value"):
        wirral.activity.import_activity(on(WHEN, "ECM"), WIRRAL, path)
    assert wirral.projections.head() == head


def test_a_year_or_period_outside_the_agreements_term_is_refused(wirral):
    """Wirral's term runs from 1 April 2019 to 31 March 2024: nothing can be set for 2050-51."""
    outside = r"financial_year: 2050-51 is outside the term of wirral-homecare \(2019-04-01 to 2024-03-31\)"
    head = wirral.projections.head()
    with pytest.raises(RuleBroken, match=outside):
        wirral.agreements.set_contribution(on(WHEN, "pool"), WIRRAL, "wirral-council", "2050-51", D("1.00"))
    with pytest.raises(RuleBroken, match=outside):
        wirral.reviews.open_rate_review(on(WHEN, "review"), WIRRAL, "2050-51")
    with pytest.raises(RuleBroken, match=outside):
        wirral.settlements.set_pooled_budget(on(WHEN, "pool"), WIRRAL, "2050-51", target="1.00",
                                             bands=[(None, None, "1")])  # fmt: skip
    with pytest.raises(RuleBroken, match=r"period: 2050-51-Q1 is outside the term of wirral-homecare"):
        wirral.returns.draft_cost_return(
            Envelope(finance("premier-care"), WHEN), WIRRAL, "premier-care", "2050-51-Q1", filing_data()
        )
    with pytest.raises(RuleBroken, match=r"period: 2050-51 is outside the term of wirral-homecare"):
        wirral.incentives.record_kpi_result(on(WHEN, "results"), WIRRAL, "premier-care", "2050-51", "missed", "1", "")
    assert wirral.projections.head() == head


def test_the_cli_refuses_an_effective_date_beyond_the_bounds_in_one_line(openbook):
    result = openbook("organisations", "register", "late-care", "Late Care", "--kind", "provider",
                      "--effective", "9999-12-31")  # fmt: skip
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "error: effective_date: 9999-12-31 is outside the dates the ledger records (1990-04-01 to 2099-03-31)"
    )
    assert openbook("events").stdout.strip() == "no events"
