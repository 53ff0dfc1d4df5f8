"""Registering and renaming organisations: the same use cases as ``openbook organisations``."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from domain.errors import NotFound
from domain.organisations.organisation import OrganisationKind
from domain.organisations.user import Role
from ledger.authorisation import check_may_rename
from ledger.queries import organisations as views
from web import as_at
from web.access import allow, current_actor
from web.admin import bp
from web.admin.recording import ChangeForm, choices, envelope, record
from web.services import book_of


class RegisterOrganisationForm(ChangeForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=64)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    kind = SelectField("Kind", choices=choices(k.value for k in OrganisationKind))
    member_of = StringField("Member of (a provider alliance's code)", validators=[Optional(), Length(max=64)])


class RenameOrganisationForm(ChangeForm):
    name = StringField("New name", validators=[DataRequired(), Length(max=200)])


def organisation_row(code: str) -> dict:
    found = [row for row in views.list_organisations(as_at.read_engine()) if row["code"] == code]
    if not found:
        raise NotFound(f"organisation {code!r} is not found")
    return found[0]


@bp.route("/organisations/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def register_organisation() -> Response | str | tuple[str, int]:
    form = RegisterOrganisationForm()
    if form.validate_on_submit():
        book = book_of()
        code, status = record(form, lambda: book.organisations.register_organisation(
            envelope(form), form.code.data.strip(), form.name.data, form.kind.data, form.member_of.data or None
        ))  # fmt: skip
        if status is None:
            flash(f"Organisation {code} registered.")
            return redirect(url_for("admin.home"))
        return render_template("admin/organisations/register.html", form=form), status
    return render_template("admin/organisations/register.html", form=form), 400 if form.errors else 200


@bp.route("/organisations/<organisation>/rename", methods=["GET", "POST"])
@allow(Role.ADMIN)
def rename_organisation(organisation: str) -> Response | str | tuple[str, int]:
    row = organisation_row(organisation)
    check_may_rename(book_of().records, current_actor(), organisation)  # another's is 404, a provider's 403
    form = RenameOrganisationForm()
    if form.validate_on_submit():
        book = book_of()
        _, status = record(form, lambda: book.organisations.rename_organisation(envelope(form), organisation,
                                                                                 form.name.data))
        if status is None:
            flash(f"{organisation} is now called {form.name.data}.")
            return redirect(url_for("admin.home"))
        return render_template("admin/organisations/rename.html", form=form, org=row), status
    return render_template("admin/organisations/rename.html", form=form, org=row), 400 if form.errors else 200
