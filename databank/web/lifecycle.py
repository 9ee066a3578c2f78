"""The case page's lifecycle forms (living situation, a need's status and urgency, closing with
an outcome, reopening) and the identity correction page. Each form calls a service, which
decides and logs the change; a refused one is the error page, a wrong field the page again
with the field named."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from databank import policy
from databank.domain.enums import NeedSeverity, NeedStatus
from databank.domain.errors import Conflict, ValidationFailed
from databank.domain.vocab import EthosCategory, NeedCategory
from databank.services.records import cases, identity_changes, lifecycle, people
from databank.web import pages
from databank.web.auth import current_actor, current_purpose, login_required
from databank.web.dates import format_date
from databank.web.service_messages import message
from databank.web.unit_of_work import commit_access, db

bp = Blueprint("lifecycle", __name__)

CHOOSE = _l("Choose one of the options in the list.")
# The services' English messages, in the user's language on these pages.
_PLAIN = {
    "the case is closed; reopen it to change it": _l("The case is closed: reopen it first."),
    "the case is already closed": _l("The case is already closed."),
    "the case is open": _l("The case is open."),
    "say where the person went": _l("Say where the person went."),
    "this is already the case's living situation": _l("This is already the living situation."),
    "choose another status or urgency than the need's": _l(
        "Choose another status or urgency than the need has."
    ),
    "give a field to correct": _l("Change at least one field."),
    "these are the values held": _l("These are already the values held: change a field."),
    "is in the future": _l("The date is in the future."),
    "is before 1900": _l("The date is before 1900."),
    "is required": _l("Please fill this in."),
    "needs at least one letter or digit": _l("Use at least one letter or digit."),
}
_PREFIXES = {
    "this destination goes with the reason": _l(
        "This destination does not go with the reason chosen."
    ),
    "use one of": CHOOSE,
    "is longer than": _l("This is too long."),
    "an alias is longer than": _l("An alias is too long."),
    "at most": _l("Too many aliases."),
}
# Where a service names a field the form shows under another name.
_FIELD = {"status": "need_status", "severity": "need_severity"}


def _plain(text: str) -> str:
    if text in _PLAIN:
        return str(_PLAIN[text])
    for prefix, translated in _PREFIXES.items():
        if text.startswith(prefix):
            return str(translated)
    return message(text)


def _errors(error: ValidationFailed | Conflict, general: str) -> dict[str, list[str]]:
    found = {_FIELD.get(f, f): [_plain(m) for m in ms] for f, ms in error.errors.items()}
    return found or {general: [_plain(error.message)]}


@bp.app_template_global("lifecycle_changes")
def lifecycle_changes(view: cases.CaseView) -> frozenset[str]:
    """For a page that shows a case (the outreach person page): the fields of it the user may
    change now, as the owner's policy says (not logged; each change is when made)."""
    return lifecycle.allowed_changes(db(), current_actor(), current_purpose(), view)


@bp.app_template_global("need_field")
def need_field(category: NeedCategory) -> str:
    return policy.need_field(category)


def _back(case_id: uuid.UUID) -> str:
    """Where a change returns to: the case page, or the outreach person page it came from."""
    if request.form.get("back") == "outreach":
        return url_for("outreach.person", person_id=cases.person_of_case(db(), case_id))
    return url_for("pages.case", case_id=case_id) + "#s-history"


def _on_case(
    case_id: uuid.UUID, change: Callable[[], None], done: str, general: str
) -> Response | tuple[str, int]:
    """Make a change, then back to the case page; a wrong field shows the page again with it
    named (the change's decision is logged with the page's read, nothing was changed)."""
    try:
        change()
    except (ValidationFailed, Conflict) as error:
        purpose = current_purpose()
        view = cases.read_case(db(), current_actor(), purpose, case_id)
        page = pages.render_case(view, purpose, _errors(error, general), dict(request.form))
        commit_access()
        return page, error.status
    flash(done)
    return redirect(_back(case_id))


def _pick(name: str, make: Callable[[str], object], errors: dict[str, list[str]]) -> object:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return make(raw)
    except ValueError:
        errors[name] = [str(CHOOSE)]
        return None


@bp.route("/cases/<uuid:case_id>/living-situation", methods=["POST"])
@login_required
def living_situation(case_id: uuid.UUID) -> Response | tuple[str, int]:
    def change() -> None:
        errors: dict[str, list[str]] = {}
        situation = _pick("living_situation", EthosCategory, errors)
        if errors:
            raise ValidationFailed("the living situation has invalid fields", errors)
        lifecycle.update_living_situation(
            db(),
            current_actor(),
            current_purpose(),
            case_id,
            situation,  # type: ignore[arg-type]
        )

    return _on_case(case_id, change, _("The living situation is updated."), "living_situation")


@bp.route("/cases/<uuid:case_id>/needs/<uuid:need_id>", methods=["POST"])
@login_required
def need(case_id: uuid.UUID, need_id: uuid.UUID) -> Response | tuple[str, int]:
    def change() -> None:
        errors: dict[str, list[str]] = {}
        status = _pick("need_status", NeedStatus, errors)
        severity = _pick("need_severity", NeedSeverity, errors)
        if errors:
            raise ValidationFailed("the need has invalid fields", errors)
        lifecycle.change_need(
            db(),
            current_actor(),
            current_purpose(),
            case_id,
            need_id,
            status,  # type: ignore[arg-type]
            severity,  # type: ignore[arg-type]
        )

    return _on_case(case_id, change, _("The need is updated."), "need_status")


@bp.route("/cases/<uuid:case_id>/close", methods=["POST"])
@login_required
def close(case_id: uuid.UUID) -> Response | tuple[str, int]:
    def change() -> None:
        # An empty reason goes to the service too: it decides (and logs) before it checks.
        reason = request.form.get("reason", "").strip()
        lifecycle.close_case(
            db(),
            current_actor(),
            current_purpose(),
            case_id,
            reason,
            request.form.get("destination", "").strip() or None,
        )

    return _on_case(case_id, change, _("The case is closed."), "reason")


@bp.route("/cases/<uuid:case_id>/reopen", methods=["POST"])
@login_required
def reopen(case_id: uuid.UUID) -> Response | tuple[str, int]:
    def change() -> None:
        lifecycle.reopen_case(db(), current_actor(), current_purpose(), case_id)

    return _on_case(case_id, change, _("The case is open again."), "reopen")


def _identity_page(
    person_id: uuid.UUID,
    errors: Mapping[str, list[str]] | None = None,
    form: Mapping[str, str] | None = None,
) -> str:
    """The identity as held, the correction form and the corrections made (reads logged)."""
    session, actor, purpose = db(), current_actor(), current_purpose()
    held = people.read_identity(session, actor, purpose, person_id)
    changes = identity_changes.identity_history(session, actor, purpose, person_id)
    names = lifecycle.staff_names(session, actor, [c.changed_by_id for c in changes])
    commit_access()
    return render_template(
        "identity.html",
        identity=held,
        changes=[
            {
                "changed_at": c.changed_at,
                "shown": _previous(c),
                "by": names.get(c.changed_by_id) if c.changed_by_id else None,
            }
            for c in changes
        ],
        errors=dict(errors or {}),
        form=dict(form or {}),
        labels=FIELD_NAMES,
    )


def _previous(change: identity_changes.IdentityChangeView) -> list[tuple[str, str | None]]:
    """A correction's previous values as the page shows them (a date in words, aliases listed)."""
    shown: list[tuple[str, str | None]] = []
    for name in change.fields:
        value = change.previous.get(name)
        if value and name == "birth_date":
            value = format_date(date.fromisoformat(value))
        elif value and name == "aliases":
            value = ", ".join(json.loads(value))
        shown.append((name, value))
    return shown


FIELD_NAMES = {
    "given_name": _l("Given name"),
    "family_name": _l("Family name"),
    "birth_date": _l("Birth date"),
    "phone": _l("Phone"),
    "aliases": _l("Also known as"),
}


def _correction() -> tuple[identity_changes.IdentityCorrection, dict[str, list[str]]]:
    form = request.form
    errors: dict[str, list[str]] = {}
    born: date | None = None
    raw_date = form.get("birth_date", "").strip()
    if raw_date:
        try:
            born = date.fromisoformat(raw_date)
        except ValueError:
            errors["birth_date"] = [_("Give the date as year-month-day, e.g. 1980-04-02.")]
    # The phone is sent only if it was changed: a correction of names does not need the
    # contact details released.
    phone = form.get("phone")
    if phone is not None and phone.strip() == form.get("phone_held", "").strip():
        phone = None
    aliases = form.get("aliases")
    return (
        identity_changes.IdentityCorrection(
            given_name=form.get("given_name", "").strip() or None,
            family_name=form.get("family_name", "").strip() or None,
            birth_date=born,
            phone=phone,
            aliases=None if aliases is None else aliases.splitlines(),
        ),
        errors,
    )


@bp.route("/people/<person:person_id>/identity", methods=["GET", "POST"])
@login_required
def identity(person_id: uuid.UUID) -> Response | str | tuple[str, int]:
    """Correct the organisation's identity of a person; the previous values are kept."""
    if request.method == "GET":
        return _identity_page(person_id)
    correction, errors = _correction()
    try:
        if errors:
            raise ValidationFailed("the identity has invalid fields", errors)
        identity_changes.correct_identity(
            db(), current_actor(), current_purpose(), person_id, correction
        )
    except ValidationFailed as error:
        return _identity_page(person_id, _errors(error, "identity"), request.form), 422
    flash(_("The identity is corrected; the previous values are kept in its history."))
    return redirect(url_for("lifecycle.identity", person_id=person_id))
