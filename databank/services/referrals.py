"""The partner directory (for pickers) and naming an organisation by slug or id.

Referrals received are listed by `services/caseload.referrals_received` (web page and API)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
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
    try:
        wanted = Organisation.id == uuid.UUID(reference)
    except ValueError:
        wanted = Organisation.slug == reference
    org_id = session.execute(select(Organisation.id).where(wanted)).scalar_one_or_none()
    if org_id is None:
        raise ValidationFailed("the request has invalid fields", {field: ["no such organisation"]})
    return org_id
