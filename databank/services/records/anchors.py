"""Which record a person handle names: an organisation's *anchor* of a pooled person.

Threat: linkage merges pooled persons (services/linkage/clusters.py keeps the older pseudonym).
A handle of the pooled id would change when linkage found that another organisation registered
the person earlier, and so tell the registering organisation that someone else knows them (issue
16: "the registering org never learns whether another org knows the person"). So a handle
enciphers a subject, chosen here, instead:

- a person on the records of `holder` (the viewer's own, or another organisation's) is anchored
  by the holder's oldest active subject of that person: merges with other organisations' clusters
  never change it; only the holder's own two records of the person pooling (a duplicate the
  holder registered itself) can make an older one the anchor;
- where the holder has no active subject of the person (an erased record still named in the log)
  the anchor is its latest subject of any status in the person's cluster, found along the chain
  of merges from the pseudonym given (a subject erased before its person was merged away is not
  followed backwards: see `Anchors._pick`);
- where the holder has none at all, nothing anchors the person: the pooled id is shown under a
  key of its own (`PersonHandles.unanchored`) and the handle leads nowhere.

A handle given back names a person only if it deciphers, under the viewer's own key, to one of the
viewer's subjects: that subject's current pooled person. Anything else (a handle copied from
another organisation, a partner handle, a pre-anchor handle) names nobody.

One `ViewerHandles` per request (the guards make it, over the request's session): it caches what
it resolved, and `expect` resolves a page's people together (two queries however many there are).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.crypto.handles import PersonHandles
from databank.domain.enums import PersonStatus, SubjectStatus
from databank.models import Person, Subject
from databank.services.context import handles_of

# A person nobody is: what a handle that names no subject of the viewer's leads to.
NOBODY = uuid.UUID(int=0)
_MAX_HOPS = 32  # merges chain at most this deep (services/linkage/clusters)
_CHUNK = 500  # ids per IN list (SQLite's bound-parameter limit, with room to spare)

Pair = tuple[uuid.UUID, uuid.UUID]  # (holder org, pooled person as given)


@dataclass(frozen=True)
class _Row:
    id: uuid.UUID
    org_id: uuid.UUID
    person_id: uuid.UUID
    is_active: bool
    created_at: datetime

    @property
    def age(self) -> tuple[datetime, uuid.UUID]:
        return (self.created_at, self.id)


class Anchors:
    """Anchors of pooled persons, per holder, over one session; cached, resolved in batches."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._anchors: dict[Pair, uuid.UUID | None] = {}
        # A subject seen: its org and the pooled person it is now.
        self._subjects: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]] = {}

    def anchor(self, holder: uuid.UUID, person_id: uuid.UUID) -> uuid.UUID | None:
        """The subject of `holder` that anchors the person (None: nothing does)."""
        pair = (holder, person_id)
        if pair not in self._anchors:
            self.expect([pair])
        return self._anchors[pair]

    def expect(self, pairs: Iterable[Pair]) -> None:
        """Resolve these (holder, person) pairs together: the merges of their persons in one
        query (more only where a merge chain is followed), then their holders' subjects in one."""
        missing = {pair for pair in pairs if pair not in self._anchors}
        if not missing:
            return
        chains = self._chains({person for _, person in missing})
        wanted = {p for chain in chains.values() for p in chain}
        holders = {holder for holder, _ in missing}
        rows: dict[uuid.UUID, list[_Row]] = {}
        for row in self._rows(wanted, holders):
            rows.setdefault(row.org_id, []).append(row)
        for holder, person in missing:
            chain = chains[person]
            picked = self._pick(rows.get(holder, []), chain)
            self._anchors[(holder, person)] = None if picked is None else picked.id
            if picked is not None:
                self._subjects[picked.id] = (holder, chain[-1])

    @staticmethod
    def _pick(rows: list[_Row], chain: list[uuid.UUID]) -> _Row | None:
        """The oldest active subject in the person's current cluster; else the latest subject
        of any status left in a pseudonym along the chain of merges from the one given (the
        person it is now last). Subjects that left a pseudonym later merged *into* the one
        given are not looked for: the log names the pseudonym a record had when it was read."""
        current = chain[-1]
        active = [r for r in rows if r.is_active and r.person_id == current]
        if active:
            return min(active, key=lambda r: r.age)
        along = set(chain)
        left = [r for r in rows if r.person_id in along]
        return max(left, key=lambda r: r.age) if left else None

    def person_of(self, org_id: uuid.UUID, subject_id: uuid.UUID) -> uuid.UUID | None:
        """The pooled person `org_id`'s subject is in now (None: not a subject of that org)."""
        known = self._subjects.get(subject_id)
        if known is None:
            found = self._session.execute(
                select(Subject.org_id, Subject.person_id).where(Subject.id == subject_id)
            ).one_or_none()
            if found is None:
                return None
            owner, person = found
            known = (owner, self._chains({person})[person][-1])
            self._subjects[subject_id] = known
        owner, current = known
        return current if owner == org_id else None

    def _chains(self, people: set[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Each pseudonym and those it was merged into since, to the person it is now."""
        merged_into: dict[uuid.UUID, uuid.UUID] = {}
        frontier = set(people)
        for _ in range(_MAX_HOPS):
            step: dict[uuid.UUID, uuid.UUID] = {}
            for chunk in _chunks(frontier):
                query = select(Person.id, Person.merged_into_id).where(
                    Person.id.in_(chunk),
                    Person.status == PersonStatus.MERGED,
                    Person.merged_into_id.is_not(None),
                )
                for gone, kept in self._session.execute(query):
                    if kept is not None:
                        step[gone] = kept
            merged_into.update(step)
            frontier = set(step.values()) - merged_into.keys()
            if not frontier:
                break
        chains: dict[uuid.UUID, list[uuid.UUID]] = {}
        for person in people:
            chain = [person]
            while chain[-1] in merged_into and len(chain) <= _MAX_HOPS:
                chain.append(merged_into[chain[-1]])
            chains[person] = chain
        return chains

    def _rows(self, people: set[uuid.UUID], holders: set[uuid.UUID]) -> list[_Row]:
        query = select(
            Subject.id, Subject.org_id, Subject.person_id, Subject.status, Subject.created_at
        )
        found: list[_Row] = []
        for chunk in _chunks(people):
            for sid, org, person, status, at in self._session.execute(
                query.where(Subject.person_id.in_(chunk), Subject.org_id.in_(list(holders)))
            ):
                found.append(_Row(sid, org, person, status is SubjectStatus.ACTIVE, at))
        return found


def _chunks(ids: set[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


class ViewerHandles:
    """How one organisation (the viewer) names people, and reads back the handles it was given:
    the one place the interfaces' `shown` and `behind` (schemas/handles.py) end up."""

    __slots__ = ("_anchors", "_handles", "org_id")

    def __init__(self, session: Session, org_id: uuid.UUID) -> None:
        self.org_id = org_id
        self._handles: PersonHandles = handles_of(session)
        self._anchors = Anchors(session)

    def shown(self, person_id: uuid.UUID, holder: uuid.UUID | None = None) -> uuid.UUID:
        """The viewer's handle of a pooled person on its own records (holder None or itself),
        or on the records of `holder`."""
        anchor = self._anchors.anchor(holder or self.org_id, person_id)
        if anchor is None:
            return self._handles.unanchored(self.org_id, person_id, holder)
        return self._handles.handle(self.org_id, anchor, holder)

    def behind(self, handle: uuid.UUID) -> uuid.UUID:
        """The pooled person (as now) behind a handle the viewer was shown of its own records;
        `NOBODY` for any other handle."""
        subject = self._handles.person(self.org_id, handle)
        person = self._anchors.person_of(self.org_id, subject)
        return NOBODY if person is None else person

    def expect(self, pairs: Iterable[tuple[uuid.UUID | None, uuid.UUID]]) -> None:
        """These (holder, person) pairs are about to be shown: resolve them together."""
        self._anchors.expect((holder or self.org_id, person) for holder, person in pairs)
