"""The partner directory (for pickers) and naming an organisation by slug or id.

Referrals received are listed by `services/caseload.referrals_received` (web page and API)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from databank.domain.enums import OrgKind
from databank.domain.errors import ValidationFailed
from databank.models import Organisation
from databank.services.actors import Actor


@dataclass(frozen=True)
class OrgView:
    id: uuid.UUID
    slug: str
    name: str
    kind: OrgKind


def partner_orgs(session: Session, actor: Actor) -> list[OrgView]:
    """The organisations of the platform, for pickers (referral, consent): public directory data."""
    found = session.execute(
        select(Organisation).where(Organisation.id != actor.org_id).order_by(Organisation.slug)
    ).scalars()
    return [OrgView(o.id, o.slug, o.name, o.kind) for o in found]


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
