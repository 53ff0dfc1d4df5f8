"""Who may do what: the one place the ledger decides whether an actor may record or read something.

Rules belong at the ledger boundary, not in the CLI or the web pages, so
every way in (CLI, web, API, a script) is held to the same rules. The actor
is the envelope's (username and organisation); the ledger looks the user up
(``User`` aggregate: organisation, roles, active) and refuses an actor whose
envelope names a different organisation from the user's own.

| action | who |
|---|---|
| file a cost return: draft, submit, amend, answer a query | the provider's own staff (role ``provider``); for the council's in-house return, the council's accountants or admins; an admin of a commissioner of the agreement |
| review a return: query, explain a breach, accept, reject, reopen | an accountant of a commissioner of the agreement |
| read every provider's figures (accountant views) | accountants, admins and auditors of a commissioner of the agreement; auditors of an audit body |
| read one provider's own figures (provider views) | that provider's staff; anyone who may read every provider's figures (to see what the provider sees) |
| add a wage floor (reference data) | an admin |
| read the event history itself (every provider's raw figures) | an auditor of an audit body |

The system actor (``domain.envelope.SYSTEM``: the CLI without ``--as``, the
demo loader, migrations) may do everything: it is the operator's own hand.

Reading is granted as an *access* value (``AccountantAccess``,
``ProviderAccess``) that only this module hands out; the queries take one, so
a provider's page cannot call the accountants' market view by mistake: it has
no ``AccountantAccess`` to give it. ``access_for`` is the one way a reader
gets theirs: every provider's figures if they may, else their own.

A role refused is ``NotAllowed`` (HTTP 403); another organisation's record is
``NotFound`` (404), as if it did not exist, so a provider cannot even learn
which of another provider's records exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.agreements.agreement import Agreement
from domain.envelope import SYSTEM, Actor
from domain.errors import InvalidInput, NotAllowed, NotFound
from domain.organisations.organisation import Organisation, OrganisationKind
from domain.organisations.user import Role, User

__all__ = [
    "Access",
    "AccountantAccess",
    "NotAllowed",
    "ProviderAccess",
    "access_for",
    "accountant_access",
    "accountants_only",
    "check_admin",
    "check_may_read_history",
    "check_may_file",
    "check_may_review",
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


def _commissioner_with(records: _Records, actor: Actor, agreement: Agreement, roles: tuple[Role, ...]) -> bool:
    who = person(records, actor)
    return who.organisation in agreement.commissioners and who.has(*roles)


def _names(roles: tuple[Role, ...]) -> str:
    return " or ".join(r.value for r in roles)


# -- recording ---------------------------------------------------------------------------------


def check_may_file(records: _Records, actor: Actor, agreement: Agreement, provider: str, what: str) -> None:
    """Provider actions on ``provider``'s return: its own staff, or an admin of a commissioner."""
    if is_system(actor):
        return
    who = person(records, actor)
    if who.organisation == provider:
        in_house = records.organisation(provider).kind is not OrganisationKind.PROVIDER
        needed = (Role.ACCOUNTANT, Role.ADMIN) if in_house else (Role.PROVIDER,)
        if who.has(*needed):
            return
        raise NotAllowed(f"{what}: {who.username} has no {_names(needed)} role at {provider}")
    if who.organisation in agreement.commissioners:
        if who.has(Role.ADMIN):
            return
        raise NotAllowed(f"{what}: {who.username} of {who.organisation} cannot act for {provider}")
    raise NotFound(f"{what}: {provider} is not found")  # another organisation's record, as if it did not exist


def check_may_review(
    records: _Records, actor: Actor, agreement: Agreement, what: str, subject: str | None = None
) -> None:
    """Accountant actions on a return: an accountant of a commissioner of the agreement.

    Nobody reviews their own organisation's figures: a council's in-house
    return (Wirral 5.9) is reviewed by the other commissioner's accountant.
    """
    if is_system(actor):
        return
    if _commissioner_with(records, actor, agreement, (Role.ACCOUNTANT,)):
        if subject is not None and actor.organisation == subject:
            raise NotAllowed(f"{what}: {actor.user} cannot review {subject}'s own return; another commissioner must")
        return
    raise NotAllowed(
        f"{what}: only an accountant of a commissioner of {agreement.code} "
        f"({', '.join(agreement.commissioners) or 'none yet'}) may do this, not {actor}"
    )


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


def check_may_read_history(records: _Records, actor: Actor) -> None:
    """The whole recorded history, every provider's raw figures in it, is for auditors (of an audit body) and the
    operator; everyone else reads the views their access allows."""
    if is_system(actor):
        return
    who = person(records, actor)
    if who.has(Role.AUDITOR) and records.organisation(who.organisation).kind is OrganisationKind.AUDIT_BODY:
        return
    raise NotAllowed(
        f"reading the event history: only an auditor of an audit body may, not {actor}; "
        "every figure you may see is in the views (returns, activity, payments, settlements)"
    )


def check_admin(records: _Records, actor: Actor, what: str) -> None:
    if is_system(actor) or person(records, actor).has(Role.ADMIN):
        return
    raise NotAllowed(f"{what}: only an admin may do this, not {actor}")


# -- reading -----------------------------------------------------------------------------------


def _may_read_all(records: _Records, actor: Actor, agreement: Agreement) -> bool:
    if is_system(actor):
        return True
    who = person(records, actor)
    if who.organisation in agreement.commissioners and who.has(Role.ACCOUNTANT, Role.ADMIN, Role.AUDITOR):
        return True
    audit_body = records.organisation(who.organisation).kind is OrganisationKind.AUDIT_BODY
    return audit_body and who.has(Role.AUDITOR)


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
