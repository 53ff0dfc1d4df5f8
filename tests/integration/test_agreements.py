"""Agreements through the ledger, on SQLite and PostgreSQL: set-up, postcode lookup, "as at", read models.

Wirral's figures are DOMAIN.md's. Invented for the tests: zone names by
geography, the term's end, Neston as a fifth zone, the 2021 award changes, and
the later changes made to the demo's agreements (``later_changes``).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from demo.partnerships import HEREFORDSHIRE, HEREFORDSHIRE_ACCOUNTANT
from domain.agreements.terms import PostcodeLookup
from domain.envelope import SYSTEM, Envelope
from domain.errors import InvalidInput, NotFound, OpenbookError, RuleBroken
from domain.periods import financial_year_of
from ledger.queries import agreements as views
from tests.integration.agreement_setup import START, WIRRAL, on, register_organisations, wirral


def test_an_accountant_sets_up_an_agreement_and_the_read_models_follow(book):
    wirral(book)
    kpi = ("missed-visits", "Missed visits", "per 1,000", "0.5", "lower-is-better")
    book.agreements.define_kpi(on(START, "KPIs (5.22)"), WIRRAL, *kpi)
    engine = book.read_engine

    [row] = views.list_agreements(engine)
    assert (row["code"], row["name"], row["kind"], row["term_start"], row["term_end"]) == (
        WIRRAL, "Wirral homecare alliance", "alliance", START, date(2024, 3, 31)
    )
    assert row["commissioners"] == ["wirral-council", "wirral-ccg"] and row["zones"] == 4 and row["providers"] == 4
    paid = {(c["commissioner"], c["financial_year"]): c["amount"] for c in views.contributions(engine, WIRRAL)}
    assert paid == {("wirral-council", "2019-20"): D("7200000.00"), ("wirral-ccg", "2019-20"): D("4800000.00")}
    assert sum(paid.values()) == D("12000000.00")  # the estimated £12m pool, 60/40
    districts = {z["zone"]: z["districts"] for z in views.zones(engine, WIRRAL)}
    assert districts["zone-4"] == ["CH47", "CH48", "CH49", "CH61"]
    primaries = {a["zone"]: a["provider"] for a in views.awards(engine, WIRRAL, on=START) if a["tier"] == "primary"}
    assert primaries == {
        "zone-1": "premier-care",
        "zone-2": "premier-care",
        "zone-3": "haven-care",
        "zone-4": "wirral-home-care-alliance",
    }
    [kpi] = views.kpis_on(engine, WIRRAL, START)
    assert (kpi["kpi"], kpi["target"], kpi["direction"]) == ("missed-visits", D("0.5"), "lower-is-better")
    assert views.settings_on(engine, WIRRAL, START) == {"payment-basis": "actual"}


def test_commissioners_must_be_councils_or_icbs_and_awards_go_to_providers(book):
    wirral(book, rate=None)
    head = book.ledger.recorder.max_notification_id()

    with pytest.raises(RuleBroken, match="commissioner: premier-care is a provider, not a council or an icb"):
        book.agreements.join_commissioner(on(START, "typo"), WIRRAL, "premier-care")
    with pytest.raises(NotFound, match="organisation 'wirral-trust' is not registered"):
        book.agreements.join_commissioner(on(START, "not yet registered"), WIRRAL, "wirral-trust")
    with pytest.raises(RuleBroken, match="provider: wirral-ccg is an icb, not a provider"):
        book.agreements.award_provider(on(START), WIRRAL, "wirral-ccg", "zone-1", "peripheral")
    with pytest.raises(NotFound, match="agreement 'wirral' is not registered"):
        book.agreements.add_zone(on(START, "typo"), "wirral", "zone-5", "Neston", ["CH64"])

    assert book.ledger.recorder.max_notification_id() == head  # nothing recorded


def test_postcode_lookup_names_an_unknown_district_and_follows_awards_by_date(book):
    wirral(book, rate=None)
    engine = book.read_engine
    found = views.locate_postcode(engine, WIRRAL, "CH45 3AB", date(2019, 6, 1))
    assert (found.district, found.zone, found.zone_name, found.primary_provider) == (
        "CH45", "zone-2", "Wallasey", "premier-care"
    )
    assert {(a.provider, a.tier) for a in found.awards} == {
        ("premier-care", "primary"), ("wirral-home-care-alliance", "secondary")
    }

    with pytest.raises(NotFound, match="postcode district CH64 is not in any zone of wirral-homecare") as refused:
        views.locate_postcode(engine, WIRRAL, "CH64 9ZZ", date(2019, 6, 1))
    assert "9ZZ" not in str(refused.value)  # the full postcode may be someone's home
    with pytest.raises(InvalidInput, match="postcode: not a UK postcode"):
        views.locate_postcode(engine, WIRRAL, "not a postcode", date(2019, 6, 1))

    # Premier Care's Wallasey award ends with effect from 1 April 2021; Haven Care is primary from 1 May.
    book.agreements.end_award(on(date(2021, 4, 1), "notice served"), WIRRAL, "premier-care", "zone-2")
    book.agreements.award_provider(on(date(2021, 5, 1), "re-awarded"), WIRRAL, "haven-care", "zone-2", "primary")
    assert views.locate_postcode(engine, WIRRAL, "CH45 3AB", date(2021, 3, 31)).primary_provider == "premier-care"
    gap = views.locate_postcode(engine, WIRRAL, "CH45 3AB", date(2021, 4, 15))
    assert gap.primary_provider is None and [a.provider for a in gap.awards] == ["wirral-home-care-alliance"]
    assert views.locate_postcode(engine, WIRRAL, "ch453ab", date(2021, 5, 1)).primary_provider == "haven-care"

    ended = views.awards(book.read_engine, WIRRAL, zone="zone-2", provider="premier-care")
    assert [(a["from_date"], a["to_date"]) for a in ended] == [(START, date(2021, 3, 31))]
    assert [a["provider"] for a in views.awards(book.read_engine, WIRRAL, on=date(2021, 4, 15), zone="zone-2")] == [
        "wirral-home-care-alliance"
    ]


def test_the_agreement_as_at_any_date_with_every_change_and_its_reason(book):
    wirral(book, rate=None)
    book.agreements.add_zone(on(date(2020, 10, 1), "Neston joins the alliance"), WIRRAL, "zone-5", "Neston", ["CH64"])
    book.agreements.set_payment_basis(on(date(2020, 4, 1), "electronic call monitoring"), WIRRAL, "actual-capped")
    book.agreements.extend_agreement_term(on(date(2023, 10, 2), "two-year extension"), WIRRAL, date(2026, 3, 31))

    engine = book.read_engine
    before, after = (views.agreement_as_at(engine, WIRRAL, day) for day in (date(2020, 9, 30), date(2020, 10, 1)))
    assert [z.code for z in before.zones] == ["zone-1", "zone-2", "zone-3", "zone-4"]
    assert [z.code for z in after.zones][-1] == "zone-5"
    assert (before.payment_basis, views.agreement_as_at(engine, WIRRAL, date(2020, 3, 31)).payment_basis) == (
        "actual-capped", "actual"
    )
    assert views.agreement_as_at(engine, WIRRAL, date(2023, 10, 1)).term_end == date(2024, 3, 31)
    assert views.agreement_as_at(engine, WIRRAL, date(2023, 10, 2)).term_end == date(2026, 3, 31)

    history = views.agreement_history(engine, WIRRAL)
    assert history[0].reason == "joint commission"
    neston = [c for c in history if "zone-5" in c.what]
    assert [(c.effective_date, c.what, c.reason, c.recorded_by) for c in neston] == [
        (
            date(2020, 10, 1),
            "zone zone-5 (Neston) added: CH64",
            "Neston joins the alliance",
            "accountant@wirral.example (wirral-council)",
        )
    ]
    assert [r["term_end"] for r in views.list_agreements(book.read_engine)] == [date(2026, 3, 31)]
    assert views.settings_on(book.read_engine, WIRRAL, date(2020, 4, 1)) == {"payment-basis": "actual-capped"}

    sheet = views.agreement_sheet(book.read_engine, WIRRAL, date(2019, 6, 1))
    assert sheet.financial_year == "2019-20" and sheet.pooled_budget == D("12000000.00")
    assert sheet.primary_providers["zone-3"] == "haven-care" and sheet.rates == []


def test_a_change_without_a_reason_is_refused_and_a_retry_records_once(book):
    wirral(book, rate=None)
    with pytest.raises(InvalidInput, match="reason: a new zone needs a reason"):
        book.agreements.add_zone(on(START, None), WIRRAL, "zone-5", "Neston", ["CH64"])

    envelope = on(date(2020, 10, 1), "Neston joins", key="add-neston")
    book.agreements.add_zone(envelope, WIRRAL, "zone-5", "Neston", ["CH64"])
    head = book.ledger.recorder.max_notification_id()
    assert book.agreements.add_zone(envelope, WIRRAL, "zone-5", "Neston", ["CH64"]) == WIRRAL  # the first result
    assert book.ledger.recorder.max_notification_id() == head


def test_a_lot_spans_zones_and_a_postcode_names_the_lots_covering_it(book):
    register_organisations(book)
    book.organisations.register_organisation(Envelope(SYSTEM, START), "hfd-provider-c", "Provider C", "provider")
    start = date(2017, 4, 1)
    book.agreements.register_agreement(on(start, None), "hfd", "Help to Live at Home", "framework", start, date(2022, 6, 30))
    book.agreements.add_zone(on(start, "pathway O"), "hfd", "zone-a", "Zone A", ["HR5", "HR6"])
    book.agreements.add_zone(on(start, "pathway O"), "hfd", "zone-b", "Zone B", ["HR7", "HR8"])
    book.agreements.add_lot(on(start, "pathway D"), "hfd", "complex-north", "Complex A & B", ["zone-a", "zone-b"])
    book.agreements.award_provider(on(date(2017, 7, 1), "award"), "hfd", "hfd-provider-c", "complex-north", "primary")

    found = views.locate_postcode(book.read_engine, "hfd", "HR6 8AA", date(2017, 7, 1))
    assert (found.zone, found.lots, found.primary_provider) == ("zone-a", ("complex-north",), None)
    lots = [z for z in views.zones(book.read_engine, "hfd") if z["kind"] == "lot"]
    assert [(z["zone"], z["districts"], z["covers"]) for z in lots] == [("complex-north", [], ["zone-a", "zone-b"])]
    assert [r["agreement"] for r in views.agreements_with_district(book.read_engine, "HR6")] == ["hfd"]


def _all_rows(book) -> dict[str, list[dict]]:
    rows = {}
    with book.read_engine.connect() as conn:
        for projection in book.projections.projections.values():
            for table in projection.tables:
                key = list(table.primary_key.columns)
                rows[table.name] = [dict(r._mapping) for r in conn.execute(select(table).order_by(*key))]
    return rows


@pytest.mark.demo
def test_the_read_models_equal_a_rebuild_after_the_demo(book):
    incremental = _all_rows(book)
    assert len(incremental["rate_entries"]) > 60 and len(incremental["rate_reviews"]) == 1

    book.projections.rebuild()

    assert _all_rows(book) == incremental


# -- the read side answers as the aggregate does -------------------------------------------------


def later_changes(book) -> tuple[str, ...]:
    """On the demo (the test is marked ``demo``), a change of every kind on later dates (all invented for the
    test); the agreements' codes.

    Wirral: two extensions, a KPI revised twice with effect from one date (the
    later-recorded revision wins), an award ended and re-awarded after a gap, a
    fixed-term award, a fifth zone and a lot, a commissioner joining late, a
    contribution revised and another year's set in the other order, payment
    basis, Real Living Wage (default dates, withdrawn, own adoption dates) and
    profit cap changes. Herefordshire: a primary award ended and replaced the
    same day, a service added, an extension.
    """
    book.organisations.register_organisation(Envelope(SYSTEM, START), "cheshire-icb", "Cheshire ICB", "icb")
    a = book.agreements
    a.extend_agreement_term(on(date(2023, 10, 2), "two-year extension"), WIRRAL, date(2026, 3, 31))
    a.extend_agreement_term(on(date(2025, 6, 1), "a further year"), WIRRAL, date(2027, 3, 31))
    kpi = ("missed-visits", "Missed visits", "missed visits per 1,000 planned visits")
    a.define_kpi(on(date(2021, 4, 1), "tightened"), WIRRAL, *kpi, "0.4", "lower-is-better")
    a.define_kpi(on(date(2021, 4, 1), "correction"), WIRRAL, *kpi, "0.45", "lower-is-better")
    a.end_award(on(date(2021, 4, 1), "notice served"), WIRRAL, "premier-care", "zone-2")
    a.award_provider(on(date(2021, 5, 1), "re-awarded"), WIRRAL, "haven-care", "zone-2", "primary")
    a.award_provider(on(date(2020, 1, 1), "winter pressures"), WIRRAL, "carewatch", "zone-1", "peripheral",
                     date(2020, 3, 31))
    a.add_zone(on(date(2020, 10, 1), "Neston joins"), WIRRAL, "zone-5", "Neston", ["CH64"])
    a.add_lot(on(date(2021, 1, 1), "complex care lot"), WIRRAL, "complex-east", "Complex east", ["zone-1", "zone-2"])
    a.award_provider(on(date(2021, 1, 1), "lot award"), WIRRAL, "haven-care", "complex-east", "primary")
    a.join_commissioner(on(date(2022, 7, 1), "the ICB replaces the CCG"), WIRRAL, "cheshire-icb")
    a.set_contribution(on(date(2019, 9, 1), "CCG budget revised"), WIRRAL, "wirral-ccg", "2019-20", D("5000000.00"))
    a.set_contribution(on(date(2020, 4, 1), "pool"), WIRRAL, "wirral-ccg", "2020-21", D("4900000.00"))
    a.set_contribution(on(date(2020, 4, 1), "pool"), WIRRAL, "wirral-council", "2020-21", D("7300000.00"))
    a.set_payment_basis(on(date(2020, 4, 1), "electronic call monitoring"), WIRRAL, "actual-capped")
    a.set_payment_basis(on(date(2022, 4, 1), "planned visits"), WIRRAL, "planned")
    a.set_living_wage_commitment(on(date(2021, 4, 1), "ethical charter"), WIRRAL)
    a.set_living_wage_commitment(on(date(2022, 4, 1), "withdrawn"), WIRRAL, committed=False)
    adoptions = [(date(2023, 4, 1), D("10.90")), (date(2024, 4, 1), D("12.00"))]
    a.set_living_wage_commitment(on(date(2023, 4, 1), "own dates"), WIRRAL, adoptions=adoptions)
    a.set_profit_cap(on(date(2023, 4, 1), "cap lifted"), WIRRAL, None)
    def hfd(day: date, reason: str) -> Envelope:  # Herefordshire's own accountant changes Herefordshire
        return Envelope(HEREFORDSHIRE_ACCOUNTANT, day, reason)

    a.end_award(hfd(date(2019, 4, 1), "provider left"), HEREFORDSHIRE, "hfd-provider-b", "zone-c")
    a.award_provider(hfd(date(2019, 4, 1), "replacement"), HEREFORDSHIRE, "hfd-provider-c", "zone-c", "primary")
    a.add_service_type(hfd(date(2019, 4, 1), "reablement joins"), HEREFORDSHIRE, "reablement")
    a.extend_agreement_term(hfd(date(2022, 1, 1), "extension"), HEREFORDSHIRE, date(2024, 6, 30))
    return WIRRAL, HEREFORDSHIRE


def _dates_around_each_change(agreement) -> list[date]:
    """The day before, of and after each change, each award's last day and each term's end: where rules turn."""
    turns = {c.effective_date for c in agreement.changes}
    turns |= {award.to_date for award in agreement.terms().awards if award.to_date}
    turns |= {end for _, end in agreement.terms().extensions} | {agreement.original_term_end}
    return sorted({day + timedelta(days=n) for day in turns for n in (-1, 0, 1)})


@pytest.mark.demo
def test_the_agreement_as_at_any_date_from_the_read_models_is_the_aggregates(book):
    for code in later_changes(book):
        agreement = book.records.agreement(code)
        assert views.agreement_terms(book.read_engine, code) == agreement.terms()  # the same facts, in the same order
        for day in _dates_around_each_change(agreement):
            sheet = views.agreement_sheet(book.read_engine, code, day)
            year = str(financial_year_of(day))
            assert sheet.agreement == agreement.as_at(day), (code, day)
            assert list(sheet.contributions.items()) == list(agreement.contributions(year).items()), (code, day)
            pooled = str(agreement.pooled_budget(year)) if agreement.contributions(year) else None  # none: absent
            assert (str(sheet.pooled_budget) if sheet.pooled_budget is not None else None) == pooled, (code, day)


@pytest.mark.demo
def test_the_agreement_history_from_the_read_models_is_the_aggregates(book):
    for code in later_changes(book):
        assert views.agreement_history(book.read_engine, code) == list(book.records.agreement(code).changes)
    with pytest.raises(NotFound, match="agreement 'nowhere' is not registered"):
        views.agreement_history(book.read_engine, "nowhere")


def _aggregate_lookup(agreement, postcode: str, on: date) -> PostcodeLookup:
    """What the aggregate says of a postcode on a date (as the use case used to compose it)."""
    location = agreement.zone_for_postcode(postcode, on)
    try:
        primary = agreement.primary_provider(location.zone, on)
    except NotFound:
        primary = None
    return PostcodeLookup(
        agreement=agreement.code,
        district=location.district,
        zone=location.zone,
        zone_name=location.zone_name,
        on=on,
        primary_provider=primary,
        awards=tuple(a for a in agreement.awards_on(on) if a.zone == location.zone),
        lots=tuple(lot.code for lot in agreement.lots_covering(location.zone, on)),
    )


def _answer(ask):
    try:
        return ask()
    except OpenbookError as refused:
        return type(refused), str(refused)


@pytest.mark.demo
def test_postcode_lookup_from_the_read_models_is_the_aggregates(book):
    for code in later_changes(book):
        agreement = book.records.agreement(code)
        districts = [d for zone in agreement.terms().zones for d in zone.districts]
        postcodes = [f"{d} 1AB" for d in districts] + ["CH99 1AB", "SY1 1AA", "not a postcode"]
        for day in _dates_around_each_change(agreement):
            for postcode in postcodes:
                expected = _answer(lambda: _aggregate_lookup(agreement, postcode, day))
                assert _answer(lambda: views.locate_postcode(book.read_engine, code, postcode, day)) == expected, (
                    code, postcode, day
                )
    with pytest.raises(NotFound, match="agreement 'nowhere' is not registered"):
        views.locate_postcode(book.read_engine, "nowhere", "CH45 3AB", START)


def test_an_audit_body_appointed_reads_the_agreement_until_its_appointment_ends(book, openbook):
    """``openbook agreements appoint-auditor`` / ``end-auditor-appointment`` / ``auditors``: the appointment is the
    agreement's, and while it lasts the audit body's auditors read every provider's figures there, nowhere else."""
    from domain.envelope import Actor
    from ledger.authorisation import AccountantAccess, access_for
    from tests.support import ok, ok_json

    wirral(book)
    system = Envelope(SYSTEM, START)
    book.organisations.register_organisation(system, "county-audit", "County Audit", "audit-body")
    book.organisations.register_user(system, "lead@audit.example", "Lead Auditor", "county-audit", ["auditor"])
    lead = Actor("lead@audit.example", "county-audit")
    with pytest.raises(NotFound):  # not appointed: no part in the agreement
        access_for(book.records, lead, WIRRAL)

    ok(openbook("agreements", "appoint-auditor", WIRRAL, "county-audit", "--effective", "2019-04-01",
                "--reason", "open-book audit"))  # fmt: skip
    with pytest.raises(RuleBroken, match="already appointed"):
        book.agreements.appoint_auditor(Envelope(SYSTEM, START, "again"), WIRRAL, "county-audit")
    with pytest.raises(InvalidInput, match="reason"):  # every change says why
        book.agreements.appoint_auditor(Envelope(SYSTEM, START), WIRRAL, "county-audit")
    with pytest.raises(OpenbookError, match="audit_body"):  # a commissioner is no audit body
        book.agreements.appoint_auditor(Envelope(SYSTEM, START, "audit"), WIRRAL, "wirral-ccg")
    assert isinstance(access_for(book.records, lead, WIRRAL), AccountantAccess)

    ok(openbook("agreements", "end-auditor-appointment", WIRRAL, "county-audit", "--effective", "2022-04-01",
                "--reason", "audit re-tendered"))  # fmt: skip
    with pytest.raises(NotFound):
        access_for(book.records, lead, WIRRAL)
    with pytest.raises(RuleBroken, match="ran to 2022-03-31; a new one starts after it"):
        book.agreements.appoint_auditor(Envelope(SYSTEM, date(2019, 4, 1), "again"), WIRRAL, "county-audit")
    [shown] = ok_json(openbook("agreements", "auditors", WIRRAL, "--json"))
    assert {k: shown[k] for k in ("audit_body", "from_date", "to_date")} == {
        "audit_body": "county-audit", "from_date": "2019-04-01", "to_date": "2022-03-31"}  # fmt: skip
    assert "county-audit  from 2019-04-01  to 2022-03-31" in ok(openbook("agreements", "auditors", WIRRAL)).stdout
    assert any("county-audit's appointment to audit the agreement ended; last day 2022-03-31" == c.what
               for c in views.agreement_history(book.read_engine, WIRRAL))  # fmt: skip
