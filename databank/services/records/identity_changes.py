"""Correcting a person's identity at the organisation that holds it: names, birth date, phone,
aliases. The previous values are kept sealed under the subject's key (identity_changes), the
blind index is computed again, and a corrected name or birth date is re-encoded by the linkage
zone and linked afresh once the correction commits (issue 16, point 7)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import RecordType
from databank.domain.enums import Action, Purpose
from databank.domain.errors import NotFound, ValidationFailed
from databank.models import Case, Identity, IdentityChange, Subject
from databank.services import access
from databank.services.actors import Actor
from databank.services.inputs import MAX_NAME_LENGTH, IdentityIn
from databank.services.keys.keyring import keyring_of
from databank.services.keys.sealing import RowSealer
from databank.services.linkage.zone import linkage_of
from databank.services.records import subjects
from databank.services.records.people import IdentityView, open_identity, search_key

# The fields a correction may change, and the policy field each is decided on.
CORRECTABLE = {
    "given_name": "identity",
    "family_name": "identity",
    "birth_date": "identity",
    "aliases": "identity",
    "phone": "contact",
}
# What linkage compares: a change of one of these re-encodes and re-links the subject.
LINKED = frozenset({"given_name", "family_name", "birth_date"})
MAX_ALIASES = 10


@dataclass(frozen=True)
class IdentityCorrection:
    """The new values; a field left None is unchanged (phone "" removes the phone)."""

    given_name: str | None = None
    family_name: str | None = None
    birth_date: date | None = None
    phone: str | None = None
    aliases: Sequence[str] | None = None

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return "IdentityCorrection(<hidden>)"

    def given(self) -> tuple[str, ...]:
        return tuple(name for name in CORRECTABLE if getattr(self, name) is not None)


@dataclass(frozen=True)
class IdentityChangeView:
    """One correction: when, by whom (the org's staff), which fields, their previous values."""

    id: uuid.UUID
    changed_at: datetime
    changed_by_id: uuid.UUID | None
    fields: tuple[str, ...]
    previous: dict[str, str | None]

    def __repr__(self) -> str:
        return f"IdentityChangeView(id={self.id}, fields={self.fields}, <hidden>)"


def _identity(
    session: Session, actor: Actor, action: Action, purpose: Purpose, person_id: uuid.UUID
) -> tuple[Subject, Identity]:
    subject = subjects.own_subject(session, actor, action, purpose, person_id, RecordType.IDENTITY)
    row = session.scalar(select(Identity).where(Identity.subject_id == subject.id))
    if row is None:
        raise NotFound(access.NO_SUCH_PERSON)
    return subject, row


def _decide(
    session: Session,
    actor: Actor,
    action: Action,
    purpose: Purpose,
    subject: Subject,
    row: Identity,
    fields: Sequence[str],
) -> None:
    """One logged decision per policy field: a refused one refuses the whole change."""
    resource = access.Resource(RecordType.IDENTITY, row.id, row.org_id, subject.person_id)
    for field in fields:
        access.authorize(session, actor, action, purpose, resource, fields=(field,))


def _aliases(values: Sequence[str]) -> tuple[str, ...]:
    cleaned = tuple(v.strip() for v in values if v.strip())
    problems = []
    if len(cleaned) > MAX_ALIASES:
        problems.append(f"at most {MAX_ALIASES} aliases")
    if any(len(v) > MAX_NAME_LENGTH for v in cleaned):
        problems.append(f"an alias is longer than {MAX_NAME_LENGTH}")
    if problems:
        raise ValidationFailed("the identity has invalid fields", {"aliases": problems})
    return cleaned


def _corrected(current: IdentityView, correction: IdentityCorrection) -> IdentityIn:
    """The identity with the correction applied, checked like a registration's."""
    phone = current.phone if correction.phone is None else (correction.phone.strip() or None)
    aliases = current.aliases if correction.aliases is None else _aliases(correction.aliases)
    return IdentityIn(
        given_name=(correction.given_name or current.given_name).strip(),
        family_name=(correction.family_name or current.family_name).strip(),
        birth_date=correction.birth_date or current.birth_date,
        sex=current.sex,
        aliases=tuple(aliases),
        birth_place=current.birth_place,
        phone=phone,
    )


def _text(name: str, value: object) -> str | None:
    """A field's value as sealed in the identity (the same text as at registration)."""
    if value is None:
        return None
    if name == "birth_date":
        return value.isoformat()  # type: ignore[attr-defined, no-any-return]
    if name == "aliases":
        return json.dumps(list(value)) if value else None  # type: ignore[call-overload]
    return str(value)


def correct_identity(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    person_id: uuid.UUID,
    correction: IdentityCorrection,
) -> tuple[str, ...]:
    """Correct the actor's org's identity of a person; returns the names of the fields changed.

    Decided on `identity` (names, birth date, aliases) and `contact` (phone) for the update.
    """
    given = correction.given()
    subject, row = _identity(session, actor, Action.UPDATE, purpose, person_id)
    fields = sorted({CORRECTABLE[name] for name in given}) or ["identity"]
    _decide(session, actor, Action.UPDATE, purpose, subject, row, fields)
    if not given:
        raise ValidationFailed("nothing to change", {"identity": ["give a field to correct"]})
    subjects.require_active(subject)
    keyring = keyring_of(session)
    key = keyring.subject_key_for(session, row.org_id, subject.id)
    current = open_identity(row, key)
    new = _corrected(current, correction)
    changed = tuple(
        name
        for name in CORRECTABLE
        if name in given and _text(name, getattr(new, name)) != _text(name, getattr(current, name))
    )
    if not changed:
        raise ValidationFailed("nothing to change", {"identity": ["these are the values held"]})
    change_id = uuid.uuid4()
    keep = RowSealer(key, row.org_id, "identity_changes", change_id, subject.binding).seal
    previous = {
        f"{name}_ciphertext": keep(f"{name}_ciphertext", _text(name, getattr(current, name)))
        for name in changed
    }
    session.add(
        IdentityChange(
            id=change_id,
            identity_id=row.id,
            subject_id=subject.id,
            org_id=row.org_id,
            fields=list(changed),
            changed_at=datetime.now(UTC),
            changed_by_id=actor.user_id,
            **previous,
        )
    )
    seal = RowSealer(key, row.org_id, "identities", row.id, subject.binding).seal
    for name in changed:
        setattr(
            row, f"{name}_ciphertext", seal(f"{name}_ciphertext", _text(name, getattr(new, name)))
        )
    if {"family_name", "birth_date"} & set(changed):
        bidx = keyring.blind_index(session, row.org_id, "identities", "name_dob_bidx")
        row.name_dob_bidx = bidx.compute(search_key(new.family_name, new.birth_date))
    if LINKED & set(changed):
        linkage_of(session).reencode(session, subject.id, new, _area(session, subject.id))
    return changed


def _area(session: Session, subject_id: uuid.UUID) -> str | None:
    """The district of the subject's latest case: what its encoding was made with."""
    area = session.scalar(
        select(Case.area_geohash)
        .where(Case.subject_id == subject_id)
        .order_by(Case.opened_at.desc())
        .limit(1)
    )
    return area[:5] if area else None


def identity_history(
    session: Session, actor: Actor, purpose: Purpose, person_id: uuid.UUID
) -> list[IdentityChangeView]:
    """The corrections of the actor's org's identity of a person, newest first, with the values
    they replaced (the phone only where `contact` is released). A read of the identity: decided
    and logged like one."""
    subject, row = _identity(session, actor, Action.READ, purpose, person_id)
    resource = access.Resource(RecordType.IDENTITY, row.id, row.org_id, subject.person_id)
    grant = access.authorize(
        session, actor, Action.READ, purpose, resource, fields=("identity", "contact")
    )
    if not grant.has("identity"):
        return []
    subjects.require_active(subject)
    changes = session.scalars(
        select(IdentityChange)
        .where(IdentityChange.identity_id == row.id)
        .order_by(IdentityChange.changed_at.desc())
    ).all()
    if not changes:
        return []
    key = keyring_of(session).subject_key_for(session, row.org_id, subject.id)
    views = []
    for change in changes:
        unseal = RowSealer(key, row.org_id, "identity_changes", change.id, subject.binding).open
        shown = [f for f in change.fields if CORRECTABLE.get(f) in grant.fields]
        views.append(
            IdentityChangeView(
                change.id,
                change.changed_at,
                change.changed_by_id,
                tuple(shown),
                {f: unseal(f"{f}_ciphertext", getattr(change, f"{f}_ciphertext")) for f in shown},
            )
        )
    return views
