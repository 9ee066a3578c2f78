"""An organisation's own duplicate records of a person: the list it is offered to merge, one
person's records, and the merge form. Parse, call a service, render.

Linkage pools an organisation's two registrations of one person; which of them to keep is the
organisation's decision (services/records/own_merge.py decides and logs each read and the merge).
Only the organisation's own records are ever listed, so nothing here says whether another
organisation knows the person.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from databank.domain.errors import Conflict, ValidationFailed
from databank.services import access
from databank.services.records import caseload, own_merge
from databank.web.auth import current_actor, current_purpose, login_required
from databank.web.service_messages import plain
from databank.web.unit_of_work import commit_access, db, log_refusal

bp = Blueprint("records", __name__)

REASON_LABELS: Mapping[str, object] = {
    "duplicate_registration": _l("The person was registered twice"),
    "data_entry_error": _l("A record was entered by mistake"),
}
FIELD_LABELS: Mapping[str, object] = {
    "keep": _l("Record kept"),
    "other": _l("Record merged into it"),
    "reason": _l("Reason"),
    "confirm": _l("Confirmation"),
}


@bp.route("/records/duplicates")
@login_required
def duplicates() -> str:
    session, actor, purpose = db(), current_actor(), current_purpose()
    try:
        people = own_merge.own_duplicates(session, actor, purpose)
    except access.AccessRefused as refusal:
        log_refusal(refusal)
        return render_template("records/duplicates.html", people=None, names={})
    names = caseload.display_names(session, actor, purpose, people) if people else {}
    return render_template("records/duplicates.html", people=people, names=names)


@bp.route("/people/<person:person_id>/records", methods=["GET", "POST"])
@login_required
def person_records(person_id: uuid.UUID) -> str | tuple[str, int] | Response:
    session, actor, purpose = db(), current_actor(), current_purpose()
    if request.method == "GET":
        found = own_merge.own_records(session, actor, purpose, person_id)
        return _page(person_id, found, {}, {})
    form = {k: request.form.get(k, "").strip() for k in ("keep", "other", "reason", "confirm")}
    errors, status = _checked(form), 422
    if not errors:
        try:
            done = own_merge.merge_person_records(
                session,
                actor,
                purpose,
                person_id,
                uuid.UUID(form["keep"]),
                uuid.UUID(form["other"]),
                form["reason"],
            )
        except ValidationFailed as error:
            errors = plain(error.errors)
        except Conflict as error:
            errors, status = {"_schema": [error.message]}, 409
        else:
            flash(
                _(
                    "The two records are now one: %(cases)d case(s) moved to the record kept; "
                    "the other record's keys were destroyed.",
                    cases=done.cases_moved,
                )
            )
            return redirect(url_for("records.person_records", person_id=person_id), 303)
    # The records again, with what was wrong: the read is logged and committed before it is
    # shown (the error status rolls back the request's work).
    session.rollback()
    found = own_merge.own_records(session, actor, purpose, person_id)
    commit_access()
    return _page(person_id, found, form, errors), status


def _checked(form: dict[str, str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in ("keep", "other"):
        try:
            uuid.UUID(form[name])
        except ValueError:
            errors[name] = [_("Choose one of the records.")]
    if not errors and form["keep"] == form["other"]:
        errors["other"] = [_("Choose two different records.")]
    if form["reason"] not in REASON_LABELS:
        errors["reason"] = [_("Choose one of the options in the list.")]
    if form["confirm"] != "yes":
        errors["confirm"] = [_("Tick the box to confirm: the merge cannot be undone.")]
    return errors


def _page(
    person_id: uuid.UUID,
    found: list[own_merge.OwnRecord],
    form: Mapping[str, str],
    errors: Mapping[str, list[str]],
) -> str:
    active = [r for r in found if r.status.value == "active"]
    chosen = {k: v for k, v in form.items() if v}
    if len(active) > 1 and not form:  # the oldest kept, the newest merged into it, by default
        chosen = {"keep": str(active[0].subject_id), "other": str(active[-1].subject_id)}
    return render_template(
        "records/person.html",
        person_id=person_id,
        records=found,
        active=active,
        form=chosen,
        errors=errors,
        reasons=REASON_LABELS,
        field_labels=FIELD_LABELS,
    )
