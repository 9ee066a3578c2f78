"""Reading API requests: a JSON object body, query parameters; errors name the field."""

from __future__ import annotations

import json
from functools import cache
from typing import Any, TypeVar

from flask import request
from marshmallow import Schema, ValidationError

from databank.domain.errors import BadRequest, DatabankError, ValidationFailed
from databank.schemas.common import flatten
from databank.web import inputs

MAX_BODY = 256 * 1024  # bytes: the largest registration is a few kilobytes


class UnsupportedMediaType(DatabankError):
    status = 415
    code = "unsupported_media_type"


S = TypeVar("S", bound=Schema)


@cache
def schema(cls: type[S]) -> S:
    """One instance per schema class for the whole process: building a schema costs more than
    using it, and a marshmallow 4 schema keeps no state between loads and dumps."""
    return cls()


def invalid(error: ValidationError) -> ValidationFailed:
    """A schema's messages as the API's 422, keyed by field path (never quoting the values)."""
    return ValidationFailed("the request has invalid fields", flatten(error.messages))


def _parse() -> Any:
    try:
        data = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        # The parser's message can quote the body: it is not passed on. (RecursionError: a
        # deeply nested document, which Flask's own get_json lets through as a 500.)
        raise BadRequest("the body is not valid JSON", {"body": ["is not valid JSON"]}) from None
    bad = list(inputs.bad_paths(data))
    if bad:
        raise ValidationFailed(
            "the request has invalid fields", {path: [inputs.MESSAGE] for path in bad}
        )
    return data


def json_object() -> dict[str, Any] | None:
    """The JSON object sent, or None if the body is not a JSON object (any reason)."""
    if not request.is_json:
        return None
    try:
        data = _parse()
    except BadRequest:
        return None
    return data if isinstance(data, dict) else None


class JsonInputs:
    """The API's reading of the inputs an operation declares (web/api/registry.py)."""

    def body(self, schema: Schema) -> dict[str, Any]:
        """The JSON object sent, loaded by the schema (unknown fields refused)."""
        if not request.is_json:
            raise UnsupportedMediaType(
                "send the body as JSON", {"Content-Type": ["must be application/json"]}
            )
        data = _parse()
        if not isinstance(data, dict):
            raise ValidationFailed("send a JSON object", {"body": ["must be a JSON object"]})
        try:
            loaded: dict[str, Any] = schema.load(data)
        except ValidationError as error:
            raise invalid(error) from None
        return loaded

    def query(self, schema: Schema) -> dict[str, Any]:
        """The query string, loaded by the schema (unknown parameters refused)."""
        try:
            loaded: dict[str, Any] = schema.load(request.args.to_dict())
        except ValidationError as error:
            raise invalid(error) from None
        return loaded

    def no_query(self) -> None:
        """An operation without parameters accepts none."""
        if request.args:
            raise ValidationFailed(
                "the request has invalid fields",
                {name: ["Unknown field."] for name in request.args},
            )


JSON = JsonInputs()
