"""The access log names a person by the handle of the organisation holding the record, never the
pooled id; the console turns both that and the pooled id of entries written before the rule
(migration 0014) back into the person."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from databank.domain.enums import Purpose, Role
from databank.models import AuditEntry, AuditHead
from databank.services.auditlog import writer
from databank.services.linkage import clusters
from databank.services.oversight import access_log
from databank.services.records import cases, people
from databank.services.runtime import Runtime
from tests.conftest import ActorMaker, OrgMaker
from tests.factories import identity, intake_record
from tests.support import logged_about, logged_handle_of


def test_entries_name_the_holders_handle_and_the_console_turns_it_back(
    session: Session, runtime: Runtime, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    org = make_org()
    worker, auditor = actor_for(org), actor_for(org, Role.AUDITOR)
    [found] = people.intake(session, worker, Purpose.OUTREACH, [intake_record(identity())])
    assert found.case_id is not None
    cases.read_case(session, worker, Purpose.OUTREACH, found.case_id)
    rows = session.execute(
        select(AuditEntry.person_id, AuditEntry.body).where(logged_about(session, found.person_id))
    ).all()
    assert len(rows) >= 2  # the intake's and the read's
    own = logged_handle_of(runtime, org.id, found.person_id)
    for column, body in rows:
        assert column == own  # under the holder's key
        assert str(found.person_id).encode() not in bytes(body)
    history = access_log.person_history(session, auditor, found.person_id)
    assert len(history) >= 2
    assert {entry.person_id for entry in history} == {str(found.person_id)}


def test_entries_written_before_the_rule_are_still_found_and_read(
    session: Session, runtime: Runtime, make_org: OrgMaker, actor_for: ActorMaker, monkeypatch
) -> None:
    """An upgraded log holds both kinds: the pooled ids written before migration 0014 (their
    bodies are hashed, so they stay) and handles after; a person's history finds both."""
    org = make_org()
    worker, auditor = actor_for(org), actor_for(org, Role.AUDITOR)
    # The writer as it was: entries name the pooled id.
    monkeypatch.setattr(writer, "logged_person", lambda _handles, _actor, entry: entry.person_id)
    [found] = people.intake(session, worker, Purpose.OUTREACH, [intake_record(identity())])
    assert found.case_id is not None
    cases.read_case(session, worker, Purpose.OUTREACH, found.case_id)
    monkeypatch.undo()
    # The migration: handles from the next entry on.
    upgrade_at = session.scalar(select(func.count()).select_from(AuditEntry))
    session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(person_handles_from=upgrade_at)
    )
    cases.read_case(session, worker, Purpose.OUTREACH, found.case_id)

    stored = session.execute(
        select(AuditEntry.seq, AuditEntry.person_id, AuditEntry.event).where(
            logged_about(session, found.person_id)
        )
    ).all()
    old = {person for seq, person, _ in stored if seq < upgrade_at}
    new = {person for seq, person, _ in stored if seq >= upgrade_at}
    assert old == {found.person_id}
    assert new == {logged_handle_of(runtime, org.id, found.person_id)}
    history = access_log.person_history(session, auditor, found.person_id)
    accesses = {seq for seq, _, event in stored if event.startswith(access_log.HISTORY_PREFIXES)}
    assert {entry.seq for entry in history} == accesses
    assert min(accesses) < upgrade_at <= max(accesses)
    assert {entry.person_id for entry in history} == {str(found.person_id)}


def test_a_persons_history_includes_entries_written_before_linkage_merged_them(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """Entries name the person a pseudonym was when they were written: after linkage merges two
    pseudonyms, the kept person's history also holds the other's earlier entries."""
    first_org, second_org = make_org(), make_org()
    first, second = actor_for(first_org), actor_for(second_org)
    auditor = actor_for(second_org, Role.AUDITOR)
    [one] = people.intake(session, first, Purpose.OUTREACH, [intake_record(identity())])
    [other] = people.intake(
        session, second, Purpose.OUTREACH, [intake_record(identity(given_name="Other"))]
    )
    assert one.person_id != other.person_id
    assert other.case_id is not None
    cases.read_case(session, second, Purpose.OUTREACH, other.case_id)
    before = {
        e.seq
        for person in (one.person_id, other.person_id)
        for e in access_log.person_history(session, auditor, person)
    }
    assert before
    kept = clusters.merge(session, one.person_id, other.person_id)
    after = {e.seq for e in access_log.person_history(session, auditor, kept)}
    assert before <= after
