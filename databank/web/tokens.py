"""The API tokens page: a user creates and revokes their own tokens; an org admin sees and
revokes the organisation's. Who may do what is decided in services/tokens.py."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from databank.domain.enums import Purpose
from databank.domain.errors import Conflict, NotFound, ValidationFailed
from databank.schemas.common import flatten
from databank.schemas.tokens import TokenCreateIn
from databank.services.access import roles
from databank.services.accounts import tokens
from databank.services.accounts.tokens import MAX_DAYS, IssuedToken
from databank.web.auth import current_actor, login_required
from databank.web.service_messages import message, plain
from databank.web.unit_of_work import db

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")

# What each scope allows, in the user's language (services/tokens.py SCOPES says it in English).
SCOPE_TEXT = {
    "people:read": _l("Search the organisation's own records by family name and birth date."),
    "people:write": _l("Register people (identity, case, needs, first encounter)."),
    "cases:read": _l("Read the caseload and cases, as the policies release them."),
    "cases:write": _l("Record encounters, close cases."),
    "consents:read": _l("List a person's consents."),
    "consents:write": _l("Record and revoke consents."),
    "referrals:read": _l("List referrals received and sent by the organisation."),
    "referrals:write": _l("Refer cases to partners; answer, follow up and withdraw referrals."),
    "audit:read": _l("Read the access log (auditors only)."),
    "audit:review": _l("Review access-log alerts (auditors only)."),
    "linkage:read": _l(
        "Read the linkage review queue and the pool's counts (linkage reviewers only)."
    ),
    "linkage:review": _l("Decide pairs of the linkage review queue (linkage reviewers only)."),
    "stats:read": _l(
        "Read anonymised statistics and run ad-hoc tables on the user's privacy budget "
        "(roles that may read statistics only)."
    ),
}

# What a token may be limited to: what a session may declare.
TOKEN_PURPOSES = roles.SESSION_PURPOSES


def _page(
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    issued: IssuedToken | None = None,
    status: int = 200,
) -> tuple[str, int]:
    session, actor = db(), current_actor()
    # Which sections the page offers is display only; the service refuses non-admins itself.
    org_tokens = (
        tokens.list_tokens(session, actor, whole_org=True)
        if not actor.roles.isdisjoint(roles.ACCOUNT_ADMINS)
        else None
    )
    page = render_template(
        "tokens/index.html",
        own=tokens.list_tokens(session, actor),
        org_tokens=org_tokens,
        scopes=SCOPE_TEXT,
        purposes=TOKEN_PURPOSES,
        max_days=MAX_DAYS,
        form=form or {"days": 30, "scopes": [], "purposes": []},
        errors=plain(errors or {}),
        issued=issued,
    )
    return page, status


@bp.route("/", methods=["GET"])
@login_required
def index() -> tuple[str, int]:
    return _page()


@bp.route("/", methods=["POST"])
@login_required
def create() -> tuple[str, int]:
    form = {
        "name": request.form.get("name", ""),
        "scopes": request.form.getlist("scopes"),
        "days": request.form.get("days", "30"),
        "purposes": request.form.getlist("purposes"),
    }
    try:
        data = TokenCreateIn().load(form)
        issued = tokens.issue(
            db(),
            current_actor(),
            current_user.user.id,
            data["name"],
            data["scopes"],
            data["days"],
            [Purpose(p) for p in data["purposes"]],
        )
    except ValidationError as error:
        return _page(form, flatten(error.messages), status=422)
    except ValidationFailed as error:
        return _page(form, error.errors, status=422)
    # The secret is shown on this response only: never in a redirect, a flash or a log.
    return _page(issued=issued, status=201)


@bp.route("/<uuid:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: uuid.UUID) -> Response:
    try:
        tokens.revoke(db(), current_actor(), token_id)
    except (Conflict, NotFound) as error:
        flash(_("The token was not revoked: %(reason)s.", reason=message(error.message)))
    else:
        flash(_("Token revoked."))
    return redirect(url_for("tokens.index"), 303)
