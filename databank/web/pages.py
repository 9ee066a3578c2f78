"""Case worker pages: caseload, case page with the cross-org timeline (referrals: web/referrals.py),
the org policy; all through services, which decide and log each read."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from databank.domain.enums import CaseStatus, Purpose
from databank.domain.vocab import ETHOS_LABELS, NEED_LABELS, EthosCategory, NeedCategory
from databank.services import access
from databank.services.access import directory
from databank.services.oversight import policy_view
from databank.services.records import (
    breakglass,
    case_lists,
    caseload,
    cases,
    own_merge,
    people,
    timeline,
)
from databank.web import case_lifecycle, deployment, navigation, outreach_forms
from databank.web.auth import current_actor, current_purpose, login_required
from databank.web.i18n import select_locale
from databank.web.unit_of_work import db, log_refusal

bp = Blueprint("pages", __name__)
T = TypeVar("T")

PAGE_SIZE = 25

# What a withheld field means, in words a worker can repeat to a person.
FIELD_LABELS = {
    "identity": _l("identity"),
    "contact": _l("contact details"),
    "status": _l("case status"),
    "living_situation": _l("living situation"),
    "flags": _l("protection flags"),
    "needs": _l("needs"),
    "health": _l("health needs"),
    "notes": _l("notes"),
    "encounters": _l("encounters"),
    "location": _l("location"),
    "referrals": _l("referrals"),
    "consents": _l("consents"),
}
# Filter values in the query string are codes of closed vocabularies, never personal data.
# Needs are numbered in the vocabulary's order and living situations by their ETHOS number, so a
# filter form listing every category never prints a case's stored value (the route-walk test
# looks for those in every page).
NEED_CODES: Mapping[str, NeedCategory] = {str(n): c for n, c in enumerate(NeedCategory, 1)}
SITUATION_CODES: Mapping[str, EthosCategory] = {
    str(c.number) if c.number is not None else c.value: c for c in EthosCategory
}
STATUS_CODES: Mapping[str, CaseStatus] = {s.value: s for s in CaseStatus}
# Need severities and statuses, referral statuses: closed vocabularies, shown translated.
ENUM_LABELS = {
    "low": _l("low"),
    "medium": _l("medium"),
    "high": _l("high"),
    "urgent": _l("urgent"),
    "identified": _l("open"),
    "in_progress": _l("in progress"),
    "met": _l("met"),
    "not_met": _l("not met"),
    "declined": _l("declined"),
    "pending": _l("pending"),
    "accepted": _l("accepted"),
    "withdrawn": _l("withdrawn"),
    "completed": _l("outcome recorded"),
}
SORTS = {"opened_desc": _l("Newest first"), "opened_asc": _l("Oldest first")}


@dataclass
class CaseloadFilters:
    """The caseload's query string, checked; `errors` names each bad parameter."""

    status: CaseStatus | None = None
    need: NeedCategory | None = None
    district: str | None = None  # the code of one of the deployment's areas
    situation: EthosCategory | None = None
    sort: str = "opened_desc"
    page: int = 1
    ref: str | None = None  # the start of a case's reference (hexadecimal), own cases only
    raw: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def args(self, **changes: object) -> dict[str, object]:
        """The query string of this filter set, with some values changed (for page links)."""
        merged: dict[str, object] = {k: v for k, v in self.raw.items() if v and k != "page"}
        merged.update(changes)
        return merged


def _pick(raw: dict[str, str], name: str, codes: Mapping[str, T]) -> T | None:
    value = raw.get(name, "")
    return codes.get(value) if value else None


def _caseload_filters(args: Mapping[str, str]) -> CaseloadFilters:
    names = ("status", "need", "district", "situation", "sort", "page", "ref")
    raw = {name: args.get(name, "").strip() for name in names}
    found = CaseloadFilters(raw=raw)
    choices: dict[str, Mapping[str, object]] = {
        "status": STATUS_CODES,
        "need": NEED_CODES,
        "district": deployment.areas().by_code,
        "situation": SITUATION_CODES,
        "sort": SORTS,
    }
    for name, codes in choices.items():
        if raw[name] and raw[name] not in codes:
            found.errors[name] = [_("Choose one of the options in the list.")]
    found.status = _pick(raw, "status", STATUS_CODES)
    found.need = _pick(raw, "need", NEED_CODES)
    found.situation = _pick(raw, "situation", SITUATION_CODES)
    found.district = raw["district"] if deployment.area(raw["district"]) else None
    found.sort = raw["sort"] if raw["sort"] in SORTS else "opened_desc"
    if raw["ref"]:
        if case_lists.is_reference(raw["ref"]):
            found.ref = raw["ref"]
        else:
            found.errors["ref"] = [_("A case reference: 4 to 32 digits 0-9 and letters a-f.")]
    if raw["page"]:
        if raw["page"].isdigit() and 1 <= int(raw["page"]) <= 10_000:
            found.page = int(raw["page"])
        else:
            found.errors["page"] = [_("A page number from 1.")]
    return found


def _filter_options() -> dict[str, list[tuple[str, str]]]:
    locale = select_locale()
    return {
        "status": [("open", _("Open")), ("closed", _("Closed"))],
        "need": [(code, NEED_LABELS[c].for_locale(locale)) for code, c in NEED_CODES.items()],
        "situation": [
            (code, ETHOS_LABELS[c].for_locale(locale)) for code, c in SITUATION_CODES.items()
        ],
        "district": deployment.choices(locale),
        "sort": [(code, str(label)) for code, label in SORTS.items()],
    }


@bp.app_template_filter("vocab")
def vocab_label(value: object) -> str:
    """A need or living situation in the user's language."""
    locale = select_locale()
    if isinstance(value, NeedCategory):
        return NEED_LABELS[value].for_locale(locale)
    if isinstance(value, EthosCategory):
        return ETHOS_LABELS[value].for_locale(locale)
    return str(value)


@bp.app_template_filter("enum_label")
def enum_label(value: object) -> str:
    """A severity or status in the user's language (its code if it has no label)."""
    code = str(getattr(value, "value", value))
    return str(ENUM_LABELS.get(code, code))


@bp.app_template_filter("field_label")
def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


@bp.app_template_filter("district_name")
def district_name(place: cases.Place | None) -> str:
    """The area nearest a released district-or-finer cell (empty for a city-level cell)."""
    if place is None or place.geohash is None:
        return ""
    return deployment.nearest_name(place.geohash, select_locale())


@bp.route("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@bp.route("/", methods=["GET", "POST"])
@login_required
def home() -> str | tuple[str, int] | Response:
    """The caseload: filtered and paged by GET (codes only in the address); a search by name
    and date of birth in the organisation's own records by POST (no name in an address)."""
    elsewhere = navigation.outside_caseload(current_actor().roles)
    if elsewhere is not None:  # an auditor starts on the console, not on a refused caseload
        return redirect(url_for(elsewhere))
    filters = _caseload_filters({} if request.method == "POST" else request.args)
    page = {"filters": filters, "options": _filter_options(), "search": {}, "searched": False}
    if filters.errors:
        return render_template("home.html", caseload=[], names={}, **page), 400
    session, actor, purpose = db(), current_actor(), current_purpose()
    subjects: list[uuid.UUID] | None = None  # a search by name: the org's records of the person
    if request.method == "POST":
        family_name, birth_date, errors = outreach_forms.parse_search(request.form)
        page.update(search=request.form, searched=True, search_errors=errors)
        if errors or birth_date is None:
            return render_template("home.html", caseload=[], names={}, **page), 422
        try:
            held = people.find_people(session, actor, purpose, family_name, birth_date)
        except access.AccessRefused as refusal:
            log_refusal(refusal)
            return render_template("home.html", caseload=None, **page)
        subjects = [record.subject_id for record in held]
    picked = deployment.area(filters.district) if filters.district else None
    try:
        found = case_lists.case_page(
            session,
            actor,
            purpose,
            status=filters.status,
            limit=PAGE_SIZE,
            offset=(filters.page - 1) * PAGE_SIZE,
            need=filters.need,
            district=picked.cells if picked is not None else None,
            living_situation=filters.situation,
            sort=filters.sort,
            subjects=subjects,
            reference=filters.ref,
        )
    except access.AccessRefused as refusal:
        # Roles without case content: the refusal is logged, the page says so.
        log_refusal(refusal)
        return render_template("home.html", caseload=None, **page)
    own = [c.person_id for c in found.lines if c.org_id == actor.org_id]
    names = caseload.display_names(session, actor, purpose, own) if own else {}
    return render_template(
        "home.html", caseload=found.lines, names=names, more=found.more, total=found.total, **page
    )


def render_case(
    view: cases.CaseView,
    purpose: Purpose,
    errors: Mapping[str, list[str]] | None = None,
    form: Mapping[str, str] | None = None,
) -> str:
    """The case page; `errors` and `form`: a lifecycle form that failed (web/lifecycle.py)."""
    session = db()
    actor = current_actor()
    history = timeline.person_timeline(session, actor, purpose, view)
    records = caseload.case_records(session, actor, purpose, view)
    holders = directory.org_names(session, [view.org_id])
    own = view.org_id == actor.org_id
    names = caseload.display_names(session, actor, purpose, [view.person_id]) if own else {}
    # The org's own records of the person only: two mean a duplicate it is offered to merge.
    own_records = own_merge.own_record_count(session, actor.org_id, view.person_id) if own else 0
    return render_template(
        "case.html",
        case=view,
        labels=FIELD_LABELS,
        timeline=history,
        records=records,
        holder=holders.get(view.org_id, ""),
        person_name=names.get(view.person_id),
        read_purpose=purpose,
        own_records=own_records,
        **case_lifecycle.context(session, actor, purpose, view, errors, form),
    )


@bp.route("/cases/<uuid:case_id>")
@login_required
def case(case_id: uuid.UUID) -> str | tuple[str, int]:
    session = db()
    purpose = current_purpose()
    try:
        view = cases.read_case(session, current_actor(), purpose, case_id)
    except access.AccessRefused as refusal:
        log_refusal(refusal)
        # The refusal page offers break-glass; opening one is itself decided and logged.
        return render_template("case_refused.html", case_id=case_id), 403
    return render_case(view, purpose)


@bp.route("/cases/<uuid:case_id>/break-glass", methods=["POST"])
@login_required
def break_glass(case_id: uuid.UUID) -> Response:
    breakglass.start_for_case(db(), current_actor(), case_id, request.form.get("justification", ""))
    return redirect(url_for("pages.emergency_case", case_id=case_id))


@bp.route("/cases/<uuid:case_id>/emergency")
@login_required
def emergency_case(case_id: uuid.UUID) -> str:
    """A case read for the vital interest of the person, inside an open break-glass window."""
    view = cases.read_case(db(), current_actor(), Purpose.VITAL_INTEREST, case_id)
    return render_case(view, Purpose.VITAL_INTEREST)


@bp.route("/organisation/policy")
@login_required
def org_policy() -> str:
    """Read-only: the org's policy, and what each partner would see of a sample case."""
    summary = policy_view.org_policy(db(), current_actor(), current_purpose())
    return render_template("policy.html", summary=summary, labels=FIELD_LABELS)
