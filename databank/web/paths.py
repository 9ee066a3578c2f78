"""The path converters for ids: `<uuid:case_id>` gives the view a `uuid.UUID`; `<person:person_id>`
takes the caller's handle of a person, and gives the view the pooled person behind it once its
guard knows the caller (schemas/handles.py); `url_for` writes a person as the viewer's handle.

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

from databank.schemas import handles
from databank.services.records.anchors import ViewerHandles
from databank.web.unit_of_work import db

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


class PersonConverter(UUIDConverter):
    """A person's handle: kept as a `Handle` until the guard turns it back (`as_viewer`)."""

    def to_python(self, value: str) -> uuid.UUID | MalformedId:
        parsed = parse(value)
        return MalformedId(value) if parsed is None else handles.Handle(int=parsed.int)

    def to_url(self, value: Any) -> str:
        # A person id (a UUID, or its text as the log holds it) leaves as the viewer's handle;
        # only a segment that is no id at all is written as it is.
        if isinstance(value, str) and parse(value) is None:
            return super().to_url(value)
        return str(handles.shown(value))


def as_viewer(org_id: uuid.UUID, view: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Run a view (and write its response) as seen by `org_id`: the path's person handles turn
    into the people behind them, and every person shown becomes that organisation's handle (its
    anchors looked up in the request's session, and cached for the request)."""
    with handles.viewing(ViewerHandles(db(), org_id)):
        resolved = {
            name: handles.behind(value) if isinstance(value, handles.Handle) else value
            for name, value in kwargs.items()
        }
        return view(**resolved)


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


def _handle_text(person: uuid.UUID | str, holder: uuid.UUID | str | None = None) -> str:
    return str(handles.shown(person, holder))


def init_app(app: Flask) -> None:
    """Replaces werkzeug's own `uuid` converter; before any blueprint binds its rules."""
    app.url_map.converters["uuid"] = UUIDConverter
    app.url_map.converters["person"] = PersonConverter
    # A person shown in a page's text: `{{ entry.person_id|handle(entry.record_owner) }}`; links to
    # a person's pages only for the viewer's own records: `{% if entry.record_owner is own %}`.
    app.add_template_filter(_handle_text, "handle")
    app.add_template_test(handles.is_own, "own")
