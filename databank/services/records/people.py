"""Registering people (alone or in batches with their case), pooling them, finding them."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from databank.crypto import SealingKey
from databank.domain.audit_vocab import RecordType
from databank.domain.enums import Action, PersonStatus, Purpose, Sex
from databank.domain.errors import Erased, NotFound
from databank.domain.names import birth_date_key, name_key
from databank.models import Case, Encounter, Identity, Need, Person, SubjectKey
from databank.services import access
from databank.services.actors import Actor
from databank.services.inputs import IntakeRecord
from databank.services.keys.keyring import keyring_of
from databank.services.keys.sealing import RowSealer
from databank.services.linkage.zone import LINKAGE_TABLE, linkage_of
from databank.services.records import sealed_rows

IDENTITY_FIELDS = ("identity", "contact")


@dataclass(frozen=True)
class IntakeResult:
    person_id: uuid.UUID
    identity_id: uuid.UUID | None
    case_id: uuid.UUID | None
    # "created": new to this org (whether other orgs know the person is not said: the answer
    # would be an oracle, design.md section 5); "existing": this org already had them (nothing
    # new registered, case still added). `person_id` is the pooled id: it stays on the server,
    # the interfaces show the org's handle of it.
    outcome: str


@dataclass(frozen=True)
class IdentityView:
    person_id: uuid.UUID
    identity_id: uuid.UUID
    org_id: uuid.UUID
    given_name: str
    family_name: str
    birth_date: date
    sex: Sex | None
    aliases: tuple[str, ...]
    birth_place: str | None
    phone: str | None

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return f"IdentityView(person_id={self.person_id}, <hidden>)"


def search_key(family_name: str, birth_date: date) -> str:
    return f"{name_key(family_name)}|{birth_date_key(birth_date)}"


def intake(
    session: Session, actor: Actor, purpose: Purpose, records: Sequence[IntakeRecord]
) -> list[IntakeResult]:
    """Register people for the actor's org, pooling each with the same person known elsewhere."""
    keyring = keyring_of(session)
    zone = linkage_of(session)
    org_id = actor.org_id
    user_id = actor.user_id
    now = datetime.now(UTC)
    tokens = [zone.token(record.identity) for record in records]
    known = zone.known(session, tokens)
    own = {t: p for t, pairs in known.items() for p, o in pairs if o == org_id}
    own_keys = keyring.subject_keys(session, org_id, own.values())
    org_key = keyring.active_org_key(session, org_id)
    bidx = keyring.blind_index(session, org_id, "identities", "name_dob_bidx")

    out: dict[Table, list[dict[str, Any]]] = defaultdict(list)
    seen: dict[bytes, tuple[uuid.UUID, SealingKey]] = {}
    results: list[IntakeResult] = []
    resources: list[access.Resource] = []
    for record, token in zip(records, tokens, strict=True):
        identity_id: uuid.UUID | None = None
        if token in seen:
            person_id, key = seen[token]
            outcome = "existing"
        elif token in own and own[token] in own_keys:
            person_id, key = own[token], own_keys[own[token]]
            outcome = "existing"
        else:
            others = known.get(token)
            outcome = "created"
            if others:
                person_id = others[0][0]
            else:
                person_id = uuid.uuid4()
                out[Person.__table__].append(  # type: ignore[index]
                    {
                        "id": person_id,
                        "status": PersonStatus.ACTIVE,
                        "created_at": now,
                        "erased_at": None,
                    }
                )
            key, key_row = keyring.new_subject_key(org_key, org_id, person_id)
            out[SubjectKey.__table__].append(key_row)  # type: ignore[index]
            ident = record.identity
            identity = sealed_rows.identity_row(
                key,
                org_id,
                person_id,
                ident,
                bidx.compute(search_key(ident.family_name, ident.birth_date)),
                user_id,
                now,
            )
            identity_id = identity["id"]
            out[Identity.__table__].append(identity)  # type: ignore[index]
            out[LINKAGE_TABLE].append(zone.enrolment(token, identity_id, person_id, org_id, now))
        seen[token] = (person_id, key)
        case_id = None
        if record.case is not None:
            case = sealed_rows.case_row(key, org_id, person_id, record.case, user_id, now)
            case_id = case["id"]
            out[Case.__table__].append(case)  # type: ignore[index]
            needs = sealed_rows.need_rows(case_id, record.needs, case["opened_at"])
            out[Need.__table__].extend(needs)  # type: ignore[index]
            for encounter in record.encounters:
                out[Encounter.__table__].append(  # type: ignore[index]
                    sealed_rows.encounter_row(
                        key, org_id, person_id, case_id, encounter, user_id, now
                    )
                )
                out[Need.__table__].extend(  # type: ignore[index]
                    sealed_rows.need_rows(case_id, encounter.needs, encounter.occurred_at)
                )
        # One decision and one log entry per registration (identity and case together).
        resources.append(
            access.Resource(RecordType.INTAKE, identity_id or case_id, org_id, person_id)
        )
        results.append(IntakeResult(person_id, identity_id, case_id, outcome))

    access.authorize_many(session, actor, Action.CREATE, purpose, resources)
    sealed_rows.insert_rows(session, out)
    return results


def open_identity(row: Identity, key: SealingKey, contact: bool = True) -> IdentityView:
    """Decrypt an identity row; the caller has decided (and logged) the read."""
    unseal = RowSealer(key, row.org_id, "identities", row.id, row.person_id).open
    aliases = unseal("aliases_ciphertext", row.aliases_ciphertext)
    sex = unseal("sex_ciphertext", row.sex_ciphertext)
    return IdentityView(
        person_id=row.person_id,
        identity_id=row.id,
        org_id=row.org_id,
        given_name=unseal("given_name_ciphertext", row.given_name_ciphertext) or "",
        family_name=unseal("family_name_ciphertext", row.family_name_ciphertext) or "",
        birth_date=date.fromisoformat(
            unseal("birth_date_ciphertext", row.birth_date_ciphertext) or ""
        ),
        sex=Sex(sex) if sex else None,
        aliases=tuple(json.loads(aliases)) if aliases else (),
        birth_place=unseal("birth_place_ciphertext", row.birth_place_ciphertext),
        phone=unseal("phone_ciphertext", row.phone_ciphertext) if contact else None,
    )


def find_people(
    session: Session, actor: Actor, purpose: Purpose, family_name: str, birth_date: date
) -> list[IdentityView]:
    """Exact search in the actor's own org: blind index first, then the decrypted values confirm.

    The search string itself is never logged: only that a search happened and how many it found.
    """
    # Decide (and log) the search before anything is decrypted.
    search = access.Resource(RecordType.IDENTITY_SEARCH, None, actor.org_id)
    access.authorize(session, actor, Action.SEARCH, purpose, search, fields=("identity",))
    keyring = keyring_of(session)
    wanted = search_key(family_name, birth_date)
    bidx = keyring.blind_index(session, actor.org_id, "identities", "name_dob_bidx")
    candidates = (
        session.execute(
            select(Identity)
            .join(Person, Person.id == Identity.person_id)
            .where(
                Identity.org_id == actor.org_id,
                Identity.name_dob_bidx == bidx.compute(wanted),
                Person.status == PersonStatus.ACTIVE,
            )
        )
        .scalars()
        .all()
    )
    # A truncated index value covers 16-64 people by design: the decrypted values confirm.
    keys = keyring.subject_keys(session, actor.org_id, [row.person_id for row in candidates])
    views = [open_identity(row, keys[row.person_id]) for row in candidates if row.person_id in keys]
    matches = [v for v in views if search_key(v.family_name, v.birth_date) == wanted]
    if matches:
        access.authorize_many(
            session,
            actor,
            Action.READ,
            purpose,
            [
                access.Resource(RecordType.IDENTITY, m.identity_id, m.org_id, m.person_id)
                for m in matches
            ],
            fields=IDENTITY_FIELDS,
            result_count=len(matches),
        )
    return matches


def read_identity(
    session: Session, actor: Actor, purpose: Purpose, person_id: uuid.UUID
) -> IdentityView:
    """The actor's own org's identifiers for a person; another org's person is not found, and
    the attempt logged."""
    row = session.execute(
        select(Identity).where(Identity.person_id == person_id, Identity.org_id == actor.org_id)
    ).scalar_one_or_none()
    if row is None:
        access.refuse_unheld_person(
            session, actor, Action.READ, purpose, person_id, RecordType.IDENTITY
        )
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(access.NO_SUCH_PERSON)
    grant = access.authorize(
        session,
        actor,
        Action.READ,
        purpose,
        access.Resource(RecordType.IDENTITY, row.id, row.org_id, person_id),
        fields=IDENTITY_FIELDS,
    )
    if person.status is PersonStatus.ERASED:
        raise Erased("this person's data was erased")
    if not grant.has("identity"):
        raise access.AccessRefused([], actor)
    key = keyring_of(session).subject_key_for(session, row.org_id, person_id)
    return open_identity(row, key, contact=grant.has("contact"))
