"""Users of an organisation: register (with a first-login link), change roles, reset, deactivate.

The same use cases as ``openbook users``; the ledger decides who may (an
admin of the user's own organisation; a provider's or audit body's users are
the operator's). Passwords never pass through an admin: registering or
resetting makes a one-use first-login link (``SecurityStore.issue_link``),
shown once on the page for the admin to send, and the user chooses their
own password through it.
"""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from domain.errors import NotFound
from domain.organisations.user import Role
from ledger.authorisation import check_may_keep_account, check_may_see_user, users_seen_by
from ledger.queries import organisations as views
from web import as_at
from web.access import allow, current_actor
from web.admin import bp
from web.admin.organisations import organisation_row
from web.admin.recording import ChangeForm, choices, envelope, record
from web.services import book_of
from web.tables import Column, table

ROLE_CHOICES = choices(r.value for r in Role)


class RegisterUserForm(ChangeForm):
    username = StringField("Username (their email address)", validators=[DataRequired(), Length(max=128)])
    display_name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    organisation = SelectField("Organisation")
    roles = SelectMultipleField("Roles", choices=ROLE_CHOICES, validators=[DataRequired()])


class RolesForm(ChangeForm):
    roles = SelectMultipleField("Roles", choices=ROLE_CHOICES, validators=[DataRequired()])


class ResetForm(ChangeForm):
    id_prefix = "reset-"  # the user's page shows three forms: roles, reset and deactivate


class DeactivateForm(ChangeForm):
    id_prefix = "deactivate-"


def _user(username: str) -> dict[str, Any]:
    check_may_see_user(book_of().records, current_actor(), username)
    found = [u for u in views.list_users(as_at.read_engine()) if u["username"] == username]
    if not found:
        raise NotFound(f"user {username!r} is not found")
    return found[0]


def _organisation_choices() -> list[SelectChoice]:
    return choices((o["code"], f"{o['name']} ({o['code']})") for o in views.list_organisations(book_of().read_engine))


def _link_page(username: str, what: str) -> Response:
    """The first-login link, shown this once (never stored in the clear, never cached)."""
    token = book_of().security.issue_link(username)
    link = url_for("auth.first_login", token=token, _external=True)
    response = make_response(render_template("admin/users/link.html", username=username, link=link, what=what))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/users")
@allow(Role.ADMIN)
def users() -> str:
    """The users of one organisation (default: the admin's own)."""
    code = request.args.get("organisation") or current_user.organisation
    seen = users_seen_by(book_of().records, current_actor())
    if seen is not None and code != seen:
        raise NotFound(f"organisation {code} is not found")
    org = organisation_row(code)
    rows = [
        {**u, "roles": " ".join(u["roles"]), "status": "active" if u["active"] else "deactivated"}
        for u in views.list_users(as_at.read_engine(), code)
    ]
    columns = [Column("username", "Username"), Column("display_name", "Name"), Column("roles", "Roles"),
               Column("status", "Status")]  # fmt: skip
    users_table = table("users", f"Users of {org['name']}", columns, rows)
    return render_template(
        "admin/users/list.html", org=org, users=users_table,
        organisations=[c for c in _organisation_choices() if seen is None or c.value == seen],
    )


@bp.route("/users/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def register_user() -> Response | str | tuple[str, int]:
    form = RegisterUserForm()
    form.organisation.choices = _organisation_choices()
    if request.method == "GET":
        form.organisation.data = request.args.get("organisation") or current_user.organisation
    if form.validate_on_submit():
        book = book_of()
        username, status = record(form, lambda: book.organisations.register_user(
            envelope(form), form.username.data, form.display_name.data, form.organisation.data, form.roles.data
        ))  # fmt: skip
        if status is None:
            return _link_page(username, "registered")
        return render_template("admin/users/register.html", form=form), status
    return render_template("admin/users/register.html", form=form), 400 if form.errors else 200


@bp.get("/users/<username>")
@allow(Role.ADMIN)
def user(username: str) -> str:
    found = _user(username)
    roles = RolesForm(formdata=None, roles=found["roles"])
    return _user_page(found, roles=roles)


def _user_page(found: dict[str, Any], **forms: FlaskForm) -> str:
    forms.setdefault("roles", RolesForm(formdata=None, roles=found["roles"]))
    forms.setdefault("reset", ResetForm(formdata=None))
    forms.setdefault("deactivate", DeactivateForm(formdata=None))
    log = book_of().security.recent(20, found["username"])
    return render_template("admin/users/user.html", user=found, log=log, **forms)


@bp.post("/users/<username>/roles")
@allow(Role.ADMIN)
def change_roles(username: str) -> Response | tuple[str, int]:
    found = _user(username)
    form = RolesForm()
    if form.validate_on_submit():
        book = book_of()
        _, status = record(
            form, lambda: book.organisations.change_user_roles(envelope(form), username, form.roles.data)
        )
        if status is None:
            flash(f"{username}'s roles are now {', '.join(sorted(set(form.roles.data)))}.")
            return redirect(url_for("admin.user", username=username))
        return _user_page(found, roles=form), status
    return _user_page(found, roles=form), 400


@bp.post("/users/<username>/reset")
@allow(Role.ADMIN)
def reset_password(username: str) -> Response | tuple[str, int]:
    """A new first-login link; the old password still works until the link is used (nothing to record)."""
    found = _user(username)
    form = ResetForm()
    if not form.validate_on_submit():
        return _user_page(found, reset=form), 400
    if not found["active"]:
        form.form_errors.append(f"{username} is deactivated: a link would not let them log in.")
        return _user_page(found, reset=form), 422
    check_may_keep_account(book_of().records, current_actor(), username)
    return _link_page(username, "reset")


@bp.post("/users/<username>/deactivate")
@allow(Role.ADMIN)
def deactivate_user(username: str) -> Response | tuple[str, int]:
    found = _user(username)
    form = DeactivateForm()
    if form.validate_on_submit():
        book = book_of()
        _, status = record(form, lambda: book.organisations.deactivate_user(envelope(form), username))
        if status is None:
            flash(f"{username} is deactivated: they can no longer log in or record anything.")
            return redirect(url_for("admin.user", username=username))
        return _user_page(found, deactivate=form), status
    return _user_page(found, deactivate=form), 400
