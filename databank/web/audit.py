"""The auditor console: pages and JSON API over the access log. Parse, call a service, render.

Who may see what is decided in `services.oversight.access_log` (and `oversight.alerts`); these
views only read parameters, pick the acting user and shape the answer. The log holds metadata,
never case content, so nothing here can show a case.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from marshmallow import Schema, ValidationError
from werkzeug.wrappers import Response

from databank.domain.enums import AlertStatus, Purpose
from databank.domain.errors import BadRequest, Conflict, NotFound, ValidationFailed
from databank.models import AuditAlert
from databank.schemas import handles
from databank.schemas.audit import (
    DECISIONS,
    AlertListOut,
    AlertOut,
    AlertQueryIn,
    AlertReviewIn,
    ConsoleFilterIn,
    EntryFilterIn,
    EntryPageOut,
    ExportIn,
    LogStatusOut,
    PersonExportIn,
    PersonHistoryOut,
    PersonLookupIn,
    StatusQueryIn,
)
from databank.services.actors import Actor
from databank.services.oversight import access_log, alerts
from databank.services.oversight.access_log import EntryFilter, ExportFormat
from databank.web import audit_people
from databank.web.api import auth as api_auth
from databank.web.api import io as api_io
from databank.web.api.registry import operation
from databank.web.auth import current_actor, login_required
from databank.web.service_messages import message, plain
from databank.web.unit_of_work import db

bp = Blueprint("audit", __name__)

MIMETYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}
# Paging parameters: kept out of export links and of the filter form's hidden state.
PAGING = ("limit", "before_seq")
# The review form's fields and the alert statuses, in the user's language (flash messages).
REVIEW_FIELDS = {"status": _l("Outcome"), "note": _l("Note")}
ALERT_STATUS_LABELS = {
    AlertStatus.OPEN.value: _lp("alert status", "open"),
    AlertStatus.JUSTIFIED.value: _lp("alert status", "justified"),
    AlertStatus.ESCALATED.value: _lp("alert status", "escalated"),
    AlertStatus.CLOSED.value: _lp("alert status", "closed"),
}


def _api_actor() -> Actor:
    return api_auth.caller().actor


def _messages(error: ValidationError) -> dict[str, list[str]]:
    raw = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    return {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in raw.items()}


def _args() -> dict[str, Any]:
    """The query string, empty values dropped (an empty form field means no filter)."""
    return {k: v for k, v in request.args.items() if v != ""}


def _load(schema: Schema, data: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
    """Load with the schema; on bad input, non-auditors still get their 403 (and its log entry)
    before anything is said about the parameters."""
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as error:
        access_log.require_auditor(db(), actor)
        raise BadRequest("the request has invalid parameters", _messages(error)) from None
    return loaded


class _ConsoleInputs:
    """The console API's reading of declared inputs (web/api/registry.py): the query with empty
    values dropped (400), a JSON object body (400, then 422: its one body is a review); a
    non-auditor gets their 403 before anything is said about the input."""

    def query(self, schema: Schema) -> dict[str, Any]:
        return _load(schema, _args(), _api_actor())

    def no_query(self) -> None:
        _load(NO_PARAMETERS, _args(), _api_actor())

    def body(self, schema: Schema) -> dict[str, Any]:
        session, actor = db(), _api_actor()
        # JSON only: with no CSRF token on /api/, a cross-site form cannot send this content type.
        body = api_io.json_object()
        if not isinstance(body, dict):
            access_log.require_auditor(session, actor)
            raise BadRequest("send a JSON object", {"body": ["must be a JSON object"]})
        try:
            loaded: dict[str, Any] = schema.load(body)
        except ValidationError as error:
            access_log.require_auditor(session, actor)
            raise ValidationFailed("the review has invalid fields", _messages(error)) from None
        return loaded


NO_PARAMETERS = Schema.from_dict({})()
CONSOLE = _ConsoleInputs()


def _download(data: bytes, fmt: str) -> Response:
    return Response(
        data,
        mimetype=MIMETYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="audit-entries.{fmt}"'},
    )


# --- pages -----------------------------------------------------------------------------------


def _form_context(args: Mapping[str, str]) -> dict[str, object]:
    return {"form": args, "purposes": [p.value for p in Purpose], "decisions": DECISIONS}


@bp.route("/audit/")
@login_required
def index() -> str | tuple[str, int]:
    session, actor, args = db(), current_actor(), _args()
    try:
        data = api_io.schema(ConsoleFilterIn).load(args)
    except ValidationError as error:
        access_log.require_auditor(session, actor)
        context = _form_context(args)
        errors = plain(_messages(error))
        return render_template("audit/entries.html", errors=errors, **context), 400
    page = access_log.search(session, actor, EntryFilter(**data))
    handles.expect((e.record_owner, e.person_id) for e in page.entries)
    filters = {k: v for k, v in args.items() if k not in PAGING}
    next_url = None
    if page.next_before_seq is not None:
        next_url = url_for("audit.index", **{**args, "before_seq": str(page.next_before_seq)})
    return render_template(
        "audit/entries.html",
        page=page,
        orgs=access_log.org_labels(session, page.entries),
        **audit_people.console_words(session, actor, page.entries),
        next_url=next_url,
        csv_url=url_for("audit.export_csv", **filters),
        jsonl_url=url_for("audit.export_jsonl", **filters),
        errors={},
        **_form_context(args),
    )


@bp.route("/audit/people", methods=["POST"])
@login_required
def find_person() -> Response | tuple[str, int]:
    """A person's history, looked up by POST (with the CSRF token): what the auditor typed (a
    pseudonymous id, or a name by mistake) stays out of request lines, the server's and
    proxies' logs and the browser's history. A valid id is answered with a redirect to the
    history, whose address carries that opaque id only; anything else with the console page
    and the field's error, the typed text not written back."""
    session, actor = db(), current_actor()
    typed = {"person_id": request.form.get("person_id", "").strip()}
    try:
        data = api_io.schema(PersonLookupIn).load(typed)
    except ValidationError as error:
        access_log.require_auditor(session, actor)
        errors = plain(_messages(error))
        return render_template("audit/entries.html", errors=errors, **_form_context({})), 400
    return redirect(url_for("audit.person", person_id=data["person_id"]), 303)


@bp.route("/audit/people/<person:person_id>")
@login_required
def person(person_id: uuid.UUID) -> str:
    session, actor = db(), current_actor()
    history = access_log.person_history(session, actor, person_id)
    handles.expect((e.record_owner, e.person_id) for e in history)
    orgs = access_log.org_labels(session, history)
    words = audit_people.console_words(session, actor, history)
    return render_template(
        "audit/person.html", person_id=person_id, history=history, orgs=orgs, **words
    )


@bp.route("/audit/alerts")
@login_required
def alerts_page() -> str:
    session, actor = db(), current_actor()
    query = _load(api_io.schema(AlertQueryIn), _args(), actor)
    chosen = AlertStatus(query["status"]) if "status" in query else None
    rows = alerts.list_alerts(session, actor, status=chosen)
    handles.expect((a.owner_org_id, a.person_id) for a in rows)
    return render_template(
        "audit/alerts.html",
        alerts=rows,
        **audit_people.alert_names(session, actor, rows),
        chosen=chosen.value if chosen else "",
        statuses=[s.value for s in AlertStatus],
        review_statuses=[s for s in AlertStatus if s is not AlertStatus.OPEN],
    )


@bp.route("/audit/alerts/<uuid:alert_id>", methods=["POST"])
@login_required
def review_alert(alert_id: uuid.UUID) -> Response:
    session, actor = db(), current_actor()
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        data = api_io.schema(AlertReviewIn).load(form)
    except ValidationError as error:
        access_log.require_auditor(session, actor)
        for field, messages in _messages(error).items():
            label = str(REVIEW_FIELDS.get(field, field))
            flash(
                _(
                    "The review was not saved: %(field)s: %(messages)s",
                    field=label,
                    messages=" ".join(message(m) for m in messages),
                )
            )
        return redirect(url_for("audit.alerts_page"), 303)
    try:
        alerts.review(session, actor, alert_id, AlertStatus(data["status"]), data["note"])
    except (Conflict, NotFound, ValidationFailed) as error:
        # Refusals (AccessRefused) are not caught: the error handler logs them.
        flash(_("The review was not saved: %(reason)s.", reason=message(error.message)))
    else:
        status = str(ALERT_STATUS_LABELS.get(data["status"], data["status"]))
        flash(_("Alert %(id)s marked “%(status)s”.", id=str(alert_id)[:8], status=status))
    return redirect(url_for("audit.alerts_page"), 303)


@bp.route("/audit/status", methods=["GET", "POST"])
@login_required
def log_status() -> str:
    # POST (a form with its CSRF token) runs the verification; GET only reads the status.
    run = request.method == "POST"
    result = access_log.status(db(), current_actor(), run_verify=run)
    return render_template("audit/status.html", status=result)


def _export_page(fmt: ExportFormat, person_id: uuid.UUID | None = None) -> Response:
    """A download of the console's filters, or of one person's history (its id in the path,
    never a query parameter: see ConsoleFilterIn)."""
    actor = current_actor()
    data = _load(api_io.schema(ConsoleFilterIn), _args(), actor)
    if person_id is not None:
        data["person_id"] = person_id
    body, _count = access_log.export(db(), actor, EntryFilter(**data), fmt)
    return _download(body, fmt)


@bp.route("/audit/export.csv")
@login_required
def export_csv() -> Response:
    return _export_page("csv")


@bp.route("/audit/export.jsonl")
@login_required
def export_jsonl() -> Response:
    return _export_page("jsonl")


@bp.route("/audit/people/<person:person_id>/export.csv")
@login_required
def export_person_csv(person_id: uuid.UUID) -> Response:
    return _export_page("csv", person_id)


@bp.route("/audit/people/<person:person_id>/export.jsonl")
@login_required
def export_person_jsonl(person_id: uuid.UUID) -> Response:
    return _export_page("jsonl", person_id)


# --- JSON API: declared like the rest of /api/v1 (web/api/registry.py), read by CONSOLE --------


@operation(
    "/audit/entries",
    summary="Search the access log",
    tag="audit",
    scope="audit:read",
    query=EntryFilterIn,
    response=EntryPageOut,
    errors=(400, 401, 403),
    blueprint=bp,
    inputs=CONSOLE,
)
def api_entries(data: dict[str, Any]) -> access_log.EntryPage:
    """Entries of the access log the auditor may see, newest first, paged by `before_seq`."""
    return access_log.search(db(), _api_actor(), EntryFilter(**data))


@operation(
    "/audit/people/<person:person_id>/history",
    summary="Who accessed a person's records",
    tag="audit",
    scope="audit:read",
    response=PersonHistoryOut,
    errors=(400, 401, 403),
    blueprint=bp,
    inputs=CONSOLE,
)
def api_person_history(person_id: uuid.UUID) -> dict[str, Any]:
    """Every access to one person's records."""
    history = access_log.person_history(db(), _api_actor(), person_id)
    return {"person_id": person_id, "entries": history}


@operation(
    "/audit/alerts",
    summary="Alerts on unusual access",
    tag="audit",
    scope="audit:read",
    query=AlertQueryIn,
    response=AlertListOut,
    errors=(400, 401, 403),
    blueprint=bp,
    inputs=CONSOLE,
)
def api_alerts(query: dict[str, Any]) -> dict[str, Any]:
    chosen = AlertStatus(query["status"]) if "status" in query else None
    return {"alerts": alerts.list_alerts(db(), _api_actor(), status=chosen)}


@operation(
    "/audit/alerts/<uuid:alert_id>/review",
    "POST",
    summary="Review an alert",
    tag="audit",
    scope="audit:review",
    body=AlertReviewIn,
    response=AlertOut,
    errors=(400, 401, 403, 404, 409, 415, 422),
    blueprint=bp,
    inputs=CONSOLE,
)
def api_review_alert(data: dict[str, Any], alert_id: uuid.UUID) -> AuditAlert:
    """Mark an alert justified, escalated or closed, with a note."""
    status = AlertStatus(data["status"])
    return alerts.review(db(), _api_actor(), alert_id, status, data["note"])


@operation(
    "/audit/status",
    summary="The log's integrity status",
    tag="audit",
    scope="audit:read",
    query=StatusQueryIn,
    response=LogStatusOut,
    errors=(400, 401, 403),
    blueprint=bp,
    inputs=CONSOLE,
)
def api_status(query: dict[str, Any]) -> access_log.LogStatus:
    return access_log.status(db(), _api_actor(), run_verify=query["verify"])


@operation(
    "/audit/export",
    summary="Export entries (CSV or JSON lines)",
    tag="audit",
    scope="audit:read",
    query=ExportIn,
    errors=(400, 401, 403),
    media=("text/csv", "application/jsonl"),
    blueprint=bp,
    inputs=CONSOLE,
)
def api_export(data: dict[str, Any]) -> Response:
    fmt: ExportFormat = data.pop("fmt")
    body, _count = access_log.export(db(), _api_actor(), EntryFilter(**data), fmt)
    return _download(body, fmt)


@operation(
    "/audit/people/<person:person_id>/export",
    summary="Export every entry about a person (CSV or JSON lines)",
    tag="audit",
    scope="audit:read",
    query=PersonExportIn,
    errors=(400, 401, 403),
    media=("text/csv", "application/jsonl"),
    blueprint=bp,
    inputs=CONSOLE,
)
def api_person_export(data: dict[str, Any], person_id: uuid.UUID) -> Response:
    """A subject access request's download: every entry about the person in the auditor's
    scope, the person named by the auditor's organisation's handle."""
    fmt: ExportFormat = data["fmt"]
    body, _count = access_log.export(db(), _api_actor(), EntryFilter(person_id=person_id), fmt)
    return _download(body, fmt)
