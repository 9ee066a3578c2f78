"""Pages of the first web interface: home (caseload) and a case page, through the services."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, render_template

from databank.services import cases
from databank.web.auth import current_actor, current_purpose, login_required
from databank.web.runtime import db

bp = Blueprint("pages", __name__)


@bp.route("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@bp.route("/")
@login_required
def home() -> str:
    actor = current_actor()
    caseload = cases.list_cases(db(), actor, current_purpose(), limit=50)
    return render_template("home.html", caseload=caseload)


@bp.route("/cases/<case_id>")
@login_required
def case(case_id: str) -> str:
    try:
        parsed = uuid.UUID(case_id)
    except ValueError:
        abort(404)
    view = cases.read_case(db(), current_actor(), current_purpose(), parsed)
    return render_template("case.html", case=view)
