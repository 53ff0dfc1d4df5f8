"""Every kind of event, recorded with the most the bounds allow, replays through every read model.

Why: on PostgreSQL a read-model column shorter than the domain allowed jammed
the ledger for good (an import name of 300 characters committed its event,
then every catch-up failed on it). Here one history holds every event type
the domain has, each recorded through the use cases with the longest texts
(unicode), the largest amounts and rates, and the earliest and latest dates
that domain/bounds.py allows; the read models must show those values, and a
rebuild from the history must give the same rows.
"""

from __future__ import annotations

import csv
import importlib
import pkgutil
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

from sqlalchemy import select

import domain
from domain.aggregate import LedgerEvent
from domain.bounds import (
    EARLIEST_DATE,
    FILE_NAME_LENGTH,
    LATEST_DATE,
    MAX_AMOUNT,
    MAX_COUNT,
    MAX_HOURLY_RATE,
    MAX_HOURS,
    NAME_LENGTH,
    TEXT_LENGTH,
)
from domain.envelope import SYSTEM, Actor, Envelope
from domain.returns.filing import CostLine, CostReturnFiling
from ledger.persistence.history import read_events
from ledger.projections.activity import activity_imports
from ledger.projections.agreements import agreements
from ledger.projections.rates import rate_entries


def _text(length: int, seed: str) -> str:
    """``length`` characters of unicode text (accents, symbols, CJK, an emoji), no surrounding spaces."""
    body = (seed + " — Ünïcödé £€ ✓ 日本語 🙂 Ωmega; ") * (length // 20 + 1)
    return body[: length - 1].strip().ljust(length - 1, "x") + "!"


NAME = _text(NAME_LENGTH, "Name")
REASON = _text(TEXT_LENGTH, "Reason")
NOTE = _text(TEXT_LENGTH, "Note")
FILE_NAME = _text(FILE_NAME_LENGTH - 4, "File") + ".csv"

EDGE = "edge"
COUNCIL, ICB, PROVIDER_A, PROVIDER_B = "edge-council", "edge-icb", "edge-a", "edge-b"
AUDIT_BODY = "edge-audit"
COUNCIL_ACCOUNTANT = Actor("accountant@edge-council.example", COUNCIL)
ICB_ACCOUNTANT = Actor("accountant@edge-icb.example", ICB)
FINANCE_A = Actor("finance@edge-a.example", PROVIDER_A)
ADMIN = Actor("admin@edge-council.example", COUNCIL)
FIRST, LAST = "1990-91", "2098-99"
#: The last year's review decided on 15 June 2098, backdated to 1 April 2098.
REVIEW_FROM, DECIDED_ON = date(2098, 4, 1), date(2098, 6, 15)


def by(actor: Actor, day: date, key: str | None = None) -> Envelope:
    """Every envelope carries the longest reason allowed."""
    return Envelope(actor, day, REASON, key)


def event_topics() -> set[str]:
    """The stored topic of every event class the domain defines."""
    found = set()
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)
    stack = [LedgerEvent]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if "TOPIC" in vars(cls):
            found.add(vars(cls)["TOPIC"])
    return found


def visits_file(path: Path, rows: list[tuple[str, str, str, int]]) -> Path:
    """(visit id, provider, ISO day, minutes) rows in the template, every visit a standard one in CH41."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["visit_id", "provider", "client_ref", "postcode", "service", "planned_start",
                         "planned_minutes", "actual_start", "actual_minutes", "carer_ref"])  # fmt: skip
        for visit_id, provider, day, minutes in rows:
            writer.writerow([visit_id, provider, "C000123", "CH41 2AB", "standard", f"{day}T00:00", minutes,
                             f"{day}T00:00", minutes, "K00042"])  # fmt: skip
    return path


def filing(amount: D, lowest_pay: str) -> CostReturnFiling:
    """Every line at ``amount`` (a deficit of minus it), each with the longest note."""
    lines = {line.value: str(amount) for line in CostLine}
    lines["surplus"] = str(-amount)
    return CostReturnFiling.parse(
        {
            "lines": lines,
            "notes": {line.value: NOTE for line in CostLine},
            "volumes": {
                "contact_hours": str(MAX_HOURS), "visits": str(MAX_COUNT), "average_visit_minutes": "240",
                "average_travel_minutes": "120", "careworker_headcount": str(MAX_COUNT),
                "careworker_fte": str(MAX_HOURS), "hours_paid": str(MAX_HOURS), "lowest_hourly_pay": lowest_pay,
                "typical_hourly_pay": str(MAX_HOURLY_RATE),
            },  # fmt: skip
        }
    )


def record_extreme_history(book, tmp_path: Path) -> None:  # noqa: PLR0915 - one history, step by step
    o, a = book.organisations, book.agreements
    # -- organisations and users
    for code, kind in ((COUNCIL, "council"), (ICB, "icb"), (PROVIDER_A, "provider"), (PROVIDER_B, "provider"),
                       (AUDIT_BODY, "audit-body")):
        o.register_organisation(by(SYSTEM, EARLIEST_DATE), code, NAME, kind)
    o.rename_organisation(by(SYSTEM, LATEST_DATE), PROVIDER_B, NAME[::-1].strip() or "x")
    for actor, roles in ((COUNCIL_ACCOUNTANT, ["accountant"]), (ICB_ACCOUNTANT, ["accountant"]),
                         (FINANCE_A, ["provider"]), (ADMIN, ["admin"])):  # fmt: skip
        o.register_user(by(SYSTEM, EARLIEST_DATE), actor.user, NAME, actor.organisation, roles)
    o.register_user(by(SYSTEM, EARLIEST_DATE), "leaver@edge-council.example", NAME, COUNCIL, ["auditor"])
    o.change_user_roles(by(SYSTEM, LATEST_DATE), "leaver@edge-council.example", ["auditor", "admin"])
    leaver = book.records.user("leaver@edge-council.example")
    leaver.deactivate(by(SYSTEM, LATEST_DATE))  # no command deactivates a user yet: saved as the use cases do
    book.ledger.save(leaver)

    # -- the agreement, over every day the ledger records
    me = COUNCIL_ACCOUNTANT
    a.register_agreement(by(me, EARLIEST_DATE), EDGE, NAME, "alliance", EARLIEST_DATE, LATEST_DATE - timedelta(days=1))
    a.extend_agreement_term(by(me, LATEST_DATE), EDGE, LATEST_DATE)
    a.join_commissioner(by(me, EARLIEST_DATE), EDGE, COUNCIL)
    a.join_commissioner(by(me, EARLIEST_DATE), EDGE, ICB)
    a.appoint_auditor(by(ADMIN, EARLIEST_DATE), EDGE, AUDIT_BODY)
    a.end_auditor_appointment(by(ADMIN, LATEST_DATE), EDGE, AUDIT_BODY)
    for year in (FIRST, LAST):
        a.set_contribution(by(me, EARLIEST_DATE), EDGE, COUNCIL, year, MAX_AMOUNT)
        a.set_contribution(by(me, EARLIEST_DATE), EDGE, ICB, year, MAX_AMOUNT)
    a.add_zone(by(me, EARLIEST_DATE), EDGE, "zone-a", NAME, ["CH41"])
    a.add_lot(by(me, EARLIEST_DATE), EDGE, "lot-a", NAME, ["zone-a"])
    a.add_service_type(by(me, EARLIEST_DATE), EDGE, "standard")
    a.award_provider(by(me, EARLIEST_DATE), EDGE, PROVIDER_A, "zone-a", "primary")
    a.award_provider(by(me, EARLIEST_DATE), EDGE, PROVIDER_B, "zone-a", "secondary")
    a.end_award(by(me, LATEST_DATE), EDGE, PROVIDER_B, "zone-a")
    a.define_kpi(by(me, EARLIEST_DATE), EDGE, "continuity", NAME, "% " + NOTE[2:], "100", "higher-is-better")
    a.define_kpi(by(me, EARLIEST_DATE), EDGE, "missed", NAME, NOTE, str(MAX_COUNT), "lower-is-better", "count")
    a.set_payment_basis(by(me, EARLIEST_DATE), EDGE, "planned")
    a.set_living_wage_commitment(by(me, EARLIEST_DATE), EDGE, True, [(LATEST_DATE, MAX_HOURLY_RATE)])
    a.set_profit_cap(by(me, EARLIEST_DATE), EDGE, "1")
    a.set_plausibility_ranges(
        by(me, EARLIEST_DATE), EDGE,
        {"contact_hours_tolerance_percent": "100", "travel_minutes_lowest": "0", "travel_minutes_highest": "600"},
        ["pay-below-lowest", "contact-hours", "travel-minutes", "surplus-margin"],
    )  # fmt: skip

    # -- rates and wage floors
    r = book.rates
    r.publish_rate(by(me, EARLIEST_DATE), EDGE, "standard", "zone-a", hourly_rate=D("999.99"), effective_from=EARLIEST_DATE)
    r.publish_rate(by(me, EARLIEST_DATE), EDGE, "standard", "lot-a", effective_from=EARLIEST_DATE,
                   blend=[(D("0.5"), MAX_HOURLY_RATE), (D("0.5"), D("0.01"))])  # fmt: skip
    r.withdraw_rate(by(me, LATEST_DATE), EDGE, "standard", "lot-a", effective_from=LATEST_DATE)
    book.returns.add_wage_floor(by(ADMIN, EARLIEST_DATE), "real-living-wage", LATEST_DATE, MAX_HOURLY_RATE)

    # -- visits: 24-hour days on the first and last days, one corrected later
    days = [("V-first", PROVIDER_A, EARLIEST_DATE.isoformat(), 1440), ("V-review", PROVIDER_A, "2098-04-02", 1440),
            ("V-last", PROVIDER_A, LATEST_DATE.isoformat(), 1440)]  # fmt: skip
    act = book.activity
    act.import_activity(by(me, EARLIEST_DATE), EDGE, visits_file(tmp_path / "first.csv", days), file_name=FILE_NAME)

    # -- the last year's rate review, decided backdated, and its arrears (then recalculated)
    rv = book.reviews
    rv.open_rate_review(by(me, date(2098, 2, 1)), EDGE, LAST)
    rates = [{"service": "standard", "zone": "zone-a", "band": None, "hourly_rate": str(MAX_HOURLY_RATE)}]
    rv.propose_rates(by(me, date(2098, 3, 1)), EDGE, LAST, rates, NOTE)
    rv.comment_on_rate_review(by(FINANCE_A, date(2098, 3, 2)), EDGE, LAST, PROVIDER_A, NOTE)
    rv.decide_rate_review(by(me, DECIDED_ON), EDGE, LAST, "accepted", reasons=NOTE, decided_by=NAME,
                          effective_from=REVIEW_FROM)  # fmt: skip
    act.calculate_arrears(by(me, date(2098, 6, 20)), EDGE, LAST)
    fixed = [("V-review", PROVIDER_A, "2098-04-02", 1439)]
    act.import_activity(by(me, date(2098, 7, 1)), EDGE, visits_file(tmp_path / "fix.csv", fixed), file_name=FILE_NAME)
    act.calculate_arrears(by(me, date(2098, 7, 2)), EDGE, LAST)

    # -- cost returns: the first quarter drafted; the last year's through every step
    c = book.returns
    c.draft_cost_return(by(FINANCE_A, EARLIEST_DATE), EDGE, PROVIDER_A, f"{FIRST}-Q1", filing(MAX_AMOUNT, "1000.00"))
    c.draft_cost_return(by(FINANCE_A, LATEST_DATE), EDGE, PROVIDER_A, LAST, filing(MAX_AMOUNT, "0.01"), True)
    c.query_cost_return(by(me, LATEST_DATE), EDGE, PROVIDER_A, LAST, "contact_pay", NOTE)
    c.answer_cost_return_query(by(FINANCE_A, LATEST_DATE), EDGE, PROVIDER_A, LAST, "Q1", NOTE)
    c.explain_wage_breach(by(me, LATEST_DATE), EDGE, PROVIDER_A, LAST, NOTE)
    c.reject_cost_return(by(me, LATEST_DATE), EDGE, PROVIDER_A, LAST, NOTE)
    c.reopen_cost_return(by(me, LATEST_DATE), EDGE, PROVIDER_A, LAST, NOTE)
    c.amend_cost_return(by(FINANCE_A, LATEST_DATE), EDGE, PROVIDER_A, LAST, filing(MAX_AMOUNT, "1000.00"))
    # the extreme figures are implausible (pay below the lowest pay, hours 4× visits × minutes): explained
    c.explain_wage_breach(by(me, LATEST_DATE), EDGE, PROVIDER_A, LAST, NOTE)
    c.accept_cost_return(by(ICB_ACCOUNTANT, LATEST_DATE), EDGE, PROVIDER_A, LAST)

    # -- KPI results at the ends of their units' ranges, one corrected; the incentive scheme and assessments
    i = book.incentives
    i.record_kpi_result(by(me, LATEST_DATE), EDGE, PROVIDER_A, LAST, "continuity", "100", NOTE)
    i.record_kpi_result(by(me, LATEST_DATE), EDGE, PROVIDER_A, LAST, "missed", str(MAX_COUNT), NOTE)
    scheme = {"from_year": FIRST, "minimum_reduction": "0", "baseline": "fixed",
              "fixed_baselines": {PROVIDER_A: MAX_HOURS}, "payment_per_hour": MAX_HOURLY_RATE, "cap": MAX_AMOUNT}  # fmt: skip
    i.set_incentive_scheme(by(me, EARLIEST_DATE), EDGE, **scheme)
    i.set_incentive_scheme(by(me, EARLIEST_DATE), EDGE, **{**scheme, "minimum_reduction": "0.5"})
    assessed = date(1991, 5, 15)  # a year is assessed once it is over: the first one
    i.record_kpi_result(by(me, assessed), EDGE, PROVIDER_A, FIRST, "continuity", "0", NOTE)
    i.assess_incentives(by(me, assessed), EDGE, FIRST)
    i.record_kpi_result(by(me, assessed), EDGE, PROVIDER_A, FIRST, "continuity", "100", NOTE)
    i.assess_incentives(by(me, assessed), EDGE, FIRST)

    # -- the pool, a payment run, and settlements: one withdrawn, one issued
    s = book.settlements
    pool = {"target": MAX_AMOUNT, "bands": [(None, None, "1")], "gain_cap": MAX_AMOUNT, "loss_cap": MAX_AMOUNT}
    s.set_pooled_budget(by(me, EARLIEST_DATE), EDGE, LAST, **pool)
    s.set_pooled_budget(by(me, EARLIEST_DATE), EDGE, LAST, **{**pool, "gain_cap": D("0.01")})
    s.run_payments(by(me, date(2098, 5, 10)), EDGE, "2098-04")
    s.draft_settlement(by(me, LATEST_DATE), EDGE, LAST)
    s.withdraw_settlement(by(me, LATEST_DATE), EDGE, LAST, 1)
    s.draft_settlement(by(me, LATEST_DATE), EDGE, LAST)
    s.review_settlement(by(ICB_ACCOUNTANT, LATEST_DATE), EDGE, LAST, 2, NOTE)
    s.approve_settlement(by(me, LATEST_DATE), EDGE, LAST, 2)
    s.approve_settlement(by(ICB_ACCOUNTANT, LATEST_DATE), EDGE, LAST, 2)
    s.issue_settlement(by(me, LATEST_DATE), EDGE, LAST, 2)
    s.close_year(by(me, LATEST_DATE), EDGE, LAST)
    book.statements.issue_statement(
        by(me, LATEST_DATE), kind="settlement", agreement=EDGE, party=None, period=LAST, title=NAME,
        document=b"%PDF-1.7\n" + NOTE.encode(), head_position=book.projections.head(), sequence=2,
    )  # fmt: skip

    # -- the head attested by a checkpoint recorded in the history
    book.checkpoints.record_checkpoint(by(ADMIN, LATEST_DATE))


def read_models(book) -> dict[str, list[tuple]]:
    """Every row of every read model, in a stable order."""
    rows = {}
    with book.read_engine.connect() as conn:
        for projection in book.ledger.projections.projections.values():
            for table in projection.tables:
                rows[table.name] = sorted(map(tuple, conn.execute(select(table))), key=repr)
    return rows


def every_read_model_at_the_head(book) -> None:
    """No read model stopped on an event or left behind: a poison event would otherwise pass unseen."""
    assert [(row["name"], row["lag"], row["error"]) for row in book.projections.status() if row["lag"] or row["error"]] == []


def test_every_event_type_at_the_bounds_replays_through_every_read_model(book, tmp_path):
    record_extreme_history(book, tmp_path)
    every_read_model_at_the_head(book)

    recorded = {e.topic for e in read_events(book.ledger.recorder, book.ledger.mapper, limit=10**6)}
    assert event_topics() - recorded == set()  # a new event type must be added to the history above

    live = read_models(book)
    cells = [cell for rows in live.values() for row in rows for cell in row]
    for value in (NAME, REASON, NOTE, FILE_NAME, MAX_AMOUNT, MAX_HOURLY_RATE, EARLIEST_DATE, LATEST_DATE):
        assert value in cells, f"{str(value)[:30]!r}... is in no read model"
    with book.read_engine.connect() as conn:
        assert conn.execute(select(agreements.c.name, agreements.c.term_start)).one() == (NAME, EARLIEST_DATE)
        names = set(conn.execute(select(activity_imports.c.file_name)).scalars())
        assert names == {FILE_NAME}
        assert D("999.99") in set(conn.execute(select(rate_entries.c.hourly_rate)).scalars())

    book.projections.rebuild()
    every_read_model_at_the_head(book)
    assert read_models(book) == live
