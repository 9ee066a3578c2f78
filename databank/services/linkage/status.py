"""The pool's state for operators (counts only), and the matcher scored on a file of known truth."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from databank.domain.enums import PersonStatus, SubjectStatus
from databank.domain.errors import ValidationFailed
from databank.linkage.encoding import ENCODING_SCHEMA_VERSION
from databank.linkage.evaluation import Scores, score
from databank.models import Person, Subject
from databank.models.linkage import LinkageModel
from databank.services.linkage import runs, store


@dataclass(frozen=True)
class PoolStatus:
    subjects: int  # active records of people, all organisations
    encoded: int  # of which with encodings of the current schema
    unlinked: int  # encoded but not yet compared (a job waiting or lost)
    persons: int  # active pooled persons
    reviews_open: int
    model: str  # where the model in force comes from
    model_trained_on: int | None
    model_trained_at: datetime | None

    def lines(self) -> list[str]:
        trained = (
            f", trained on {self.model_trained_on} records on {self.model_trained_at:%Y-%m-%d}"
            if self.model_trained_at is not None
            else ""
        )
        return [
            f"records of people: {self.subjects} ({self.encoded} encoded, "
            f"{self.subjects - self.encoded} enrolled before encodings, {self.unlinked} waiting "
            "to be linked)",
            f"pooled persons: {self.persons}",
            f"pairs waiting for a reviewer: {self.reviews_open}",
            f"model: {self.model} (encoding schema {ENCODING_SCHEMA_VERSION}){trained}",
        ]


def pool_status(session: Session) -> PoolStatus:
    subjects = (
        session.scalar(
            select(func.count()).select_from(Subject).where(Subject.status == SubjectStatus.ACTIVE)
        )
        or 0
    )
    persons = (
        session.scalar(
            select(func.count()).select_from(Person).where(Person.status == PersonStatus.ACTIVE)
        )
        or 0
    )
    latest = session.execute(
        select(LinkageModel.trained_on, LinkageModel.created_at)
        .where(LinkageModel.schema_version == ENCODING_SCHEMA_VERSION)
        .order_by(LinkageModel.created_at.desc())
        .limit(1)
    ).first()
    return PoolStatus(
        subjects=subjects,
        encoded=store.encoded(session),
        unlinked=len(runs.unlinked(session)),
        persons=persons,
        reviews_open=runs.open_reviews(session),
        model="trained on this pool" if latest else "the default (generated data)",
        model_trained_on=latest[0] if latest else None,
        model_trained_at=latest[1] if latest else None,
    )


TRUTH_COLUMNS = ("record_id", "given_name", "family_name", "date_of_birth", "person_id")


def evaluate(session: Session, rows: Sequence[Mapping[str, str]], *, train: bool = False) -> Scores:
    """The matcher (the model in force, or one trained on the rows) on rows whose truth is known:
    encoded under a key of this call only, linked, scored. Nothing is stored."""
    from databank.linkage.encoding import RecordEncoder
    from databank.linkage.matching import Linker
    from databank.linkage.normalise import normalise

    missing = [c for c in TRUTH_COLUMNS if not rows or c not in rows[0]]
    if missing:
        raise ValidationFailed("the file lacks columns", {c: ["is required"] for c in missing})
    normalised = [
        normalise(
            r["given_name"],
            r["family_name"],
            r["date_of_birth"] or None,
            r.get("sex") or None,
            r.get("birth_place") or None,
            r.get("postcode") or None,
        )
        for r in rows
    ]
    frame = RecordEncoder(os.urandom(32)).encode(normalised, [r["record_id"] for r in rows])
    if train:
        linker = Linker()
        linker.train(frame)
    else:
        linker, _source = runs.linker_for(session)
    result = linker.link(frame)
    labels = dict(zip(result.clusters["record_id"], result.clusters["cluster"], strict=True))
    return score([labels[r["record_id"]] for r in rows], [r["person_id"] for r in rows])
