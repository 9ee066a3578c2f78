"""Pieces shared by the API schemas: the error shape, places, needs, and message flattening."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from databank.domain.enums import LocationLevel, NeedSeverity, NeedStatus
from databank.domain.vocab import NeedCategory

MAX_NOTE_LENGTH = 2000  # services/inputs.py checks it again
MAX_NEEDS = 30
GEOHASH_AREA = r"^[0-9b-hjkmnp-z]{4,5}$"  # a district (5) or city (4) geohash
NEED_CATEGORIES = [c.value for c in NeedCategory]
NEED_SEVERITIES = [s.value for s in NeedSeverity]


def one_of(values: list[str]) -> validate.OneOf:
    return validate.OneOf(values, error="Must be one of: {choices}.")


class PastInstant(fields.AwareDateTime):
    """An ISO 8601 date-time with a time zone, not in the future."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed > datetime.now(UTC):
            raise ValidationError("Must not be in the future.")
        return parsed


class ErrorOut(Schema):
    """Every API error: a stable code, the HTTP status, a message, and messages per field."""

    code = fields.String(required=True, metadata={"example": "validation_failed"})
    status = fields.Integer(required=True, metadata={"example": 422})
    message = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": "Messages by field path (e.g. `needs.0.category`)."},
    )


class PointIn(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))


class NeedIn(Schema):
    category = fields.String(required=True, validate=one_of(NEED_CATEGORIES))
    severity = fields.String(load_default="medium", validate=one_of(NEED_SEVERITIES))


class PointOut(Schema):
    lat = fields.Float()
    lon = fields.Float()


class PlaceOut(Schema):
    """A location as released: coarsened server-side to the finest level the policy allows."""

    level = fields.Function(
        lambda place: LocationLevel(place.level).name.lower(),
        metadata={"enum": [level.name.lower() for level in LocationLevel]},
    )
    geohash = fields.String(allow_none=True)
    point = fields.Nested(PointOut, allow_none=True)


class NeedOut(Schema):
    id = fields.UUID()
    category = fields.String(metadata={"enum": NEED_CATEGORIES})
    severity = fields.String(metadata={"enum": NEED_SEVERITIES})
    status = fields.String(metadata={"enum": [s.value for s in NeedStatus]})
    identified_at = fields.AwareDateTime()
    resolved_at = fields.AwareDateTime(allow_none=True)


def area_field() -> fields.String:
    return fields.String(
        validate=validate.Regexp(GEOHASH_AREA, error="Must be a district (5) or city (4) geohash."),
        allow_none=True,
        metadata={"example": "u05kq"},
    )


def note_field() -> fields.String:
    return fields.String(validate=validate.Length(max=MAX_NOTE_LENGTH), allow_none=True)


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {"needs.0.category": [...]}: the field path, then texts."""
    if isinstance(messages, Mapping):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = "_schema" if key == "_schema" and not prefix else str(key)
            path = f"{prefix}.{name}" if prefix else name
            out.update(flatten(value, path))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": [str(m) for m in messages]}
    if isinstance(messages, list):
        out = {}
        for item in messages:
            for key, texts in flatten(item, prefix).items():
                out.setdefault(key, []).extend(texts)
        return out
    return {prefix or "_schema": [str(messages)]}
