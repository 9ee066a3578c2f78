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


def canonical_body(fields: Mapping[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same entry always gives the same bytes."""
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    ).encode("utf-8")
