"""Closing a year: the closed-year adjustment's arithmetic, its lines kept apart from a year's paid on account,
and the close's record (docs/year-end.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from domain.envelope import Actor, Envelope
from domain.settlement.payment_ledger import PaymentLedger, PaymentLine
from domain.settlement.pooled_budget import PaymentMechanism
from domain.settlement.year_end import YearEnd, closed_year_adjustments

ACCOUNTANT = Actor("accountant@wirralccg.example", "wirral-ccg")


def e(on: date = date(2020, 7, 15), reason: str | None = "accounts agreed") -> Envelope:
    return Envelope(ACCOUNTANT, on, reason)


def test_the_adjustment_is_activity_now_less_at_close_less_adjusted_before():
    at_close = {"premier-care": D("3120.00"), "haven-care": D("1560.00")}
    now = {"premier-care": D("3339.00"), "haven-care": D("1590.00"), "carewatch": D("15.60")}
    assert closed_year_adjustments(at_close, now, {}) == {
        "carewatch": D("15.60"), "haven-care": D("30.00"), "premier-care": D("219.00"),
    }  # fmt: skip
    # Once paid, nothing is due again; a later correction downwards is a recovery; an unchanged provider owes nothing.
    paid = {"premier-care": D("219.00"), "haven-care": D("30.00"), "carewatch": D("15.60")}
    assert closed_year_adjustments(at_close, now, paid) == {}
    assert closed_year_adjustments(at_close, {**now, "premier-care": D("3331.05")}, paid) == {
        "premier-care": D("-7.95")
    }
    # A provider whose visits all left the closed year is recovered in full.
    assert closed_year_adjustments(at_close, {"premier-care": D("3120.00")}, {}) == {"haven-care": D("-1560.00")}


def test_closed_year_lines_are_paid_in_the_run_but_not_on_account_of_the_year():
    ledger = PaymentLedger.open(e(date(2020, 5, 1)), "wirral-homecare", "2020-21")
    lines = [
        PaymentLine("premier-care", "priced activity 2020-04: standard in zone-1", D("318.00"), "zone-1", "standard",
                    "2020-04", 20, 1200),  # fmt: skip
        PaymentLine("premier-care", "closed-year adjustment 2019-20: …", D("219.00"), closed_year="2019-20"),
        PaymentLine("haven-care", "closed-year adjustment 2019-20: …", D("30.00"), closed_year="2019-20"),
    ]
    run = ledger.record_run(e(date(2020, 5, 10)), "2020-04", PaymentMechanism.RATE, lines, "basis")
    assert run.providers == {"haven-care": D("30.00"), "premier-care": D("537.00")}  # what the run paid
    assert ledger.paid() == {"premier-care": D("318.00")}  # on account of 2020-21's own activity
    assert ledger.closed_year_paid("2019-20") == {"haven-care": D("30.00"), "premier-care": D("219.00")}
    assert ledger.closed_year_paid("2018-19") == {}
    # Stored with the closed year; an ordinary line is stored as before (no closed_year key).
    assert lines[1].as_row()["closed_year"] == "2019-20" and "closed_year" not in lines[0].as_row()
    assert PaymentLine.from_row(lines[1].as_row()) == lines[1]


def test_the_close_keeps_the_settlement_and_each_providers_figures_by_value():
    parties = {
        "premier-care": {"activity": D("3120.00"), "paid": D("3120.00"), "balance": D("210.00")},
        "haven-care": {"activity": D("1560.00"), "paid": D("1560.00"), "balance": D("105.00")},
    }
    end = YearEnd.close(e(), "wirral-homecare", "2019-20", 1, parties)
    assert end.id == YearEnd.create_id("wirral-homecare", "2019-20")
    assert (end.settlement, end.closed_on) == (1, date(2020, 7, 15))
    assert end.activity == {"haven-care": D("1560.00"), "premier-care": D("3120.00")}
    assert end.adjustment_note("premier-care", D("3339.00"), D("0")) == (
        "closed-year adjustment 2019-20: priced activity of 2019-20 now £3,339.00, closed with settlement 1 at "
        "£3,120.00, adjusted before £0.00"
    )
    [event] = end.collect_events()
    assert event.TOPIC == "openbook:year-end.closed"
