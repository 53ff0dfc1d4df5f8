"""Agreements as at any date: Wirral's four zones, its January 2019 award, and what changed after.

Figures are from DOMAIN.md. Invented for the tests (and said so where used):
the 31 March 2024 end of term and its extension, the 2021 award changes, the
KPI, the profit cap and the Wigan adoption dates.
"""

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.aggregate import Change, natural_id
from domain.agreements.agreement import Agreement
from domain.agreements.postcodes import postcode_district
from domain.agreements.terms import AgreementKind, AwardTier, KpiDirection, PaymentBasis, ServiceType
from domain.envelope import Actor, Envelope
from domain.errors import InvalidInput, NotFound, RuleBroken
from domain.periods import FinancialYear
from tests.support import replay

ACCOUNTANT = Actor("finance@wirral.gov.uk", "wirral-council")
START = date(2019, 4, 1)  # "within two years of the 1 April 2019 start"
END = date(2024, 3, 31)  # invented: a five-year term


def on(day: date, reason: str | None = "January 2019 award") -> Envelope:
    return Envelope(actor=ACCOUNTANT, effective_date=day, reason=reason)


WIRRAL_ZONES = {
    # Zone names by geography (DOMAIN.md: an inference, fine for demo data).
    "zone-1": ("Birkenhead", ["CH41", "CH42", "CH43"]),
    "zone-2": ("Wallasey", ["CH44", "CH45", "CH46"]),
    "zone-3": ("South Wirral", ["CH60", "CH62", "CH63"]),
    "zone-4": ("West Wirral", ["CH47", "CH48", "CH49", "CH61"]),
}

# The January 2019 award, by zone: (primary, secondary).
WIRRAL_AWARD = {
    "zone-1": ("premier-care", "wirral-home-care-alliance"),
    "zone-2": ("premier-care", "wirral-home-care-alliance"),
    "zone-3": ("haven-care", "carewatch"),
    "zone-4": ("wirral-home-care-alliance", "haven-care"),
}


def wirral() -> Agreement:
    agreement = Agreement.register(
        on(date(2019, 1, 14), None), "wirral-homecare", "Wirral homecare alliance", AgreementKind.ALLIANCE, START, END
    )
    agreement.join_commissioner(on(START), "wirral-council", "council")
    agreement.join_commissioner(on(START), "wirral-ccg", "icb")
    agreement.set_contribution(on(START, "section 75 pooled budget"), "wirral-council", FinancialYear(2019), D("7200000.00"))
    agreement.set_contribution(on(START, "section 75 pooled budget"), "wirral-ccg", "2019-20", D("4800000.00"))
    for code, (name, districts) in WIRRAL_ZONES.items():
        agreement.add_zone(on(START), code, name, districts)
    for service in ServiceType:
        agreement.add_service_type(on(START), service)
    for zone, (primary, secondary) in WIRRAL_AWARD.items():
        agreement.award_provider(on(START), primary, zone, AwardTier.PRIMARY)
        agreement.award_provider(on(START), secondary, zone, "secondary")
    for number in range(1, 9):  # "plus 8 peripheral providers across Wirral"
        for zone in WIRRAL_ZONES:
            agreement.award_provider(on(START), f"peripheral-{number}", zone, AwardTier.PERIPHERAL)
    return agreement




# -- registration and the pooled budget ----------------------------------------------


def test_registration_gives_a_deterministic_id():
    agreement = wirral()
    assert agreement.id == natural_id("agreement", "wirral-homecare")
    assert agreement.kind is AgreementKind.ALLIANCE
    assert agreement.payment_basis_on(START) is PaymentBasis.ACTUAL  # the default


def test_pooled_budget_is_the_sum_of_contributions():
    # "an estimated combined budget of £12m": council £7.2m + CCG £4.8m (60/40).
    agreement = wirral()
    assert agreement.contributions("2019-20") == {"wirral-council": D("7200000.00"), "wirral-ccg": D("4800000.00")}
    assert agreement.pooled_budget("2019-20") == D("12000000.00")
    assert agreement.pooled_budget("2020-21") == D("0.00")


def test_a_contribution_revision_replaces_it_and_is_recorded():
    agreement = wirral()
    agreement.set_contribution(on(date(2019, 9, 1), "CCG budget revised"), "wirral-ccg", "2019-20", D("5000000.00"))
    assert agreement.pooled_budget("2019-20") == D("12200000.00")
    assert agreement.changes[-1].reason == "CCG budget revised"


def test_contribution_rules_name_the_field():
    agreement = wirral()
    with pytest.raises(NotFound, match="commissioner: wirral-trust"):
        agreement.set_contribution(on(START), "wirral-trust", "2019-20", D("1.00"))
    with pytest.raises(InvalidInput, match="financial_year: '2019-21'"):
        agreement.set_contribution(on(START), "wirral-ccg", "2019-21", D("1.00"))
    with pytest.raises(InvalidInput, match="amount: -1.00 must be at least 0"):
        agreement.set_contribution(on(START), "wirral-ccg", "2019-20", D("-1.00"))
    with pytest.raises(InvalidInput, match="amount: .* more than 2 decimal places"):
        agreement.set_contribution(on(START), "wirral-ccg", "2019-20", D("1.005"))
    with pytest.raises(TypeError, match="amount.*float"):
        agreement.set_contribution(on(START), "wirral-ccg", "2019-20", 4800000.0)
    with pytest.raises(RuleBroken, match="commissioner: wirral-ccg is already"):
        agreement.join_commissioner(on(START), "wirral-ccg", "icb")
    with pytest.raises(InvalidInput, match="commissioner_kind: 'provider'"):
        agreement.join_commissioner(on(START), "wirral-trust", "provider")


def test_registration_rules_name_the_field():
    with pytest.raises(InvalidInput, match="term_end: 2019-03-31 is before"):
        Agreement.register(on(START), "wirral-homecare", "Wirral", "alliance", START, date(2019, 3, 31))
    with pytest.raises(InvalidInput, match="kind: 'block'"):
        Agreement.register(on(START), "wirral-homecare", "Wirral", "block", START, END)
    with pytest.raises(InvalidInput, match="code: 'Wirral Homecare'"):
        Agreement.register(on(START), "Wirral Homecare", "Wirral", "alliance", START, END)
    with pytest.raises(InvalidInput, match="name: must not be blank"):
        Agreement.register(on(START), "wirral-homecare", "  ", "alliance", START, END)
    with pytest.raises(InvalidInput, match="payment_basis: 'rounded'"):
        Agreement.register(on(START), "wirral-homecare", "Wirral", "alliance", START, END, "rounded")


def test_every_change_needs_a_reason():
    agreement = wirral()
    with pytest.raises(InvalidInput, match="reason: a new zone needs a reason"):
        agreement.add_zone(on(START, None), "zone-5", "Hoylake", ["CH99"])
    with pytest.raises(InvalidInput, match="reason: an extension needs a reason"):
        agreement.extend_term(on(date(2023, 6, 1), "  "), date(2026, 3, 31))


# -- zones and postcodes -------------------------------------------------------------


@pytest.mark.parametrize(
    "postcode, district, zone",
    [
        ("CH41 5AB", "CH41", "zone-1"),
        ("ch43 7xy", "CH43", "zone-1"),
        ("CH453AB", "CH45", "zone-2"),  # unspaced: the inward code is the last three characters
        ("  CH62   4AA ", "CH62", "zone-3"),
        ("CH61", "CH61", "zone-4"),  # a district on its own
    ],
)
def test_postcode_lookup(postcode, district, zone):
    location = wirral().zone_for_postcode(postcode, date(2019, 6, 1))
    assert (location.district, location.zone) == (district, zone)
    assert location.zone_name == WIRRAL_ZONES[zone][0]


def test_postcode_district_parsing():
    assert postcode_district("CH453AB") == "CH45"
    assert postcode_district("M11AA") == "M1"
    assert postcode_district("EC1A 1BB") == "EC1A"
    assert postcode_district("W1A1AA") == "W1A"


def test_unknown_district_is_refused_naming_only_the_district():
    with pytest.raises(NotFound) as refused:
        wirral().zone_for_postcode("CH64 9ZZ", date(2019, 6, 1))
    message = str(refused.value)
    assert "postcode district CH64 is not in any zone of wirral-homecare on 2019-06-01" in message
    assert "9ZZ" not in message  # the full postcode may be someone's home
    assert "CH41" not in message  # nor does it list the zones


def test_malformed_postcode_is_refused_without_repeating_it():
    with pytest.raises(InvalidInput, match="^postcode: not a UK postcode") as refused:
        wirral().zone_for_postcode("12 Acacia Avenue", date(2019, 6, 1))
    assert "Acacia" not in str(refused.value)


def test_a_zone_added_later_is_unknown_before_its_date():
    agreement = wirral()
    agreement.add_zone(on(date(2020, 10, 1), "Neston added to the alliance"), "zone-5", "Neston", ["CH64"])
    assert agreement.zone_for_postcode("CH64 9ZZ", date(2020, 10, 1)).zone == "zone-5"
    with pytest.raises(NotFound, match="CH64 is not in any zone of wirral-homecare on 2020-09-30"):
        agreement.zone_for_postcode("CH64 9ZZ", date(2020, 9, 30))


def test_zone_rules_name_the_field_or_value():
    agreement = wirral()
    with pytest.raises(RuleBroken, match="districts: CH45 already in zone zone-2"):
        agreement.add_zone(on(START), "zone-5", "Overlap", ["CH45", "CH64"])
    with pytest.raises(RuleBroken, match="zone: zone-1 already exists"):
        agreement.add_zone(on(START), "zone-1", "Again", ["CH64"])
    with pytest.raises(InvalidInput, match="districts: 'CH 64' is not a postcode district"):
        agreement.add_zone(on(START), "zone-5", "Neston", ["CH 64"])
    with pytest.raises(InvalidInput, match="districts: CH64 listed more than once"):
        agreement.add_zone(on(START), "zone-5", "Neston", ["CH64", "ch64"])
    with pytest.raises(InvalidInput, match="districts: a zone needs at least one"):
        agreement.add_zone(on(START), "zone-5", "Neston", [])
    with pytest.raises(InvalidInput, match="districts: give a list"):
        agreement.add_zone(on(START), "zone-5", "Neston", "CH64")


# -- awards ------------------------------------------------------------------------------


def test_primary_providers_from_the_january_2019_award():
    agreement = wirral()
    day = date(2019, 6, 1)
    assert {zone: agreement.primary_provider(zone, day) for zone in WIRRAL_ZONES} == {
        zone: primary for zone, (primary, _) in WIRRAL_AWARD.items()
    }
    awards = agreement.awards_on(day)
    assert len(awards) == 4 * 2 + 8 * 4
    assert {a.provider for a in awards if a.tier is AwardTier.PERIPHERAL} == {f"peripheral-{n}" for n in range(1, 9)}
    assert agreement.awards_on(date(2019, 3, 31)) == ()


def test_lookup_after_an_award_ended():
    # Invented: Haven Care's primary award of South Wirral ends with effect from 1 April 2021.
    agreement = wirral()
    agreement.end_award(on(date(2021, 4, 1), "provider gave notice"), "haven-care", "zone-3")
    assert agreement.primary_provider("zone-3", date(2021, 3, 31)) == "haven-care"
    with pytest.raises(NotFound, match="zone: zone-3 of wirral-homecare has no primary provider on 2021-04-01"):
        agreement.primary_provider("zone-3", date(2021, 4, 1))
    # The zone outlives the award: the postcode still finds it.
    assert agreement.zone_for_postcode("CH62 4AA", date(2021, 4, 1)).zone == "zone-3"
    ended = [a for a in agreement.awards_on(date(2021, 3, 31)) if a.provider == "haven-care" and a.zone == "zone-3"]
    assert ended[0].to_date == date(2021, 3, 31)
    assert "last day 2021-03-31" in agreement.changes[-1].what
    assert agreement.changes[-1].reason == "provider gave notice"


def test_awards_during_a_period_are_those_in_force_on_any_day_of_it():
    # Invented: Haven Care's South Wirral award ends with effect from 1 April 2021 (last day 31 March);
    # Carewatch is promoted to primary from that day.
    agreement = wirral()
    agreement.end_award(on(date(2021, 4, 1), "provider gave notice"), "haven-care", "zone-3")
    agreement.end_award(on(date(2021, 4, 1), "promoted to primary"), "carewatch", "zone-3")
    agreement.award_provider(on(date(2021, 4, 1), "promoted to primary"), "carewatch", "zone-3", "primary")

    def zone_3(first: date, last: date) -> list[tuple[str, str, date]]:
        found = agreement.awards_during(first, last)
        return [(a.provider, a.tier.value, a.from_date) for a in found if a.zone == "zone-3" and a.tier != "peripheral"]

    january_2019 = date(2019, 4, 1)
    # 2020-21 Q4 ends on the last day of the old awards: the new one has not begun.
    assert zone_3(date(2021, 1, 1), date(2021, 3, 31)) == [
        ("haven-care", "primary", january_2019), ("carewatch", "secondary", january_2019),
    ]  # fmt: skip
    # 2021-22 Q1 begins the day after: only the promotion is in force.
    assert zone_3(date(2021, 4, 1), date(2021, 6, 30)) == [("carewatch", "primary", date(2021, 4, 1))]
    # A year spanning the change sees all three, in the order awarded.
    assert zone_3(date(2020, 10, 1), date(2021, 9, 30)) == [
        ("haven-care", "primary", january_2019), ("carewatch", "secondary", january_2019),
        ("carewatch", "primary", date(2021, 4, 1)),
    ]  # fmt: skip
    # One day is a period too, and every award of it is the awards on that day.
    day = date(2021, 3, 31)
    assert agreement.awards_during(day, day) == agreement.awards_on(day)
    assert agreement.awards_during(date(2018, 4, 1), date(2019, 3, 31)) == ()


def test_a_secondary_provider_promoted_to_primary():
    # Invented: Carewatch takes over South Wirral as primary from 1 April 2021.
    agreement = wirral()
    agreement.end_award(on(date(2021, 4, 1), "provider gave notice"), "haven-care", "zone-3")
    agreement.end_award(on(date(2021, 4, 1), "promoted to primary"), "carewatch", "zone-3")
    agreement.award_provider(on(date(2021, 4, 1), "promoted to primary"), "carewatch", "zone-3", "primary")
    assert agreement.primary_provider("zone-3", date(2021, 3, 31)) == "haven-care"
    assert agreement.primary_provider("zone-3", date(2021, 4, 1)) == "carewatch"


def test_award_rules_name_the_field_or_value():
    agreement = wirral()
    with pytest.raises(RuleBroken, match="tier: zone zone-1 already has premier-care as primary"):
        agreement.award_provider(on(date(2020, 1, 1), "x"), "haven-care", "zone-1", "primary")
    with pytest.raises(RuleBroken, match="provider: carewatch already holds an award in zone zone-3"):
        agreement.award_provider(on(date(2020, 1, 1), "x"), "carewatch", "zone-3", "peripheral")
    with pytest.raises(NotFound, match="zone: zone-9 is not a zone of wirral-homecare"):
        agreement.award_provider(on(START), "carewatch", "zone-9", "primary")
    with pytest.raises(RuleBroken, match="date: 2024-04-01 is outside the term"):
        agreement.award_provider(on(date(2024, 4, 1)), "new-provider", "zone-1", "peripheral")
    with pytest.raises(InvalidInput, match="tier: 'lead'"):
        agreement.award_provider(on(START), "new-provider", "zone-1", "lead")
    with pytest.raises(InvalidInput, match="to_date: 2019-03-01 is before the award starts"):
        agreement.award_provider(on(START), "new-provider", "zone-1", "peripheral", to_date=date(2019, 3, 1))
    with pytest.raises(NotFound, match="provider: carewatch holds no award in zone zone-1 in force on 2020-01-01"):
        agreement.end_award(on(date(2020, 1, 1), "x"), "carewatch", "zone-1")
    with pytest.raises(RuleBroken, match="provider: premier-care's award of zone zone-1 starts on 2019-04-01"):
        agreement.end_award(on(START, "x"), "premier-care", "zone-1")


def test_a_fixed_term_award_ends_by_itself():
    agreement = wirral()
    agreement.award_provider(on(date(2019, 10, 1), "winter pressures"), "winter-care", "zone-1", "peripheral",
                             to_date=date(2020, 3, 31))
    assert "winter-care" in {a.provider for a in agreement.awards_on(date(2020, 3, 31))}
    assert "winter-care" not in {a.provider for a in agreement.awards_on(date(2020, 4, 1))}


# -- term, payment basis and the agreement as at a date ------------------------------


def test_term_extension():
    agreement = wirral()
    assert agreement.is_in_term(END) and not agreement.is_in_term(date(2024, 4, 1))
    assert not agreement.is_in_term(date(2019, 3, 31))
    agreement.extend_term(on(date(2023, 10, 2), "two-year extension option taken"), date(2026, 3, 31))
    assert agreement.is_in_term(date(2025, 6, 1))
    assert agreement.term_end == date(2026, 3, 31)
    assert agreement.as_at(date(2023, 10, 1)).term_end == END  # before the extension was agreed
    assert agreement.as_at(date(2023, 10, 2)).term_end == date(2026, 3, 31)
    with pytest.raises(RuleBroken, match="new_end: 2025-03-31 does not extend the term, which already ends on 2026-03-31"):
        agreement.extend_term(on(date(2024, 1, 1), "x"), date(2025, 3, 31))


@pytest.mark.parametrize("basis", list(PaymentBasis))
def test_each_payment_basis_applies_from_its_date(basis):
    agreement = wirral()
    agreement.set_payment_basis(on(date(2020, 4, 1), "electronic call monitoring live"), basis)
    assert agreement.payment_basis_on(date(2020, 3, 31)) is PaymentBasis.ACTUAL
    assert agreement.payment_basis_on(date(2020, 4, 1)) is basis
    assert agreement.as_at(date(2021, 1, 1)).payment_basis is basis


def test_payment_basis_outside_the_term_is_refused():
    with pytest.raises(RuleBroken, match="date: 2024-04-01 is outside the term of wirral-homecare"):
        wirral().payment_basis_on(date(2024, 4, 1))
    with pytest.raises(InvalidInput, match="payment_basis: 'rounded'"):
        wirral().set_payment_basis(on(START, "x"), "rounded")


def test_kpis_profit_cap_and_the_view_as_at_a_date():
    agreement = wirral()
    # Invented KPI: missed visits per 1,000 planned, at most 1.
    agreement.define_kpi(on(START, "contract KPI schedule"), "missed-visits", "Missed visits",
                         "missed visits per 1,000 planned", D("1"), KpiDirection.LOWER_IS_BETTER)
    agreement.define_kpi(on(date(2020, 4, 1), "tightened at annual review"), "missed-visits", "Missed visits",
                         "missed visits per 1,000 planned", D("0.5"), "lower-is-better")
    agreement.set_profit_cap(on(date(2020, 4, 1), "open-book audit clause"), D("0.05"))
    before, after = agreement.as_at(date(2020, 3, 31)), agreement.as_at(date(2020, 4, 1))
    assert [k.target for k in before.kpis] == [D("1")] and [k.target for k in after.kpis] == [D("0.5")]
    assert before.kpis[0].is_met(D("0.8")) and not after.kpis[0].is_met(D("0.8"))
    assert before.max_profit_margin is None and after.max_profit_margin == D("0.0500")
    assert len(after.zones) == 4 and after.in_term and after.commissioners == ("wirral-council", "wirral-ccg")
    assert set(after.service_types) == set(ServiceType)
    with pytest.raises(InvalidInput, match="max_margin: 1.5000 must be at most 1"):
        agreement.set_profit_cap(on(START, "x"), D("1.5"))
    with pytest.raises(InvalidInput, match="direction: 'up'"):
        agreement.define_kpi(on(START, "x"), "k1", "K", "m", D("1"), "up")


def test_real_living_wage_commitment_with_its_own_adoption_dates():
    # Wigan's ethical framework commits to the Real Living Wage; adoption dates invented.
    wigan = Agreement.register(on(date(2018, 9, 1), None), "wigan-ethical", "Wigan ethical framework",
                               "framework", date(2018, 10, 1), date(2023, 9, 30))
    assert wigan.real_living_wage_on(date(2019, 6, 1)) is None
    wigan.set_living_wage_commitment(
        on(date(2019, 1, 7), "ethical framework commitment"),
        adoptions=[(date(2020, 1, 6), D("9.30")), (date(2019, 1, 7), D("9.00"))],
    )
    assert wigan.real_living_wage_on(date(2019, 1, 6)) is None
    assert wigan.real_living_wage_on(date(2019, 1, 7)) == D("9.00")
    assert wigan.real_living_wage_on(date(2020, 1, 6)) == D("9.30")
    assert "£9.00 from 2019-01-07, £9.30 from 2020-01-06" in wigan.changes[-1].what
    with pytest.raises(InvalidInput, match=r"adoptions\[1\].adopted_from: 2020-01-06 is listed twice"):
        wigan.set_living_wage_commitment(on(date(2020, 1, 1), "x"),
                                         adoptions=[(date(2020, 1, 6), D("9.30")), (date(2020, 1, 6), D("9.50"))])


def test_real_living_wage_commitment_on_the_default_dates():
    agreement = wirral()
    agreement.set_living_wage_commitment(on(date(2021, 4, 1), "alliance adopts the Real Living Wage"))
    assert agreement.real_living_wage_on(date(2021, 4, 1)) == D("9.50")  # announced 2020, adopted April 2021
    agreement.set_living_wage_commitment(on(date(2022, 4, 1), "commitment withdrawn"), committed=False)
    assert agreement.real_living_wage_on(date(2022, 4, 1)) is None


def test_check_rate_key():
    agreement = wirral()
    agreement.check_rate_key("standard", "zone-1", START)
    with pytest.raises(NotFound, match="zone: zone-9"):
        agreement.check_rate_key("standard", "zone-9", START)
    with pytest.raises(InvalidInput, match="service: 'domiciliary' is not one of standard, complex"):
        agreement.check_rate_key("domiciliary", "zone-1", START)


# -- lots that packages join by need -----------------------------------------------------------


def herefordshire() -> Agreement:
    """Herefordshire's 'O' zones and 'D' (complex) lots; the districts are invented for the test."""
    start = date(2017, 4, 1)
    end = date(2022, 6, 30)
    agreement = Agreement.register(on(start, None), "hfd", "Help to Live at Home", "framework", start, end)
    for zone, districts in {"zone-a": ["HR5", "HR6"], "zone-b": ["HR7", "HR8"], "zone-c": ["HR1", "HR4"]}.items():
        agreement.add_zone(on(start, "pathway O"), zone, zone.title(), districts)
    agreement.add_lot(on(start, "pathway D: a separate lot"), "complex-north", "Complex A & B", ["zone-a", "zone-b"])
    agreement.add_service_type(on(start, "pathway D"), "complex")
    return agreement


def test_a_lot_spans_zones_without_districts_of_its_own():
    agreement = herefordshire()
    day = date(2017, 7, 1)
    lot = agreement.as_at(day).zones[-1]
    assert (lot.code, lot.districts, lot.covers, lot.is_lot) == ("complex-north", (), ("zone-a", "zone-b"), True)
    assert agreement.zone_for_postcode("HR6 8AA", day).zone == "zone-a"  # a postcode's zone is still unique
    assert [z.code for z in agreement.lots_covering("zone-a", day)] == ["complex-north"]
    assert agreement.lots_covering("zone-c", day) == ()
    agreement.check_rate_key("complex", "complex-north", day)  # rates and awards treat a lot like a zone
    agreement.award_provider(on(day, "award"), "hfd-provider-c", "complex-north", "primary")
    assert agreement.primary_provider("complex-north", day) == "hfd-provider-c"
    assert agreement.changes[4].what == "lot complex-north (Complex A & B) added, covering zones zone-a, zone-b"
    assert replay(agreement).as_at(day) == agreement.as_at(day)


def test_lot_rules_name_the_field_or_value():
    agreement = herefordshire()
    day = date(2017, 4, 1)
    with pytest.raises(InvalidInput, match="reason: a new lot needs a reason"):
        agreement.add_lot(on(day, None), "complex-south", "Complex C", ["zone-c"])
    with pytest.raises(RuleBroken, match="lot: complex-north already exists"):
        agreement.add_lot(on(day, "again"), "complex-north", "Again", ["zone-c"])
    with pytest.raises(NotFound, match="zone: zone-z is not a zone of hfd"):
        agreement.add_lot(on(day, "typo"), "complex-south", "Complex C", ["zone-z"])
    with pytest.raises(RuleBroken, match="covers: complex-north is a lot"):
        agreement.add_lot(on(day, "nested"), "complex-all", "All", ["complex-north", "zone-c"])
    with pytest.raises(InvalidInput, match="covers: a lot covers at least one zone"):
        agreement.add_lot(on(day, "empty"), "complex-south", "Complex C", [])
    with pytest.raises(InvalidInput, match="covers: zone-c listed more than once"):
        agreement.add_lot(on(day, "twice"), "complex-south", "Complex C", ["zone-c", "zone-c"])


# -- the history replays exactly ------------------------------------------------------------


def test_replayed_agreement_answers_the_same():
    agreement = wirral()
    agreement.extend_term(on(date(2023, 10, 2), "extension"), date(2026, 3, 31))
    agreement.end_award(on(date(2021, 4, 1), "notice"), "haven-care", "zone-3")
    agreement.set_payment_basis(on(date(2020, 4, 1), "ECM"), "actual-capped")
    agreement.set_profit_cap(on(date(2020, 4, 1), "audit"), D("0.05"))
    agreement.set_living_wage_commitment(on(date(2021, 4, 1), "RLW"), adoptions=[(date(2021, 4, 1), D("9.50"))])
    agreement.define_kpi(on(START, "KPIs"), "missed-visits", "Missed visits", "per 1,000", D("0.5"), "lower-is-better")
    copy = replay(agreement)
    assert copy.id == agreement.id and copy.version == agreement.version
    for day in (START, date(2020, 4, 1), date(2021, 4, 1), date(2025, 1, 1)):
        assert copy.as_at(day) == agreement.as_at(day)
    assert copy.changes == agreement.changes
    assert copy.contributions("2019-20") == agreement.contributions("2019-20")
    assert copy.zone_for_postcode("CH453AB", date(2021, 4, 1)).zone == "zone-2"


def test_each_history_line_is_its_events_own_words_and_the_terms_replay():
    """The read model writes ``Change.of(event.envelope, event.what())``: the very lines the aggregate logs."""
    agreement = wirral()
    agreement.extend_term(on(date(2023, 10, 2), "extension"), date(2026, 3, 31))
    agreement.end_award(on(date(2021, 4, 1), "notice"), "haven-care", "zone-3")
    agreement.set_living_wage_commitment(on(date(2021, 4, 1), "RLW"), adoptions=[(date(2021, 4, 1), D("9.50"))])
    agreement.set_living_wage_commitment(on(date(2022, 4, 1), "withdrawn"), committed=False)
    agreement.set_profit_cap(on(date(2020, 4, 1), "audit"), None)
    copy = replay(agreement)  # collects the pending events
    assert copy.terms() == agreement.terms()
    again = wirral()
    again.extend_term(on(date(2023, 10, 2), "extension"), date(2026, 3, 31))
    again.set_living_wage_commitment(on(date(2022, 4, 1), "withdrawn"), committed=False)
    assert [Change.of(e.envelope, e.what()) for e in again.collect_events()] == list(again.changes)
    assert again.changes[0] == Change(
        date(2019, 1, 14),
        "alliance agreement wirral-homecare (Wirral homecare alliance) registered, term 2019-04-01 to 2024-03-31, "
        "visits paid on actual minutes",
        None,
        "finance@wirral.gov.uk (wirral-council)",
    )


@given(
    st.sampled_from([d for _, ds in WIRRAL_ZONES.values() for d in ds]),
    st.integers(min_value=0, max_value=9),
    st.text(alphabet="ABDEFGHJLNPQRSTUWXYZ", min_size=2, max_size=2),
    st.sampled_from(["{o} {i}", "{o}{i}", " {o}  {i} ", "{lo} {li}"]),
)
def test_spaced_and_unspaced_postcodes_find_the_same_zone(district, digit, letters, form):
    inward = f"{digit}{letters}"
    postcode = form.format(o=district, i=inward, lo=district.lower(), li=inward.lower())
    assert postcode_district(postcode) == district
