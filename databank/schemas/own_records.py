"""API schemas for an organisation's own records of a person and their merge (duplicates)."""

from __future__ import annotations

from marshmallow import Schema, fields

from databank.domain.enums import SubjectStatus
from databank.domain.vocab import OWN_MERGE_REASONS as MERGE_REASONS
from databank.schemas.common import one_of
from databank.schemas.handles import PersonHandle


class OwnRecordOut(Schema):
    record_id = fields.UUID(
        attribute="subject_id",
        metadata={"description": "This organisation's reference of the record (for a merge)."},
    )
    status = fields.String(metadata={"enum": [s.value for s in SubjectStatus]})
    registered_at = fields.DateTime(attribute="created_at")
    cases = fields.Integer(metadata={"description": "Cases opened on this record."})
    name = fields.String(
        allow_none=True, metadata={"description": "Null unless the policy releases identity."}
    )
    birth_date = fields.Date(allow_none=True)


class OwnRecordsOut(Schema):
    records = fields.List(fields.Nested(OwnRecordOut))


class DuplicateOut(Schema):
    person_id = PersonHandle()


class DuplicatesOut(Schema):
    people = fields.List(
        fields.Nested(DuplicateOut),
        metadata={"description": "People this organisation holds under two or more records."},
    )


class OwnMergeIn(Schema):
    keep = fields.UUID(required=True, metadata={"description": "The record kept."})
    other = fields.UUID(required=True, metadata={"description": "The record merged into it."})
    reason = fields.String(load_default=MERGE_REASONS[0], validate=one_of(list(MERGE_REASONS)))


class OwnMergeOut(Schema):
    kept = fields.UUID(attribute="kept_subject_id")
    merged = fields.UUID(attribute="merged_subject_id")
    cases_moved = fields.Integer()
