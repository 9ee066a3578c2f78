"""Who is looking: the organisation whose handles every person reference of a response is shown in.

The pooled person id never leaves the server (crypto/handles.py). The interfaces' guards set the
viewer once the caller is known (`viewing`), around the view and the writing of its response;
every way a person reference leaves — a path (`web.paths`), a page (the `handle` filter), an API
document (`PersonHandle`) — goes through `shown` here, and every handle that comes in goes back
through `behind`. Outside a viewer both refuse: a person reference with no caller is a bug.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from marshmallow import fields

from databank.crypto.handles import PersonHandles


@dataclass(frozen=True)
class Viewer:
    handles: PersonHandles
    org_id: uuid.UUID


_viewer: ContextVar[Viewer | None] = ContextVar("databank_viewer", default=None)


class Handle(uuid.UUID):
    """A person reference as a caller gave it: a handle, until its guard turns it back."""

    __slots__ = ()


@contextmanager
def viewing(handles: PersonHandles, org_id: uuid.UUID) -> Iterator[None]:
    token = _viewer.set(Viewer(handles, org_id))
    try:
        yield
    finally:
        _viewer.reset(token)


def _current() -> Viewer:
    viewer = _viewer.get()
    if viewer is None:
        raise RuntimeError("a person reference crossed the interface outside a caller's request")
    return viewer


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def shown(person_id: uuid.UUID | str, holder: uuid.UUID | str | None = None) -> Handle:
    """The handle the current viewer's organisation sees for a pooled person (given as a UUID, or
    as the text of one, as the log's entries hold it): on its own records, or on the records of
    `holder`, another organisation (a handle that joins nothing the viewer registered)."""
    if isinstance(person_id, Handle):
        return person_id
    viewer = _current()
    found = viewer.handles.handle(
        viewer.org_id, _uuid(person_id), None if holder is None else _uuid(holder)
    )
    return Handle(bytes=found.bytes)


def is_own(holder: uuid.UUID | str | None) -> bool:
    """Whether records held by `holder` are the viewer's organisation's own."""
    return holder is not None and _uuid(holder) == _current().org_id


# Where a document names the organisation holding the record its person reference is about.
_HOLDER_ATTRIBUTES = ("org_id", "record_owner", "owner_org_id")


def _holder(obj: Any) -> Any:
    for name in _HOLDER_ATTRIBUTES:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def behind(handle: uuid.UUID) -> uuid.UUID:
    """The pooled person behind a handle the current viewer gave (nobody, for another org's)."""
    viewer = _current()
    return viewer.handles.person(viewer.org_id, handle)


class PersonHandle(fields.UUID):
    """A person reference in an API document: dumped as the caller's handle, loaded back."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "metadata",
            {
                "description": "The person as your organisation sees them (a handle: another "
                "organisation sees the same person under another id)."
            },
        )
        super().__init__(**kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return str(shown(value, _holder(obj)))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> uuid.UUID:
        return behind(super()._deserialize(value, attr, data, **kwargs))
