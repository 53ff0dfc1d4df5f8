"""Logging in and out, the first-login link, changing one's password.

Every attempt goes to the security log (``ledger.security.store``); a
username or an address that fails too often is locked for a while, with the
count kept in the database so that it holds across gunicorn workers. The
message for a wrong password and for an unknown user is the same, so the
page does not tell who has an account.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from domain.errors import InvalidInput
from ledger.security.passwords import MAX_LENGTH, MIN_LENGTH
from web.access import EVERY_ROLE, allow, public
from web.services import book_of
from web.users import find_user

bp = Blueprint("auth", __name__)

REFUSED = "That username and password do not match an account."


class LoginForm(FlaskForm):
    username = StringField("Username (your email address)", validators=[DataRequired(), Length(max=128)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        f"New password (at least {MIN_LENGTH} characters)", validators=[DataRequired(), Length(max=MAX_LENGTH)]
    )
    confirm = PasswordField(
        "New password again", validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")]
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_LENGTH)])


def _address() -> str:
    return (request.remote_addr or "unknown")[:64]


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/", methods=["GET"])
@public
def index() -> Response:
    """The landing page: the login page, or the user's own start page once logged in."""
    if current_user.is_authenticated:
        return redirect(url_for(current_user.home_endpoint))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for(current_user.home_endpoint))
    form = LoginForm()
    if form.validate_on_submit():
        security = book_of().security
        username = form.username.data.strip().lower()
        keys = (f"user:{username}", f"addr:{_address()}")
        locked = security.throttled(*keys)
        if locked is not None:
            security.log("login-locked", username, _address(), f"locked until {locked.until:%H:%M} UTC")
            form.form_errors.append(
                f"Too many failed attempts: logging in is paused until {locked.until:%H:%M} UTC. "
                "Try again then, or ask your admin to reset your password."
            )
            return render_template("auth/login.html", form=form), 429
        matches = security.password_matches(username, form.password.data)  # always one hash: timing tells nothing
        user = find_user(username)
        if user is None or not matches:
            security.record_failure(*keys)
            security.log("login-failed", username, _address())
            form.form_errors.append(REFUSED)
            return render_template("auth/login.html", form=form), 401
        security.clear_failures(f"user:{username}")
        security.log("login", username, _address())
        session.clear()  # a fresh session: nothing carried over from before login
        login_user(find_user(username, security.start_session(username)))
        return redirect(_safe_next(request.args.get("next")) or url_for(user.home_endpoint))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@allow(*EVERY_ROLE)
def logout() -> Response:
    form = FlaskForm()
    if form.validate_on_submit():
        security = book_of().security
        security.end_session(current_user.session_id)
        security.log("logout", current_user.username, _address())
        logout_user()
        session.clear()
        flash("You have logged out.")
    return redirect(url_for("auth.login"))


@bp.route("/first-login/<token>", methods=["GET", "POST"])
@public
def first_login(token: str) -> Response | str | tuple[str, int]:
    """Choose a password through a link an admin sent (or `openbook users invite` printed)."""
    security = book_of().security
    username = security.link_user(token)
    if username is None:
        return render_template("auth/link_unusable.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            security.use_link(token, form.password.data)
        except InvalidInput as e:
            form.password.errors.append(str(e).removeprefix("password: "))
        else:
            flash("Your password is set. Please log in.")
            return redirect(url_for("auth.login"))
    return render_template("auth/first_login.html", form=form, username=username)


@bp.route("/account", methods=["GET", "POST"])
@allow(*EVERY_ROLE)
def account() -> Response | str:
    """The user's own account: who they are, and changing their password."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        security = book_of().security
        key = f"user:{current_user.username}"  # a stolen session may not guess the password here either
        locked = security.throttled(key)
        if locked is not None:
            form.current.errors.append(f"Too many wrong attempts: try again after {locked.until:%H:%M} UTC.")
        elif not security.password_matches(current_user.username, form.current.data):
            security.record_failure(key)
            security.log("login-failed", current_user.username, _address(), "wrong current password on /account")
            form.current.errors.append("That is not your current password.")
        else:
            try:
                security.set_password(current_user.username, form.password.data)
            except InvalidInput as e:
                form.password.errors.append(str(e).removeprefix("password: "))
            else:
                username = current_user.username  # every session ended with the old password: start this one again
                login_user(find_user(username, security.start_session(username)))
                flash("Your password has changed. Other sessions have been logged out.")
                return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, roles=sorted(r.value for r in current_user.roles))

