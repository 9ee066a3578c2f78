"""Probabilistic linkage in the app: encodings at registration, a new subject linked against the
pool, batch runs, stable pseudonyms, reviewers' decisions that hold, erasure."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

import pytest
from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.enums import Purpose, ReviewStatus, Role, Sex
from databank.domain.errors import Conflict
from databank.models import AuditEntry, Subject
from databank.models.linkage import LinkageRecord, LinkageReview
from databank.services.actors import Actor
from databank.services.keys import erasure
from databank.services.linkage import pairs, review, runs
from databank.services.records import people
from tests.conftest import ActorMaker, OrgMaker
from tests.factories import identity, intake_record

BENALI = {"given_name": "Mohamed", "family_name": "Benali", "birth_date": date(1985, 3, 12)}
# Another organisation writes the same man its own way: transliteration, particle, no accent.
BEN_ALI = {"given_name": "Mohammed", "family_name": "Ben Ali", "birth_date": date(1985, 3, 12)}
BENALI_THIRD = {"given_name": "Mohamed", "family_name": "Benaly", "birth_date": date(1985, 3, 12)}


def _background(session: Session, actor: Actor, count: int = 150) -> None:
    """Other people in the pool, so term frequencies are those of a real pool."""
    fake = Faker("fr_FR")
    fake.seed_instance(16)
    rng = random.Random(16)
    records = []
    for _ in range(count):
        sex = rng.choice((Sex.MALE, Sex.FEMALE))
        given = fake.first_name_male() if sex is Sex.MALE else fake.first_name_female()
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
        ident = identity(given_name=given, family_name=fake.last_name(), birth_date=born, sex=sex)
        records.append(intake_record(ident))
    people.intake(session, actor, Purpose.OUTREACH, records)


def _register(session: Session, actor: Actor, who: dict[str, object]) -> people.IntakeResult:
    [found] = people.intake(
        session, actor, Purpose.OUTREACH, [intake_record(identity(sex=Sex.MALE, **who))]
    )
    return found


def _person_of(session: Session, subject: uuid.UUID) -> uuid.UUID:
    found = session.scalar(select(Subject.person_id).where(Subject.id == subject))
    assert found is not None
    return found


@pytest.fixture
def orgs(session: Session, make_org: OrgMaker, actor_for: ActorMaker) -> tuple[Actor, Actor, Actor]:
    first, second, third = (actor_for(make_org()) for _ in range(3))
    _background(session, third)
    return first, second, third


def test_registration_stores_keyed_encodings_only(session: Session, make_org: OrgMaker) -> None:
    """A registration leaves the zone its encodings: no name, birth date or part of them."""
    actor = Actor(None, make_org().id, make_org().kind, frozenset({Role.OUTREACH_WORKER}))
    found = _register(session, actor, BENALI)
    stored = session.scalar(
        select(LinkageRecord.encoding).where(LinkageRecord.subject_id == found.subject_id)
    )
    assert stored
    text = bytes(stored).lower()
    for clear in (b"mohamed", b"benali", b"1985", b"03-12", b"12/03"):
        assert clear not in text


def test_a_variant_from_another_org_is_linked_and_the_older_pseudonym_stays(
    session: Session, orgs: tuple[Actor, Actor, Actor]
) -> None:
    """The same man registered by two organisations under other spellings is one pooled person
    once the new registration is linked; the cluster keeps the first pseudonym as it grows."""
    first, second, third = orgs
    one = _register(session, first, BENALI)
    two = _register(session, second, BEN_ALI)
    assert one.person_id != two.person_id  # not the same exact token
    assert one.subject_id is not None
    assert two.subject_id is not None
    assert runs.link_one(session, two.subject_id) == 1
    assert runs.link_one(session, two.subject_id) == 0  # a job run twice changes nothing
    assert _person_of(session, two.subject_id) == one.person_id
    three = _register(session, third, BENALI_THIRD)
    assert three.subject_id is not None
    runs.link_one(session, three.subject_id)
    assert _person_of(session, three.subject_id) == one.person_id  # grown, same pseudonym
    assert _person_of(session, one.subject_id) == one.person_id


def test_a_batch_run_links_the_pool_and_is_logged(
    session: Session, orgs: tuple[Actor, Actor, Actor]
) -> None:
    first, second, _third = orgs
    one = _register(session, first, BENALI)
    two = _register(session, second, BEN_ALI)
    assert two.subject_id is not None
    report = runs.run_batch(session, None)
    assert report.merged >= 1
    assert report.persons_after < report.persons_before
    assert _person_of(session, two.subject_id) == one.person_id
    body = session.scalars(
        select(AuditEntry.body)
        .where(AuditEntry.event == "linkage.run")
        .order_by(AuditEntry.seq.desc())
    ).first()
    assert body is not None
    assert b'"merged":' in bytes(body)
    # A second run over the same pool changes nothing.
    again = runs.run_batch(session, None)
    assert (again.merged, again.split) == (0, 0)


def test_an_orgs_split_survives_every_later_run(
    session: Session, orgs: tuple[Actor, Actor, Actor], actor_for: ActorMaker
) -> None:
    """An organisation that says its record is someone else keeps it apart: neither the
    incremental link nor a batch run joins it again."""
    first, second, _third = orgs
    one = _register(session, first, BENALI)
    two = _register(session, second, BEN_ALI)
    assert two.subject_id is not None
    runs.link_one(session, two.subject_id)
    assert _person_of(session, two.subject_id) == one.person_id
    admin = Actor(None, second.org_id, second.org_kind, frozenset({Role.ORG_ADMIN}))
    new = review.split_own(session, admin, one.person_id, "different_people")
    assert _person_of(session, two.subject_id) == new
    runs.relink(session, two.subject_id)  # linked afresh, as after a correction
    runs.run_batch(session, None)
    assert _person_of(session, two.subject_id) == new
    assert one.subject_id is not None
    assert _person_of(session, one.subject_id) == one.person_id


def test_a_reviewer_links_or_keeps_apart_and_sees_no_score(
    session: Session, orgs: tuple[Actor, Actor, Actor], actor_for: ActorMaker
) -> None:
    first, second, _third = orgs
    one = _register(session, first, BENALI)
    other = _register(session, second, {**BENALI, "family_name": "Haddad"})
    assert one.subject_id is not None
    assert other.subject_id is not None
    assert pairs.open_review(session, one.subject_id, other.subject_id, 0.4, {"given": "agrees"})
    reviewer = Actor(None, first.org_id, first.org_kind, frozenset({Role.LINKAGE_REVIEWER}))
    views, more = review.queue(session, reviewer)
    [view] = [v for v in views if v.status is ReviewStatus.OPEN]
    assert not more
    assert "probability" not in repr(view)
    assert view.evidence == {"given": "agrees"}
    assert [side.own for side in view.sides].count(True) == 1  # the reviewer's org holds one
    review.decide(session, reviewer, view.id, "apart", "different_people")
    with pytest.raises(Conflict):
        review.decide(session, reviewer, view.id, "link", "same_person")
    assert pairs.kept_apart(session, [one.subject_id], [other.subject_id])
    decided = session.scalars(
        select(AuditEntry.body).where(AuditEntry.event == "linkage.decision")
    ).all()
    assert any(b'"decision":"apart"' in bytes(b) for b in decided)
    # Someone without the role cannot read the queue.
    from databank.services import access

    with pytest.raises(access.AccessRefused):
        review.queue(session, first)


def test_erasure_empties_the_subjects_encodings_and_reviews(
    session: Session, orgs: tuple[Actor, Actor, Actor]
) -> None:
    first, second, _third = orgs
    one = _register(session, first, BENALI)
    other = _register(session, second, {**BENALI, "family_name": "Haddad"})
    assert one.subject_id is not None
    assert other.subject_id is not None
    pairs.open_review(session, one.subject_id, other.subject_id, 0.4, {})
    admin = Actor(None, first.org_id, first.org_kind, frozenset({Role.ORG_ADMIN}))
    erasure.erase_person(session, admin, Purpose.CASE_MANAGEMENT, one.person_id)
    left = session.scalars(
        select(LinkageRecord.id).where(LinkageRecord.subject_id == one.subject_id)
    ).all()
    assert left == []
    reviews = session.scalars(
        select(LinkageReview.id).where(LinkageReview.subject_a_id.in_([one.subject_id]))
    ).all()
    reviews += session.scalars(
        select(LinkageReview.id).where(LinkageReview.subject_b_id.in_([one.subject_id]))
    ).all()
    assert reviews == []


def test_a_corrected_identity_is_encoded_and_linked_afresh(
    session: Session, orgs: tuple[Actor, Actor, Actor]
) -> None:
    """Correcting a name or birth date re-encodes the subject and links it again: a link made on
    the mistyped identity is undone, a link the correction makes is made."""
    from databank.services.linkage.zone import linkage_of

    first, second, _third = orgs
    one = _register(session, first, BENALI)
    # Registered as someone else entirely, then corrected to the man the first org knows.
    two = _register(
        session,
        second,
        {"given_name": "Pierre", "family_name": "Durand", "birth_date": date(1990, 7, 2)},
    )
    assert two.subject_id is not None
    runs.link_one(session, two.subject_id)
    assert _person_of(session, two.subject_id) == two.person_id
    before = session.scalar(
        select(LinkageRecord.encoding).where(LinkageRecord.subject_id == two.subject_id)
    )
    linkage_of(session).reencode(session, two.subject_id, identity(sex=Sex.MALE, **BEN_ALI), None)
    after = session.scalar(
        select(LinkageRecord.encoding).where(LinkageRecord.subject_id == two.subject_id)
    )
    assert after != before
    runs.relink(session, two.subject_id)
    assert _person_of(session, two.subject_id) == one.person_id


def test_a_stored_encoding_reads_back_as_encoded() -> None:
    """The zone's binary layout keeps every token, filter and flag, absent ones included."""
    from databank.linkage.encoding import BLOOM_COLUMNS, TOKEN_COLUMNS
    from databank.services.linkage import store

    rng = random.Random(3)
    row: dict[str, object] = {
        c: (None if i % 4 == 0 else f"{rng.getrandbits(64):016x}")
        for i, c in enumerate(TOKEN_COLUMNS)
    }
    row |= {c: (None if c == "address_bf" else rng.randbytes(128)) for c in BLOOM_COLUMNS}
    row["dob_jan1"] = True
    assert store.deserialise(store.serialise(row)) == row


def test_a_lone_registration_with_missing_fields_is_encoded(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """One registration alone, without sex or birth place: its frame's empty columns hold NaN,
    which the zone stores as absent (found by a demo run from a clean clone)."""
    from databank.services.linkage import store

    actor = actor_for(make_org())
    ident = identity(sex=None, birth_place=None, phone=None, aliases=())
    [found] = people.intake(
        session, actor, Purpose.OUTREACH, [intake_record(ident, with_case=False)]
    )
    stored = session.scalar(
        select(LinkageRecord.encoding).where(LinkageRecord.subject_id == found.subject_id)
    )
    assert stored is not None
    row = store.deserialise(bytes(stored))
    assert row["sex_tok"] is None
    assert row["place_tok"] is None
    assert row["given_tok"] is not None


def test_a_kept_pool_reads_only_the_encodings_it_lacks(
    session: Session, orgs: tuple[Actor, Actor, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Link jobs keep the matcher's pool between them: once it is built, a job reads the stored
    encodings of the subjects it lacks (its own, at most a few), never the whole pool again."""
    from databank.services.linkage import store
    from databank.services.linkage.zone import linkage_of

    first, second, _third = orgs
    one = _register(session, first, BENALI)
    assert one.subject_id is not None
    linkage_of(session).pool_cache = None  # other tests' pools (rolled back) are not this one
    runs.link_one(session, one.subject_id)  # builds the kept pool
    reads: list[int | None] = []
    real = store.pool_rows

    def counted(
        session: Session, subject_ids: list[uuid.UUID] | None = None
    ) -> list[tuple[uuid.UUID, bytes]]:
        reads.append(None if subject_ids is None else len(subject_ids))
        return real(session, subject_ids)

    monkeypatch.setattr(store, "pool_rows", counted)
    two = _register(session, second, BEN_ALI)
    assert two.subject_id is not None
    assert runs.link_one(session, two.subject_id) == 1
    assert _person_of(session, two.subject_id) == one.person_id
    assert reads, "the job read no encoding"
    assert None not in reads  # never the whole pool
    assert max(r for r in reads if r is not None) <= 2
