"""Schemas of API tokens: the creation form and the listed tokens (never the secret's hash)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from databank.domain.enums import Purpose

MAX_DAYS = 365  # services/tokens.py checks it again


class TokenCreateIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    scopes = fields.List(
        fields.String(validate=validate.Length(max=32)),
        required=True,
        validate=validate.Length(min=1, max=20),
    )
    days = fields.Integer(load_default=30, validate=validate.Range(1, MAX_DAYS))
    purposes = fields.List(
        fields.String(validate=validate.OneOf([p.value for p in Purpose if not p.is_forbidden])),
        load_default=list,
    )
