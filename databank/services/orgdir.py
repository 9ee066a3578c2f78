"""Organisation slugs and kinds by id, cached in-process (policies speak in slugs)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.enums import OrgKind
from databank.domain.errors import NotFound
from databank.models import Organisation


@dataclass(frozen=True)
class OrgRef:
    id: uuid.UUID
    slug: str
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
