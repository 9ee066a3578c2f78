"""Text no database can store is refused at the door, naming the field: a NUL character
(PostgreSQL refuses it in text) or half of a UTF-16 surrogate pair (no UTF-8 encoding exists).

Form fields and query parameters are checked for every request here; JSON bodies by the API's
reader (`web/api/io.py`), with the path of each bad string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, request

from databank.domain.errors import BadRequest

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "contains a character that cannot be stored (NUL or a lone surrogate)"


def unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None


def bad_paths(value: Any, path: str = "") -> Iterator[str]:
    """The paths (`a.0.b`) of the strings in a JSON document that cannot be stored."""
    if isinstance(value, str):
        if unstorable(value):
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if unstorable(str(key)):
                yield where
            else:
                yield from bad_paths(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from bad_paths(item, f"{path}.{index}" if path else str(index))


def _check_form_and_query() -> None:
    sources = [request.args]
    if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        # Only a form body: the API reads its JSON itself, after setting its size limit.
        sources.append(request.form)
    bad = sorted(
        {
            name
            for source in sources
            for name, value in source.items(multi=True)
            if unstorable(name) or unstorable(value)
        }
    )
    if bad:
        raise BadRequest(
            "the request has invalid fields",
            {(name if not unstorable(name) else "field name"): [MESSAGE] for name in bad},
        )


def init_app(app: Flask) -> None:
    app.before_request(_check_form_and_query)
