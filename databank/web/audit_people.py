"""The auditor console's subject access request: find a person of the auditor's organisation by
family name and birth date (by POST: nothing typed reaches an address or a server log), then a
printable report of who reached their data, in words. Parse, call a service, render."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from databank.domain.enums import Purpose
from databank.models import AuditAlert, Organisation
from databank.schemas import handles
from databank.services.actors import Actor
from databank.services.oversight import access_log, subject_access
from databank.web import deployment, outreach_forms
from databank.web.admin import ROLE_LABELS
from databank.web.auth import current_actor, login_required, purpose_label
from databank.web.i18n import select_locale
from databank.web.pages import FIELD_LABELS
from databank.web.unit_of_work import db

bp = Blueprint("audit_people", __name__)

# The log's events and decisions, said the way a person asking "who saw my data" reads them.
EVENT_WORDS = {
    "access.read": _l("read the record"),
    "access.list": _l("saw it as a line of a list"),
    "access.omitted": _l("had it left out of a list or a page (nothing released)"),
    "access.search": _l("searched"),
    "access.create": _l("recorded new information"),
    "access.update": _l("changed the record"),
    "access.erase": _l("erased the record"),
    "access.export": _l("exported the record"),
    "access.refer": _l("referred the person to another organisation"),
    "access.override_consent": _l("shared without the person's consent (logged override)"),
    "break_glass.start": _l("opened an emergency access"),
    "break_glass.end": _l("closed an emergency access"),
}
DECISION_WORDS = {
    "allow": _l("allowed"),
    "partial": _l("partly allowed"),
    "deny": _l("refused"),
}
LEVEL_WORDS = {
    0: _l("no place"),
    1: _l("the city"),
    2: _l("the district"),
    3: _l("the street, about 150 m"),
    4: _l("the exact point"),
}


@bp.route("/audit/people/find", methods=["GET", "POST"])
@login_required
def find() -> str | tuple[str, int] | Response:
    """The lookup form; its POST answers with the report (one person), a choice (several) or
    a plain "nobody" that names no one."""
    session, actor = db(), current_actor()
    if request.method == "GET":
        access_log.require_auditor(session, actor)
        return render_template("audit/find.html", form={}, errors={}, found=None)
    family_name, birth_date, errors = outreach_forms.parse_search(request.form)
    if errors or birth_date is None:
        access_log.require_auditor(session, actor)
        page = render_template("audit/find.html", form=request.form, errors=errors, found=None)
        return page, 422
    found = subject_access.find_person(session, actor, family_name, birth_date)
    if len(found) == 1:
        return redirect(url_for("audit_people.report", person_id=found[0]), 303)
    handles.expect((None, person_id) for person_id in found)
    return render_template("audit/find.html", form={}, errors={}, found=found)


@bp.route("/audit/people/<person:person_id>/report")
@login_required
def report(person_id: uuid.UUID) -> str:
    """Who reached this person's data: a page to print (or save as PDF from the browser)."""
    made = subject_access.access_report(db(), current_actor(), person_id)
    return render_template(
        "audit/report.html",
        report=made,
        events=EVENT_WORDS,
        decisions=DECISION_WORDS,
        fields=FIELD_LABELS,
        levels=LEVEL_WORDS,
        role_labels={role.value: label for role, label in ROLE_LABELS.items()},
    )


@bp.app_template_filter("purpose_words")
def purpose_words(code: str | None) -> str:
    """A purpose code in the user's language (as policies/purposes.yaml says it)."""
    if not code:
        return "—"
    try:
        return purpose_label(Purpose(code))
    except (ValueError, KeyError):
        return code


def console_words(
    session: Session, actor: Actor, entries: Sequence[access_log.EntryView]
) -> dict[str, object]:
    """What the console's entry tables show beside the codes: staff names (where the
    auditor's scope covers them), events and the deciding rules in words."""
    users = {uuid.UUID(e.actor_user_id) for e in entries if e.actor_user_id}
    staff = subject_access.staff_names(session, actor, users)
    rules = (r for e in entries for r in (e.rule or "").split(",") if r)
    return {
        "staff": {str(user_id): name for user_id, name in staff.items()},
        "rule_words": subject_access.rule_words(session, rules),
        "events": EVENT_WORDS,
    }


# Alert rules (policies/alerts.yaml) and their details, in words.
ALERT_TITLES = {
    "break_glass": _l("Emergency access (break-glass)"),
    "forbidden_purpose": _l("A forbidden purpose was declared"),
    "district_sweep": _l("Many people's places in one district"),
    "bulk_reads": _l("One user opened many people's records"),
    "non_owner_export": _l("Export of another organisation's records"),
    "denial_burst": _l("Many refusals in a short time"),
    "log_integrity": _l("The access log failed its check"),
}


@bp.app_template_filter("rule_text")
def rule_text(words: subject_access.RuleWords) -> str:
    """A rule's explanation in the user's language (its authors' English if they wrote no
    French)."""
    return words.in_language(select_locale())


@bp.app_template_filter("alert_title")
def alert_title(rule: str) -> str:
    return str(ALERT_TITLES.get(rule, rule))


@bp.app_template_filter("alert_words")
def alert_words(alert: AuditAlert) -> str:
    """What an alert found, in a sentence (its details are counts, windows and codes only)."""
    d = alert.details or {}
    if alert.rule == "district_sweep":
        area = str(d.get("area") or "")
        name = deployment.nearest_name(area, select_locale()) if area else ""
        said = _(
            "The places of %(people)s different people in %(area)s, held by other organisations, "
            "were shown to this organisation within %(hours)s hours (the alert is raised at "
            "%(threshold)s).",
            people=d.get("distinct_people"),
            area=name or area,
            hours=d.get("window_hours"),
            threshold=d.get("threshold"),
        )
    elif alert.rule == "bulk_reads":
        said = _(
            "This user opened the records of %(people)s different people within %(minutes)s "
            "minutes (the alert is raised above %(threshold)s).",
            people=d.get("distinct_people"),
            minutes=d.get("window_minutes"),
            threshold=d.get("threshold"),
        )
    elif alert.rule == "denial_burst":
        said = _(
            "This user was refused %(denials)s times within %(minutes)s minutes (the alert is "
            "raised at %(threshold)s).",
            denials=d.get("denials"),
            minutes=d.get("window_minutes"),
            threshold=d.get("threshold"),
        )
    elif alert.rule == "log_integrity":
        said = _(
            "The verification found a problem at entry %(seq)s: %(reason)s",
            seq=d.get("seq"),
            reason=d.get("reason"),
        )
    else:
        entries = int(str(d.get("entries", 0)))
        purposes = ", ".join(purpose_words(p) for p in _codes(d.get("purposes")))
        said = ngettext(
            "%(num)s log entry, for: %(purposes)s.",
            "%(num)s log entries, for: %(purposes)s.",
            entries,
            purposes=purposes or "—",
        )
    return str(said)


def _codes(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def alert_names(
    session: Session, actor: Actor, found: Sequence[AuditAlert]
) -> dict[str, dict[str, str]]:
    """The staff and organisations the alerts name, by name (staff where the auditor's scope
    covers them), keyed by their ids as text."""
    users = {a.actor_user_id for a in found if a.actor_user_id}
    orgs = {o for a in found for o in (a.actor_org_id, a.owner_org_id) if o}
    staff = subject_access.staff_names(session, actor, users)
    names = (
        dict(
            session.execute(
                select(Organisation.id, Organisation.name).where(Organisation.id.in_(orgs))
            ).all()
        )
        if orgs
        else {}
    )
    return {
        "staff": {str(k): v for k, v in staff.items()},
        "org_names": {str(k): v for k, v in names.items()},
    }
