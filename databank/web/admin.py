"""An org admin's page of their organisation's staff: invite, deactivate and reactivate (each
confirmed first), reset two-factor.

Who may do what is decided by the services (services/access.py `require_account_admin`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from databank.domain.audit_vocab import AuditEvent
from databank.domain.enums import Role
from databank.domain.errors import DatabankError
from databank.services.access.roles import INVITABLE_ROLES, org_managed, requires_two_factor
from databank.services.accounts import invitations, staff, two_factor
from databank.services.actors import Actor
from databank.web.auth import current_actor, invitation_link, login_required
from databank.web.service_messages import plain
from databank.web.unit_of_work import db

bp = Blueprint("admin", __name__, url_prefix="/organisation/users")

ROLE_LABELS = {
    Role.OUTREACH_WORKER: _l("Outreach worker"),
    Role.HOUSING_OFFICER: _l("Housing officer"),
    Role.AUDITOR: _l("Auditor"),
    Role.ORG_ADMIN: _l("Organisation administrator"),
    Role.BREAK_GLASS_RESPONDER: _l("Break-glass responder"),
    Role.PLATFORM_AUDITOR: _l("Platform auditor"),
    Role.LINKAGE_REVIEWER: _l("Linkage reviewer"),
}


def _page(
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
    link: str | None = None,
    form: dict[str, object] | None = None,
) -> tuple[str, int]:
    users = staff.list_users(db(), current_actor())
    return (
        render_template(
            "admin/users.html",
            users=users,
            me=current_actor().user_id,
            two_factor_enabled=two_factor.two_factor_enabled,
            requires_two_factor=requires_two_factor,
            org_managed=org_managed,
            roles=INVITABLE_ROLES,
            role_labels=ROLE_LABELS,
            errors=plain(errors or {}),
            link=link,
            form=form or {},
        ),
        status,
    )


@bp.route("/")
@login_required
def users() -> tuple[str, int]:
    return _page()


@bp.route("/invite", methods=["POST"])
@login_required
def invite() -> tuple[str, int]:
    display_name = request.form.get("display_name", "")
    roles = request.form.getlist("roles")
    try:
        invited = invitations.invite(db(), current_actor(), display_name, roles)
    except DatabankError as error:
        if error.status == 403:
            raise
        form: dict[str, object] = {"display_name": display_name, "roles": roles}
        return _page(error.errors, error.status, form=form)
    # The link holds the only copy of the token: shown once, on this page.
    link = invitation_link(invited.token)
    return _page(link=link)


# Deactivating or reactivating an account asks first: the list's button opens a page that says
# what will happen, and the change is made only by a POST whose "confirm" box is ticked (checked
# here, so a stray click, a double submit or a form without the box changes nothing).
_CHANGES: dict[str, tuple[Callable[[Session, Actor, uuid.UUID], object], object]] = {
    "deactivate": (staff.deactivate, _l("The account is deactivated; its sessions have ended.")),
    "reactivate": (
        staff.reactivate,
        _l("The account is active again: the person can sign in with their password."),
    ),
}


def _account_change(user_id: uuid.UUID, change: str) -> Response | tuple[str, int]:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if request.form.get("confirm") == "yes":
            service, done = _CHANGES[change]
            try:
                service(db(), current_actor(), user_id)
            except DatabankError as error:
                if error.status == 403:
                    raise
                return _page(error.errors, error.status)
            flash(str(done))
            return redirect(url_for("admin.users"))
        errors = {"confirm": ["tick the box to confirm"]}
    # The account as the change would find it: another org's user is refused (and logged) here.
    event = AuditEvent.USERS_DEACTIVATE if change == "deactivate" else AuditEvent.USERS_REACTIVATE
    user = staff.managed_user(db(), current_actor(), user_id, event)
    page = render_template(
        "admin/confirm.html",
        user=user,
        change=change,
        role_labels=ROLE_LABELS,
        errors=plain(errors),
    )
    return page, 422 if errors else 200


@bp.route("/<uuid:user_id>/deactivate", methods=["GET", "POST"])
@login_required
def deactivate(user_id: uuid.UUID) -> Response | tuple[str, int]:
    return _account_change(user_id, "deactivate")


@bp.route("/<uuid:user_id>/reactivate", methods=["GET", "POST"])
@login_required
def reactivate(user_id: uuid.UUID) -> Response | tuple[str, int]:
    return _account_change(user_id, "reactivate")


@bp.route("/<uuid:user_id>/reset-2fa", methods=["POST"])
@login_required
def reset_two_factor(user_id: uuid.UUID) -> Response:
    staff.reset_two_factor(db(), current_actor(), user_id)
    flash(_("Two-factor sign-in is reset: the user sets it up again at their next sign-in."))
    return redirect(url_for("admin.users"))
