"""The linkage review pages: the queue of grey-zone pairs and one pair with its decision form, for
linkage reviewers. Parse, call a service, render.

What a reviewer may see is decided in `services.linkage.review` (evidence in words, whether each
side is their own organisation's record, never a score, a name or a pooled id); the role gate is
there too, so these views only read parameters and shape the answer. The status strip shows the
pool's counts only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from databank.domain.enums import ReviewReason, ReviewStatus, Role
from databank.domain.errors import Conflict, ValidationFailed
from databank.schemas.common import flatten
from databank.schemas.linkage import LinkageDecisionIn, LinkageQueryIn
from databank.services.linkage import review
from databank.web.api import io as api_io
from databank.web.api.linkage import pool_counts
from databank.web.auth import current_actor, login_required
from databank.web.service_messages import message
from databank.web.unit_of_work import commit_access, db

bp = Blueprint("linkage", __name__, url_prefix="/linkage")

# The compared fields (linkage/model_spec.py names them), in the user's language.
FIELD_LABELS: Mapping[str, object] = {
    "given": _l("Given name"),
    "family": _l("Family name"),
    "birth_date": _l("Birth date"),
    "sex": _l("Sex"),
    "birth_place": _l("Birth place"),
    "area": _l("Area"),
    "locality": _l("Locality"),
    "address": _l("Address"),
}
# How strongly a field agrees: a word and a sign, so the table reads without its colours.
EVIDENCE: Mapping[str, tuple[str, object]] = {
    "agrees_strongly": ("++", _l("agrees strongly")),
    "agrees": ("+", _l("agrees")),
    "neutral": ("=", _l("neither")),
    "differs": ("−", _l("differs")),
    "contradicts": ("−−", _l("contradicts")),
    "missing": ("?", _l("missing on a side")),
}
STATUS_LABELS: Mapping[str, object] = {
    ReviewStatus.OPEN.value: _lp("pair status", "to decide"),
    ReviewStatus.LINKED.value: _lp("pair status", "same person"),
    ReviewStatus.APART.value: _lp("pair status", "different people"),
    ReviewStatus.SETTLED.value: _lp("pair status", "settled without a decision"),
}
REASON_LABELS: Mapping[str, object] = {
    ReviewReason.SAME_PERSON.value: _l("The evidence is enough"),
    ReviewReason.CONFIRMED_BY_ORG.value: _l("An organisation holding a side confirmed it"),
    ReviewReason.DIFFERENT_PEOPLE.value: _l("The evidence shows two people"),
    ReviewReason.INSUFFICIENT_EVIDENCE.value: _l("Not enough evidence: keep apart for now"),
}
# The reasons that fit each decision (the service refuses the others).
DECISIONS: tuple[tuple[str, object, tuple[ReviewReason, ...]], ...] = (
    (
        "link",
        _l("Same person"),
        (ReviewReason.SAME_PERSON, ReviewReason.CONFIRMED_BY_ORG),
    ),
    (
        "apart",
        _l("Different people"),
        (ReviewReason.DIFFERENT_PEOPLE, ReviewReason.INSUFFICIENT_EVIDENCE),
    ),
)
# The service's words on this page, in the user's language.
MESSAGES: Mapping[str, object] = {
    "this pair was already decided": _l("This pair was already decided."),
    "a reviewer kept these records apart: they are not linked again": _l(
        "A reviewer kept these records apart: they are not linked again."
    ),
    "is a reason to keep apart": _l("This reason is one to keep the records apart."),
    "is a reason to link": _l("This reason is one to link the records."),
    "Missing data for required field.": _l("Please choose one."),
}
# Roles that may open their organisation's person page (the page decides what it shows).
STAFF = frozenset({Role.OUTREACH_WORKER, Role.HOUSING_OFFICER, Role.ORG_ADMIN})


def _say(text: str) -> str:
    known = MESSAGES.get(text)
    return str(known) if known is not None else message(text)


def _errors(raw: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {field: [_say(m) for m in messages] for field, messages in raw.items()}


def _context() -> dict[str, Any]:
    return {
        "field_labels": FIELD_LABELS,
        "evidence": EVIDENCE,
        "status_labels": STATUS_LABELS,
        "reason_labels": REASON_LABELS,
        "decisions": DECISIONS,
        "statuses": [s.value for s in ReviewStatus],
        "may_open_people": not current_actor().roles.isdisjoint(STAFF),
    }


@bp.route("/reviews")
@login_required
def reviews() -> str | tuple[str, int]:
    session, actor = db(), current_actor()
    args = {k: v for k, v in request.args.items() if v != ""}
    try:
        query = api_io.schema(LinkageQueryIn).load(args)
    except ValidationError as error:
        review.require_reviewer(actor)  # a non-reviewer gets their 403 (logged) first
        errors = _errors(flatten(error.messages))
        page = render_template(
            "linkage/reviews.html", views=[], errors=errors, chosen="", **_context()
        )
        return page, 400
    chosen, number = query["status"], query["page"]
    views, more = review.queue(session, actor, ReviewStatus(chosen), number)
    return render_template(
        "linkage/reviews.html",
        views=views,
        more=more,
        page=number,
        chosen=chosen,
        counts=pool_counts(),
        errors={},
        **_context(),
    )


@bp.route("/reviews/<uuid:review_id>", methods=["GET", "POST"])
@login_required
def pair(review_id: uuid.UUID) -> str | tuple[str, int] | Response:
    session, actor = db(), current_actor()
    if request.method == "GET":
        view = review.get(session, actor, review_id)
        return render_template("linkage/pair.html", view=view, errors={}, form={}, **_context())
    form = {k: request.form[k] for k in ("decision", "reason") if request.form.get(k)}
    errors: dict[str, list[str]] = {}
    status = 422
    try:
        data = api_io.schema(LinkageDecisionIn).load(form)
    except ValidationError as error:
        review.require_reviewer(actor)  # a non-reviewer gets their 403 (logged) first
        errors = flatten(error.messages)
    else:
        try:
            decided = review.decide(session, actor, review_id, data["decision"], data["reason"])
        except ValidationFailed as error:
            errors = error.errors
        except Conflict as error:
            errors, status = {"_schema": [error.message]}, 409
        else:
            flash(_confirmation(decided))
            return redirect(url_for("linkage.reviews"), 303)
    # The pair again, with what was wrong: the read is logged and committed before it is shown
    # (the error status would roll back the request's work).
    session.rollback()
    view = review.get(session, actor, review_id)
    commit_access()
    page = render_template(
        "linkage/pair.html", view=view, errors=_errors(errors), form=form, **_context()
    )
    return page, status


def _confirmation(view: review.ReviewView) -> str:
    short = str(view.id)[:8]
    if view.status is ReviewStatus.LINKED:
        return str(
            _(
                "Pair %(id)s decided: same person. The two records now count as one person.",
                id=short,
            )
        )
    return str(
        _(
            "Pair %(id)s decided: different people. The two records are kept apart for good.",
            id=short,
        )
    )
