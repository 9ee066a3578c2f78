"""Referral pages: those received, with the forms to accept, decline (with a reason) and record
the outcome; those sent, with their answers and the form to withdraw. Every step and read goes
through services/records/referrals.py, which decides and logs it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from databank.domain.enums import ReferralStatus
from databank.domain.errors import Conflict, ValidationFailed
from databank.domain.referrals import DeclineReason, ReferralOutcome
from databank.services import access
from databank.services.records import referrals
from databank.web.auth import current_actor, current_purpose, login_required
from databank.web.unit_of_work import commit_access, db, log_refusal

bp = Blueprint("referrals", __name__)
E = TypeVar("E", bound=StrEnum)

STATUS_LABELS: Mapping[str, object] = {
    ReferralStatus.PENDING: _l("Pending"),
    ReferralStatus.ACCEPTED: _l("Accepted"),
    ReferralStatus.DECLINED: _l("Declined"),
    ReferralStatus.WITHDRAWN: _l("Withdrawn"),
    ReferralStatus.COMPLETED: _l("Outcome recorded"),
}
DECLINE_LABELS: Mapping[str, object] = {
    DeclineReason.NO_CAPACITY: _l("No capacity"),
    DeclineReason.NOT_ELIGIBLE: _l("Not eligible"),
    DeclineReason.OUT_OF_AREA: _l("Out of our area"),
    DeclineReason.PERSON_DECLINED: _l("The person declined"),
    DeclineReason.DUPLICATE: _l("Already referred (duplicate)"),
    DeclineReason.OTHER: _l("Other reason"),
}
OUTCOME_LABELS: Mapping[str, object] = {
    ReferralOutcome.PLACE_OFFERED: _l("Place offered"),
    ReferralOutcome.HOUSED: _l("Housed"),
    ReferralOutcome.SHELTERED: _l("Sheltered"),
    ReferralOutcome.SERVICE_PROVIDED: _l("Service provided"),
    ReferralOutcome.NO_CAPACITY: _l("No capacity"),
    ReferralOutcome.PERSON_DECLINED: _l("The person declined"),
    ReferralOutcome.LOST_CONTACT: _l("Lost contact"),
    ReferralOutcome.OTHER: _l("Other outcome"),
}
_LABELS: Mapping[type[StrEnum], Mapping[str, object]] = {
    ReferralStatus: STATUS_LABELS,
    DeclineReason: DECLINE_LABELS,
    ReferralOutcome: OUTCOME_LABELS,
}


@bp.app_template_filter("referral_label")
def referral_label(value: StrEnum | None) -> str:
    """A referral's status, decline reason or outcome in the user's language."""
    if value is None:
        return ""
    labels = _LABELS.get(type(value), {})
    return str(labels.get(value, value.value))


@bp.app_context_processor
def _vocabularies() -> dict[str, object]:
    return {
        "referral_statuses": [(s, str(t)) for s, t in STATUS_LABELS.items()],
        "decline_reasons": [(r, str(t)) for r, t in DECLINE_LABELS.items()],
        "referral_outcomes": [(o, str(t)) for o, t in OUTCOME_LABELS.items()],
    }


def _status_filter() -> tuple[ReferralStatus | None, dict[str, list[str]]]:
    raw = request.args.get("status", "").strip()
    if not raw:
        return None, {}
    try:
        return ReferralStatus(raw), {}
    except ValueError:
        return None, {"status": [_("Choose one of the options in the list.")]}


def _list(
    template: str, fetch: Callable[..., Sequence[object]], code: int = 200
) -> tuple[str, int]:
    """A list page (`code`: 409 after a step its referral no longer allowed)."""
    status, errors = _status_filter()
    raw = request.args.get("status", "").strip()
    if errors:
        return render_template(template, referrals=[], status=raw, errors=errors), 400
    try:
        found = fetch(db(), current_actor(), current_purpose(), status=status)
    except access.AccessRefused as refusal:
        log_refusal(refusal)
        return render_template(template, referrals=None, status=raw, errors={}), code
    if code >= 400:
        commit_access()  # an error status rolls the request back: the reads' log stays
    return render_template(template, referrals=found, status=raw, errors={}), code


@bp.route("/referrals")
@login_required
def received() -> tuple[str, int]:
    """Referrals partners sent to the user's organisation, as the policies release them."""
    return _list("referrals.html", referrals.received)


@bp.route("/referrals/sent")
@login_required
def sent() -> tuple[str, int]:
    """Referrals the user's organisation made, with the partners' answers."""
    return _list("referrals/sent.html", referrals.sent)


def _choice(enum: type[E], name: str) -> E:
    """A code of a closed vocabulary from the form; anything else is a 422 naming the field."""
    try:
        return enum(request.form.get(name, ""))
    except ValueError:
        raise ValidationFailed(
            "the answer has invalid fields", {name: [_("Choose one of the options in the list.")]}
        ) from None


def _answer(run: Callable[[], object], done: str, listing: str) -> Response | tuple[str, int]:
    """Run a step; on success say so and go back to the list. A step the referral's status no
    longer allows (another colleague answered it, a page left open) shows the list as it is
    now, with a 409 and a message in the user's language."""
    try:
        run()
    except Conflict:
        flash(_("This referral was answered or withdrawn in the meantime: see its status below."))
        if listing == "referrals.received":
            return _list("referrals.html", referrals.received, 409)
        return _list("referrals/sent.html", referrals.sent, 409)
    flash(done)
    return redirect(url_for(listing))


@bp.route("/referrals/<uuid:referral_id>/accept", methods=["POST"])
@login_required
def accept(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    return _answer(
        lambda: referrals.accept(db(), current_actor(), referral_id),
        _("The referral is accepted. The referring organisation sees it."),
        "referrals.received",
    )


@bp.route("/referrals/<uuid:referral_id>/decline", methods=["POST"])
@login_required
def decline(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    reason = _choice(DeclineReason, "reason")
    return _answer(
        lambda: referrals.decline(db(), current_actor(), referral_id, reason),
        _("The referral is declined. The referring organisation sees the reason."),
        "referrals.received",
    )


@bp.route("/referrals/<uuid:referral_id>/outcome", methods=["POST"])
@login_required
def outcome(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    result = _choice(ReferralOutcome, "outcome")
    return _answer(
        lambda: referrals.record_outcome(db(), current_actor(), referral_id, result),
        _("The outcome is recorded. The referring organisation sees it."),
        "referrals.received",
    )


@bp.route("/referrals/<uuid:referral_id>/withdraw", methods=["POST"])
@login_required
def withdraw(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    answered = _answer(
        lambda: referrals.withdraw(db(), current_actor(), referral_id),
        _("The referral is withdrawn."),
        "referrals.sent",
    )
    if isinstance(answered, tuple):
        return answered
    try:  # back to the case page it was withdrawn from, if it came from one
        back = uuid.UUID(request.form.get("case_id", ""))
    except ValueError:
        return answered
    return redirect(url_for("pages.case", case_id=back))
