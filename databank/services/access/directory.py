"""The organisation directory: slugs, kinds and names by id, partners for pickers, references.

Organisations are public directory data (names, kinds), never personal data. Policies speak in
slugs and kinds, so the access point asks this directory on every decision: slug and kind never
change and are cached for the process; a name can change, so names are kept for a session only."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from databank.domain.enums import OrgKind
from databank.domain.errors import NotFound, ValidationFailed
from databank.models import Organisation
from databank.services.actors import Actor
from databank.services.context import carried


@dataclass(frozen=True)
class OrgRef:
    id: uuid.UUID
    slug: str
    kind: OrgKind


@dataclass(frozen=True)
class OrgView:
    id: uuid.UUID
    slug: str
    name: str
    kind: OrgKind


class OrgDirectory:
    """An organisation's slug and kind never change, so they are cached for the process."""

    def __init__(self) -> None:
        self._by_id: dict[uuid.UUID, OrgRef] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, org_id: uuid.UUID) -> OrgRef:
        ref = self._by_id.get(org_id)
        if ref is None:
            row = session.execute(
                select(Organisation.slug, Organisation.kind).where(Organisation.id == org_id)
            ).one_or_none()
            if row is None:
                raise NotFound("no such organisation")
            ref = OrgRef(org_id, row[0], row[1])
            with self._lock:
                self._by_id[org_id] = ref
        return ref


def orgs_of(session: Session) -> OrgDirectory:
    """The process's directory, carried by the session."""
    return carried(session, "orgs", OrgDirectory)


def org_names(session: Session, org_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Organisations' display names, for labelling what they hold.

    Kept in the session for its life (a web request's), as a page labels the same orgs in
    several places; a name can change, so they are not kept longer."""
    known: dict[uuid.UUID, str] = session.info.setdefault("org_names", {})
    wanted = set(org_ids)
    missing = [org_id for org_id in wanted if org_id not in known]
    if missing:
        rows = session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(missing))
        ).all()
        known.update((row.id, row.name) for row in rows)
    return {org_id: known[org_id] for org_id in wanted if org_id in known}


def get_organisation(session: Session, slug: str) -> Organisation:
    """The organisation with this slug (an operator's or a test's reference)."""
    org = session.execute(
        select(Organisation).where(Organisation.slug == slug)
    ).scalar_one_or_none()
    if org is None:
        raise NotFound(f"no organisation with slug {slug!r}")
    return org


def _views(session: Session, query: Select[Organisation]) -> list[OrgView]:
    return [OrgView(o.id, o.slug, o.name, o.kind) for o in session.scalars(query)]


def all_orgs(session: Session) -> list[OrgView]:
    """Every organisation of the platform, by slug (an operator's listing)."""
    return _views(session, select(Organisation).order_by(Organisation.slug))


def partner_orgs(session: Session, actor: Actor, by_name: bool = False) -> list[OrgView]:
    """Every other organisation of the platform, for pickers (referral, consent), by slug or
    by name."""
    order = Organisation.name if by_name else Organisation.slug
    others = select(Organisation).where(Organisation.id != actor.org_id)
    return _views(session, others.order_by(order))


def resolve_org(session: Session, reference: str, field: str) -> uuid.UUID:
    """An organisation named by slug or id; an unknown one is a bad field, named."""
    [org_id] = resolve_orgs(session, [reference], lambda _n: field)
    return org_id


def resolve_orgs(
    session: Session, references: Sequence[str], field: Callable[[int], str]
) -> tuple[uuid.UUID, ...]:
    """Organisations named by slug or id, in one query, in the order given; an unknown one is a
    bad field, named by `field(its position)`."""
    ids: dict[int, uuid.UUID] = {}
    for n, reference in enumerate(references):
        with suppress(ValueError):  # not an id: a slug
            ids[n] = uuid.UUID(reference)
    slugs = [r for n, r in enumerate(references) if n not in ids]
    found = session.execute(
        select(Organisation.id, Organisation.slug).where(
            or_(Organisation.id.in_(list(ids.values())), Organisation.slug.in_(slugs))
        )
    ).all()
    known_ids = {row.id for row in found}
    by_slug = {row.slug: row.id for row in found}
    resolved = []
    for n, reference in enumerate(references):
        org_id = ids[n] if n in ids and ids[n] in known_ids else by_slug.get(reference)
        if org_id is None:
            raise ValidationFailed(
                "the request has invalid fields", {field(n): ["no such organisation"]}
            )
        resolved.append(org_id)
    return tuple(resolved)
