"""Probabilistic linkage of the pool: a new subject at once, and batch runs over every subject.

Splink (linkage/matching.py) scores pairs of subjects on their keyed encodings only; this module
turns its answers into the pool's clusters through `clusters` (the only writer of
`subjects.person_id`), so every change is in the link history and never touches a ciphertext:

- a pair at or above the model's upper threshold links (two pooled persons merge; the older
  pseudonym stays, so a cluster that only grows keeps its pseudonym);
- a pair between the lower and upper thresholds goes to the review queue (`linkage_reviews`,
  with the evidence a reviewer sees: which fields agree and how strongly, never the score);
- pairs a reviewer kept apart never join again, and pairs a reviewer linked stay linked;
- a batch run may also split a person whose subjects no longer cluster together: the part with
  the person's oldest subject keeps the pseudonym, the rest get new ones.

Scores and clusters stay here and in the zone's tables: nothing returned to callers outside the
zone carries a score.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import (
    LinkReason,
    PersonStatus,
    ReviewStatus,
    SubjectStatus,
)
from databank.domain.errors import ValidationFailed
from databank.linkage.clustering import constrained_clusters
from databank.linkage.encoding import ENCODING_SCHEMA_VERSION
from databank.models import Person, Subject
from databank.models.linkage import LinkageModel, LinkageRecord, LinkageReview
from databank.services import auditlog
from databank.services.actors import Actor
from databank.services.linkage import clusters, pairs, store
from databank.services.linkage.zone import linkage_of

if TYPE_CHECKING:
    import pandas as pd

    from databank.linkage.matching import Linker, Pool

# Trained on generated outreach data (scripts/train_linkage_model.py): m and u of each field
# level do not depend on the key, so a deployment starts with it and retrains on its own pool.
DEFAULT_MODEL = "model.json"
MIN_TRAINING_SUBJECTS = 500


@dataclass(frozen=True)
class RunReport:
    """What a batch run did: counts only."""

    subjects: int  # active subjects with encodings, compared
    waiting: int  # active subjects enrolled before the encodings (not compared)
    persons_before: int
    persons_after: int
    merged: int  # pooled persons merged into another
    split: int  # new pooled persons split off
    reviews_opened: int
    reviews_open: int
    model: str  # "stored", "default" or "trained"
    seconds: float


def _now() -> datetime:
    return datetime.now(UTC)


def _default_document() -> dict[str, Any] | None:
    path = resources.files("databank.linkage") / "data" / DEFAULT_MODEL
    if not path.is_file():
        return None
    document: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return document


def _linker_from(document: dict[str, Any]) -> Linker:
    from databank.linkage.matching import Linker

    return Linker.from_document(document)


def linker_for(session: Session) -> tuple[Linker, str]:
    """The matching model in force: the newest one trained on this pool, else the default."""
    stored = session.scalars(
        select(LinkageModel.document)
        .where(LinkageModel.schema_version == ENCODING_SCHEMA_VERSION)
        .order_by(LinkageModel.created_at.desc())
        .limit(1)
    ).first()
    if stored is not None:
        return _linker_from(json.loads(stored)), "stored"
    document = _default_document()
    if document is None:
        raise ValidationFailed(
            "no linkage model: train one on the pool",
            {"model": ["run `databank linkage run --train` once the pool is large enough"]},
        )
    return _linker_from(document), "default"


def train(session: Session, frame: pd.DataFrame) -> Linker:
    """Train a model on the pool itself (EM, unsupervised) and keep it, with its versions."""
    from databank.linkage.matching import Linker

    if len(frame) < MIN_TRAINING_SUBJECTS:
        raise ValidationFailed(
            "too few subjects to train a linkage model",
            {"train": [f"needs {MIN_TRAINING_SUBJECTS} subjects with encodings, has {len(frame)}"]},
        )
    linker = Linker()
    linker.train(frame)
    document = linker.document()
    session.add(
        LinkageModel(
            id=uuid.uuid4(),
            format_version=document["format_version"],
            schema_version=ENCODING_SCHEMA_VERSION,
            document=json.dumps(document, sort_keys=True),
            trained_on=len(frame),
            created_at=_now(),
        )
    )
    return linker


# --- incremental --------------------------------------------------------------------------


class PoolCache:
    """The pool as the matcher holds it (DuckDB tables and term frequencies), kept between jobs:
    building it costs about a second per thousand subjects, matching one subject against it a
    fraction of that. Subjects enrolled since it was built are added in place; it is built again
    when the model changes, when many were added (term frequencies drift) or after a while."""

    MAX_AGE = 900.0  # seconds
    REBUILD_SHARE = 0.1  # of the pool added since it was built

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._key: str | None = None
        self._linker: Linker | None = None
        self._pool: Pool | None = None
        self._members: set[str] = set()
        self._added = 0
        self._built = 0.0

    def matcher(self, session: Session, pool: Sequence[uuid.UUID]) -> tuple[Linker, Pool]:
        """The linker and its pool holding every subject of `pool` (call under `lock`): built
        from every stored encoding when stale, else extended with the encodings it lacks only."""
        linker, _source = linker_for(session)
        key = json.dumps(linker.document(), sort_keys=True)
        missing = [s for s in pool if str(s) not in self._members]
        stale = (
            self._pool is None
            or key != self._key
            or time.monotonic() - self._built > self.MAX_AGE
            or self._added + len(missing) > max(200, self.REBUILD_SHARE * len(self._members))
        )
        if stale:
            rows = store.pool_rows(session)
            self._pool = linker.pool(store.frame(rows))
            self._linker, self._key = linker, key
            self._members = {str(row[0]) for row in rows}
            self._added, self._built = 0, time.monotonic()
        elif missing:
            assert self._linker is not None  # noqa: S101 - built with the pool
            rows = store.pool_rows(session, missing)
            self._linker.extend(self._pool, store.frame(rows))  # type: ignore[arg-type]
            self._members |= {str(row[0]) for row in rows}
            self._added += len(rows)
        assert self._linker is not None  # noqa: S101
        assert self._pool is not None  # noqa: S101
        return self._linker, self._pool


def _cache(session: Session) -> PoolCache:
    zone = linkage_of(session)
    if not isinstance(zone.pool_cache, PoolCache):
        zone.pool_cache = PoolCache()
    return zone.pool_cache


def link_one(session: Session, subject_id: uuid.UUID) -> int:
    """Link one subject against the pool: merge with the persons it matches, queue the grey
    pairs. Returns how many persons it was merged with. A subject already linked (by a batch run
    since its job was queued, say) is left as it is: running a job twice changes nothing."""
    linked = session.scalar(
        select(LinkageRecord.linked_at).where(LinkageRecord.subject_id == subject_id)
    )
    if linked is not None:
        return 0
    pool_ids = store.pool_ids(session)
    mine = store.pool_rows(session, [subject_id])
    subject = session.get(Subject, subject_id)
    if not mine or subject is None or subject.status is not SubjectStatus.ACTIVE:
        return 0
    merged = 0
    if len(pool_ids) > 1:
        cache = _cache(session)
        with cache.lock:
            linker, pool = cache.matcher(session, pool_ids)
            found = linker.match_one(store.frame(mine), pool, limit=10)
        for candidate in found.to_dict("records"):
            other = uuid.UUID(candidate["record_id"])
            if other == subject_id:
                continue
            other_person = session.scalar(
                select(Subject.person_id).where(
                    Subject.id == other, Subject.status == SubjectStatus.ACTIVE
                )
            )
            person = clusters.current_person(session, subject.person_id)
            if other_person is None or other_person == person:
                continue
            members = clusters.members(session, other_person)
            if candidate["decision"] == "link" and not pairs.kept_apart(
                session, clusters.members(session, person), members
            ):
                clusters.merge(session, person, other_person, LinkReason.CLUSTER_MERGE)
                merged += 1
            elif not pairs.kept_apart(session, [subject_id], [other]):
                pairs.open_review(
                    session,
                    subject_id,
                    other,
                    candidate["match_probability"],
                    pairs.evidence(candidate),
                )
    session.execute(
        update(LinkageRecord).where(LinkageRecord.subject_id == subject_id).values(linked_at=_now())
    )
    pairs.settle_reviews(session)
    return merged


def relink(session: Session, subject_id: uuid.UUID) -> int:
    """Link a corrected subject afresh: it leaves a cluster it shares with others (a link made on
    the old identity may be wrong), then is linked like a new one. A subject that still matches
    goes back to its cluster, whose older pseudonym stays."""
    subject = session.get(Subject, subject_id)
    if subject is None or subject.status is not SubjectStatus.ACTIVE:
        return 0
    if len(clusters.members(session, subject.person_id)) > 1:
        clusters.split(session, [subject_id], LinkReason.CLUSTER_SPLIT)
    session.execute(
        update(LinkageRecord).where(LinkageRecord.subject_id == subject_id).values(linked_at=None)
    )
    return link_one(session, subject_id)


# --- batch --------------------------------------------------------------------------------


def _persons(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Person).where(Person.status == PersonStatus.ACTIVE)
        )
        or 0
    )


def _final_clusters(
    pairs: pd.DataFrame,
    subjects: Sequence[str],
    upper: float,
    cannot: float | None,
    linked: Sequence[tuple[uuid.UUID, uuid.UUID]],
    apart: Sequence[tuple[uuid.UUID, uuid.UUID]],
) -> dict[Hashable, Hashable]:
    """Links above the threshold and the reviewers' links, never joining a pair the model
    contradicts or a reviewer kept apart (linkage/clustering.py)."""
    known = set(subjects)
    links = [
        (left, right, p)
        for left, right, p in pairs[["record_id_l", "record_id_r", "match_probability"]].itertuples(
            index=False, name=None
        )
        if p >= upper
    ]
    links += [(str(a), str(b), 2.0) for a, b in linked if str(a) in known and str(b) in known]
    conflicts = [(str(a), str(b)) for a, b in apart if str(a) in known and str(b) in known]
    if cannot is not None:
        low = pairs[pairs["match_probability"] < cannot]
        conflicts += list(low[["record_id_l", "record_id_r"]].itertuples(index=False, name=None))
    return constrained_clusters(links, conflicts, known)


def _reconcile(
    session: Session, labels: dict[Hashable, Hashable], actor_user_id: uuid.UUID | None
) -> tuple[int, int]:
    """Make the pool's persons match the clusters, with stable pseudonyms. Returns (merged,
    split)."""
    ids = [uuid.UUID(str(s)) for s in labels]
    current: dict[uuid.UUID, uuid.UUID] = {}
    order: dict[uuid.UUID, tuple[datetime, str]] = {}
    for start in range(0, len(ids), 500):
        for sid, person, created in session.execute(
            select(Subject.id, Subject.person_id, Subject.created_at).where(
                Subject.id.in_(ids[start : start + 500])
            )
        ):
            current[sid] = person
            order[sid] = (created, str(sid))
    by_person: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for sid in sorted(current, key=lambda s: order[s]):
        by_person[current[sid]].append(sid)
    split = 0
    for members in by_person.values():
        groups: dict[Hashable, list[uuid.UUID]] = defaultdict(list)
        for sid in members:
            groups[labels[str(sid)]].append(sid)
        if len(groups) < 2:
            continue
        keep = labels[str(members[0])]  # the part with the oldest subject keeps the pseudonym
        for label, moving in groups.items():
            if label != keep:
                clusters.split(session, moving, LinkReason.CLUSTER_SPLIT, actor_user_id)
                split += 1
    merged = 0
    by_label: dict[Hashable, list[uuid.UUID]] = defaultdict(list)
    for sid in ids:
        by_label[labels[str(sid)]].append(sid)
    for members in by_label.values():
        if len(members) < 2:
            continue
        persons = set(session.scalars(select(Subject.person_id).where(Subject.id.in_(members))))
        if len(persons) < 2:
            continue
        found = list(persons)
        kept = found[0]
        for other in found[1:]:
            kept = clusters.merge(session, kept, other, LinkReason.CLUSTER_MERGE, actor_user_id)
            merged += 1
    return merged, split


def run_batch(session: Session, actor: Actor | None, *, retrain: bool = False) -> RunReport:
    """Link the whole pool in one run (imports, a new model, the nightly run). Logged."""
    started = time.perf_counter()
    rows = store.pool_rows(session)
    waiting = store.waiting(session)
    before = _persons(session)
    frame = store.frame(rows)
    source = "trained"
    if retrain:
        linker = train(session, frame)
    else:
        linker, source = linker_for(session)
    merged = split = opened = 0
    if len(frame) >= 2:
        result = linker.link(frame, keep_pairs=True)
        assert result.pairs is not None  # asked for  # noqa: S101
        labels = _final_clusters(
            result.pairs,
            frame["record_id"].tolist(),
            linker.upper,
            linker.cannot,
            pairs.linked_pairs(session),
            pairs.apart_pairs(session),
        )
        merged, split = _reconcile(session, labels, None if actor is None else actor.user_id)
        session.flush()
        for row in result.grey_pairs.to_dict("records"):
            left, right = row["record_id_l"], row["record_id_r"]
            if labels.get(left) == labels.get(right):
                continue
            a, b = uuid.UUID(left), uuid.UUID(right)
            if pairs.kept_apart(session, [a], [b]):
                continue
            opened += pairs.open_review(
                session, a, b, row["match_probability"], pairs.evidence(row)
            )
        session.execute(
            update(LinkageRecord)
            .where(LinkageRecord.subject_id.in_([uuid.UUID(s) for s in frame["record_id"]]))
            .values(linked_at=_now())
        )
        pairs.settle_reviews(session)
    report = RunReport(
        subjects=len(frame),
        waiting=waiting,
        persons_before=before,
        persons_after=_persons(session),
        merged=merged,
        split=split,
        reviews_opened=opened,
        reviews_open=open_reviews(session),
        model=source,
        seconds=round(time.perf_counter() - started, 3),
    )
    auditlog.append(
        session,
        actor,
        [
            auditlog.EntryIn(
                AuditEvent.LINKAGE_RUN,
                RecordType.LINKAGE_POOL,
                result_count=report.subjects,
                extra={
                    "merged": merged,
                    "split": split,
                    "reviews_opened": opened,
                    "model": source,
                },
            )
        ],
    )
    return report


def open_reviews(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(LinkageReview)
            .where(LinkageReview.status == ReviewStatus.OPEN)
        )
        or 0
    )


def unlinked(session: Session) -> list[uuid.UUID]:
    """Active subjects with encodings that no run has compared yet (a job lost, say)."""
    return list(
        session.scalars(
            select(LinkageRecord.subject_id)
            .join(Subject, Subject.id == LinkageRecord.subject_id)
            .where(
                Subject.status == SubjectStatus.ACTIVE,
                LinkageRecord.linked_at.is_(None),
                LinkageRecord.encoding.is_not(None),
            )
        )
    )
