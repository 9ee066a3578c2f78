"""The facts a sharing decision rests on: consent, referral, break-glass, and the SQL filters
that keep lists and searches to the cases an actor may see at all.

Computed at request time from the database, so a revoked or expired consent, a withdrawn referral
or an ended break-glass takes effect on the very next request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import QueryableAttribute, Session, aliased

from databank.domain.enums import OrgKind, Purpose, ReferralStatus
from databank.models import BreakGlassGrant, Case, Consent, Person, Referral, Subject

OPEN_REFERRAL = (ReferralStatus.PENDING, ReferralStatus.ACCEPTED)


def _json_contains(
    column: QueryableAttribute[list[str]], value: str, dialect: str
) -> ColumnElement[bool]:
    """A JSON list column contains a string (portable: SQLite json_each, PostgreSQL jsonb ?)."""
    if dialect == "postgresql":
        return column.cast(JSONB).has_key(value)  # type: ignore[no-any-return]
    each = func.json_each(column).table_valued("value")
    return exists(select(each.c.value).where(each.c.value == value))


def consent_clause(
    session: Session,
    recipient_org_id: uuid.UUID,
    recipient_kind: OrgKind,
    purpose: Purpose,
    at: datetime,
) -> ColumnElement[bool]:
    """An active consent covers the recipient (by id or by kind) for the purpose.

    Used inside EXISTS with a case or a subject (the consent's own subject joined by the caller).
    """
    dialect = session.get_bind().dialect.name
    return and_(
        Consent.revoked_at.is_(None),
        or_(Consent.expires_at.is_(None), Consent.expires_at > at),
        Consent.given_at <= at,
        _json_contains(Consent.purposes, purpose.value, dialect),
        or_(
            _json_contains(Consent.recipient_org_ids, str(recipient_org_id), dialect),
            _json_contains(Consent.recipient_org_kinds, recipient_kind.value, dialect),
        ),
    )


def has_consent(
    session: Session,
    person_id: uuid.UUID,
    owner_org_id: uuid.UUID,
    recipient_org_id: uuid.UUID,
    recipient_kind: OrgKind,
    purpose: Purpose,
) -> bool:
    """The person consented to the owner sharing with this recipient for this purpose, today.

    A consent recorded on any of the owner's records (subjects) of the pooled person counts: it
    is the person's word to that organisation."""
    now = datetime.now(UTC)
    query = (
        select(Consent.id)
        .join(Subject, Subject.id == Consent.subject_id)
        .where(
            Subject.person_id == person_id,
            Consent.org_id == owner_org_id,
            consent_clause(session, recipient_org_id, recipient_kind, purpose, now),
        )
    )
    return session.execute(query.limit(1)).first() is not None


def visible_cases_clause(
    session: Session,
    org_id: uuid.UUID,
    org_kind: OrgKind,
    purpose: Purpose,
    owner_ids: Iterable[uuid.UUID] | None = None,
) -> ColumnElement[bool]:
    """SQL filter of the cases an org can see at all: its own, consented or referred ones.

    Lists and searches filter with this first; field decisions then apply per row.
    """
    now = datetime.now(UTC)
    # The case's subject and the consent's (aliased: the caller's query may join subjects).
    case_subject, consent_subject = aliased(Subject), aliased(Subject)
    consented = exists(
        select(Consent.id)
        .join(consent_subject, consent_subject.id == Consent.subject_id)
        .join(case_subject, case_subject.person_id == consent_subject.person_id)
        .where(
            case_subject.id == Case.subject_id,
            Consent.org_id == Case.org_id,
            consent_clause(session, org_id, org_kind, purpose, now),
        )
    )
    referred = exists(
        select(Referral.id).where(
            Referral.case_id == Case.id,
            Referral.to_org_id == org_id,
            Referral.purpose == purpose,
            Referral.status.in_(OPEN_REFERRAL),
        )
    )
    clause = or_(Case.org_id == org_id, consented, referred)
    if owner_ids is not None:
        clause = and_(clause, Case.org_id.in_(list(owner_ids)))
    return clause


def consented_pairs(
    session: Session,
    person_ids: Iterable[uuid.UUID],
    recipient_org_id: uuid.UUID,
    recipient_kind: OrgKind,
    purpose: Purpose,
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """(person, owner org) pairs whose active consent covers the recipient for the purpose."""
    ids = list(set(person_ids))
    found: set[tuple[uuid.UUID, uuid.UUID]] = set()
    clause = consent_clause(session, recipient_org_id, recipient_kind, purpose, datetime.now(UTC))
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Subject.person_id, Consent.org_id)
            .join(Subject, Subject.id == Consent.subject_id)
            .where(Subject.person_id.in_(ids[start : start + 500]), clause)
        )
        found.update((person, owner) for person, owner in rows)
    return found


def referred_cases(
    session: Session, case_ids: Iterable[uuid.UUID], to_org_id: uuid.UUID, purpose: Purpose
) -> set[uuid.UUID]:
    """The cases with an open referral to this org for this purpose."""
    ids = list(set(case_ids))
    found: set[uuid.UUID] = set()
    for start in range(0, len(ids), 500):
        found.update(
            session.scalars(
                select(Referral.case_id).where(
                    Referral.case_id.in_(ids[start : start + 500]),
                    Referral.to_org_id == to_org_id,
                    Referral.purpose == purpose,
                    Referral.status.in_(OPEN_REFERRAL),
                )
            )
        )
    return found


def break_glass_people(
    session: Session, user_id: uuid.UUID | None, person_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """The people this user holds an open break-glass window for (a window opened on a person
    linkage has since merged into another opens that one)."""
    if user_id is None:
        return set()
    ids = list(set(person_ids))
    now = datetime.now(UTC)
    rows = session.execute(
        select(BreakGlassGrant.person_id, Person.merged_into_id)
        .join(Person, Person.id == BreakGlassGrant.person_id)
        .where(
            BreakGlassGrant.user_id == user_id,
            or_(BreakGlassGrant.person_id.in_(ids), Person.merged_into_id.in_(ids)),
            BreakGlassGrant.ended_at.is_(None),
            BreakGlassGrant.expires_at > now,
        )
    )
    return {merged or person for person, merged in rows} & set(ids)
