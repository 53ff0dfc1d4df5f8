"""One list of error kinds, the same in the CLI's --json, the web and the API."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from markupsafe import escape

import cli
import domain
import ledger
from domain.errors import KINDS, InvalidInput, NotAllowed, NotFound, OpenbookError
from ledger.settings import Settings
from web import errors as web_errors
from web.access import public
from web.app import create_app


def _every_error_class() -> set[type[OpenbookError]]:
    for package in (domain, ledger, cli):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(info.name)
    found, todo = set(), [OpenbookError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


def test_every_error_raised_anywhere_is_of_a_listed_kind():
    unlisted = sorted(f"{c.__module__}.{c.__qualname__} ({c.kind})" for c in _every_error_class() if c.kind not in KINDS)
    assert unlisted == []


def test_every_kind_has_an_http_status_and_a_role_refused_is_403_another_organisations_record_404():
    assert set(web_errors.STATUS) == set(KINDS)
    assert web_errors.status_of(NotAllowed("approving a settlement: only an accountant may do this")) == 403
    assert web_errors.status_of(NotFound("premier-care's figures under wirral-homecare are not found")) == 404
    assert web_errors.status_of(InvalidInput(["lines.pension: must not be negative"])) == 400


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (NotAllowed("recording KPI results: only an accountant of a commissioner may do this"), 403, "not-allowed"),
        (NotFound("premier-care's figures under wirral-homecare are not found"), 404, "not-found"),
        (InvalidInput(["lines.pension: must not be negative", "volumes.visits: must be a whole number"]), 400,
         "invalid-input"),
    ],
)
def test_the_api_reports_the_kind_and_every_problem_and_pages_the_status(error, status, kind):
    app = create_app({"OPENBOOK": object(), "SETTINGS": Settings(secret_key="test")})  # pages need no ledger

    @public
    def fail() -> str:
        raise error

    app.add_url_rule("/api/fail", "api_fail", fail)
    app.add_url_rule("/fail", "page_fail", fail)
    client = app.test_client()
    answer = client.get("/api/fail")
    assert answer.status_code == status
    page = client.get("/fail")
    if kind == "not-found":  # one answer whether it does not exist or is another's: the ledger's words would tell
        generic = web_errors.TITLES[404][1]
        assert answer.get_json() == {"kind": kind, "message": generic, "fields": []}
        assert page.status_code == 404 and escape(generic).encode() in page.data
        assert b"premier-care" not in page.data
        return
    assert answer.get_json() == {"kind": kind, "message": str(error), "fields": web_errors.error_body(kind, "", error.problems)["fields"]}
    if kind == "invalid-input":  # each problem apart from the field it names
        assert answer.get_json()["fields"] == [
            {"field": "lines.pension", "message": "must not be negative"},
            {"field": "volumes.visits", "message": "must be a whole number"},
        ]
    elif kind == "not-allowed":
        assert answer.get_json()["fields"] == [{"field": None, "message": str(error)}]
    assert page.status_code == status and escape(str(error)).encode() in page.data


def test_nothing_raises_the_bare_base_class_so_every_error_has_a_stable_kind():
    """``OpenbookError`` itself is only for catching: raised bare, its kind says nothing to a caller."""
    root = Path(domain.__file__).parent.parent
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for package in ("domain", "ledger", "reports", "web", "cli", "demo")
        for path in sorted((root / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "raise OpenbookError(" in line
    ]
    assert offenders == []
