"""Pages of the web interface so far: caseload, case page, the org policy; all through services."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, render_template

from databank.domain.enums import LocationLevel
from databank.services import access, cases, policy_view
from databank.web.auth import current_actor, current_purpose, login_required
from databank.web.runtime import db

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
        session.rollback()
        access.record_denial(session, refusal)
        return render_template("home.html", caseload=None)
    return render_template("home.html", caseload=caseload)


@bp.route("/cases/<case_id>")
@login_required
def case(case_id: str) -> str:
    try:
        parsed = uuid.UUID(case_id)
    except ValueError:
        abort(404)
    view = cases.read_case(db(), current_actor(), current_purpose(), parsed)
    return render_template("case.html", case=view, labels=FIELD_LABELS, LocationLevel=LocationLevel)


@bp.route("/organisation/policy")
@login_required
def org_policy() -> str:
    """Read-only: the org's policy, and what each partner would see of a sample case."""
    summary = policy_view.org_policy(db(), current_actor(), current_purpose())
    return render_template("policy.html", summary=summary, labels=FIELD_LABELS)
