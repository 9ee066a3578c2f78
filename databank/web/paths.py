"""The one path converter for ids: `<uuid:case_id>` gives the view a `uuid.UUID`.

A segment that is not a UUID still matches the route: it reaches the view's guard as a
`MalformedId` and is refused only after the guard has checked the caller (sign-in for a page, a
token or session for the API), so a signed-out request is answered the same whatever its path.
The page's guard (`web.auth.login_required`) then answers 404; the API's (`web.api.registry`)
answers 400 naming the parameter.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from flask import Flask, abort
from werkzeug.routing import BaseConverter

F = TypeVar("F", bound=Callable[..., Any])


class MalformedId(str):
    """A path segment that is not a UUID, held until the view's guard refuses it."""

    __slots__ = ()


def parse(value: str) -> uuid.UUID | None:
    """The UUID `value` spells (any form `uuid.UUID` reads), or None."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class UUIDConverter(BaseConverter):
    """Any one path segment: a `uuid.UUID`, or a `MalformedId` for its guard to refuse."""

    def to_python(self, value: str) -> uuid.UUID | MalformedId:
        parsed = parse(value)
        return MalformedId(value) if parsed is None else parsed


def malformed(view_args: Mapping[str, object]) -> list[str]:
    """The names of the path's ids that are not UUIDs."""
    return [name for name, value in view_args.items() if isinstance(value, MalformedId)]


def page_ids(view: F) -> F:
    """A page's guard, inside its sign-in check: a path id that is not a UUID is a 404."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if malformed(kwargs):
            abort(404)
        return view(*args, **kwargs)

    return cast(F, checked)


def init_app(app: Flask) -> None:
    """Replaces werkzeug's own `uuid` converter; before any blueprint binds its rules."""
    app.url_map.converters["uuid"] = UUIDConverter
