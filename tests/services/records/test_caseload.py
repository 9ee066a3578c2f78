"""A housing officer's cross-case views: caseload filters, the timeline, referrals received."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from databank.domain.enums import LocationLevel, OrgKind, Purpose, Role
from databank.domain.errors import BadRequest
from databank.domain.vocab import NeedCategory
from databank.models import AuditEntry
from databank.services import access
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import ConsentIn, IntakeRecord, NeedIn
from databank.services.records import (
    case_lists,
    caseload,
    cases,
    consents,
    people,
    referrals,
    timeline,
)
from tests.factories import case, encounter, identity, intake_record
from tests.services.records.conftest import HOUSING_IDENTITY, SharedIdentity


@pytest.fixture
def tables(session: Session) -> Actor:
    org = organisations.create_organisation(session, "tables-du-coeur", "Tables", OrgKind.CHARITY)
    return Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")


@pytest.fixture
def entraide(session: Session) -> Actor:
    org = organisations.create_organisation(session, "entraide", "Entraide", OrgKind.CHARITY)
    return Actor(None, org.id, org.kind, frozenset({Role.HOUSING_OFFICER}), "test")


def _intake(session: Session, actor: Actor, given: str = "Amélie") -> tuple[uuid.UUID, uuid.UUID]:
    record = IntakeRecord(
        identity=identity(given_name=given),
        case=case(),
        needs=(NeedIn(NeedCategory.FOOD), NeedIn(NeedCategory.ADDICTION)),
        encounters=(encounter(),),
    )
    [result] = people.intake(session, actor, Purpose.OUTREACH, [record])
    assert result.case_id is not None
    return result.person_id, result.case_id


def _share(session: Session, owner: Actor, person_id: uuid.UUID, to: Actor) -> None:
    consents.record_consent(
        session,
        owner,
        Purpose.OUTREACH,
        person_id,
        ConsentIn(purposes=(Purpose.FOOD_AID,), recipient_org_ids=(to.org_id,)),
    )


def test_a_filter_on_a_withheld_field_never_matches_a_partners_case(
    session: Session, tables: Actor, entraide: Actor
) -> None:
    """tables-du-coeur shares needs but not health needs: filtering on addiction must not reveal
    which of its shared cases have that need."""
    person_id, case_id = _intake(session, tables)
    _share(session, tables, person_id, entraide)
    _own_person, own_case = _intake(session, entraide, given="Other")
    food = case_lists.case_page(session, entraide, Purpose.FOOD_AID, need=NeedCategory.FOOD).lines
    assert {line.id for line in food} == {case_id, own_case}
    addiction = case_lists.case_page(
        session, entraide, Purpose.FOOD_AID, need=NeedCategory.ADDICTION
    ).lines
    assert {line.id for line in addiction} == {own_case}


def test_bad_sort_or_district_is_a_bad_request_naming_the_field(
    session: Session, entraide: Actor
) -> None:
    with pytest.raises(BadRequest) as bad_sort:
        case_lists.case_page(session, entraide, Purpose.FOOD_AID, sort="family_name")
    assert "sort" in bad_sort.value.errors
    with pytest.raises(BadRequest) as bad_district:
        case_lists.case_page(session, entraide, Purpose.FOOD_AID, district="u05k%")
    with pytest.raises(BadRequest):
        case_lists.case_page(session, entraide, Purpose.FOOD_AID, district="U05KQ")
    assert "district" in bad_district.value.errors


def test_timeline_holds_the_partners_case_at_district_level_and_logs_it(
    session: Session, tables: Actor, entraide: Actor
) -> None:
    person_id, partner_case = _intake(session, tables)
    [pooled] = people.intake(
        session, entraide, Purpose.OUTREACH, [IntakeRecord(identity=identity(), case=case())]
    )
    assert pooled.person_id == person_id
    assert pooled.case_id is not None
    own = cases.read_case(session, entraide, Purpose.FOOD_AID, pooled.case_id)
    assert timeline.person_timeline(session, entraide, Purpose.FOOD_AID, own).items == ()
    _share(session, tables, person_id, entraide)
    before = session.scalar(select(func.count()).select_from(AuditEntry))
    found = timeline.person_timeline(session, entraide, Purpose.FOOD_AID, own)
    after = session.scalar(select(func.count()).select_from(AuditEntry))
    assert after == (before or 0) + 1  # one decision, logged, for the one partner case
    # The decision asked only for what a timeline shows, and the log says so.
    logged = session.execute(
        select(AuditEntry.body).where(AuditEntry.seq == after - 1)
    ).scalar_one()
    fields = json.loads(logged)["fields"]
    assert set(fields["released"]) | set(fields["withheld"]) == set(timeline.TIMELINE_FIELDS)
    [source] = found.cases
    assert source.case_id == partner_case
    assert {"notes", "health", "encounters"} <= source.withheld
    kinds = {item.kind for item in found.items}
    assert kinds == {"opened", "need"}  # encounters withheld by tables-du-coeur
    needs = {item.need.category for item in found.items if item.need is not None}
    # Addiction is a health need: withheld (shelter comes with the factory's encounter).
    assert needs == {NeedCategory.FOOD, NeedCategory.SHELTER}
    [opened] = [item for item in found.items if item.kind == "opened"]
    assert opened.place is not None
    assert opened.place.level is LocationLevel.DISTRICT
    assert opened.place.point is None


def test_referrals_received_are_refused_to_roles_without_case_content(session: Session) -> None:
    org = organisations.create_organisation(session, "metropole", "Métropole", OrgKind.COUNCIL)
    auditor = Actor(None, org.id, org.kind, frozenset({Role.AUDITOR}), "test")
    with pytest.raises(access.AccessRefused):
        referrals.received(session, auditor, Purpose.AUDIT)


def test_display_names_open_only_the_own_orgs_identities(
    session: Session, tables: Actor, entraide: Actor
) -> None:
    person_id, _case_id = _intake(session, tables)
    _share(session, tables, person_id, entraide)
    assert caseload.display_names(session, entraide, Purpose.FOOD_AID, [person_id]) == {}
    names = caseload.display_names(session, tables, Purpose.OUTREACH, [person_id])
    assert names == {person_id: "Amélie Lefèvre-Durand"}


def test_case_pages_follow_each_other_without_overlap(session: Session, entraide: Actor) -> None:
    _intake(session, entraide, given="First")
    _intake(session, entraide, given="Second")
    first = case_lists.case_page(session, entraide, Purpose.OUTREACH, limit=1)
    second = case_lists.case_page(session, entraide, Purpose.OUTREACH, limit=1, offset=1)
    assert first.more
    assert not second.more
    assert len(first.lines) == len(second.lines) == 1
    assert first.lines[0].id != second.lines[0].id
    oldest = case_lists.case_page(session, entraide, Purpose.OUTREACH, limit=1, sort="opened_asc")
    assert oldest.lines[0].id == second.lines[0].id


def _last_seq(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(AuditEntry.seq), -1))))


def _bodies_after(session: Session, seq: int) -> list[dict[str, Any]]:
    """The access log's entries written after `seq`, as their bodies say."""
    found = session.scalars(
        select(AuditEntry.body).where(AuditEntry.seq > seq).order_by(AuditEntry.seq)
    )
    return [json.loads(body) for body in found]


def test_finding13_display_names_look_only_in_the_own_orgs_records(
    session: Session, shared_identity: SharedIdentity
) -> None:
    """The caseload's names come from the actor's own org's records of each person, and only
    those are decided and logged as identity reads: another org's record of the same person is
    never asked for, even where its owner's policy would release it to the actor."""
    partner, person_id = shared_identity.housing, shared_identity.person_id
    before = _last_seq(session)
    assert caseload.display_names(session, partner, Purpose.HOUSING_ALLOCATION, [person_id]) == {}
    people.intake(session, partner, Purpose.OUTREACH, [intake_record(HOUSING_IDENTITY)])
    names = caseload.display_names(session, partner, Purpose.HOUSING_ALLOCATION, [person_id])
    assert names == {person_id: "AMELIE lefevre durand"}  # as the partner recorded them
    identity_reads = [
        e
        for e in _bodies_after(session, before)
        if e["event"] == "access.read" and e["record"]["type"] == "identity"
    ]
    assert [e["record"]["owner"] for e in identity_reads] == [str(partner.org_id)]


def test_finding13_refused_rows_of_a_caseload_and_a_timeline_are_logged(
    session: Session, entraide: Actor
) -> None:
    """Every row a list read decides is logged, refused ones too: a case the org may see at all
    (consented to it) but whose owner's policy releases nothing for the purpose is left out of
    the caseload and of the timeline, and each refusal is in the access log (as a row the list
    left out: "access.omitted", which the denial-burst alert does not count)."""
    metro = organisations.create_organisation(session, "metropole", "Métropole", OrgKind.COUNCIL)
    council = Actor(None, metro.id, metro.kind, frozenset({Role.OUTREACH_WORKER}), "test")
    person_id, metro_case = _intake(session, council)
    _share(session, council, person_id, entraide)  # for food aid: Métropole shares nothing then
    [own] = people.intake(
        session, entraide, Purpose.OUTREACH, [IntakeRecord(identity=identity(), case=case())]
    )
    assert own.person_id == person_id
    assert own.case_id is not None
    view = cases.read_case(session, entraide, Purpose.FOOD_AID, own.case_id)
    before = _last_seq(session)
    lines = case_lists.case_page(session, entraide, Purpose.FOOD_AID).lines
    assert {line.id for line in lines} == {own.case_id}
    assert timeline.person_timeline(session, entraide, Purpose.FOOD_AID, view).cases == ()
    refusals = [
        (e["event"], e["decision"], e["actor"]["org"], e["purpose"])
        for e in _bodies_after(session, before)
        if e["record"]["id"] == str(metro_case)
    ]
    denied = ("access.omitted", "deny", str(entraide.org_id), "food_aid")
    assert refusals == [denied, denied]  # the caseload's row, then the timeline's
