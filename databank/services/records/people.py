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
from databank.domain.enums import (
    Action,
    CaseStatus,
    LinkReason,
    PersonStatus,
    Purpose,
    Sex,
    SubjectStatus,
)
from databank.domain.errors import NotFound
from databank.domain.names import birth_date_key, name_key
from databank.models import Case, Encounter, Identity, Need, Person, Subject, SubjectKey
from databank.services import access
from databank.services.actors import Actor
from databank.services.inputs import IntakeRecord
from databank.services.keys.keyring import keyring_of
from databank.services.keys.sealing import RowSealer
from databank.services.linkage import clusters
from databank.services.linkage.clusters import LINK_HISTORY_TABLE
from databank.services.linkage.zone import LINKAGE_TABLE, Holding, linkage_of
from databank.services.records import open_needs, sealed_rows, subjects

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
    subject_id: uuid.UUID | None = None  # the org's record of the person the intake went to
    # "opened": `case_id` is a new case; "existing": the person's open case, which the intake's
    # needs and encounters went to (a person already registered is not given a second, empty
    # case hiding the first); None: no case asked for.
    case_outcome: str | None = None


@dataclass(frozen=True)
class IdentityView:
    person_id: uuid.UUID
    subject_id: uuid.UUID  # the org's record of the person (its reference for the org's merge)
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
    session: Session,
    actor: Actor,
    purpose: Purpose,
    records: Sequence[IntakeRecord],
    to_open_case: bool = True,
) -> list[IntakeResult]:
    """Register people for the actor's org, each a new subject pooled with the same person known
    elsewhere (the linkage zone's exact token for now); this org's own exact duplicate is the
    subject it already has.

    A person already registered who has an open case keeps it (`to_open_case`): the record's
    needs (an open need of the same category updated, not repeated) and encounters go to it,
    and the case's own details stay as they are (a change of them is a case update). Without
    `to_open_case` (a batch of past episodes), each record's case is a new case."""
    keyring = keyring_of(session)
    zone = linkage_of(session)
    org_id = actor.org_id
    user_id = actor.user_id
    now = datetime.now(UTC)
    tokens = [zone.token(record.identity) for record in records]
    encodings = zone.encodings(
        [record.identity for record in records],
        [None if record.case is None else record.case.district for record in records],
    )
    known = zone.known(session, tokens)
    own: dict[bytes, Holding] = {}
    for token, holdings in known.items():
        mine = [h for h in holdings if h.org_id == org_id]
        if mine:
            own[token] = mine[0]
    own_keys = keyring.subject_keys(session, org_id, [h.subject_id for h in own.values()])
    open_cases = _open_cases(session, [h.subject_id for h in own.values()]) if to_open_case else {}
    held_needs = open_needs.open_needs_of(session, [c.id for c in open_cases.values()])
    org_key = keyring.active_org_key(session, org_id)
    bidx = keyring.blind_index(session, org_id, "identities", "name_dob_bidx")

    out: dict[Table, list[dict[str, Any]]] = defaultdict(list)
    seen: dict[bytes, tuple[Holding, SealingKey]] = {}
    results: list[IntakeResult] = []
    resources: list[access.Resource] = []
    updated: list[access.Resource] = []
    opened_here: dict[uuid.UUID, uuid.UUID] = {}  # subject -> the case this intake opened
    enrolled: list[uuid.UUID] = []
    for record, token, encoding in zip(records, tokens, encodings, strict=True):
        identity_id: uuid.UUID | None = None
        if token in seen:
            holding, key = seen[token]
            outcome = "existing"
        elif token in own and own[token].subject_id in own_keys:
            holding, key = own[token], own_keys[own[token].subject_id]
            outcome = "existing"
        else:
            others = known.get(token)
            outcome = "created"
            if others:
                person_id = others[0].person_id
            else:
                person_id = uuid.uuid4()
                out[Person.__table__].append(  # type: ignore[index]
                    {
                        "id": person_id,
                        "status": PersonStatus.ACTIVE,
                        "created_at": now,
                        "erased_at": None,
                        "merged_into_id": None,
                    }
                )
            subject_id = uuid.uuid4()
            holding = Holding(person_id, org_id, subject_id, subject_id)
            out[Subject.__table__].append(  # type: ignore[index]
                sealed_rows.subject_row(subject_id, org_id, person_id, now)
            )
            key, key_row = keyring.new_subject_key(org_key, org_id, subject_id, holding.binding)
            out[SubjectKey.__table__].append(key_row)  # type: ignore[index]
            ident = record.identity
            identity = sealed_rows.identity_row(
                key,
                org_id,
                subject_id,
                holding.binding,
                ident,
                bidx.compute(search_key(ident.family_name, ident.birth_date)),
                user_id,
                now,
            )
            identity_id = identity["id"]
            out[Identity.__table__].append(identity)  # type: ignore[index]
            out[LINKAGE_TABLE].append(zone.enrolment(token, subject_id, org_id, now, encoding))
            enrolled.append(subject_id)
            out[LINK_HISTORY_TABLE].append(
                clusters.history_row(subject_id, None, person_id, LinkReason.ENROLLED, user_id, now)
            )
        seen[token] = (holding, key)
        case_id = None
        case_outcome = None
        if record.case is not None:
            kept = open_cases.get(holding.subject_id)
            if kept is not None:
                case_id, case_outcome = kept.id, "existing"
                needs_at = now
                if record.needs or record.encounters:
                    updated.append(access.Resource.of_case(kept))
            elif to_open_case and holding.subject_id in opened_here:
                # Registered twice in one batch: the case the first registration opened.
                case_id, case_outcome, needs_at = opened_here[holding.subject_id], "existing", now
            else:
                case = sealed_rows.case_row(
                    key, org_id, holding.subject_id, holding.binding, record.case, user_id, now
                )
                case_id, case_outcome, needs_at = case["id"], "opened", case["opened_at"]
                out[Case.__table__].append(case)  # type: ignore[index]
                held_needs[case_id] = {}
                opened_here[holding.subject_id] = case_id
            held = held_needs.setdefault(case_id, {})
            out[Need.__table__].extend(  # type: ignore[index]
                open_needs.merge(session, case_id, held, record.needs, needs_at, user_id)
            )
            for encounter in record.encounters:
                out[Encounter.__table__].append(  # type: ignore[index]
                    sealed_rows.encounter_row(
                        key, org_id, holding.binding, case_id, encounter, user_id, now
                    )
                )
                out[Need.__table__].extend(  # type: ignore[index]
                    open_needs.merge(
                        session, case_id, held, encounter.needs, encounter.occurred_at, user_id
                    )
                )
        # One decision and one log entry per registration (identity and case together).
        resources.append(
            access.Resource(RecordType.INTAKE, identity_id or case_id, org_id, holding.person_id)
        )
        results.append(
            IntakeResult(
                holding.person_id, identity_id, case_id, outcome, holding.subject_id, case_outcome
            )
        )

    access.authorize_many(session, actor, Action.CREATE, purpose, resources)
    if updated:
        # Adding to an open case is an update of it, decided like an encounter recorded on it.
        access.authorize_many(session, actor, Action.UPDATE, purpose, updated, ("encounters",))
    sealed_rows.insert_rows(session, out)
    zone.link_after_commit(session, enrolled)
    return results


def _open_cases(session: Session, subject_ids: list[uuid.UUID]) -> dict[uuid.UUID, Case]:
    """The newest open case of each of these subjects."""
    if not subject_ids:
        return {}
    found: dict[uuid.UUID, Case] = {}
    for case in session.execute(
        select(Case)
        .where(Case.subject_id.in_(subject_ids), Case.status == CaseStatus.OPEN)
        .order_by(Case.opened_at, Case.id)
    ).scalars():
        found[case.subject_id] = case  # oldest first: the newest is written last and kept
    return found


def open_identity(row: Identity, key: SealingKey, contact: bool = True) -> IdentityView:
    """Decrypt an identity row; the caller has decided (and logged) the read."""
    unseal = RowSealer(key, row.org_id, "identities", row.id, row.binding).open
    aliases = unseal("aliases_ciphertext", row.aliases_ciphertext)
    sex = unseal("sex_ciphertext", row.sex_ciphertext)
    return IdentityView(
        person_id=row.person_id,
        subject_id=row.subject_id,
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
            .join(Subject, Subject.id == Identity.subject_id)
            .where(
                Identity.org_id == actor.org_id,
                Identity.name_dob_bidx == bidx.compute(wanted),
                Subject.status == SubjectStatus.ACTIVE,
            )
        )
        .scalars()
        .all()
    )
    # A truncated index value covers 16-64 people by design: the decrypted values confirm.
    keys = keyring.subject_keys(session, actor.org_id, [row.subject_id for row in candidates])
    views = [
        open_identity(row, keys[row.subject_id]) for row in candidates if row.subject_id in keys
    ]
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
    """The actor's own org's identifiers for a person (its main record of them, see
    records/subjects.py); another org's person is not found, and the attempt logged."""
    subject = subjects.own_subject(
        session, actor, Action.READ, purpose, person_id, RecordType.IDENTITY
    )
    row = session.execute(
        select(Identity).where(Identity.subject_id == subject.id)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(access.NO_SUCH_PERSON)
    grant = access.authorize(
        session,
        actor,
        Action.READ,
        purpose,
        access.Resource(RecordType.IDENTITY, row.id, row.org_id, subject.person_id),
        fields=IDENTITY_FIELDS,
    )
    subjects.require_active(subject)
    if not grant.has("identity"):
        raise access.AccessRefused([], actor)
    key = keyring_of(session).subject_key_for(session, row.org_id, subject.id)
    return open_identity(row, key, contact=grant.has("contact"))
