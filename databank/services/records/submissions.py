"""Saving a form once, whatever the number of sends: phones resend when an answer is lost.

The record of a submission is written in the transaction of what it saved, so both commit or
neither; two sends racing each other meet on the record's primary key and the second one rolls
back whole. Only a hash of the user and the client's submission id is kept, with the path the
form led to (ids only), for a day.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from databank.models import FormSubmission

KEEP = timedelta(days=1)


def _key(user_id: uuid.UUID | None, submission_id: str) -> bytes:
    return hashlib.sha256(f"{user_id}:{submission_id}".encode()).digest()


def saved_target(session: Session, user_id: uuid.UUID | None, submission_id: str) -> str | None:
    """Where the form led, if this submission was already saved; None if it was not."""
    return session.execute(
        select(FormSubmission.target).where(
            FormSubmission.key == _key(user_id, submission_id),
            FormSubmission.created_at >= datetime.now(UTC) - KEEP,
        )
    ).scalar_one_or_none()


def record(session: Session, user_id: uuid.UUID | None, submission_id: str, target: str) -> bool:
    """Mark the submission saved, in the caller's transaction. False if another send of it got
    there first (its insert waited for that one to commit): the caller must then roll back what
    this send saved."""
    session.execute(
        delete(FormSubmission).where(FormSubmission.created_at < datetime.now(UTC) - KEEP)
    )
    try:
        with session.begin_nested():
            session.add(FormSubmission(key=_key(user_id, submission_id), target=target[:300]))
    except IntegrityError:
        return False
    return True
