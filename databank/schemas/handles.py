"""Who is looking: the organisation whose handles every person reference of a response is shown in.

The pooled person id never leaves the server (crypto/handles.py). The interfaces' guards set the
viewer once the caller is known (`viewing`), around the view and the writing of its response;
every way a person reference leaves — a path (`web.paths`), a page (the `handle` filter), an API
document (`PersonHandle`) — goes through `shown` here, and every handle that comes in goes back
through `behind`. Outside a viewer both refuse: a person reference with no caller is a bug.

A handle names a record (an anchor subject, services/records/anchors.py), not the pooled id, so
linkage merging another organisation's record of a person changes none of the viewer's handles.
Finding the anchor needs the database: the guard hands in a `Naming` bound to the request's
session (this layer reads no database itself); `expect` lets a page name its people in one go.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from marshmallow import Schema, fields, missing


class Naming(Protocol):
    """How one organisation names people (services.records.anchors.ViewerHandles)."""

    @property
    def org_id(self) -> uuid.UUID: ...

    def shown(self, person_id: uuid.UUID, holder: uuid.UUID | None = None) -> uuid.UUID: ...

    def behind(self, handle: uuid.UUID) -> uuid.UUID: ...

    def expect(self, pairs: Iterable[tuple[uuid.UUID | None, uuid.UUID]]) -> None: ...


_viewer: ContextVar[Naming | None] = ContextVar("databank_viewer", default=None)


class Handle(uuid.UUID):
    """A person reference as a caller gave it: a handle, until its guard turns it back."""

    __slots__ = ()


@contextmanager
def viewing(naming: Naming) -> Iterator[None]:
    token = _viewer.set(naming)
    try:
        yield
    finally:
        _viewer.reset(token)


def _current() -> Naming:
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
    found = _current().shown(_uuid(person_id), None if holder is None else _uuid(holder))
    return Handle(bytes=found.bytes)


def expect(people: Iterable[tuple[uuid.UUID | str | None, uuid.UUID | str | None]]) -> None:
    """A page or document is about to show these (holder, person) pairs: name them in one go
    (the same handles `shown` would give one by one, with fewer queries)."""
    pairs = [
        (None if holder is None else _uuid(holder), _uuid(person))
        for holder, person in people
        if person is not None
    ]
    if pairs:
        _current().expect(pairs)


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
    return _current().behind(handle)


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


def expect_document(schema: Schema, document: Any) -> None:
    """An API document is about to be dumped by `schema`: name every person it shows (its
    `PersonHandle` fields, nested documents and lists of them included) in one go."""
    expect(_people_in(schema, document, many=bool(schema.many)))


def _people_in(schema: Schema, document: Any, *, many: bool = False) -> Iterator[tuple[Any, Any]]:
    if document is None:
        return
    for item in document if many else (document,):
        for name, field in schema.dump_fields.items():
            value = field.get_value(item, field.attribute or name)
            if value is None or value is missing:
                continue
            if isinstance(field, PersonHandle):
                yield _holder(item), value
            elif isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
                yield from _people_in(field.schema, value, many=bool(field.many))
            elif isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
                for element in value:
                    yield from _people_in(field.inner.schema, element)
