"""Who may do what: the one place the ledger decides whether an actor may record or read something.

Rules belong at the ledger boundary, not in the CLI or the web pages, so
every way in (CLI, web, API, a script) is held to the same rules. The actor
is the envelope's (username and organisation); the ledger looks the user up
(``User`` aggregate: organisation, roles, active) and refuses an actor whose
envelope names a different organisation from the user's own.

Recording: every recording command of every use case has its rule in
``RULES`` (command -> rule), and the use case's first line asks
``authorise(records, actor, command, agreement=..., organisation=...)``.
In short (docs/access.md has the table command by command):

| commands | who |
|---|---|
| register an organisation; add a wage floor; sweep staged chunks | an admin |
| record a checkpoint of the history's head | an admin or an auditor |
| rename an organisation, register a user, change a user's roles, deactivate a user | an admin of that organisation (a provider's or audit body's: the operator) |
| register an agreement | an accountant or admin of a council or CCG/ICB |
| set an agreement up: commissioners, contributions, zones, lots, services, awards, KPIs, basis, caps, term | an accountant or admin of a commissioner (until one joins: of the organisation that registered it) |
| appoint an audit body to an agreement, end its appointment | an admin of a commissioner (until one joins: of the organisation that registered it) |
| rates, rate reviews, activity imports, arrears, KPI results, incentives, pools, payments, settlements, closing a year, issuing a statement | an accountant of a commissioner of the agreement |
| import activity | also a provider's own staff (role ``provider``), if the agreement awards it: its own visits only |
| file a cost return: draft, submit, amend, answer a query; comment on a rate review | the provider's own staff (role ``provider``), if the agreement awards it; for the council's in-house return, the council's accountants or admins; an admin of a commissioner acting for it |
| review a return (query, explain a breach, accept, reject, reopen); record a KPI result | an accountant of a commissioner, never of the organisation whose figures they are |

Reading:

| action | who |
|---|---|
| read every provider's figures (accountant views) | accountants, admins and auditors of a commissioner of the agreement; auditors of an audit body appointed to it |
| read one provider's own figures (provider views) | that provider's staff; anyone who may read every provider's figures (to see what the provider sees) |
| read the event history itself (every provider's raw figures) | an auditor of an audit body appointed to the agreements: their records' events (and organisations', wage floors', checkpoints'); appointed to none: no history (``NotFound``) |
| check the history's chain (pass or fail and the head, no payload) | an auditor of an audit body |
| export the history (the whole chain) | an auditor of an audit body appointed to every agreement in the ledger |
| see an organisation's users and their security log | an admin of that organisation (the operator: all) |

The system actor (``domain.envelope.SYSTEM``: the CLI without ``--as``, the
demo loader, migrations) may do everything: it is the operator's own hand.

Reading is granted as an *access* value (``AccountantAccess``,
``ProviderAccess``) that only this module hands out; the queries take one, so
a provider's page cannot call the accountants' market view by mistake: it has
no ``AccountantAccess`` to give it. ``access_for`` is the one way a reader
gets theirs: every provider's figures if they may, else their own.

A role refused is ``NotAllowed`` (HTTP 403); another organisation's record, or
an agreement the actor's organisation has no part in, is ``NotFound`` (404),
as if it did not exist, so a provider cannot even learn which of another
provider's records exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select

from domain.agreements.agreement import Agreement
from domain.envelope import SYSTEM, Actor
from domain.errors import InvalidInput, NotAllowed, NotFound
from domain.organisations.organisation import Organisation, OrganisationKind
from domain.organisations.user import ROLES_BY_KIND, Role, User
from ledger.projections.agreements import agreement_auditors, agreements

__all__ = [
    "Access",
    "AccountantAccess",
    "NotAllowed",
    "ProviderAccess",
    "access_for",
    "accountant_access",
    "accountants_only",
    "RULES",
    "approving_commissioner",
    "authorise",
    "check_may_keep_account",
    "check_may_set_up",
    "check_may_export_history",
    "check_may_verify_history",
    "SHARED_KINDS",
    "check_may_rename",
    "check_may_see_user",
    "users_seen_by",
    "HistoryAccess",
    "history_access",
    "importing_for",
    "only_provider",
    "provider_access",
    "shown_provider",
]


class _Records(Protocol):
    """What the rules look up: ``ledger.records.Records`` (or anything answering the same)."""

    def user(self, username: str) -> User: ...
    def organisation(self, code: str) -> Organisation: ...
    def agreement(self, code: str) -> Agreement: ...


@dataclass(frozen=True)
class Person:
    """A registered, active user acting in their own organisation."""

    username: str
    organisation: str
    roles: frozenset[str]

    def has(self, *roles: Role) -> bool:
        return any(role.value in self.roles for role in roles)


_GRANT = object()  # only this module holds it, so only this module can make an access


@dataclass(frozen=True)
class AccountantAccess:
    """Proof that ``actor`` may read every provider's figures under ``agreement``."""

    agreement: str
    actor: Actor
    _grant: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._grant is not _GRANT:
            raise TypeError("an AccountantAccess comes from ledger.authorisation.accountant_access")


@dataclass(frozen=True)
class ProviderAccess:
    """Proof that ``actor`` may read ``provider``'s own figures under ``agreement`` (and nothing else)."""

    agreement: str
    provider: str
    actor: Actor
    _grant: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._grant is not _GRANT:
            raise TypeError("a ProviderAccess comes from ledger.authorisation.provider_access")


Access = AccountantAccess | ProviderAccess


def is_system(actor: Actor) -> bool:
    return actor == SYSTEM


def person(records: _Records, actor: Actor) -> Person:
    """The registered, active user behind ``actor``, in the organisation the envelope names."""
    try:
        user = records.user(actor.user)
    except NotFound:
        raise NotAllowed(f"{actor.user} is not a registered user") from None
    if not user.active:
        raise NotAllowed(f"user {user.username} is deactivated")
    if actor.organisation != user.organisation:
        raise NotAllowed(
            f"{user.username} belongs to {user.organisation}, not {actor.organisation or 'no organisation'}"
        )
    return Person(user.username, user.organisation, frozenset(user.roles))


def _names(roles: tuple[Role, ...]) -> str:
    return " or ".join(r.value for r in roles)


# -- recording ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """What a recording command is about: its name (for messages), the agreement it acts under, the organisation
    it names (the provider filing, the organisation renamed, the user's organisation)."""

    what: str
    agreement: Agreement | None
    organisation: str | None


Check = Callable[[_Records, Person, Subject], None]


@dataclass(frozen=True)
class Rule:
    """Who may record a command: in words (the documented table) and as the check that decides."""

    who: str
    check: Check


def _party_or_hidden(records: _Records, who: Person, subject: Subject) -> Agreement:
    """The agreement, if the actor's organisation has a part in it; else ``NotFound``, as if it did not exist.

    An audit body appointed to the agreement reads it, so its staff are refused by role instead (``NotAllowed``);
    an audit body not appointed has no part in it (``NotFound``).
    """
    agreement = subject.agreement
    if agreement is None:
        raise TypeError(f"{subject.what}: this rule needs the agreement the command acts under")
    if who.organisation in _setting_up(agreement) or _is_party(records, agreement, who.organisation):
        return agreement
    if who.organisation in agreement.auditors:
        raise NotAllowed(f"{subject.what}: {who.username} of {who.organisation} may read {agreement.code}, not record")
    raise NotFound(f"{subject.what}: agreement {agreement.code!r} is not found")


def _setting_up(agreement: Agreement) -> tuple[str, ...]:
    """Who sets the agreement up: its commissioners, or until one joins, the organisation that registered it."""
    if agreement.commissioners:
        return agreement.commissioners
    return (agreement.registered_by,) if agreement.registered_by else ()


def _commissioners_with(*roles: Role) -> Check:
    """Staff with one of ``roles`` in an organisation that sets the agreement up (``_setting_up``)."""

    def check(records: _Records, who: Person, subject: Subject) -> None:
        agreement = _party_or_hidden(records, who, subject)
        if who.organisation in _setting_up(agreement) and who.has(*roles):
            return
        raise NotAllowed(
            f"{subject.what}: only an {_names(roles)} of a commissioner of {agreement.code} "
            f"({', '.join(_setting_up(agreement)) or 'none yet'}) may do this, not {who.username} of {who.organisation}"
        )

    return check


def _reviewer(records: _Records, who: Person, subject: Subject) -> None:
    """An accountant of a commissioner; nobody reviews their own organisation's figures: a council's in-house
    return (Wirral 5.9) is reviewed by the other commissioner's accountant."""
    _commissioners_with(Role.ACCOUNTANT)(records, who, subject)
    if subject.organisation is not None and who.organisation == subject.organisation:
        raise NotAllowed(
            f"{subject.what}: {who.username} cannot review {subject.organisation}'s own figures; another commissioner must"
        )


def _filer(records: _Records, who: Person, subject: Subject) -> None:
    """The provider's own staff, if the agreement awards it (for a commissioner's in-house costs, its accountants
    or admins); or an admin of a commissioner acting for it. Another provider's record is ``NotFound``."""
    agreement = _party_or_hidden(records, who, subject)
    provider = subject.organisation or ""
    if who.organisation == provider:
        in_house = records.organisation(provider).kind is not OrganisationKind.PROVIDER
        needed = (Role.ACCOUNTANT, Role.ADMIN) if in_house else (Role.PROVIDER,)
        if who.has(*needed):
            return
        raise NotAllowed(f"{subject.what}: {who.username} has no {_names(needed)} role at {provider}")
    if who.organisation in agreement.commissioners:
        if who.has(Role.ADMIN):
            return
        raise NotAllowed(f"{subject.what}: {who.username} of {who.organisation} cannot act for {provider}")
    raise NotFound(f"{subject.what}: {provider} is not found")  # another organisation's record


def _awarded(agreement: Agreement) -> set[str]:
    """The organisations the agreement awards (an alliance, not its members) on any day of its term."""
    return {a.provider for a in agreement.awards_during(agreement.term_start, agreement.term_end)}


def _importer(records: _Records, who: Person, subject: Subject) -> None:
    """An accountant of a commissioner (any provider's visits: the commissioners' call monitoring); or a provider's
    own staff (role provider), if the agreement awards it, for its own visits only (``importing_for``).

    An alliance's member is refused: visits under the alliance's award name the alliance (the award holder, whom
    they are priced and paid to), so a row cannot say which member delivered it and a member's file could change
    the other members' visits; the alliance's own staff, or the commissioners' accountants, import them.
    """
    agreement = _party_or_hidden(records, who, subject)
    if who.organisation in _setting_up(agreement):
        _commissioners_with(Role.ACCOUNTANT)(records, who, subject)
        return
    awarded = _awarded(agreement)
    if who.organisation in awarded:
        if who.has(Role.PROVIDER):
            return
        raise NotAllowed(f"{subject.what}: {who.username} has no provider role at {who.organisation}")
    alliance = records.organisation(who.organisation).member_of
    if alliance in awarded:
        raise NotAllowed(
            f"{subject.what}: visits under {alliance}'s award are the alliance's; its own staff or an accountant "
            f"of a commissioner of {agreement.code} import them, not {who.username} of {who.organisation}"
        )
    _commissioners_with(Role.ACCOUNTANT)(records, who, subject)


def importing_for(records: _Records, actor: Actor, agreement: str) -> str | None:
    """The one provider whose visits ``actor`` may import under ``agreement`` (its own), or None for any provider's
    (the commissioners' accountants, the operator). Asked after ``authorise(..., "import_activity")`` allowed it;
    the import then refuses, by row, a file naming any other provider."""
    if is_system(actor):
        return None
    who = person(records, actor)
    if who.organisation in _setting_up(records.agreement(agreement)):
        return None
    return who.organisation


def _commissioning_body(records: _Records, who: Person, subject: Subject) -> None:
    """An accountant or admin of a council or CCG/ICB: the bodies that commission care."""
    kind = records.organisation(who.organisation).kind
    if kind in (OrganisationKind.COUNCIL, OrganisationKind.ICB) and who.has(Role.ACCOUNTANT, Role.ADMIN):
        return
    raise NotAllowed(f"{subject.what}: only an accountant or admin of a council or CCG/ICB may, not {who.username}")


def _any_admin(records: _Records, who: Person, subject: Subject) -> None:
    if not who.has(Role.ADMIN):
        raise NotAllowed(f"{subject.what}: only an admin may do this, not {who.username}")


def _attester(records: _Records, who: Person, subject: Subject) -> None:
    """An admin or an auditor (of any organisation): a checkpoint attests the history's head and changes no figure,
    and an auditor starting an audit wants one in the history, with the file to keep."""
    if not who.has(Role.ADMIN, Role.AUDITOR):
        raise NotAllowed(f"{subject.what}: only an admin or an auditor may attest the history, not {who.username}")


def _own_admin(records: _Records, who: Person, subject: Subject) -> None:
    """An admin of the organisation itself. Providers and audit bodies hold no admin role, so the operator keeps
    their register: a council's admin minting a provider's user could file that provider's returns."""
    _any_admin(records, who, subject)
    if who.organisation == subject.organisation:
        return
    organisation = records.organisation(subject.organisation or "")
    if Role.ADMIN not in ROLES_BY_KIND[organisation.kind]:
        raise NotAllowed(
            f"{subject.what}: a {organisation.kind.value}'s users and name are kept by the operator (system), "
            f"not by {who.username}"
        )
    raise NotFound(f"{subject.what}: {organisation.code} is not found")  # another organisation's record


SET_UP = Rule(
    "an accountant or admin of a commissioner of the agreement (until one joins: of the council or CCG/ICB that "
    "registered it)",
    _commissioners_with(Role.ACCOUNTANT, Role.ADMIN),
)
ACCOUNTANT = Rule("an accountant of a commissioner of the agreement", _commissioners_with(Role.ACCOUNTANT))
REVIEWER = Rule(
    "an accountant of a commissioner of the agreement, not of the organisation whose figures they are", _reviewer
)
FILER = Rule(
    "the named provider's own staff (role provider; for in-house costs, the commissioner's accountants or admins), "
    "if the agreement awards it; or an admin of a commissioner acting for it",
    _filer,
)
IMPORTER = Rule(
    "an accountant of a commissioner of the agreement (any provider's visits); or a provider's own staff (role "
    "provider), if the agreement awards it (not its alliance), for its own visits only",
    _importer,
)
COMMISSIONING_BODY = Rule("an accountant or admin of a council or CCG/ICB", _commissioning_body)
ADMIN = Rule("an admin", _any_admin)
ATTESTER = Rule("an admin or an auditor (of any organisation)", _attester)
APPOINTER = Rule(
    "an admin of a commissioner of the agreement (until one joins: of the council or CCG/ICB that registered it)",
    _commissioners_with(Role.ADMIN),
)
OWN_ADMIN = Rule(
    "an admin of the organisation concerned (a provider's or audit body's: the operator only)", _own_admin
)

#: Every recording command of every use case (``ledger/usecases/``) and who may record it. The system actor
#: (set-up, the demo, migrations) may record them all. ``tests/integration/test_recording_rules.py`` fails if a
#: use case's recording method has no rule here or does not ask for it.
RULES: dict[str, Rule] = {
    # organisations and users
    "register_organisation": ADMIN,
    "rename_organisation": OWN_ADMIN,
    "register_user": OWN_ADMIN,
    "change_user_roles": OWN_ADMIN,
    "deactivate_user": OWN_ADMIN,
    # agreements: terms, zones, awards, KPI definitions
    "register_agreement": COMMISSIONING_BODY,
    "extend_agreement_term": SET_UP,
    "join_commissioner": SET_UP,
    "set_contribution": SET_UP,
    "add_zone": SET_UP,
    "add_lot": SET_UP,
    "add_service_type": SET_UP,
    "award_provider": SET_UP,
    "end_award": SET_UP,
    "define_kpi": SET_UP,
    "set_payment_basis": SET_UP,
    "set_living_wage_commitment": SET_UP,
    "set_profit_cap": SET_UP,
    "set_plausibility_ranges": SET_UP,
    "appoint_auditor": APPOINTER,
    "end_auditor_appointment": APPOINTER,
    # rates and rate reviews
    "publish_rate": ACCOUNTANT,
    "withdraw_rate": ACCOUNTANT,
    "publish_rates": ACCOUNTANT,
    "open_rate_review": ACCOUNTANT,
    "propose_rates": ACCOUNTANT,
    "propose_uplift": ACCOUNTANT,
    "comment_on_rate_review": FILER,
    "decide_rate_review": ACCOUNTANT,
    # activity
    "import_activity": IMPORTER,
    "calculate_arrears": ACCOUNTANT,
    "sweep_activity_chunks": ADMIN,
    # cost returns and the wage floors they are checked against
    "draft_cost_return": FILER,
    "import_cost_return": FILER,
    "submit_cost_return": FILER,
    "amend_cost_return": FILER,
    "amend_cost_return_from_file": FILER,
    "answer_cost_return_query": FILER,
    "query_cost_return": REVIEWER,
    "explain_wage_breach": REVIEWER,
    "accept_cost_return": REVIEWER,
    "reject_cost_return": REVIEWER,
    "reopen_cost_return": REVIEWER,
    "add_wage_floor": ADMIN,
    # KPI results and incentives
    "record_kpi_result": REVIEWER,
    "import_kpi_results": ACCOUNTANT,
    "set_incentive_scheme": ACCOUNTANT,
    "assess_incentives": ACCOUNTANT,
    # the pooled budget, payments and settlements
    "set_pooled_budget": ACCOUNTANT,
    "run_payments": ACCOUNTANT,
    "draft_settlement": ACCOUNTANT,
    "review_settlement": ACCOUNTANT,
    "approve_settlement": ACCOUNTANT,
    "issue_settlement": ACCOUNTANT,
    "withdraw_settlement": ACCOUNTANT,
    "close_year": ACCOUNTANT,
    # statements sent out
    "issue_statement": ACCOUNTANT,
    # the history itself
    "record_checkpoint": ATTESTER,
}


def authorise(
    records: _Records, actor: Actor, command: str, *, agreement: str | None = None, organisation: str | None = None
) -> None:
    """Refuse ``actor`` the recording ``command`` unless its rule in ``RULES`` allows it; the first line of every
    recording use case.

    ``agreement`` is the code of the agreement it acts under (an unknown one is ``NotFound``); ``organisation`` the
    organisation it names. A role refused is ``NotAllowed``; an agreement the actor's organisation has no part in,
    or another organisation's record, is ``NotFound``.
    """
    rule = RULES[command]
    if is_system(actor):
        return
    who = person(records, actor)
    found = records.agreement(agreement) if agreement is not None else None
    rule.check(records, who, Subject(command.replace("_", " "), found, organisation))


def check_may_keep_account(records: _Records, actor: Actor, username: str) -> None:
    """Whether ``actor`` may keep ``username``'s credentials (a new first-login link): who may change their roles
    (``OWN_ADMIN``). Not a recorded command - credentials are never events - but the same rule, asked here."""
    if is_system(actor):
        return
    organisation = records.user(username).organisation
    RULES["change_user_roles"].check(records, person(records, actor), Subject("reset password", None, organisation))


def users_seen_by(records: _Records, actor: Actor) -> str | None:
    """The organisation whose users (and their security log) ``actor`` may see: an admin sees their own
    organisation's, whom they manage; the system actor (the operator) every organisation's (None). Anyone
    else's users are ``NotFound`` to them, as if there were none."""
    if is_system(actor):
        return None
    who = person(records, actor)
    if not who.has(Role.ADMIN):
        raise NotAllowed(f"{actor} may not see users: only an admin of their organisation may")
    return who.organisation


def check_may_see_user(records: _Records, actor: Actor, username: str) -> None:
    """``NotFound`` unless ``username`` is one of the users ``actor`` may see (``users_seen_by``)."""
    seen = users_seen_by(records, actor)
    if seen is not None and records.user(username).organisation != seen:
        raise NotFound(f"user {username} is not found")


def check_may_rename(records: _Records, actor: Actor, organisation: str) -> None:
    """Whether ``actor`` may rename ``organisation`` (``RULES["rename_organisation"]``), and so see the form for it:
    asked before the form is shown, so a form that could only be refused is never offered."""
    authorise(records, actor, "rename_organisation", organisation=records.organisation(organisation).code)


def check_may_set_up(records: _Records, actor: Actor, agreement: str) -> None:
    """Whether ``actor`` may set ``agreement`` up (``SET_UP``), and so see its set-up page: its commissioners'
    accountants and admins, or before one joins, the registrant's - who has no reading access yet."""
    if is_system(actor):
        return
    SET_UP.check(records, person(records, actor), Subject("setting up", records.agreement(agreement), None))


def approving_commissioner(records: _Records, actor: Actor, agreement: Agreement, commissioner: str | None) -> str:
    """The commissioner a settlement approval is for: an accountant approves for their own organisation only."""
    if is_system(actor):
        if not commissioner:
            raise InvalidInput("commissioner: name the commissioner approving (system acts for no organisation)")
        return commissioner
    who = person(records, actor)
    if who.organisation not in agreement.commissioners or not who.has(Role.ACCOUNTANT):
        raise NotAllowed(
            f"approving a settlement: only an accountant of a commissioner of {agreement.code} "
            f"({', '.join(agreement.commissioners)}) may approve, not {actor}"
        )
    if commissioner and commissioner != who.organisation:
        raise NotAllowed(f"approving a settlement: {who.username} approves for {who.organisation}, not {commissioner}")
    return who.organisation


def check_may_verify_history(records: _Records, actor: Actor) -> None:
    """Whether ``actor`` may check the history's chain (``openbook verify --database``, the integrity page's check):
    an auditor of an audit body, appointed or not, or the operator.

    The check reveals only whether the chain holds, where it breaks and the head (a position, a hash, a count: what
    ``openbook checkpoint --head`` tells anyone), never an event's payload, so it is not narrowed to appointments.
    Reading the events themselves is (``history_access``)."""
    if is_system(actor):
        return
    who = person(records, actor)
    if who.has(Role.AUDITOR) and records.organisation(who.organisation).kind is OrganisationKind.AUDIT_BODY:
        return
    raise NotAllowed(
        f"reading the event history: only an auditor of an audit body may, not {actor}; "
        "every figure you may see is in the views (returns, activity, payments, settlements)"
    )


#: Kinds of record under no agreement that an appointed auditor's history shows: organisations (codes, names,
#: kinds, alliances: who the parties are, no figure), the statutory wage floors (published rates) and checkpoints
#: (a position, a hash, a count). Users are not among them: who works where, with which roles, is each
#: organisation's own (an admin sees only their own organisation's users, ``users_seen_by``).
SHARED_KINDS: tuple[str, ...] = ("organisation", "wage-floors", "checkpoint")


def _appointed(records: _Records, audit_body: str, engine: Any) -> frozenset[str]:
    """The agreements ``audit_body`` is appointed to now: the read model names the candidates (appointments not
    ended), and each agreement's own record confirms it (``Agreement.auditors``), so an ending recorded but not yet
    applied to the read model already ends the reading."""
    c = agreement_auditors.c
    with engine.connect() as conn:
        named = conn.execute(
            select(c.agreement).where(c.audit_body == audit_body, c.to_date.is_(None)).distinct()
        ).scalars()
        candidates = sorted(set(named))
    return frozenset(code for code in candidates if audit_body in records.agreement(code).auditors)


def history_access(records: _Records, actor: Actor, engine: Any) -> HistoryAccess:
    """Access to the recorded history, narrowed to what ``actor`` may read of it, for the queries over it.

    The operator reads all of it (``agreements`` None). An auditor of an audit body reads the events of the
    records under the agreements the audit body is appointed to now (``Agreement.AuditorAppointed``, until
    ``AuditorAppointmentEnded``), and those of ``SHARED_KINDS``; an auditor whose audit body is appointed to
    nothing reads no history: ``NotFound``, as if there were none. Anyone else: ``NotAllowed``.
    ``engine`` is the live read models' (where the appointments are listed)."""
    check_may_verify_history(records, actor)
    if is_system(actor):
        return HistoryAccess(actor, None, _GRANT)
    audit_body = person(records, actor).organisation
    appointed = _appointed(records, audit_body, engine)
    if not appointed:
        raise NotFound(f"the event history is not found: {audit_body} is appointed to audit no agreement")
    return HistoryAccess(actor, appointed, _GRANT)


def check_may_export_history(records: _Records, actor: Actor, engine: Any) -> None:
    """Whether ``actor`` may export the history (``openbook export``, the integrity page's export job): the
    operator, or an auditor of an audit body appointed to every agreement in the ledger.

    An export is checked as one hash chain: each event's hash covers the one before it, so a file that left out
    the events of agreements the reader may not see could not be verified (``ledger/audit/verify.py``). An
    export is therefore all of it or nothing: an audit body appointed to only some of the agreements is refused
    (``NotAllowed``, saying why), one appointed to none has no history (``NotFound``, as ``history_access``)."""
    access = history_access(records, actor, engine)
    if access.agreements is None:
        return
    with engine.connect() as conn:
        every = set(conn.execute(select(agreements.c.code)).scalars())
    if every - access.agreements:
        raise NotAllowed(
            "exporting the history: an export is the whole hash chain, which cannot be verified with any agreement's "
            f"events left out, so only an audit body appointed to every agreement in the ledger may export it; "
            f"{person(records, actor).organisation} is appointed to {len(access.agreements)} of {len(every)}. "
            "The event history and record histories show the agreements it is appointed to"
        )


def jobs_seen_by(records: _Records, actor: Actor) -> str | None:
    """The organisation whose background jobs ``actor`` may see: its own (its users asked for them, and a job's
    progress and errors name its files and rows); None for the operator, who sees every job."""
    if is_system(actor):
        return None
    return person(records, actor).organisation


@dataclass(frozen=True)
class HistoryAccess:
    """Proof that ``actor`` may read the recorded history (``history_access``), and how much of it: the events of
    records under ``agreements`` and of ``SHARED_KINDS``; ``agreements`` None is all of it (the operator)."""

    actor: Actor
    agreements: frozenset[str] | None
    _grant: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._grant is not _GRANT:
            raise TypeError("a HistoryAccess comes from ledger.authorisation.history_access")

    def shows(self, agreement: str | None, kind: str) -> bool:
        """Whether an event of a ``kind`` record under ``agreement`` (None: under none) is in this access."""
        if self.agreements is None:
            return True
        return agreement in self.agreements if agreement is not None else kind in SHARED_KINDS


# -- reading -----------------------------------------------------------------------------------


def _may_read_all(records: _Records, actor: Actor, agreement: Agreement) -> bool:
    if is_system(actor):
        return True
    who = person(records, actor)
    if who.organisation in agreement.commissioners and who.has(Role.ACCOUNTANT, Role.ADMIN, Role.AUDITOR):
        return True
    return who.organisation in agreement.auditors and who.has(Role.AUDITOR)  # an audit body appointed to it


def accountant_access(records: _Records, actor: Actor, agreement: str) -> AccountantAccess:
    """Access to every provider's figures under ``agreement``, or ``NotAllowed``."""
    found = records.agreement(agreement)
    if not _may_read_all(records, actor, found):
        raise NotAllowed(
            f"{actor} may not see every provider's figures under {agreement}; "
            "providers see their own figures and the anonymised market"
        )
    return AccountantAccess(agreement, actor, _GRANT)


def _is_party(records: _Records, agreement: Agreement, code: str) -> bool:
    """Whether ``code`` has figures under the agreement: it held an award (or its alliance did), or commissions it."""
    if code in agreement.commissioners:
        return True
    awarded = {a.provider for a in agreement.awards_during(agreement.term_start, agreement.term_end)}
    return code in awarded or records.organisation(code).member_of in awarded


def provider_access(records: _Records, actor: Actor, agreement: str, provider: str) -> ProviderAccess:
    """Access to ``provider``'s own figures (and the anonymised market) under ``agreement``.

    Another organisation's figures are ``NotFound``, as if there were none; so
    are the figures of an organisation with no part in the agreement (no award,
    no alliance holding one, not a commissioner), whoever asks.
    """
    found = records.agreement(agreement)
    records.organisation(provider)  # an unknown provider says so
    allowed = is_system(actor) or person(records, actor).organisation == provider or _may_read_all(records, actor, found)
    if allowed and _is_party(records, found, provider):
        return ProviderAccess(agreement, provider, actor, _GRANT)
    raise NotFound(f"{provider}'s figures under {agreement} are not found")


def access_for(records: _Records, actor: Actor, agreement: str, provider: str | None = None) -> Access:
    """What ``actor`` may read under ``agreement``: every provider's figures if they may, else one provider's.

    The one way a reader's access is decided (the CLI, pages and the API all
    ask here): ``AccountantAccess`` for whoever may read every provider's
    figures; otherwise ``ProviderAccess`` to ``provider`` (default: the
    actor's own organisation), or ``NotFound`` if that is another's or has no
    part in the agreement. To see what one provider sees, ask
    ``provider_access`` for it.
    """
    found = records.agreement(agreement)
    if _may_read_all(records, actor, found):
        return AccountantAccess(agreement, actor, _GRANT)
    return provider_access(records, actor, agreement, provider or actor.organisation or "")


# -- what an access lets a query show ----------------------------------------------------------


def _checked(access: object) -> Access:
    if not isinstance(access, (AccountantAccess, ProviderAccess)):
        raise TypeError(f"this view needs an access from ledger.authorisation, not {type(access).__name__}")
    return access


def accountants_only(access: object) -> AccountantAccess:
    """Every provider's figures at once are for accountants: a provider's access is refused by role (403)."""
    checked = _checked(access)
    if isinstance(checked, AccountantAccess):
        return checked
    raise NotAllowed(
        f"{checked.actor} may not see every provider's figures under {checked.agreement}; "
        "providers see their own figures and the anonymised market"
    )


def only_provider(access: object) -> str | None:
    """The one provider whose figures the access may see; None for an accountant's (every provider)."""
    checked = _checked(access)
    return checked.provider if isinstance(checked, ProviderAccess) else None


def shown_provider(access: object, provider: str) -> str:
    """``provider``, if the access may see its figures; another provider's are ``NotFound``, as if there were none."""
    own = only_provider(access)
    if own is not None and provider != own:
        raise NotFound(f"{provider}'s figures under {_checked(access).agreement} are not found")
    return provider
