"""Pages of the web interface so far: caseload, case page, the org policy; all through services."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from databank.domain.enums import Purpose
from databank.services import access, breakglass, cases, policy_view
from databank.web.auth import current_actor, current_purpose, login_required
from databank.web.runtime import db, log_refusal

bp = Blueprint("pages", __name__)

# What a withheld field means, in words a worker can repeat to a person.
FIELD_LABELS = {
    "identity": "identity",
    "contact": "contact details",
    "status": "case status",
    "living_situation": "living situation",
    "flags": "protection flags",
    "needs": "needs",
    "health": "health needs",
    "notes": "notes",
    "encounters": "encounters",
    "location": "location",
    "referrals": "referrals",
    "consents": "consents",
}


@bp.route("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@bp.route("/")
@login_required
def home() -> str:
    session = db()
    try:
        caseload = cases.list_cases(session, current_actor(), current_purpose(), limit=50)
    except access.AccessRefused as refusal:
        # Auditors and other roles without case content: the refusal is logged, the page says so.
        log_refusal(refusal)
        return render_template("home.html", caseload=None)
    return render_template("home.html", caseload=caseload)


def _case_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        abort(404)


@bp.route("/cases/<case_id>")
@login_required
def case(case_id: str) -> str | tuple[str, int]:
    parsed = _case_id(case_id)
    session = db()
    try:
        view = cases.read_case(session, current_actor(), current_purpose(), parsed)
    except access.AccessRefused as refusal:
        log_refusal(refusal)
        # The refusal page offers break-glass; opening one is itself decided and logged.
        return render_template("case_refused.html", case_id=parsed), 403
    return render_template("case.html", case=view, labels=FIELD_LABELS)


@bp.route("/cases/<case_id>/break-glass", methods=["POST"])
@login_required
def break_glass(case_id: str) -> Response:
    parsed = _case_id(case_id)
    session = db()
    person_id = cases.person_of_case(session, parsed)
    breakglass.start(session, current_actor(), person_id, request.form.get("justification", ""))
    return redirect(url_for("pages.emergency_case", case_id=parsed))


@bp.route("/cases/<case_id>/emergency")
@login_required
def emergency_case(case_id: str) -> str:
    """A case read for the vital interest of the person, inside an open break-glass window."""
    view = cases.read_case(db(), current_actor(), Purpose.VITAL_INTEREST, _case_id(case_id))
    return render_template("case.html", case=view, labels=FIELD_LABELS)


@bp.route("/organisation/policy")
@login_required
def org_policy() -> str:
    """Read-only: the org's policy, and what each partner would see of a sample case."""
    summary = policy_view.org_policy(db(), current_actor(), current_purpose())
    return render_template("policy.html", summary=summary, labels=FIELD_LABELS)
