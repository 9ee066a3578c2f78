"""The outreach worker's pages: find or register a person, record an encounter, consent, refer.

Mobile first and offline-safe: every form works as a plain POST; with JavaScript the encounter,
registration and consent forms are sent with fetch() and answered in JSON (`Accept:
application/json`), and a client-made `submission_id` makes a resent form count once.
Names never go in a URL: searches are POSTed, redirects carry ids only.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from databank.domain.enums import CONSENTABLE_PURPOSES, Action, Purpose
from databank.domain.errors import ValidationFailed
from databank.domain.vocab import (
    NeedCategory,
)
from databank.schemas import handles
from databank.services import access
from databank.services.access import directory
from databank.services.inputs import MAX_NOTE_LENGTH, CaseIn, EncounterIn, IntakeRecord
from databank.services.records import cases, consents, outreach, people, submissions
from databank.web import outreach_forms as forms
from databank.web import outreach_labels as labels
from databank.web import paths
from databank.web.auth import current_actor, current_purpose, login_required
from databank.web.dates import to_local
from databank.web.deployment import areas, local_zone
from databank.web.i18n import select_locale
from databank.web.outreach_map import plan
from databank.web.unit_of_work import db, log_refusal

bp = Blueprint("outreach", __name__, url_prefix="/outreach")
bp.context_processor(labels.vocabulary)

# What the forms offer: the purposes a person can be asked to agree to (decided in the domain).
CONSENT_PURPOSES = list(CONSENTABLE_PURPOSES)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


class _WhenShown:
    """A page value read only if the page is drawn (a JSON answer or a redirect never draws
    it), so a form sent from a phone does not read, and log, what nobody will see."""

    def __init__(self, read: Callable[[], Any]) -> None:
        self.read = read


def _page(template: str, form: Any, errors: forms.Errors, **context: Any) -> str:
    """Render a form page; `form` is what was typed (or the starting values)."""
    values = form if isinstance(form, MultiDict) else MultiDict(form)
    shown = {k: v.read() if isinstance(v, _WhenShown) else v for k, v in context.items()}
    return render_template(template, form=values, errors=errors, **shown)


def _saved(message: str, target: str) -> Response:
    flash(message)
    if _wants_json():
        return jsonify(ok=True, redirect=target)
    return redirect(target)


def _invalid(
    errors: forms.Errors, template: str, *, whole_page: bool = False, **context: Any
) -> tuple[Response | str, int]:
    """422: the form again with what was typed and each message next to its field.

    `whole_page`: the answer needs more than messages by the fields (a referral without consent
    offers the way forward and, to some, the override): a script sends the form again as a
    plain POST to get the page."""
    if _wants_json():
        message = _("Some answers need checking.")
        body = {"ok": False, "code": "validation_failed", "message": message, "errors": errors}
        return jsonify(**body, page=whole_page), 422
    return _page(template, request.form, errors, **context), 422


def _once(save: Callable[[], str]) -> str | Response:
    """Run a save at most once per client submission id; the URL to go to after it.

    The submission is recorded in the save's own transaction (services/submissions.py), and
    the transaction is committed here, so a resend after a lost answer, even on another worker
    process, finds it and saves nothing more.
    """
    sid = forms.submission_id(request.form)
    user_id = current_actor().user_id
    session = db()
    if sid is not None:
        previous = submissions.saved_target(session, user_id, sid)
        if previous is not None:
            return _saved(_("Already saved."), previous)
    target = save()
    if sid is not None and not submissions.record(session, user_id, sid, target):
        # The same submission, sent twice at once, was saved by the other send.
        session.rollback()
        previous = submissions.saved_target(session, user_id, sid)
        return _saved(_("Already saved."), previous or url_for("outreach.index"))
    session.commit()
    return target


@bp.route("/", methods=["GET", "POST"])
@login_required
def index() -> str | tuple[Response | str, int]:
    """Start screen: find a person (POST: a name never goes in a URL), recent contacts."""
    session, actor, purpose = db(), current_actor(), current_purpose()
    if request.method == "POST":
        family_name, birth_date, errors = forms.parse_search(request.form)
        if errors or birth_date is None:
            return _invalid(errors, "outreach/index.html", contacts=None, results=None)
        results = people.find_people(session, actor, purpose, family_name, birth_date)
        handles.expect((None, r.person_id) for r in results)
        return _page("outreach/index.html", request.form, {}, contacts=None, results=results)
    try:
        contacts = outreach.recent_contacts(session, actor, purpose)
    except access.AccessRefused as refusal:
        log_refusal(refusal)
        contacts = None
    handles.expect((None, c.person_id) for c in contacts or ())
    return _page("outreach/index.html", {}, {}, contacts=contacts, results=None)


@bp.route("/people/<person:person_id>")
@login_required
def person(person_id: uuid.UUID) -> str:
    page = outreach.person_page(db(), current_actor(), current_purpose(), person_id)
    return render_template(
        "outreach/person.html",
        page=page,
        now=datetime.now(UTC),
        purpose_info=labels.purpose_info,
        kind_labels=labels.ORG_KIND_LABELS,
        partner_names={
            p.id: p.name for p in directory.partner_orgs(db(), current_actor(), by_name=True)
        },
    )


@bp.route("/people/<person:person_id>/cases", methods=["POST"])
@login_required
def open_case(person_id: uuid.UUID) -> Response:
    """A person met again after their case was closed: a new case, then the encounter form."""
    case_id = cases.open_case(db(), current_actor(), current_purpose(), person_id, CaseIn())
    flash(_("A new case is open."))
    return redirect(url_for("outreach.encounter", case_id=case_id))


@bp.route("/register", methods=["GET", "POST"])
@login_required
def register() -> str | Response | tuple[Response | str, int]:
    if request.method == "GET" or "prefill" in request.form:
        # "prefill": the search form's values carried over by POST, nothing is saved.
        return _page("outreach/register.html", request.form, {})
    errors: forms.Errors = {}
    identity = forms.parse_identity(request.form, errors)
    situation = forms.parse_living_situation(request.form, errors)
    needs = forms.parse_needs(request.form, errors)
    point, district, area = forms.parse_place(request.form, errors, required=False)
    if errors or identity is None:
        return _invalid(errors, "outreach/register.html")
    met_now = request.form.get("first_encounter") == "yes"
    record = IntakeRecord(
        identity=identity,
        case=CaseIn(living_situation=situation, district=district, point=point, area=area),
        needs=tuple(needs),
        encounters=(
            (EncounterIn(occurred_at=datetime.now(UTC), district=district, point=point, area=area),)
            if met_now
            else ()
        ),
    )
    outcome: dict[str, str] = {}

    def save() -> str:
        [result] = people.intake(db(), current_actor(), current_purpose(), [record])
        outcome["kind"] = result.outcome
        outcome["case"] = result.case_outcome or ""
        return url_for("outreach.person", person_id=result.person_id)

    try:
        target = _once(save)
    except ValidationFailed as failed:
        return _invalid(forms.plain(failed.errors), "outreach/register.html")
    if isinstance(target, Response):
        return target
    if outcome.get("case") == "existing":
        # Never a silent second case: the file they already have, with what was just added.
        message = _("This person was already in your records: here is their open file.")
        return _saved(message, target)
    if outcome.get("kind") == "existing":
        return _saved(_("This person was already in your records: a new case was opened."), target)
    return _saved(_("Person registered."), target)


def _own_case_person(case_id: uuid.UUID, sent: Action) -> uuid.UUID:
    """The person of a case form's own-org case; the service refuses (and logs) another org's.
    The attempt is the form's read, or `sent`: what sending it does."""
    action = Action.READ if request.method == "GET" else sent
    return outreach.own_case_person(db(), current_actor(), action, current_purpose(), case_id)


@bp.route("/cases/<uuid:case_id>/encounters/new", methods=["GET", "POST"])
@login_required
def encounter(case_id: uuid.UUID) -> str | Response | tuple[Response | str, int]:
    person_id = _own_case_person(case_id, Action.UPDATE)
    identity = _WhenShown(
        lambda: people.read_identity(db(), current_actor(), current_purpose(), person_id)
    )
    context: dict[str, Any] = {
        "identity": identity,
        "case_id": case_id,
        "map": plan(areas(), select_locale()),
    }
    if request.method == "GET":
        now = datetime.now(local_zone()).strftime(forms.TIME_FORMAT)
        return _page("outreach/encounter.html", _encounter_start(case_id, now), {}, **context)
    errors: forms.Errors = {}
    encounter_in = forms.parse_encounter(request.form, errors)
    if errors or encounter_in is None:
        return _invalid(errors, "outreach/encounter.html", **context)

    def save() -> str:
        cases.record_encounter(db(), current_actor(), current_purpose(), case_id, encounter_in)
        return url_for("outreach.person", person_id=person_id)

    try:
        target = _once(save)
    except ValidationFailed as failed:
        return _invalid(forms.plain(failed.errors), "outreach/encounter.html", **context)
    if isinstance(target, Response):
        return target
    return _saved(_("Encounter saved."), target)


def _encounter_start(case_id: uuid.UUID, now: str) -> MultiDict[str, str]:
    """The encounter form's starting values: now, and the needs still open on the case ticked
    at their urgency (re-ticking one updates it, never adds a second: records/open_needs.py)."""
    start: MultiDict[str, str] = MultiDict({"occurred_at": now})
    try:
        held = outreach.open_needs(db(), current_actor(), current_purpose(), case_id)
    except access.AccessRefused as refusal:  # needs withheld for this purpose: none ticked
        log_refusal(refusal)
        held = ()
    for need in held:
        start.add("needs", need.category.value)
        start[f"severity_{need.category.value}"] = need.severity.value
    return start


@bp.route("/people/<person:person_id>/consent", methods=["GET", "POST"])
@login_required
def consent(person_id: uuid.UUID) -> str | Response | tuple[Response | str, int]:
    session, actor, purpose = db(), current_actor(), current_purpose()
    identity = _WhenShown(lambda: people.read_identity(session, actor, purpose, person_id))
    given = consents.consents_for(session, actor, purpose, person_id)
    partners = directory.partner_orgs(session, actor, by_name=True)
    now = datetime.now(UTC)
    active = [c for c in given if c.is_active(now)]
    context: dict[str, Any] = {
        "identity": identity,
        "active": active,
        "partners": partners,
        "partner_names": {p.id: p.name for p in partners},
        "consent_purposes": [(p, *labels.purpose_info(p)) for p in CONSENT_PURPOSES],
        "kinds": list(labels.ORG_KIND_LABELS.items()),
        "kind_labels": labels.ORG_KIND_LABELS,
        "purpose_info": labels.purpose_info,
        "now": now,
    }
    if request.method == "GET":
        return _page("outreach/consent.html", _consent_form(active), {}, **context)
    target = url_for("outreach.person", person_id=person_id)
    revoke = _consent_id("revoke")
    if revoke is not None:
        if revoke not in {c.id for c in active}:
            abort(404)
        consents.revoke_consent(session, actor, purpose, revoke)
        return _saved(_("Consent withdrawn."), target)
    errors: forms.Errors = {}
    consent_in = forms.parse_consent(
        request.form, errors, {p.id for p in partners}, CONSENT_PURPOSES
    )
    replaces = _consent_id("replaces")
    if replaces is not None and replaces not in {c.id for c in active}:
        errors.setdefault("replaces", []).append(_("This consent was already changed."))
    if errors or consent_in is None:
        return _invalid(errors, "outreach/consent.html", **context)

    def save() -> str:
        if replaces is not None:  # an update: the old consent ends as the new one starts
            consents.revoke_consent(session, actor, purpose, replaces)
        consents.record_consent(session, actor, purpose, person_id, consent_in)
        return target

    try:
        saved = _once(save)
    except ValidationFailed as failed:
        return _invalid(forms.plain(failed.errors), "outreach/consent.html", **context)
    if isinstance(saved, Response):
        return saved
    return _saved(_("Consent recorded."), saved)


def _consent_id(name: str) -> uuid.UUID | None:
    """The consent the form names in a hidden field (none if empty); not an id at all: 404."""
    value = request.form.get(name)
    if not value:
        return None
    parsed = paths.parse(value)
    if parsed is None:
        abort(404)
    return parsed


def _consent_form(active: list[consents.ConsentView]) -> dict[str, Any]:
    """The form's starting values: the consent being changed (?change=<id>), else a year."""
    wanted = request.args.get("change", "")
    current = next((c for c in active if str(c.id) == wanted), None)
    if current is None:
        # Coming from a refused referral: its partner and purpose (ids, not personal data).
        expires = (datetime.now(local_zone()) + timedelta(days=365)).date()
        return {
            "expires_on": expires.isoformat(),
            "recipient_org_ids": request.args.getlist("org"),
            "purposes": request.args.getlist("purpose"),
        }
    return {
        "replaces": str(current.id),
        "purposes": [p.value for p in current.purposes],
        "recipient_org_ids": [str(o) for o in current.recipient_org_ids],
        "recipient_org_kinds": list(current.recipient_org_kinds),
        "expires_on": (
            to_local(current.expires_at).date().isoformat() if current.expires_at else ""
        ),
    }


@bp.route("/cases/<uuid:case_id>/refer", methods=["GET", "POST"])
@login_required
def refer(case_id: uuid.UUID) -> str | Response | tuple[Response | str, int]:
    session, actor, purpose = db(), current_actor(), current_purpose()
    person_id = _own_case_person(case_id, Action.REFER)
    identity = _WhenShown(lambda: people.read_identity(session, actor, purpose, person_id))
    partners = directory.partner_orgs(session, actor, by_name=True)
    context: dict[str, Any] = {
        "identity": identity,
        "case_id": case_id,
        "partners": partners,
        "consent_purposes": [(p, *labels.purpose_info(p)) for p in CONSENT_PURPOSES],
        "kind_labels": labels.ORG_KIND_LABELS,
        "may_override": False,
    }
    if request.method == "GET":
        start = {"purpose": purpose.value if purpose in CONSENT_PURPOSES else ""}
        return _page("outreach/refer.html", start, {}, **context)
    errors, values = _parse_referral(request.form, {p.id for p in partners})
    override = request.form.get("override") == "yes"
    if errors:
        context["may_override"] = override
        return _invalid(errors, "outreach/refer.html", **context)
    to_org, referral_purpose, need, note = values

    def save() -> str:
        cases.refer(
            session,
            actor,
            purpose,
            case_id,
            to_org,
            referral_purpose,
            need,
            note,
            override,
            justification=request.form.get("justification"),
            justification_prefix=_("Consent override: %(why)s", why=""),
        )
        return url_for("outreach.person", person_id=person_id)

    try:
        target = _once(save)
    except ValidationFailed as failed:
        plain = forms.plain(failed.errors)
        if "justification" in failed.errors:
            plain["justification"] = [_("Say why the person's consent is not asked for.")]
            context["may_override"] = override
        if "consent" in failed.errors:
            partner = next(p.name for p in partners if p.id == to_org)
            plain["consent"] = [
                _(
                    "This person has not agreed to share their file with %(org)s for "
                    "“%(purpose)s”. Ask them and record their consent first.",
                    org=partner,
                    purpose=labels.purpose_info(referral_purpose)[0],
                )
            ]
            context["may_override"] = outreach.may_override_consent(
                session, actor, referral_purpose, case_id
            )
        whole_page = "consent" in plain
        return _invalid(plain, "outreach/refer.html", whole_page=whole_page, **context)
    if isinstance(target, Response):
        return target
    return _saved(_("Referral sent."), target)


def _parse_referral(
    form: forms.Form, partner_ids: set[uuid.UUID]
) -> tuple[forms.Errors, tuple[uuid.UUID, Purpose, NeedCategory | None, str | None]]:
    errors: forms.Errors = {}
    to_org = None
    with contextlib.suppress(ValueError):
        to_org = uuid.UUID(form.get("to_org", ""))
    if to_org not in partner_ids:
        errors["to_org"] = [_("Choose the organisation to refer to.")]
    try:
        referral_purpose = Purpose(form.get("purpose", ""))
    except ValueError:
        referral_purpose = Purpose.OUTREACH
        errors["purpose"] = [_("Choose what the referral is for.")]
    if referral_purpose not in CONSENT_PURPOSES:
        errors["purpose"] = [_("Choose what the referral is for.")]
    need: NeedCategory | None = None
    if form.get("need"):
        try:
            need = NeedCategory(form.get("need", ""))
        except ValueError:
            errors["need"] = [_("Choose a need from the list.")]
    note = (form.get("note") or "").strip() or None
    if note and len(note) > MAX_NOTE_LENGTH:
        errors["note"] = [_("Please keep this under %(n)s characters.", n=MAX_NOTE_LENGTH)]
    return errors, (to_org or uuid.UUID(int=0), referral_purpose, need, note)
