"""The navigation bar: each blueprint adds its own entries, so no one template lists them all.

An entry names an endpoint and the roles it is for; the layout shows the
entries of the logged-in user's roles, in the order they were added.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from domain.organisations.user import Role

KEY = "openbook.navigation"


@dataclass(frozen=True)
class Entry:
    label: str
    endpoint: str
    roles: frozenset[Role]


def add(app: Flask, label: str, endpoint: str, *roles: Role) -> None:
    app.extensions.setdefault(KEY, []).append(Entry(label, endpoint, frozenset(roles)))


def entries_for(app: Flask, roles: frozenset[Role]) -> list[Entry]:
    return [entry for entry in app.extensions.get(KEY, []) if entry.roles & roles]
