"""Sign-in for staff with flask-login; the acting user becomes a services Actor."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_login import login_required as _login_required
from werkzeug.wrappers import Response

from databank.domain.enums import Purpose, Role
from databank.models import User
from databank.services.actors import Actor
from databank.services.orgs import authenticate, record_purpose_switch
from databank.web.runtime import db

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"

# The purpose preselected for a session, by role (the user can switch; every access records it).
DEFAULT_PURPOSE = {
    Role.OUTREACH_WORKER: Purpose.OUTREACH,
    Role.HOUSING_OFFICER: Purpose.CASE_MANAGEMENT,
    Role.ORG_ADMIN: Purpose.CASE_MANAGEMENT,
    Role.AUDITOR: Purpose.AUDIT,
    Role.BREAK_GLASS_RESPONDER: Purpose.OUTREACH,
    Role.PLATFORM_AUDITOR: Purpose.AUDIT,
}


# Purposes a session can declare. Forbidden ones never; vital interest only through break-glass.
SESSION_PURPOSES = [p for p in Purpose if not p.is_forbidden and p is not Purpose.VITAL_INTEREST]


class SignedInUser:
    """The flask-login user: a User row plus what the session chose."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.is_authenticated = True
        self.is_active = user.is_active
        self.is_anonymous = False

    def get_id(self) -> str:
        return str(self.user.id)

    @property
    def actor(self) -> Actor:
        return Actor.for_user(self.user, "web")


def login_required(view: F) -> F:
    """flask-login's decorator, typed (the library ships no type information)."""
    return cast(F, _login_required(view))


def _load(user_id: str) -> SignedInUser | None:
    try:
        user = db().get(User, uuid.UUID(user_id))
    except ValueError:
        return None
    return SignedInUser(user) if user is not None and user.is_active else None


login_manager.user_loader(_load)


def current_actor() -> Actor:
    signed_in: SignedInUser = current_user
    return signed_in.actor


def current_purpose() -> Purpose:
    value = session.get("purpose")
    if value:
        return Purpose(value)
    roles = current_actor().roles
    for role in Role:
        if role in roles:
            return DEFAULT_PURPOSE[role]
    return Purpose.CASE_MANAGEMENT


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if request.method == "POST":
        outcome = authenticate(
            db(), request.form.get("username", ""), request.form.get("password", "")
        )
        if outcome.user is not None:
            session.clear()  # no session fixation: a fresh session at sign-in
            login_user(SignedInUser(outcome.user))
            return redirect(url_for("pages.home"))
        flash(
            "This account is locked for a while after too many attempts."
            if outcome.reason == "locked"
            else "Wrong username or password."
        )
        db().commit()  # keep the failure count and its log entry
        return render_template("login.html"), 401  # type: ignore[return-value]
    return render_template("login.html")


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/purpose", methods=["POST"])
@login_required
def choose_purpose() -> Response:
    value = request.form.get("purpose", "")
    if value in {p.value for p in SESSION_PURPOSES}:
        session["purpose"] = value
        # Every switch of declared purpose is in the access log.
        record_purpose_switch(db(), current_actor(), Purpose(value))
    return redirect(request.referrer or url_for("pages.home"))


def _template_context() -> dict[str, object]:
    if not current_user.is_authenticated:
        return {}
    return {"purpose": current_purpose(), "purposes": SESSION_PURPOSES}


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)
    app.context_processor(_template_context)
