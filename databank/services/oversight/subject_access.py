"""A subject access request at the auditor console: find a person of the auditor's own
organisation by family name and birth date, and report in words who reached their data.

Auditors never see case content: the lookup opens the candidates' identities inside this service
only to confirm the blind index's match, returns pseudonymous person ids, and logs that a lookup
happened and how many it found (never what was typed). The report is the person's access history
(`access_log.person_history`, logged there) with staff, organisations and rules named.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision, Purpose, SubjectStatus
from databank.models import Identity, Organisation, Subject, User
from databank.services import auditlog
from databank.services.access import roles
from databank.services.actors import Actor
from databank.services.context import policy_of
from databank.services.keys.keyring import keyring_of
from databank.services.keys.sealing import RowSealer
from databank.services.oversight import access_log
from databank.services.records.people import search_key


def find_person(
    session: Session, actor: Actor, family_name: str, birth_date: date
) -> list[uuid.UUID]:
    """The auditor's organisation's people with exactly this family name and birth date (as its
    outreach search compares them), as pooled person ids for the console's handles.

    Within the auditor's own organisation only (its blind index; a platform auditor's too), so a
    lookup cannot tell whether another organisation knows someone. The truncated index value
    covers dozens of people by design: their identities are opened here to keep the exact
    matches, and nothing of them leaves this function. The lookup is logged without the name or
    the date: the auditor's organisation, the count, and the person when exactly one was found.
    """
    access_log.require_auditor(session, actor)
    keyring = keyring_of(session)
    wanted = search_key(family_name, birth_date)
    bidx = keyring.blind_index(session, actor.org_id, "identities", "name_dob_bidx")
    candidates = session.scalars(
        select(Identity)
        .join(Subject, Subject.id == Identity.subject_id)
        .where(
            Identity.org_id == actor.org_id,
            Identity.name_dob_bidx == bidx.compute(wanted),
            Subject.status == SubjectStatus.ACTIVE,
        )
    ).all()
    keys = keyring.subject_keys(session, actor.org_id, [row.subject_id for row in candidates])
    found: dict[uuid.UUID, None] = {}
    for row in candidates:
        if row.subject_id not in keys:  # erased meanwhile
            continue
        # Only the two compared fields are opened.
        unseal = RowSealer(keys[row.subject_id], row.org_id, "identities", row.id, row.binding).open
        family = unseal("family_name_ciphertext", row.family_name_ciphertext) or ""
        born = unseal("birth_date_ciphertext", row.birth_date_ciphertext)
        if born and search_key(family, date.fromisoformat(born)) == wanted:
            found[row.person_id] = None
    people = sorted(found, key=str)
    entry = auditlog.EntryIn(
        AuditEvent.AUDIT_PERSON_LOOKUP,
        RecordType.IDENTITY_SEARCH,
        None,
        actor.org_id,
        people[0] if len(people) == 1 else None,
        Purpose.AUDIT.value,
        Decision.ALLOW,
        result_count=len(people),
    )
    auditlog.append(session, actor, [entry])
    return people


@dataclass(frozen=True)
class ReportLine:
    """One access to the person's data, in the terms of the report."""

    at: datetime
    event: str  # the log's event code; the page says it in words
    staff: str | None  # the staff member's name; None when not named to this auditor
    roles: tuple[str, ...]
    org: str | None  # the acting organisation's name (None: the system)
    holder: str | None  # the organisation whose record it was
    purpose: str | None
    decision: str | None
    released: tuple[str, ...]
    withheld: tuple[str, ...]
    location_level: int | None
    break_glass: bool
    rules: tuple[str, ...]  # the deciding rules' ids


@dataclass(frozen=True)
class AccessReport:
    """ "Who saw this person's data", for one person, as the auditor's scope covers it."""

    person_id: uuid.UUID
    made_at: datetime
    made_for: str  # the auditor's organisation's name
    lines: tuple[ReportLine, ...]  # oldest first
    rule_words: Mapping[str, RuleWords]  # each rule the lines name, as its authors explain it


def access_report(session: Session, actor: Actor, person_id: uuid.UUID) -> AccessReport:
    """The person's access history with staff and organisations named, oldest first.

    Staff are named where the auditor's scope covers their organisation (a platform auditor:
    every organisation; an organisation's auditor: its own staff); another organisation's staff
    are given by role and organisation, which is what the person is owed (the recipients), and
    that organisation's auditor names them.
    """
    history = access_log.person_history(session, actor, person_id)
    user_ids = {uuid.UUID(e.actor_user_id) for e in history if e.actor_user_id}
    org_ids = {uuid.UUID(v) for e in history for v in (e.actor_org_id, e.record_owner) if v}
    org_ids.add(actor.org_id)
    orgs = dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))
        ).all()
    )
    staff = staff_names(session, actor, user_ids)
    lines = tuple(
        ReportLine(
            at=e.at,
            event=e.event,
            staff=staff.get(uuid.UUID(e.actor_user_id)) if e.actor_user_id else None,
            roles=e.actor_roles,
            org=_name(orgs, e.actor_org_id),
            holder=_name(orgs, e.record_owner),
            purpose=e.purpose,
            decision=e.decision,
            released=e.fields_released,
            withheld=e.fields_withheld,
            location_level=e.location_level,
            break_glass=e.break_glass,
            rules=tuple(r for r in (e.rule or "").split(",") if r),
        )
        for e in history
    )
    return AccessReport(
        person_id,
        datetime.now(UTC),
        orgs.get(actor.org_id, ""),
        lines,
        rule_words(session, (r for line in lines for r in line.rules)),
    )


def staff_names(
    session: Session, actor: Actor, user_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The names of the staff users the auditor's scope covers (a platform auditor: everyone;
    an organisation's auditor: its own staff); others are left out, and shown by their id."""
    access_log.require_auditor(session, actor)
    wanted = set(user_ids)
    if not wanted:
        return {}
    scope = roles.audit_scope(actor)
    query = select(User.id, User.display_name).where(User.id.in_(wanted))
    if scope is not None:
        query = query.where(User.org_id == scope)
    return {row.id: row.display_name for row in session.execute(query)}


def _name(orgs: Mapping[uuid.UUID, str], value: str | None) -> str | None:
    return orgs.get(uuid.UUID(value)) if value else None


# A policy file's comment line in French begins with this (after `//`).
FRENCH_MARK = "fr:"


@dataclass(frozen=True)
class RuleWords:
    """A rule explained by its authors: in English, and in French where they wrote it."""

    en: str
    fr: str | None = None

    def in_language(self, language: str) -> str:
        return self.fr if language == "fr" and self.fr else self.en


def rule_words(session: Session, rule_ids: Iterable[str]) -> dict[str, RuleWords]:
    """What each rule says, in its authors' words: the comment written just above it in its
    policy file, in English, and in French from its lines marked `fr:` (a rule with no comment,
    or one no longer in force, is left out)."""
    rules = policy_of(session).bundle.rules
    words: dict[str, RuleWords] = {}
    for rule_id in set(rule_ids):
        rule = rules.get(rule_id)
        if rule is None:
            continue
        comment = [
            line.strip()[2:].strip()
            for line in rule.text.splitlines()
            if line.strip().startswith("//")
        ]
        english = [part for part in comment if part and not part.startswith(FRENCH_MARK)]
        french = [
            part[len(FRENCH_MARK) :].strip() for part in comment if part.startswith(FRENCH_MARK)
        ]
        if english:
            words[rule_id] = RuleWords(" ".join(english), " ".join(french) or None)
    return words
