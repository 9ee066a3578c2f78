"""The signed-in user's own account: two-factor status and setup, recovery codes, password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from databank.domain.errors import DatabankError
from databank.models import User
from databank.services.access.roles import requires_two_factor
from databank.services.accounts import staff, two_factor
from databank.web.auth import finish_enrolment, login_required, pending_user
from databank.web.service_messages import plain
from databank.web.unit_of_work import db

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(errors: dict[str, list[str]] | None = None, status: int = 200) -> tuple[str, int]:
    user: User = current_user.user
    return (
        render_template(
            "account/security.html",
            user=user,
            enabled=two_factor.two_factor_enabled(user),
            required=requires_two_factor(user.roles),
            unused_codes=two_factor.unused_recovery_codes(db(), user),
            errors=plain(errors or {}),
        ),
        status,
    )


@bp.route("/")
@login_required
def security() -> tuple[str, int]:
    return _page()


@bp.route("/2fa/setup", methods=["GET", "POST"])
def setup_two_factor() -> str | Response | tuple[str, int]:
    """Enrol an authenticator: forced at sign-in for roles that need it, or chosen by the user."""
    signed_in = bool(current_user.is_authenticated)
    user: User | None = current_user.user if signed_in else pending_user()
    if user is None:
        session.clear()
        return redirect(url_for("auth.login"))
    if two_factor.two_factor_enabled(user):
        return redirect(url_for("account.security"))
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            codes = two_factor.confirm_enrolment(db(), user, request.form.get("code", ""))
        except DatabankError as error:
            errors, status = plain(error.errors), error.status
        else:
            finish_enrolment(user)
            # Shown once, in this response only: never kept in the session cookie.
            return render_template("account/recovery_codes.html", codes=codes, enrolled=True)
    enrolment = two_factor.pending_enrolment(db(), user)
    page = render_template(
        "account/setup.html",
        secret=enrolment.secret,
        uri=enrolment.uri,
        forced=not signed_in,
        errors=errors,
    )
    if status >= 400:
        # The request rolls back on an error status: keep the secret shown on this page.
        db().commit()
    return page, status


@bp.route("/2fa/disable", methods=["POST"])
@login_required
def disable_two_factor() -> Response | tuple[str, int]:
    try:
        two_factor.disable_two_factor(db(), current_user.user, request.form.get("code", ""))
    except DatabankError as error:
        db().commit()  # a wrong code counts towards the lockout
        return _page(error.errors, error.status)
    flash(_("Two-factor sign-in is turned off."))
    return redirect(url_for("account.security"))


@bp.route("/recovery-codes", methods=["POST"])
@login_required
def recovery_codes() -> str | tuple[str, int]:
    try:
        codes = two_factor.regenerate_recovery_codes(
            db(), current_user.user, request.form.get("renewal_code", "")
        )
    except DatabankError as error:
        db().commit()  # a wrong code counts towards the lockout
        # The page has two code fields: this form's is "renewal_code".
        return _page({"renewal_code": error.errors.get("code", [])}, error.status)
    return render_template("account/recovery_codes.html", codes=codes, enrolled=False)


@bp.route("/password", methods=["POST"])
@login_required
def change_password() -> Response | tuple[str, int]:
    user: User = current_user.user
    form = request.form
    errors: dict[str, list[str]] = {}
    if form.get("new_password", "") != form.get("confirm_password", ""):
        errors["confirm_password"] = [_("does not match the new password")]
        return _page(errors, 422)
    try:
        staff.change_password(
            db(), user, form.get("current_password", ""), form.get("new_password", "")
        )
    except DatabankError as error:
        return _page(error.errors, error.status)
    # Other sessions end; this one carries the new epoch.
    session["epoch"] = user.session_epoch
    flash(_("Your password is changed. Other sessions of your account are signed out."))
    return redirect(url_for("account.security"))
