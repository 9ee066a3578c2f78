"""Anchors of person handles: which record a handle names, its fallbacks, and its cost."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from databank.domain.enums import LinkReason, Purpose, Role, SubjectStatus
from databank.models import Subject
from databank.services.keys import erasure
from databank.services.linkage import clusters
from databank.services.records import people
from databank.services.records.anchors import NOBODY, ViewerHandles
from tests.conftest import ActorMaker, OrgMaker
from tests.factories import identity, intake_record


def test_own_duplicates_pooled_anchor_on_the_older_record_and_both_lead_back(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """An org's own two records of one person, once pooled, show one handle (the older
    record's); a cross-org merge afterwards changes it no more."""
    org, other = make_org(), make_org()
    worker, stranger = actor_for(org), actor_for(other)
    [first] = people.intake(session, worker, Purpose.OUTREACH, [intake_record(identity())])
    [second] = people.intake(
        session, worker, Purpose.OUTREACH, [intake_record(identity(given_name="Ameli"))]
    )
    [theirs] = people.intake(
        session, stranger, Purpose.OUTREACH, [intake_record(identity(given_name="Emilie"))]
    )
    naming = ViewerHandles(session, org.id)
    before = naming.shown(first.person_id)
    assert naming.shown(second.person_id) != before  # two people, as far as anyone knows
    clusters.merge(session, first.person_id, second.person_id)
    fresh = ViewerHandles(session, org.id)
    assert fresh.shown(second.person_id) == fresh.shown(first.person_id) == before
    clusters.merge(session, theirs.person_id, first.person_id)
    again = ViewerHandles(session, org.id)
    kept = clusters.current_person(session, first.person_id)
    assert again.shown(kept) == again.shown(second.person_id) == before
    assert again.behind(before) == kept
    # The other org's handle of its own record, given to this org, names nobody; and back.
    theirs_handle = ViewerHandles(session, other.id).shown(kept)
    assert theirs_handle != before
    assert again.behind(theirs_handle) == NOBODY
    assert ViewerHandles(session, other.id).behind(before) == NOBODY
    # On another org's records the anchor is that holder's record: one handle per pair.
    assert again.shown(kept, other.id) not in (before, theirs_handle)
    assert again.behind(again.shown(kept, other.id)) == NOBODY


def test_an_erased_record_still_named_in_the_log_is_anchored_by_the_latest_record(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """Fallbacks: with no active record, the org's latest record of any status anchors the
    person (its handle leads back, to an erased person); with none at all, the pooled id is
    shown under a key of its own and leads nowhere."""
    org, other = make_org(), make_org()
    worker, admin = actor_for(org), actor_for(org, Role.ORG_ADMIN)
    [found] = people.intake(session, worker, Purpose.OUTREACH, [intake_record(identity())])
    naming = ViewerHandles(session, org.id)
    live = naming.shown(found.person_id)
    erasure.erase_person(
        session, admin, Purpose.CASE_MANAGEMENT, found.person_id, "subject_request"
    )
    subject = session.get(Subject, found.subject_id)
    assert subject is not None
    assert subject.status is SubjectStatus.ERASED
    after = ViewerHandles(session, org.id)
    assert after.shown(found.person_id) == live  # the same record, erased
    assert after.behind(live) == found.person_id
    # An org holding no record of the person: the unanchored handle, leading nowhere.
    outsider = ViewerHandles(session, other.id)
    unanchored = outsider.shown(found.person_id)
    assert unanchored not in (live, found.person_id)
    assert outsider.shown(found.person_id) == unanchored  # stable
    assert outsider.behind(unanchored) == NOBODY
    assert after.shown(found.person_id, other.id) != unanchored  # scoped to the pair


def test_a_page_of_people_is_named_in_two_queries(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """`expect` names a page of people (own and another org's) in two queries, one more per
    hop of a merge chain; `shown` then asks the database nothing more."""
    org, other = make_org(), make_org()
    mine = people.intake(
        session,
        actor_for(org),
        Purpose.OUTREACH,
        [intake_record(identity(given_name=f"P{i}")) for i in range(30)],
    )
    theirs = people.intake(
        session,
        actor_for(other),
        Purpose.OUTREACH,
        [intake_record(identity(given_name=f"Q{i}")) for i in range(20)],
    )
    clusters.merge(session, mine[0].person_id, theirs[0].person_id, LinkReason.CLUSTER_MERGE)
    session.flush()
    pairs = [(None, r.person_id) for r in mine] + [(other.id, r.person_id) for r in theirs]
    naming = ViewerHandles(session, org.id)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        naming.expect(pairs)
        queried = len(statements)
        shown = {naming.shown(p, h) for h, p in pairs}
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert queried <= 3  # persons' merges (two hops here: one merge), then subjects
    assert len(statements) == queried
    assert len(shown) == len(pairs)
