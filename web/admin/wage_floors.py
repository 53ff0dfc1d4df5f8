"""Wage floors: the rates every wage check reads (built in, plus what admins added), and adding one.

Adding calls the same use case as ``openbook returns add-wage-floor``; the
list reads the read model (``ledger.queries.returns.wage_floors_added``) and
the domain's built-in table, extended as the checks extend it.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from domain.organisations.user import Role
from domain.returns.wage_floors import Floor, FloorRow, WageFloorTable
from ledger.queries.returns import wage_floors_added
from web import as_at
from web.access import allow
from web.admin import bp
from web.admin.recording import ChangeForm, choices, envelope, record
from web.services import book_of
from web.tables import Column, table


class WageFloorForm(ChangeForm):
    floor = SelectField("Floor", choices=choices((f.value, f.label) for f in Floor))
    effective_from = DateField("First day the rate applies", validators=[DataRequired()])
    hourly_rate = StringField("Hourly rate in pounds (e.g. 12.71)", validators=[DataRequired(), Length(max=20)])
    band = StringField("Age band (e.g. 21 and over; empty: the band then in force)", validators=[Optional(),
                                                                                                 Length(max=60)])


@bp.route("/wage-floors", methods=["GET", "POST"])
@allow(Role.ADMIN)
def wage_floors() -> Response | tuple[str, int]:
    form = WageFloorForm()
    status = 200
    if form.validate_on_submit():
        book = book_of()
        result, status = record(form, lambda: book.returns.add_wage_floor(
            envelope(form), form.floor.data, form.effective_from.data, form.hourly_rate.data.strip(),
            (form.band.data or "").strip() or None,
        ))  # fmt: skip
        if status is None:
            flash(f"Recorded: {result['floor']} £{result['hourly_rate']} an hour from {result['effective_from']}.")
            return redirect(url_for("admin.wage_floors"))
    elif form.errors:
        status = 400
    added = wage_floors_added(as_at.read_engine())
    in_use = WageFloorTable(tuple(
        FloorRow(Floor(r["floor"]), r["effective_from"], r["hourly_rate"], r["band"]) for r in added
    ))  # fmt: skip
    rows = [
        {"floor": floor.label, "effective_from": start, "hourly_rate": rate, "band": band}
        for floor in Floor
        for start, rate, band in in_use.banded_rows(floor)
    ]
    columns = [Column("floor", "Floor"), Column("effective_from", "From", "date"),
               Column("hourly_rate", "Hourly rate", "money"), Column("band", "Age band")]  # fmt: skip
    every = table("wage-floors", "The rates every wage check reads", columns, rows)
    recorded = table(
        "added", "Rates added by admins, in the order recorded",
        [*columns, Column("reason", "Reason"), Column("recorded_by", "Recorded by")],
        [{**r, "floor": Floor(r["floor"]).label} for r in added],
    )  # fmt: skip
    return render_template("admin/wage_floors/list.html", form=form, every=every, recorded=recorded), status
