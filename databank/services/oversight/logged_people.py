"""How the access log names people, and how the console reads them back.

An entry names its person by the handle of the organisation holding the record (the entry's
owner, else the actor's organisation: `audit.entries.person_scope`), never by the pooled id, so
an organisation's proof bundle or export joins no other's on the person. Entries written before
that rule (migration 0014) name the pooled id, and their bodies are hashed: the log's head says
from which seq the rule holds, and both kinds are read here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.audit.entries import NO_ORG, person_scope
from databank.crypto.handles import PersonHandles
from databank.models import AuditHead, Organisation, Person
from databank.services.context import handles_of


@dataclass(frozen=True)
class LoggedPeople:
    handles: PersonHandles
    since: int  # the first seq whose entry names a handle

    @classmethod
    def of(cls, session: Session) -> LoggedPeople:
        since = session.scalar(select(AuditHead.person_handles_from).where(AuditHead.id == 1))
        return cls(handles_of(session), since or 0)

    def pooled(self, data: Mapping[str, Any]) -> str | None:
        """The pooled id (as text) of the person an entry's body names, however it was written."""
        person = data.get("person")
        if person is None or int(data["seq"]) < self.since:
            return person
        record = data.get("record") or {}
        actor = data.get("actor") or {}
        scope = person_scope(record.get("owner"), actor.get("org"))
        return str(self.handles.person(scope, uuid.UUID(person)))

    def forms(self, session: Session, person_id: uuid.UUID) -> list[uuid.UUID]:
        """Every value the log's person column may hold for this pooled person: its handle under
        each organisation and under none, and the pooled id (entries from before the rule); the
        same for every pseudonym linkage merged into it, as entries written before a merge name
        the person it was then."""
        scopes = [NO_ORG, *session.scalars(select(Organisation.id))]
        people = _merged_into(session, person_id)
        handles = (self.handles.handle(scope, p) for p in people for scope in scopes)
        return [*people, *handles]


_MAX_HOPS = 32  # merges chain at most this deep (services/linkage/clusters)


def _merged_into(session: Session, person_id: uuid.UUID) -> list[uuid.UUID]:
    """The person and every pseudonym merged into it, directly or through others."""
    found, frontier = [person_id], [person_id]
    for _ in range(_MAX_HOPS):
        frontier = list(
            session.scalars(select(Person.id).where(Person.merged_into_id.in_(frontier)))
        )
        if not frontier:
            break
        found += frontier
    return found
