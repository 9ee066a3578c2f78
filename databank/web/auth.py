"""Sign-in for staff with flask-login; the acting user becomes a services Actor.

Sign-in has up to three steps: the password (/login), then a second factor (/login/2fa) if the
user has one, or a forced enrolment (/account/2fa/setup) if their role needs one and they have
none. Between the steps the session only holds "pending" markers: flask-login knows no user, so
every other page treats the visitor as signed out. Only the last step calls login_user.

A signed-in session carries the user's session epoch, its sign-in time and the time of its last
request: it stops working when the epoch moves on (sign-out, deactivation, 2FA reset, password
change), after an idle period, and after an absolute lifetime.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_login import login_required as _login_required
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from databank.domain.enums import Purpose
from databank.domain.errors import DatabankError
from databank.models import User
from databank.services import access
from databank.services.access import roles
from databank.services.accounts import invitations, staff, two_factor
from databank.services.accounts.organisations import authenticate, record_purpose_switch
from databank.services.accounts.throttle import INVITATIONS, SignInThrottle, whole_seconds
from databank.services.actors import Actor
from databank.services.context import policy_of
from databank.web import paths
from databank.web.i18n import back_to, select_locale, site_path
from databank.web.navigation import landing_endpoint
from databank.web.service_messages import plain
from databank.web.unit_of_work import db

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
# The note a signed-out visitor gets on the sign-in page, in their language (flask-login flashes
# it as given: the lazy string is turned into text for the request's locale first).
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.localize_callback = str

# How long a half-signed-in visitor has to give their second factor or finish enrolment.
PENDING_LIFETIME = 10 * 60  # seconds


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
    """flask-login's decorator, typed (the library ships no type information); once signed in,
    a path id that is not a UUID is a 404, and the page runs as seen by the user's organisation:
    its person handles in, its handles out (web/paths.py)."""

    @functools.wraps(view)
    def as_viewer(**kwargs: Any) -> Any:
        return paths.as_viewer(current_actor().org_id, view, kwargs)

    return cast(F, _login_required(paths.page_ids(as_viewer)))


def _load(user_id: str) -> SignedInUser | None:
    try:
        # The user and their roles in one query: this runs on every signed-in request.
        user = db().get(User, uuid.UUID(user_id), options=[joinedload(User.role_rows)])
    except ValueError:
        return None
    if user is None or not user.is_active:
        return None
    # A cookie from before a sign-out, deactivation or 2FA reset names an old epoch: refused.
    if session.get("epoch") != user.session_epoch:
        return None
    return SignedInUser(user)


login_manager.user_loader(_load)


def current_actor() -> Actor:
    signed_in: SignedInUser = current_user
    return signed_in.actor


def current_purpose() -> Purpose:
    value = session.get("purpose")
    if value:
        return Purpose(value)
    return roles.default_purpose(current_actor().roles)


# -- throttling by (account, client address) -----------------------------------------------------

Throttled = tuple[str, int, dict[str, str]]  # a 429 page with its Retry-After header


def throttle() -> SignInThrottle:
    """Failed sign-ins per (account, client address), shared by every process through the
    database (services/accounts/throttle.py). Addresses and usernames are never written
    anywhere: not to the audit log, not to a log line, and in the database only as keyed tags."""
    return cast(SignInThrottle, current_app.extensions["databank_throttle"])


def _address() -> str:
    """The client's address: the peer's, or behind DATABANK_TRUSTED_PROXIES proxies the one the
    nearest trusted proxy saw (werkzeug's ProxyFix, set up in create_app, rewrote it). Without
    that setting an X-Forwarded-For header is the client's own word, and ignored."""
    return request.remote_addr or "unknown"


def _failed_attempt(account: str) -> None:
    """Count a failed attempt against (account, client address), and commit it with the
    attempt's log entry, if any, although the answer is an error (which would roll the request
    back)."""
    throttle().failed(db(), _address(), account)
    db().commit()


def _too_soon(account: str, template: str) -> Throttled | None:
    """A 429 while this account waits after failures from this address; None when it may try.
    The same for a username that exists and one that does not."""
    wait = throttle().wait(db(), _address(), account)
    if not wait:
        return None
    staff.record_throttled(db())
    db().commit()  # the log entry stays although the response is an error
    seconds = whole_seconds(wait)
    if seconds < 120:
        message = ngettext(
            "Too many failed attempts for this account from your network. "
            "Please wait %(num)s second and try again.",
            "Too many failed attempts for this account from your network. "
            "Please wait %(num)s seconds and try again.",
            seconds,
        )
    else:
        message = ngettext(
            "Too many failed attempts for this account from your network. "
            "Please wait %(num)s minute and try again.",
            "Too many failed attempts for this account from your network. "
            "Please wait %(num)s minutes and try again.",
            -(-seconds // 60),
        )
    return render_template(template, error=message), 429, {"Retry-After": str(seconds)}


# -- the steps of sign-in --------------------------------------------------------------------------


def _finish_sign_in(user: User) -> None:
    """The last step: a fresh session (no fixation), then flask-login knows the user; the
    failures of this account from this address are forgotten."""
    throttle().succeeded(db(), _address(), user.username)
    session.clear()
    login_user(SignedInUser(user))
    now = time.time()
    session["epoch"] = user.session_epoch
    session["signed_in_at"] = now
    session["seen"] = now


def pending_user() -> User | None:
    """The half-signed-in user (password right, second factor outstanding), if still valid."""
    raw = session.get("pending_user")
    started = session.get("pending_at")
    if not isinstance(raw, str) or not isinstance(started, float | int):
        return None
    if time.time() - started > PENDING_LIFETIME:
        return None
    try:
        user = db().get(User, uuid.UUID(raw))
    except ValueError:
        return None
    if user is None or not user.is_active or session.get("pending_epoch") != user.session_epoch:
        return None
    return user


def finish_enrolment(user: User) -> None:
    """Called by the enrolment page once the first code is confirmed."""
    if not current_user.is_authenticated:
        _finish_sign_in(user)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int] | Throttled:
    if request.method == "GET":
        return render_template("login.html")
    username = request.form.get("username", "")
    refused = _too_soon(username, "login.html")
    if refused:
        return refused
    outcome = authenticate(db(), username, request.form.get("password", ""))
    user = outcome.user
    if user is None:
        if outcome.reason == "locked":
            # Only after the right password: locked by wrong second-factor codes.
            error = _("This account is locked for a while after too many attempts.")
        else:
            # One answer for an unknown username, a wrong password and a deactivated account.
            _failed_attempt(username)
            error = _("Wrong username or password.")
        return render_template("login.html", error=error), 401
    return _next_step(user, site_path(request.form.get("next", "")))


def _after_sign_in(user: User, then: str | None) -> Response:
    """The page a sign-in goes to: the page the user was sent from when their session ended
    (`next`, a path of this site only: never an open redirect), else their landing page."""
    return redirect(then or url_for(landing_endpoint(user.roles)))


def _next_step(user: User, then: str | None = None) -> Response:
    """After the password: signed in, or half-signed-in until the second factor is given."""
    stage = two_factor.second_factor_stage(user)
    if stage is None:
        _finish_sign_in(user)
        return _after_sign_in(user, then)
    session.clear()  # no session fixation: a fresh session already at the first step
    session["pending_user"] = str(user.id)
    session["pending_epoch"] = user.session_epoch
    session["pending_at"] = time.time()
    if then:
        session["pending_next"] = then
    if stage == "enrol":
        return redirect(url_for("account.setup_two_factor"))
    return redirect(url_for("auth.second_factor"))


@bp.route("/login/2fa", methods=["GET", "POST"])
def second_factor() -> str | Response | tuple[str, int] | Throttled:
    user = pending_user()
    if user is None or not two_factor.two_factor_enabled(user):
        session.clear()
        flash(_("Please sign in again."))
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("login_2fa.html")
    refused = _too_soon(user.username, "login_2fa.html")
    if refused:
        return refused
    if two_factor.verify_second_factor(db(), user, request.form.get("code", "")):
        then = site_path(str(session.get("pending_next", "")))
        _finish_sign_in(user)
        return _after_sign_in(user, then)
    _failed_attempt(user.username)
    error = (
        _("This account is locked for a while after too many attempts.")
        if two_factor.is_locked(user)
        else _("This code is not valid. Enter the current code or an unused recovery code.")
    )
    return render_template("login_2fa.html", error=error), 401


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    staff.sign_out(db(), current_user.user)
    logout_user()
    session.clear()
    response = redirect(url_for("auth.login"))
    # What the outreach pages kept on the device (encrypted drafts and contacts, the key to them,
    # the offline shells) does not outlive the sign-out (web/outreach_offline.py).
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/invite", methods=["GET", "POST"])
def invitation() -> str | Response | tuple[str, int] | Throttled:
    """Accept an invitation: choose a username and a password (then enrol 2FA if required).

    The link carries its token after `#` (`/invite#<token>`), a part of the address browsers never
    send: the token stays out of the server's and proxies' request logs and out of the history's
    paths. The page's script puts it in the form and posts it; without scripts, the invitee pastes
    it. The token then travels only in POST bodies.
    """
    if request.method == "GET":
        return render_template("account/invitation_code.html", errors={})
    refused = _too_soon(INVITATIONS, "login.html")
    if refused:
        return refused
    token = request.form.get("token", "").strip()
    try:
        invited = invitations.open_invitation(db(), token)
    except DatabankError:
        _failed_attempt(INVITATIONS)  # a guessed code counts as a failed sign-in
        return render_template("account/invitation_invalid.html"), 404
    org = invitations.invitation_org(db(), invited)

    def join_page(errors: dict[str, Any]) -> str:
        return render_template(
            "account/invitation.html", invitation=invited, org=org, token=token, errors=errors
        )

    if "username" not in request.form:  # the code alone: show the form to join
        return join_page({})
    try:
        user = invitations.accept_invitation(
            db(),
            token,
            request.form.get("username", ""),
            request.form.get("password", ""),
        )
    except DatabankError as error:
        return join_page(plain(error.errors)), error.status
    if current_user.is_authenticated:
        logout_user()
    # The new user is in at once, through two-factor enrolment if their role needs it.
    return _next_step(user)


@bp.route("/invite/<path:_old>")
def old_invitation(_old: str) -> tuple[str, int]:
    """A link of the earlier form, with the token in its path (and so in request logs): it opens
    nothing, and says to ask for a new link."""
    return render_template("account/invitation_invalid.html"), 404


def invitation_link(token: str) -> str:
    """The link an invitee opens: the token after `#`, which browsers keep to themselves. Built
    on the configured public address, never on the request's Host header: a forged Host would
    send the invitee, and the token, to another site."""
    settings = current_app.config["DATABANK_SETTINGS"]
    path = url_for("auth.invitation")
    return f"{settings.public_url}{path}#{token}"


@bp.route("/purpose", methods=["POST"])
@login_required
def choose_purpose() -> Response:
    chosen = access.parse_purpose(request.form.get("purpose", ""))
    # Every switch of declared purpose is in the access log; one the user's roles may not
    # declare is refused there (403), and the attempt is logged too.
    record_purpose_switch(db(), current_actor(), chosen)
    session["purpose"] = chosen.value
    # Back to the page the bar was on (the Referer header is never sent: no-referrer).
    return redirect(back_to())


def purpose_info(purpose: Purpose) -> tuple[str, str]:
    """A purpose's short label and its plain sentence, from policies/purposes.yaml, in the
    user's language."""
    info = policy_of(db()).bundle.purposes[purpose]
    if select_locale() == "fr":
        return str(info.fr), str(info.description_fr)
    return str(info.en), str(info.description_en)


def purpose_label(purpose: Purpose) -> str:
    return purpose_info(purpose)[0]


def _template_context() -> dict[str, object]:
    if not current_user.is_authenticated:
        return {"purpose_label": purpose_label}
    return {
        "purpose": current_purpose(),
        "purposes": roles.declarable_purposes(current_actor().roles),
        "purpose_label": purpose_label,
    }


def _session_timeouts() -> None:
    """End a signed-in session that was idle too long or is older than its absolute lifetime."""
    if "_user_id" not in session:
        return
    now = time.time()
    seen = session.get("seen")
    started = session.get("signed_in_at")
    config = current_app.config
    if (
        not isinstance(seen, float | int)
        or not isinstance(started, float | int)
        or now - seen > config["DATABANK_IDLE_TIMEOUT"]
        or now - started > config["DATABANK_SESSION_LIFETIME"]
    ):
        session.clear()
        return
    if now - seen > 10:  # the cookie is re-sent at most every few seconds, not on every request
        session["seen"] = now


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.extensions["databank_throttle"] = SignInThrottle()
    app.before_request(_session_timeouts)
    app.register_blueprint(bp)
    app.context_processor(_template_context)
