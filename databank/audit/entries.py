"""Canonical JSON bodies of audit entries: the exact bytes that are stored and hashed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"audit bodies hold ids, codes and counts only, not {type(value).__name__}")


# One encoder for every body (json.dumps with these options would build a new one per call, on
# the path of every logged access).
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
)


def canonical_body(fields: Mapping[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same entry always gives the same bytes."""
    return _ENCODER.encode(fields).encode("utf-8")


_string = json.encoder.encode_basestring  # what the encoder writes a str as (ensure_ascii off)


def canonical_value(value: Any) -> str:
    """One value as `canonical_body` writes it inside a body: to write a body out piece by
    piece, in its keys' sorted order, and get the very same bytes."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, uuid.UUID):
        return f'"{value}"'
    if type(value) is int:
        return int.__repr__(value)
    return _ENCODER.encode(value)
