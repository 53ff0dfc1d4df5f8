"""Who may record what, command by command, on the demo: every recording command has its rule and keeps to it.

``ledger.authorisation.RULES`` names the rule of every recording command. Here
each command is tried on the demo ledger by a user its rule allows (it is
recorded) and by users it refuses — a role refused is ``not-allowed``; an
organisation with no part in the agreement, or another organisation's record,
is ``not-found`` — and a refused command records nothing. A use case whose
public method has no rule (or is not known to record nothing) fails
``test_every_public_method_of_every_use_case_is_a_ruled_command_or_a_question``.

The demo is loaded once per database for the module; the cases run in order
on it (later ones build on earlier ones only within their own group).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import cli
from demo.partnerships import HEREFORDSHIRE, WIRRAL
from demo.settlements import BANDS, CLAWBACK_SHARE, GAIN_CAP, LOSS_CAP
from domain.envelope import SYSTEM, Actor, Envelope
from domain.errors import OpenbookError
from ledger.authorisation import RULES
from ledger.bootstrap import Openbook, open_openbook
from ledger.files.cost_returns import template_csv
from ledger.usecases.rates import rate_line
from tests.integration.activity_setup import visit, write_csv
from tests.integration.returns_setup import filing
from tests.support import demo_copy, drop_database

#: The demo's users, by what they are.
WIRRAL_ADMIN = Actor("admin@wirral.example", "wirral-council")
COUNCIL = Actor("accountant@wirral.example", "wirral-council")
CCG = Actor("accountant@wirralccg.example", "wirral-ccg")
PREMIER = Actor("finance@premiercare.example", "premier-care")
HAVEN = Actor("finance@havencare.example", "haven-care")
ALLIANCE_MEMBER = Actor("finance@aspire.example", "aspire")  # a member of the Wirral Home Care Alliance
HEREFORDSHIRE_ACCOUNTANT = Actor("accountant@herefordshire.example", "herefordshire-council")  # not in Wirral
AUDITOR = Actor("auditor@audit.example", "partnership-audit")

ON = date(2020, 6, 1)

#: Public methods of the use cases that record nothing (questions, and helpers that hand a record to a
#: command that saves it), with why they need no rule. Every other public method must have one in RULES.
RECORDS_NOTHING = {
    "card_for_update": "hands the rate card to decide_rate_review, whose rule decides",
    "rate_card": "a question",
    "pricer": "a question",
    "rate_for": "a question",
    "price_visit": "a question",
    "rate_review": "a question",
    "cost_return": "a question",
    "filing_provider": "a question",
    "wage_floor_table": "a question",
    "plausibility_bounds": "a question",
    "referenced_chunks": "a question",
    "incentive_scheme": "a question",
    "pooled_budget": "a question",
    "accepted_returns": "a question",
    "settlement_inputs": "a question",
    "preview_settlement": "computes, records nothing; asks accountant_access for the reader",
    "settlements": "a question",
    "settlement": "a question",
}


def use_case_methods(book: Openbook) -> Iterator[tuple[str, str, Callable[..., Any]]]:
    """(area, method name, method) of every public method of every use-case object the composition root builds.

    ``security`` (passwords, sessions, the security log) and ``jobs`` (the background queue) are operational
    stores beside the ledger, not use cases: they record no event. A job's work records through the use cases,
    and ``jobs.enqueue`` asks the job kind's own rule first (tests/integration/test_jobs.py).
    """
    for area in dataclasses.fields(book):
        if area.name in ("ledger", "records", "security", "jobs"):
            continue
        for name, method in inspect.getmembers(getattr(book, area.name), inspect.ismethod):
            if not name.startswith("_"):
                yield area.name, name, method


def test_every_public_method_of_every_use_case_is_a_ruled_command_or_a_question(book):
    methods = list(use_case_methods(book))
    unruled = [f"{area}.{name}" for area, name, _ in methods if name not in RULES and name not in RECORDS_NOTHING]
    assert unruled == [], "give each recording command its rule in ledger/authorisation.py RULES"
    # A method taking who acts (an envelope, an actor) records — unless it is one of the few known not to.
    acting = {n for _, n, m in methods if {"envelope", "actor"} & set(inspect.signature(m).parameters)}
    assert acting - set(RULES) == {"card_for_update", "preview_settlement"}
    # A rule the use case never asks for is no rule: each command's method (or the helper it calls) names it.
    for area, name, method in methods:
        if name in RULES:
            source = inspect.getsource(method)
            assert f'"{name}"' in source and ("authorise(" in source or "self._change_" in source), f"{area}.{name}"
    assert set(RULES) <= {name for _, name, _ in methods}, "a rule for a command no use case has"


# -- the table ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A command tried by each refused user (expecting its kind, nothing recorded), then by one allowed user."""

    command: str
    run: Callable[[Openbook, Envelope, Path], Any]  # the ledger, who acts, a scratch folder
    allowed: Actor
    refused: dict[Actor, str]
    before: Callable[[Openbook], Any] | None = None  # set-up by the operator, run once before the tries
    outcome: str = "recorded"  # or the kind the domain gives once the rule has let the allowed user through
    on: date = ON
    reason: str = "recording rules test"
    extra: dict[str, Any] = field(default_factory=dict)


def system(day: date = ON, reason: str = "set-up") -> Envelope:
    return Envelope(SYSTEM, day, reason)


#: Refusals of the commissioners' accountants' commands under Wirral, by whom.
NOT_AN_ACCOUNTANT_OF_WIRRAL = {
    PREMIER: "not-allowed",  # a provider under the agreement: refused by role
    WIRRAL_ADMIN: "not-allowed",  # a commissioner's admin, not its accountant
    AUDITOR: "not-allowed",  # an auditor reads, never records
    HEREFORDSHIRE_ACCOUNTANT: "not-found",  # a council with no part in Wirral
}
#: Refusals of setting Wirral's terms up.
NOT_SETTING_WIRRAL_UP = {PREMIER: "not-allowed", AUDITOR: "not-allowed", HEREFORDSHIRE_ACCOUNTANT: "not-found"}
#: Refusals of Premier Care's own acts (its cost returns).
NOT_PREMIER = {
    HAVEN: "not-found",  # another provider's record
    COUNCIL: "not-allowed",  # a commissioner's accountant does not file for a provider
    AUDITOR: "not-allowed",
    HEREFORDSHIRE_ACCOUNTANT: "not-found",
}
#: Refusals of reviewing Premier Care's figures.
NOT_REVIEWING = {PREMIER: "not-allowed", WIRRAL_ADMIN: "not-allowed", HAVEN: "not-allowed",
                 HEREFORDSHIRE_ACCOUNTANT: "not-found", AUDITOR: "not-allowed"}  # fmt: skip


def file_return(period: str, submit: bool = True, **kwargs: Any) -> Callable[[Openbook], Any]:
    return lambda book: book.returns.draft_cost_return(
        system(), WIRRAL, "premier-care", period, filing(**kwargs), submit=submit
    )


def queried(period: str) -> Callable[[Openbook], Any]:
    def run(book: Openbook) -> None:
        file_return(period)(book)
        book.returns.query_cost_return(system(), WIRRAL, "premier-care", period, "mileage", "why so high?")

    return run


def accepted(period: str) -> Callable[[Openbook], Any]:
    def run(book: Openbook) -> None:
        file_return(period)(book)
        book.returns.accept_cost_return(system(), WIRRAL, "premier-care", period)

    return run


def latest(book: Openbook) -> int:
    return book.settlements.settlement(WIRRAL, "2019-20").sequence


def activity_file(tmp: Path) -> Path:
    return write_csv(tmp / "rules.csv", [visit("RULES-1", "premier-care", "CH41 2AB", "2019-04-03", 30, 30)])


def april_2020_visits(book: Openbook) -> None:
    """A visit in April 2020, so the month has priced activity to pay."""
    folder = Path(tempfile.mkdtemp())
    try:
        path = write_csv(folder / "april.csv", [visit("RULES-2", "premier-care", "CH41 2AB", "2020-04-02", 60, 60)])
        book.activity.import_activity(system(date(2020, 5, 1)), WIRRAL, path)
    finally:
        shutil.rmtree(folder)


CASES = [
    # organisations and users: any admin registers an organisation; an organisation's own admin keeps its register
    Case("register_organisation", lambda b, e, t: b.organisations.register_organisation(e, "new-care", "New Care", "provider"),
         WIRRAL_ADMIN, {COUNCIL: "not-allowed", PREMIER: "not-allowed", AUDITOR: "not-allowed"}),
    Case("rename_organisation", lambda b, e, t: b.organisations.rename_organisation(e, "wirral-council", "Wirral Borough Council"),
         WIRRAL_ADMIN, {COUNCIL: "not-allowed", PREMIER: "not-allowed"}),
    Case("rename_organisation", lambda b, e, t: b.organisations.rename_organisation(e, "wirral-ccg", "taken over"),
         SYSTEM, {WIRRAL_ADMIN: "not-found"}, extra={"why": "another council's name"}),
    Case("rename_organisation", lambda b, e, t: b.organisations.rename_organisation(e, "premier-care", "Premier Care Ltd"),
         SYSTEM, {WIRRAL_ADMIN: "not-allowed", PREMIER: "not-allowed"}, extra={"why": "a provider's: the operator"}),
    Case("register_user", lambda b, e, t: b.organisations.register_user(e, "clerk@wirral.example", "Clerk", "wirral-council",
                                                                      ["accountant"]),
         WIRRAL_ADMIN, {COUNCIL: "not-allowed", PREMIER: "not-allowed", AUDITOR: "not-allowed"}),
    Case("register_user", lambda b, e, t: b.organisations.register_user(e, "mole@premiercare.example", "Mole", "premier-care",
                                                                      ["provider"]),
         SYSTEM, {WIRRAL_ADMIN: "not-allowed", PREMIER: "not-allowed"}, extra={"why": "a provider's user: the operator"}),
    Case("register_user", lambda b, e, t: b.organisations.register_user(e, "spy@wirralccg.example", "Spy", "wirral-ccg",
                                                                      ["admin"]),
         SYSTEM, {WIRRAL_ADMIN: "not-found"}, extra={"why": "another council's user"}),
    Case("change_user_roles", lambda b, e, t: b.organisations.change_user_roles(e, "accountant@wirral.example",
                                                                              ["accountant", "auditor"]),
         WIRRAL_ADMIN, {COUNCIL: "not-allowed", PREMIER: "not-allowed"}),  # an accountant cannot promote itself
    Case("change_user_roles", lambda b, e, t: b.organisations.change_user_roles(e, "accountant@wirralccg.example", ["accountant", "auditor"]),
         SYSTEM, {WIRRAL_ADMIN: "not-found"}, extra={"why": "another council's user"}),
    Case("deactivate_user", lambda b, e, t: b.organisations.deactivate_user(e, "clerk@wirral.example"),
         WIRRAL_ADMIN, {COUNCIL: "not-allowed", PREMIER: "not-allowed", AUDITOR: "not-allowed"}),
    Case("deactivate_user", lambda b, e, t: b.organisations.deactivate_user(e, "spy@wirralccg.example"),
         SYSTEM, {WIRRAL_ADMIN: "not-found"}, extra={"why": "another council's user"}),
    # agreements: a council or CCG/ICB registers one; its commissioners (until one joins, its registrant) set it up
    Case("register_agreement", lambda b, e, t: b.agreements.register_agreement(e, "new-deal", "New deal", "framework",
                                                                             date(2024, 4, 1), date(2029, 3, 31)),
         HEREFORDSHIRE_ACCOUNTANT, {PREMIER: "not-allowed", AUDITOR: "not-allowed"}),
    # an audit body not appointed to an agreement has no part in it (not-found); appointed, it reads, never records
    Case("join_commissioner", lambda b, e, t: b.agreements.join_commissioner(e, "new-deal", "herefordshire-council"),
         HEREFORDSHIRE_ACCOUNTANT, {COUNCIL: "not-found", PREMIER: "not-found", AUDITOR: "not-found"}),
    Case("add_service_type", lambda b, e, t: b.agreements.add_service_type(e, "new-deal", "standard"),
         HEREFORDSHIRE_ACCOUNTANT, {COUNCIL: "not-found", AUDITOR: "not-found"}, on=date(2024, 4, 1)),
    # an admin of a commissioner appoints an audit body (a commissioner's accountant may not) and ends it
    Case("appoint_auditor", lambda b, e, t: b.agreements.appoint_auditor(e, WIRRAL, "second-audit"),
         WIRRAL_ADMIN, {**NOT_SETTING_WIRRAL_UP, COUNCIL: "not-allowed"},
         before=lambda b: b.organisations.register_organisation(system(), "second-audit", "Second Audit", "audit-body")),
    Case("end_auditor_appointment", lambda b, e, t: b.agreements.end_auditor_appointment(e, WIRRAL, "second-audit"),
         WIRRAL_ADMIN, {**NOT_SETTING_WIRRAL_UP, CCG: "not-allowed"}, on=date(2021, 4, 1)),
    Case("extend_agreement_term", lambda b, e, t: b.agreements.extend_agreement_term(e, WIRRAL, date(2025, 3, 31)),
         WIRRAL_ADMIN, NOT_SETTING_WIRRAL_UP),
    Case("set_contribution", lambda b, e, t: b.agreements.set_contribution(e, WIRRAL, "wirral-ccg", "2020-21", "4900000.00"),
         CCG, NOT_SETTING_WIRRAL_UP),
    Case("add_zone", lambda b, e, t: b.agreements.add_zone(e, WIRRAL, "zone-5", "Neston", ["CH64"]),
         WIRRAL_ADMIN, NOT_SETTING_WIRRAL_UP),
    Case("add_lot", lambda b, e, t: b.agreements.add_lot(e, WIRRAL, "complex-east", "Complex east", ["zone-1", "zone-2"]),
         COUNCIL, NOT_SETTING_WIRRAL_UP),
    Case("award_provider", lambda b, e, t: b.agreements.award_provider(e, WIRRAL, "carewatch", "zone-1", "peripheral"),
         WIRRAL_ADMIN, {**NOT_SETTING_WIRRAL_UP, HAVEN: "not-allowed"}),
    Case("end_award", lambda b, e, t: b.agreements.end_award(e, WIRRAL, "carewatch", "zone-1"),
         WIRRAL_ADMIN, NOT_SETTING_WIRRAL_UP, on=date(2021, 4, 1)),
    Case("define_kpi", lambda b, e, t: b.agreements.define_kpi(e, WIRRAL, "complaints", "Complaints", "per 1,000 visits",
                                                             "2", "lower-is-better"),
         COUNCIL, NOT_SETTING_WIRRAL_UP),
    Case("set_payment_basis", lambda b, e, t: b.agreements.set_payment_basis(e, WIRRAL, "actual-capped"),
         COUNCIL, NOT_SETTING_WIRRAL_UP, on=date(2023, 4, 1)),
    Case("set_living_wage_commitment", lambda b, e, t: b.agreements.set_living_wage_commitment(e, WIRRAL),
         COUNCIL, NOT_SETTING_WIRRAL_UP, on=date(2023, 4, 1)),
    Case("set_profit_cap", lambda b, e, t: b.agreements.set_profit_cap(e, WIRRAL, "0.05"),
         COUNCIL, NOT_SETTING_WIRRAL_UP, on=date(2023, 4, 1)),
    Case("set_plausibility_ranges",
         lambda b, e, t: b.agreements.set_plausibility_ranges(e, WIRRAL, {"travel_minutes_highest": "45"}),
         COUNCIL, NOT_SETTING_WIRRAL_UP, on=date(2023, 4, 1)),
    # rates and reviews: a commissioner's accountant; a provider comments for itself
    Case("publish_rate", lambda b, e, t: b.rates.publish_rate(e, WIRRAL, "standard", "zone-1", hourly_rate="99.00"),
         COUNCIL, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2023, 4, 1)),
    Case("withdraw_rate", lambda b, e, t: b.rates.withdraw_rate(e, WIRRAL, "standard", "zone-1"),
         COUNCIL, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2023, 10, 1)),
    Case("publish_rates", lambda b, e, t: b.rates.publish_rates(e, WIRRAL, [rate_line("standard", "zone-1", hourly_rate="17.00")]),
         CCG, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2023, 10, 1)),
    Case("open_rate_review", lambda b, e, t: b.reviews.open_rate_review(e, WIRRAL, "2022-23"),
         COUNCIL, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2022, 2, 1)),
    Case("propose_rates", lambda b, e, t: b.reviews.propose_rates(
        e, WIRRAL, "2022-23", [{"service": "standard", "zone": "zone-1", "hourly_rate": "16.90"}], "cost of care"),
         COUNCIL, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2022, 2, 7)),
    Case("propose_uplift", lambda b, e, t: b.reviews.propose_uplift(
        e, WIRRAL, "2022-23", median_cost="16.34", pay_share="0.65", inflation="0.03", zones=["zone-1"]),
         COUNCIL, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2022, 2, 8)),
    Case("comment_on_rate_review", lambda b, e, t: b.reviews.comment_on_rate_review(
        e, WIRRAL, "2022-23", "premier-care", "Fuel costs have risen."),
         PREMIER, {HAVEN: "not-found", COUNCIL: "not-allowed", HEREFORDSHIRE_ACCOUNTANT: "not-found",
                   AUDITOR: "not-allowed"}, on=date(2022, 2, 14)),  # fmt: skip
    Case("decide_rate_review", lambda b, e, t: b.reviews.decide_rate_review(
        e, WIRRAL, "2022-23", "rejected", reasons="no evidence yet"),
         COUNCIL, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2022, 3, 1)),
    # activity
    Case("import_activity", lambda b, e, t: b.activity.import_activity(e, WIRRAL, activity_file(t)),
         COUNCIL, {WIRRAL_ADMIN: "not-allowed", AUDITOR: "not-allowed", HEREFORDSHIRE_ACCOUNTANT: "not-found",
                   ALLIANCE_MEMBER: "not-allowed",  # the alliance's visits are the alliance's
                   HAVEN: "invalid-input"}, on=date(2019, 5, 6)),  # a provider's own file: Premier Care's row refused
    Case("import_activity", lambda b, e, t: b.activity.import_activity(e, WIRRAL, write_csv(
        t / "own.csv", [visit("RULES-3", "premier-care", "CH41 2AB", "2019-04-04", 30, 30)])),
         PREMIER, {HAVEN: "invalid-input", ALLIANCE_MEMBER: "not-allowed", HEREFORDSHIRE_ACCOUNTANT: "not-found"},
         on=date(2019, 5, 7), extra={"why": "a provider's own visits"}),
    Case("calculate_arrears", lambda b, e, t: b.activity.calculate_arrears(e, WIRRAL, "2020-21"),
         COUNCIL, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2020, 7, 1)),
    Case("sweep_activity_chunks", lambda b, e, t: b.activity.sweep_activity_chunks(e.actor, timedelta(days=1)),
         WIRRAL_ADMIN, {COUNCIL: "not-allowed", PREMIER: "not-allowed", AUDITOR: "not-allowed"}, outcome="done"),
    # cost returns: the provider files its own; another commissioner's accountant reviews
    Case("draft_cost_return", lambda b, e, t: b.returns.draft_cost_return(e, WIRRAL, "premier-care", "2021-22-Q4", filing()),
         PREMIER, {**NOT_PREMIER, CCG: "not-allowed"}),
    Case("import_cost_return", lambda b, e, t: b.returns.import_cost_return(
        e, template_csv(filing()).encode(), WIRRAL, "premier-care", "2021-22-Q2", "premier.csv"),
         PREMIER, NOT_PREMIER),
    Case("submit_cost_return", lambda b, e, t: b.returns.submit_cost_return(e, WIRRAL, "premier-care", "2020-21-Q1"),
         PREMIER, NOT_PREMIER, before=file_return("2020-21-Q1", submit=False)),
    Case("amend_cost_return", lambda b, e, t: b.returns.amend_cost_return(e, WIRRAL, "premier-care", "2020-21-Q4", filing(hours=2600)),
         PREMIER, NOT_PREMIER, before=file_return("2020-21-Q4")),
    Case("amend_cost_return_from_file", lambda b, e, t: b.returns.amend_cost_return_from_file(
        e, template_csv(filing(hours=2700)).encode(), WIRRAL, "premier-care", "2021-22-Q3", "premier.csv"),
         PREMIER, NOT_PREMIER, before=file_return("2021-22-Q3", submit=False)),
    Case("answer_cost_return_query", lambda b, e, t: b.returns.answer_cost_return_query(
        e, WIRRAL, "premier-care", "2020-21-Q3", "Q1", "two new rural rounds"),
         PREMIER, NOT_PREMIER, before=queried("2020-21-Q3")),
    Case("query_cost_return", lambda b, e, t: b.returns.query_cost_return(e, WIRRAL, "premier-care", "2020-21-Q2", "mileage", "why?"),
         COUNCIL, NOT_REVIEWING, before=file_return("2020-21-Q2")),
    Case("explain_wage_breach", lambda b, e, t: b.returns.explain_wage_breach(
        e, WIRRAL, "premier-care", "2021-22-Q1", "apprentices under 23, paid the apprentice rate"),
         CCG, NOT_REVIEWING, before=file_return("2021-22-Q1")),  # £8.72 is below 2021's £8.91
    Case("accept_cost_return", lambda b, e, t: b.returns.accept_cost_return(e, WIRRAL, "premier-care", "2020-21"),
         CCG, NOT_REVIEWING, before=file_return("2020-21")),
    Case("accept_cost_return", lambda b, e, t: b.returns.accept_cost_return(e, WIRRAL, "wirral-council", "2019-20-Q1"),
         SYSTEM, {COUNCIL: "not-allowed"}, extra={"why": "the council's own in-house return"}, outcome="rule-broken"),
    Case("reject_cost_return", lambda b, e, t: b.returns.reject_cost_return(e, WIRRAL, "premier-care", "2022-23-Q1", "incomplete"),
         COUNCIL, NOT_REVIEWING, before=file_return("2022-23-Q1")),
    Case("reopen_cost_return", lambda b, e, t: b.returns.reopen_cost_return(e, WIRRAL, "premier-care", "2019-20"),
         COUNCIL, NOT_REVIEWING, before=accepted("2019-20")),
    Case("add_wage_floor", lambda b, e, t: b.returns.add_wage_floor(e, "national-living-wage", date(2030, 4, 1), "15.00"),
         WIRRAL_ADMIN, {COUNCIL: "not-allowed", PREMIER: "not-allowed", AUDITOR: "not-allowed"}),
    # KPI results and incentives: a commissioner's accountant, never the provider whose results they are
    Case("record_kpi_result", lambda b, e, t: b.incentives.record_kpi_result(
        e, WIRRAL, "premier-care", "2019-20-Q1", "missed-visits", "0.4", "ECM report"),
         COUNCIL, NOT_AN_ACCOUNTANT_OF_WIRRAL),
    Case("import_kpi_results", lambda b, e, t: b.incentives.import_kpi_results(
        e, WIRRAL, b"provider,period,kpi,value,evidence\npremier-care,2019-20-Q2,missed-visits,0.3,ECM report\n",
        "kpis.csv"),
         CCG, NOT_AN_ACCOUNTANT_OF_WIRRAL),
    Case("set_incentive_scheme", lambda b, e, t: b.incentives.set_incentive_scheme(
        e, HEREFORDSHIRE, from_year="2019-20", minimum_reduction="0.04", payment_per_hour="2.00"),
         HEREFORDSHIRE_ACCOUNTANT, {COUNCIL: "not-found", PREMIER: "not-found", AUDITOR: "not-allowed"},
         on=date(2019, 4, 1)),  # fmt: skip
    Case("assess_incentives", lambda b, e, t: b.incentives.assess_incentives(e, HEREFORDSHIRE, "2017-18"),
         HEREFORDSHIRE_ACCOUNTANT, {COUNCIL: "not-found", PREMIER: "not-found", AUDITOR: "not-allowed"},
         on=date(2018, 6, 1), outcome="done"),  # unchanged since the demo's assessment: it says so, records nothing
    # the pool, payments and settlements
    Case("set_pooled_budget", lambda b, e, t: b.settlements.set_pooled_budget(
        e, WIRRAL, "2020-21", target="12200000.00", bands=BANDS, gain_cap=GAIN_CAP, loss_cap=LOSS_CAP,
        clawback_share=CLAWBACK_SHARE),
         COUNCIL, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2020, 4, 1)),
    Case("run_payments", lambda b, e, t: b.settlements.run_payments(e, WIRRAL, "2020-04"),
         COUNCIL, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2020, 5, 1), before=april_2020_visits),
    Case("draft_settlement", lambda b, e, t: b.settlements.draft_settlement(e, WIRRAL, "2019-20"),
         COUNCIL, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2020, 7, 1)),
    Case("withdraw_settlement", lambda b, e, t: b.settlements.withdraw_settlement(e, WIRRAL, "2019-20", latest(b)),
         COUNCIL, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2020, 7, 2)),
    Case("review_settlement", lambda b, e, t: b.settlements.review_settlement(e, WIRRAL, "2019-20", latest(b)),
         CCG, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2020, 7, 3),
         before=lambda b: b.settlements.draft_settlement(system(date(2020, 7, 3)), WIRRAL, "2019-20")),
    Case("approve_settlement", lambda b, e, t: b.settlements.approve_settlement(e, WIRRAL, "2019-20", latest(b)),
         COUNCIL, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2020, 7, 6)),
    Case("issue_settlement", lambda b, e, t: b.settlements.issue_settlement(e, WIRRAL, "2019-20", latest(b)),
         COUNCIL, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2020, 7, 8),
         before=lambda b: b.settlements.approve_settlement(Envelope(CCG, date(2020, 7, 7)), WIRRAL, "2019-20", latest(b))),
    # closing a year: a year with no issued settlement is refused by the domain's rule, recording nothing
    Case("close_year", lambda b, e, t: b.settlements.close_year(e, WIRRAL, "2020-21"),
         CCG, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2020, 7, 9), outcome="rule-broken", extra={"why": "not settled"}),
    Case("close_year", lambda b, e, t: b.settlements.close_year(e, WIRRAL, "2019-20"),
         CCG, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2020, 7, 9)),
    Case("close_year", lambda b, e, t: b.settlements.close_year(e, WIRRAL, "2019-20"),
         COUNCIL, NOT_AN_ACCOUNTANT_OF_WIRRAL, on=date(2020, 7, 10), outcome="conflict", extra={"why": "closed"}),
    # statements sent out: the commissioners' accountants issue them (a stand-in PDF: its bytes are all the ledger keeps)
    Case("issue_statement", lambda b, e, t: b.statements.issue_statement(
        e, kind="settlement", agreement=WIRRAL, party=None, period="2019-20", title="Settlement statement, 2019-20",
        document=b"%PDF-1.7\n% recording rules test\n", head_position=1),
         COUNCIL, {**NOT_AN_ACCOUNTANT_OF_WIRRAL, HAVEN: "not-allowed"}),
    # the history itself: an auditor or an admin attests its head; it changes no figure
    Case("record_checkpoint", lambda b, e, t: b.checkpoints.record_checkpoint(e),
         AUDITOR, {PREMIER: "not-allowed", HEREFORDSHIRE_ACCOUNTANT: "not-allowed"}),  # (COUNCIL is an auditor by now)
    Case("record_checkpoint", lambda b, e, t: b.checkpoints.record_checkpoint(e),
         WIRRAL_ADMIN, {HAVEN: "not-allowed"}, extra={"why": "an admin"}),
]  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo_book(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Openbook]:
    """A copy of the demo, shared by the module's tests, on each database."""
    database = demo_copy(request, request.param, tmp_path_factory.mktemp("rules"))
    book = open_openbook(database)
    yield book
    book.close()
    drop_database(database)


def head(book: Openbook) -> int:
    return book.ledger.recorder.max_notification_id() or 0


def _envelope(actor: Actor, case: Case) -> Envelope:
    return Envelope(actor, case.on, case.reason)


def _label(case: Case) -> str:
    return case.command + (f"[{case.extra['why']}]" if "why" in case.extra else "")


@pytest.mark.parametrize("case", CASES, ids=[_label(c) for c in CASES])
def test_each_command_is_recorded_by_whom_its_rule_allows_and_refused_to_others(demo_book, case, tmp_path):
    book = demo_book
    if case.before is not None:
        case.before(book)
    for actor, kind in case.refused.items():
        before = head(book)
        with pytest.raises(OpenbookError) as refused:
            case.run(book, _envelope(actor, case), tmp_path)
        assert (actor.user, refused.value.kind) == (actor.user, kind), str(refused.value)
        assert head(book) == before, f"{actor.user}: a refused command recorded something"
    before = head(book)
    if case.outcome in ("recorded", "done"):
        case.run(book, _envelope(case.allowed, case), tmp_path)
        if case.outcome == "recorded":
            assert head(book) > before, f"{case.allowed.user}: allowed, but nothing was recorded"
    else:  # the rule let the allowed user through; the domain's own rule then refused it
        with pytest.raises(OpenbookError) as refused:
            case.run(book, _envelope(case.allowed, case), tmp_path)
        assert refused.value.kind == case.outcome, str(refused.value)


def test_a_providers_finance_user_cannot_publish_wirrals_rates_from_the_command_line(demo_book):
    """The issue's example: accepted before, it repriced every visit; now refused by role, nothing recorded."""
    before, rate = head(demo_book), demo_book.rates.rate_for(WIRRAL, "standard", "zone-2", date(2019, 4, 1))
    result = CliRunner().invoke(
        cli,
        ["--database", demo_book.database.url.render_as_string(hide_password=False), "--as", PREMIER.user, "rates", "publish", "--agreement", WIRRAL,
         "--service", "standard", "--zone", "zone-2", "--rate", "99.00", "--effective", "2019-04-01",
         "--reason", "a better rate", "--json"],
        env={"OPENBOOK_USER": None},
    )  # fmt: skip
    assert result.exit_code == 1 and result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert error["kind"] == "not-allowed" and "only an accountant of a commissioner of wirral-homecare" in error["message"]
    assert head(demo_book) == before
    assert demo_book.rates.rate_for(WIRRAL, "standard", "zone-2", date(2019, 4, 1)) == rate
    assert rate.hourly_rate == D("15.60")


def test_docs_access_names_the_rule_of_every_recording_command():
    documented = (Path(__file__).resolve().parents[2] / "docs" / "access.md").read_text(encoding="utf-8")
    assert [command for command in RULES if f"`{command}`" not in documented] == []
