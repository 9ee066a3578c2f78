"""Load and dump schemas of the auditor console: filters, entries, alerts, log status.

Loads return plain dicts (the web layer builds the service's EntryFilter from them): schemas sit
beside the services in the layers and import neither them nor the models. Dumps read attributes,
so they take the services' frozen views and the alert rows alike.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from databank.domain.enums import AlertStatus, Decision, Purpose
from databank.schemas.handles import PersonHandle

# The service checks these again (EntryFilter); kept here so a bad request is refused at the edge.
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
DECISIONS = tuple(d.value for d in Decision)
EXPORT_FORMATS = ("csv", "jsonl")
REVIEW_STATUSES = tuple(s.value for s in AlertStatus if s is not AlertStatus.OPEN)
MAX_SEQ = 2**63 - 1  # a BIGINT: larger numbers would fail in the database, not here
EVENT_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]*)*\*?$"


class UtcInstant(fields.Field[datetime]):
    """An ISO 8601 date or date-time, as UTC. A time without zone is UTC; with `end_of_day`, a
    bare date means the end of that day (for `until`, which is exclusive)."""

    default_error_messages = {  # noqa: RUF012 - marshmallow's own class attribute
        "invalid": "Not a valid date or date-time (ISO 8601, e.g. 2026-03-01 or "
        "2026-03-01T08:00:00Z)."
    }

    def __init__(self, *, end_of_day: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.end_of_day = end_of_day

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        try:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            if self.end_of_day and len(value) == 10:
                parsed += timedelta(days=1)
            return parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            raise self.make_error("invalid") from None


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


class _EntryFilters(Schema):
    """Query parameters of an entry search but the person: ids, codes and dates only."""

    class Meta:
        unknown = RAISE

    actor_user_id = fields.UUID()
    actor_org_id = fields.UUID()
    owner_org_id = fields.UUID()
    event = fields.String(
        validate=[
            validate.Length(max=32),
            validate.Regexp(
                EVENT_PATTERN, error="Must be an event name like access.read, or a prefix access."
            ),
        ]
    )
    purpose = fields.String(validate=validate.OneOf([p.value for p in Purpose]))
    decision = fields.String(validate=validate.OneOf(DECISIONS))
    since = UtcInstant()
    until = UtcInstant(end_of_day=True)
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT))
    before_seq = fields.Integer(validate=validate.Range(0, MAX_SEQ))

    @validates_schema
    def _dates_in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and since >= until:
            raise ValidationError("Must be after since.", "until")


# Why the API refuses a person in a query: a query string lands in request lines and logs.
PERSON_IN_THE_PATH = (
    "a person is never a query parameter: use /api/v1/audit/people/{person_id}/history "
    "or /api/v1/audit/people/{person_id}/export"
)


def _only_in_the_path(_value: object) -> None:
    raise ValidationError(PERSON_IN_THE_PATH)


class EntryFilterIn(_EntryFilters):
    """Query parameters of an entry search (the API): ids, codes and dates only. A person is
    asked for in the path of the person's history or export, never in a query string (which
    lands in request lines and in the server's and proxies' logs)."""

    person_id = fields.Raw(validate=_only_in_the_path)


# Why a console page refuses a person in its query (a message the pages translate).
PERSON_BY_POST = "look a person up with the person form: a person is never part of an address"


def _not_in_an_address(_value: object) -> None:
    raise ValidationError(PERSON_BY_POST)


class ConsoleFilterIn(_EntryFilters):
    """The console page's filters and downloads (GET): the same, less the person. Threat: what
    an auditor types for a person (a name, by mistake) would land in request lines, in the
    server's and proxies' logs and in the browser's history; a person is looked up by POST
    (PersonLookupIn), and the answer's address carries the pseudonymous id only."""

    person_id = fields.Raw(validate=_not_in_an_address)


class PersonLookupIn(Schema):
    """The console's person lookup, posted: the person as the auditor's organisation sees them
    (its handle)."""

    class Meta:
        unknown = RAISE

    person_id = PersonHandle(required=True)


class ExportIn(EntryFilterIn):
    """An export: the same filters, and the format."""

    fmt = fields.String(data_key="format", required=True, validate=validate.OneOf(EXPORT_FORMATS))


class PersonExportIn(Schema):
    """A person's history as a download: the format."""

    class Meta:
        unknown = RAISE

    fmt = fields.String(data_key="format", required=True, validate=validate.OneOf(EXPORT_FORMATS))


class AlertQueryIn(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf([s.value for s in AlertStatus]))


class AlertReviewIn(Schema):
    """An auditor's review of an alert. The note may name people: the service seals it."""

    class Meta:
        unknown = RAISE

    status = fields.String(required=True, validate=validate.OneOf(REVIEW_STATUSES))
    note = fields.String(required=True, validate=[validate.Length(1, 2000), _not_blank])


class EntryOut(Schema):
    """One entry's metadata: never case content (the log holds none)."""

    seq = fields.Integer()
    at = fields.DateTime()
    event = fields.String()
    actor_user_id = fields.String(allow_none=True)
    actor_org_id = fields.String(allow_none=True)
    actor_roles = fields.List(fields.String())
    actor_channel = fields.String(allow_none=True)
    record_type = fields.String(allow_none=True)
    record_id = fields.String(allow_none=True)
    record_owner = fields.String(allow_none=True)
    person_id = PersonHandle(allow_none=True)
    purpose = fields.String(allow_none=True)
    decision = fields.String(allow_none=True)
    rule = fields.String(allow_none=True)
    fields_released = fields.List(fields.String())
    fields_withheld = fields.List(fields.String())
    count = fields.Integer(allow_none=True)
    location_level = fields.Integer(allow_none=True)
    area = fields.String(allow_none=True)
    break_glass = fields.Boolean()
    policy_version = fields.String(allow_none=True)


class EntryPageOut(Schema):
    entries = fields.List(fields.Nested(EntryOut))
    next_before_seq = fields.Integer(allow_none=True)


class PersonHistoryOut(Schema):
    person_id = PersonHandle()
    entries = fields.List(fields.Nested(EntryOut))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class AlertOut(Schema):
    """An alert: references (ids, entry numbers) and its review state, never the review note."""

    id = fields.UUID()
    rule = fields.String()
    created_at = fields.DateTime()
    status = fields.Function(lambda alert: _text(getattr(alert, "status", None)))
    actor_user_id = fields.UUID(allow_none=True)
    actor_org_id = fields.UUID(allow_none=True)
    owner_org_id = fields.UUID(allow_none=True)
    person_id = PersonHandle(allow_none=True)
    entry_seqs = fields.Function(
        lambda alert: [str(s) for s in getattr(alert, "entry_seqs", None) or ()]
    )
    details = fields.Dict(keys=fields.String())
    reviewer_id = fields.UUID(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)


class AlertListOut(Schema):
    alerts = fields.List(fields.Nested(AlertOut))


class CheckpointOut(Schema):
    size = fields.Integer()
    created_at = fields.DateTime()
    signed_note = fields.String()


class VerifyOut(Schema):
    ok = fields.Boolean()
    size = fields.Integer()
    checkpoints = fields.Integer()
    seq = fields.Integer(allow_none=True)
    kind = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    seconds = fields.Float()


class LogStatusOut(Schema):
    size = fields.Integer()
    checkpoint = fields.Nested(CheckpointOut, allow_none=True)
    unsigned_tail = fields.Integer()
    verify = fields.Nested(VerifyOut, allow_none=True)


class StatusQueryIn(Schema):
    class Meta:
        unknown = RAISE

    verify = fields.Boolean(load_default=False)
