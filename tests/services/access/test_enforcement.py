"""Reads across organisations as the demo organisations' policies decide them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import AuditEvent
from databank.domain.enums import LocationLevel, OrgKind, Purpose, Role
from databank.domain.errors import ValidationFailed
from databank.domain.vocab import NeedCategory
from databank.models import AuditEntry, BreakGlassGrant, Case, Consent
from databank.services import access
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import ConsentIn, IntakeRecord, NeedIn
from databank.services.records import breakglass, case_lists, cases, consents, people
from tests.factories import case, encounter, identity, intake_record
from tests.support import logged_person


@pytest.fixture
def tables(session: Session) -> Actor:
    org = organisations.create_organisation(session, "tables-du-coeur", "Tables", OrgKind.CHARITY)
    return Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")


@pytest.fixture
def entraide(session: Session) -> Actor:
    org = organisations.create_organisation(session, "entraide", "Entraide", OrgKind.CHARITY)
    return Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")


@pytest.fixture
def responder(session: Session) -> Actor:
    org = organisations.create_organisation(session, "emsp", "EMSP", OrgKind.HEALTH)
    user = organisations.create_user(
        session,
        org,
        "bg@emsp",
        "Responder",
        "tango ravioli hammock quartz",
        [Role.BREAK_GLASS_RESPONDER],
    )
    session.flush()
    return Actor.for_user(user, "test")


@pytest.fixture
def tables_case(session: Session, tables: Actor) -> tuple[uuid.UUID, uuid.UUID]:
    record = IntakeRecord(
        identity=identity(),
        case=case(),
        needs=(NeedIn(NeedCategory.FOOD), NeedIn(NeedCategory.ADDICTION)),
        encounters=(encounter(),),
    )
    [result] = people.intake(session, tables, Purpose.OUTREACH, [record])
    assert result.case_id is not None
    return result.person_id, result.case_id


def _consent(session: Session, tables: Actor, person_id: uuid.UUID, to: Actor) -> uuid.UUID:
    return consents.record_consent(
        session,
        tables,
        Purpose.OUTREACH,
        person_id,
        ConsentIn(purposes=(Purpose.FOOD_AID,), recipient_org_ids=(to.org_id,)),
    )


def test_partner_sees_nothing_without_consent(
    session: Session, tables: Actor, entraide: Actor, tables_case: tuple[uuid.UUID, uuid.UUID]
) -> None:
    """tables-du-coeur: partners see its cases only with the person's consent for the purpose."""
    with pytest.raises(access.AccessRefused):
        cases.read_case(session, entraide, Purpose.FOOD_AID, tables_case[1])


def test_partner_with_consent_gets_a_district_summary(
    session: Session, tables: Actor, entraide: Actor, tables_case: tuple[uuid.UUID, uuid.UUID]
) -> None:
    """With consent: status, needs, district; never notes, health needs or a finer place."""
    person_id, case_id = tables_case
    _consent(session, tables, person_id, entraide)
    view = cases.read_case(session, entraide, Purpose.FOOD_AID, case_id)
    assert view.released == {"status", "living_situation", "needs", "location"}
    assert view.notes is None
    assert view.place is not None
    assert view.place.level is LocationLevel.DISTRICT
    assert view.place.point is None
    # Addiction is health data: withheld with "health"; food and shelter are plain needs.
    assert sorted(n.category for n in view.needs) == [NeedCategory.FOOD, NeedCategory.SHELTER]
    assert view.encounters == ()
    entry = session.scalars(
        select(AuditEntry.body)
        .where(AuditEntry.actor_org_id == entraide.org_id)
        .order_by(AuditEntry.seq.desc())
    ).first()
    assert entry is not None
    assert b'"decision":"partial"' in entry
    assert b"tables-du-coeur.partner_consented_summary" in entry
    assert b'"location_level":2' in entry
    # Another purpose is not covered by a food-aid consent.
    with pytest.raises(access.AccessRefused):
        cases.read_case(session, entraide, Purpose.CASE_MANAGEMENT, case_id)


def test_revoked_or_expired_consent_stops_the_next_read(
    session: Session, tables: Actor, entraide: Actor, tables_case: tuple[uuid.UUID, uuid.UUID]
) -> None:
    """Revocation and expiry take effect on the next request."""
    person_id, case_id = tables_case
    consent_id = _consent(session, tables, person_id, entraide)
    cases.read_case(session, entraide, Purpose.FOOD_AID, case_id)
    consents.revoke_consent(session, tables, Purpose.OUTREACH, consent_id)
    with pytest.raises(access.AccessRefused):
        cases.read_case(session, entraide, Purpose.FOOD_AID, case_id)
    second = _consent(session, tables, person_id, entraide)
    cases.read_case(session, entraide, Purpose.FOOD_AID, case_id)
    row = session.get(Consent, second)
    assert row is not None
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.flush()
    with pytest.raises(access.AccessRefused):
        cases.read_case(session, entraide, Purpose.FOOD_AID, case_id)


def test_partner_list_shows_only_consented_cases(
    session: Session, tables: Actor, entraide: Actor, tables_case: tuple[uuid.UUID, uuid.UUID]
) -> None:
    person_id, case_id = tables_case
    assert case_lists.case_page(session, entraide, Purpose.FOOD_AID).lines == []
    _consent(session, tables, person_id, entraide)
    [line] = case_lists.case_page(session, entraide, Purpose.FOOD_AID).lines
    assert line.id == case_id
    assert line.owner == "tables-du-coeur"
    assert line.place is not None
    assert line.place.level is LocationLevel.DISTRICT


def test_break_glass_needs_the_role_and_a_justification(
    session: Session, entraide: Actor, responder: Actor, tables_case: tuple[uuid.UUID, uuid.UUID]
) -> None:
    person_id, _case_id = tables_case
    with pytest.raises(access.AccessRefused):
        breakglass.start(session, entraide, person_id, "He collapsed, unconscious, no ID.")
    with pytest.raises(ValidationFailed) as caught:
        breakglass.start(session, responder, person_id, "urgent")
    assert "justification" in caught.value.errors


def test_break_glass_read_is_time_boxed_marked_and_bounded_by_the_owner(
    session: Session, responder: Actor, tables_case: tuple[uuid.UUID, uuid.UUID]
) -> None:
    """Break-glass grants a marked, time-boxed read; the owner's forbids still win."""
    person_id, case_id = tables_case
    with pytest.raises(access.AccessRefused):
        cases.read_case(session, responder, Purpose.VITAL_INTEREST, case_id)
    grant = breakglass.start(
        session, responder, person_id, "Found unconscious at the station, needs his history."
    )
    view = cases.read_case(session, responder, Purpose.VITAL_INTEREST, case_id)
    assert view.break_glass
    assert view.notes is not None
    assert "health" in view.withheld  # tables-du-coeur: health never leaves, emergency or not
    assert view.place is not None
    assert view.place.level <= LocationLevel.DISTRICT
    bodies = session.scalars(
        select(AuditEntry.body).where(AuditEntry.actor_user_id == responder.user_id)
    ).all()
    assert any(b'"event":"break_glass.start"' in b for b in bodies)
    assert all(b'"break_glass":true' in b for b in bodies if b'"event":"access.read"' in b)
    assert b"Found unconscious" not in b"".join(bodies)  # the justification is sealed
    row = session.get(BreakGlassGrant, grant.id)
    assert row is not None
    assert b"unconscious" not in row.justification_ciphertext
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.flush()
    with pytest.raises(access.AccessRefused):
        cases.read_case(session, responder, Purpose.VITAL_INTEREST, case_id)


@pytest.mark.parametrize("purpose", [Purpose.AUDIT, Purpose.AGGREGATE_STATISTICS])
def test_an_outreach_worker_cannot_read_under_a_purpose_of_another_role(
    session: Session, tables: Actor, tables_case: tuple[uuid.UUID, uuid.UUID], purpose: Purpose
) -> None:
    """Each role reads only for the purposes it may declare: an outreach worker's "audit" or
    "statistics" read of their own org's case is refused and logged (finding 8)."""
    _person, case_id = tables_case
    with pytest.raises(access.AccessRefused) as refused:
        cases.read_case(session, tables, purpose, case_id)
    [entry] = refused.value.entries
    assert (entry.rule, entry.purpose) == ("platform.purpose_not_for_role", purpose.value)


@pytest.mark.parametrize("purpose", [Purpose.AUDIT, Purpose.AGGREGATE_STATISTICS])
def test_statistics_and_audit_release_no_content_to_the_owner(
    session: Session, tables: Actor, tables_case: tuple[uuid.UUID, uuid.UUID], purpose: Purpose
) -> None:
    """A platform cap no org policy can loosen: a read declared for statistics or audit
    releases no case content, to the owning org's admin either (finding 8, design section 6)."""
    _person, case_id = tables_case
    # An admin who is also the org's auditor may declare both purposes.
    roles = frozenset({Role.ORG_ADMIN, Role.AUDITOR})
    admin = Actor(None, tables.org_id, tables.org_kind, roles, "test")
    with pytest.raises(access.AccessRefused) as refused:
        cases.read_case(session, admin, purpose, case_id)
    [entry] = refused.value.entries
    assert "platform.no_content_for_statistics_or_audit" in (entry.rule or "")
    assert entry.fields_released == []


def _entraide_case(session: Session, entraide: Actor, given: str, **flags: bool) -> uuid.UUID:
    [result] = people.intake(
        session,
        entraide,
        Purpose.OUTREACH,
        [IntakeRecord(identity=identity(given_name=given), case=case(**flags))],
    )
    assert result.case_id is not None
    return result.case_id


def test_a_cases_protective_flags_and_district_reach_the_decision_and_the_log(
    session: Session, tables: Actor, entraide: Actor
) -> None:
    """The access point hands the policy a case's protective flags and logs its district: with
    the same consent, a partner gets an ordinary case's place at district level (the platform's
    cap), an abuse survivor's at city level only (entraide.survivor_city_only), and nothing of a
    minor's (entraide.minors_by_referral_only); the entry of a released place names its
    district."""
    plain = _entraide_case(session, entraide, "Plain")
    survivor = _entraide_case(session, entraide, "Survivor", is_domestic_abuse_survivor=True)
    minor = _entraide_case(session, entraide, "Minor", is_minor=True)
    for case_id in (plain, survivor, minor):
        row = session.get(Case, case_id)
        assert row is not None
        _consent(session, entraide, row.person_id, tables)
    levels = {}
    for case_id in (plain, survivor):
        view = cases.read_case(session, tables, Purpose.FOOD_AID, case_id)
        assert view.place is not None
        levels[case_id] = view.place.level
        entry = json.loads(_last_body(session, tables))
        assert (entry["record"]["type"], entry["record"]["id"]) == ("case", str(case_id))
        row = session.get(Case, case_id)
        assert row is not None
        assert entry["area"] == row.area_geohash  # the district (a sweep counts these)
    assert levels == {plain: LocationLevel.DISTRICT, survivor: LocationLevel.CITY}
    with pytest.raises(access.AccessRefused) as refused:
        cases.read_case(session, tables, Purpose.FOOD_AID, minor)
    [entry] = refused.value.entries
    assert "entraide.minors_by_referral_only" in (entry.rule or "")
    listed = {line.id for line in case_lists.case_page(session, tables, Purpose.FOOD_AID).lines}
    assert listed == {plain, survivor}


def test_a_gate_refusal_is_logged_with_its_rule(session: Session, entraide: Actor) -> None:
    """A role gate (break-glass, policy page, accounts) refuses with one entry saying who was
    refused, by which rule, for which org and purpose; it is in the log once written."""
    with pytest.raises(access.AccessRefused) as refused:
        access.check_break_glass_responder(entraide)
    [entry] = refused.value.entries
    assert refused.value.actor is entraide
    said = (entry.event, entry.decision, entry.rule, entry.owner_org_id, entry.purpose)
    assert said == (
        "break_glass.start",
        "deny",
        "platform.break_glass_role",
        entraide.org_id,
        "vital_interest",
    )
    access.record_denial(session, refused.value)
    body = json.loads(_last_body(session, entraide))
    assert (body["event"], body["decision"], body["rule"]) == (
        "break_glass.start",
        "deny",
        "platform.break_glass_role",
    )


def _last_body(session: Session, actor: Actor) -> bytes:
    found = session.scalars(
        select(AuditEntry.body)
        .where(AuditEntry.actor_org_id == actor.org_id)
        .order_by(AuditEntry.seq.desc())
    ).first()
    assert found is not None
    return found


def test_a_referral_opens_the_case_to_its_recipient_for_its_purpose_only(
    session: Session, entraide: Actor
) -> None:
    """A referral is a sharing fact of its own: without consent, the partner a case was
    referred to may follow it up (Métropole: status and referrals) for the referral's purpose,
    and for no other purpose; before the referral, nothing."""
    metro = organisations.create_organisation(session, "metropole", "Métropole", OrgKind.COUNCIL)
    council = Actor(None, metro.id, metro.kind, frozenset({Role.OUTREACH_WORKER}), "test")
    [result] = people.intake(session, council, Purpose.OUTREACH, [intake_record()])
    assert result.case_id is not None
    with pytest.raises(access.AccessRefused):
        cases.read_case(session, entraide, Purpose.CASE_MANAGEMENT, result.case_id)
    cases.refer(
        session,
        council,
        Purpose.OUTREACH,
        result.case_id,
        entraide.org_id,
        Purpose.CASE_MANAGEMENT,
        override=True,
        justification="Cannot be reached to ask; the shelter needs the referral tonight.",
    )
    view = cases.read_case(session, entraide, Purpose.CASE_MANAGEMENT, result.case_id)
    assert view.released == {"status", "referrals"}
    with pytest.raises(access.AccessRefused):
        cases.read_case(session, entraide, Purpose.OUTREACH, result.case_id)


def test_an_access_entry_says_who_read_what_whose_and_why(
    session: Session, tables: Actor, tables_case: tuple[uuid.UUID, uuid.UUID]
) -> None:
    """Each decision's entry names the record (type, id), its owner org and person, the purpose,
    the decision and its rules, the fields released and withheld, the location level and
    district when a place was asked for, the count of a list, and no break-glass mark on an
    ordinary read: what an auditor and a person's "who saw my data" rely on."""
    person_id, case_id = tables_case
    row = session.get(Case, case_id)
    assert row is not None
    cases.read_case(session, tables, Purpose.OUTREACH, case_id)
    body = _last_body(session, tables)
    entry = json.loads(body)
    assert entry["event"] == "access.read"
    assert entry["record"] == {"id": str(case_id), "owner": str(tables.org_id), "type": "case"}
    # The person, named by the holder's handle (never the pooled id), turned back.
    assert entry["person"] != str(person_id)
    assert (logged_person(session, body), entry["purpose"], entry["decision"]) == (
        person_id,
        "outreach",
        "allow",
    )
    assert "platform.owner_content" in entry["rule"].split(",")
    assert entry["fields"]["withheld"] == []
    assert set(entry["fields"]["released"]) == set(cases.CASE_FIELDS)
    assert (entry["location_level"], entry["area"]) == (LocationLevel.EXACT, row.area_geohash)
    assert (entry["break_glass"], entry["count"]) == (False, None)
    people.read_identity(session, tables, Purpose.OUTREACH, person_id)
    entry = json.loads(_last_body(session, tables))
    assert entry["record"]["type"] == "identity"
    assert (entry["location_level"], entry["area"]) == (None, None)  # no place was asked for
    lines = case_lists.case_page(session, tables, Purpose.OUTREACH).lines
    entry = json.loads(_last_body(session, tables))
    assert entry["count"] == len(lines) == 1


def test_a_refused_read_logs_no_district_and_vital_interest_needs_a_reason(
    session: Session, tables: Actor, entraide: Actor, tables_case: tuple[uuid.UUID, uuid.UUID]
) -> None:
    """A read that released no place logs no district (the sweep alert counts released places
    only); and nobody reads a case for vital interest without a written reason, not even its
    owner (platform.vital_interest_needs_justification)."""
    _person, case_id = tables_case
    with pytest.raises(access.AccessRefused) as refused:
        cases.read_case(session, entraide, Purpose.FOOD_AID, case_id)
    [entry] = refused.value.entries
    assert (entry.decision, entry.location_level, entry.area) == ("deny", 0, None)
    with pytest.raises(access.AccessRefused) as refused:
        cases.read_case(session, tables, Purpose.VITAL_INTEREST, case_id)
    [entry] = refused.value.entries
    assert "platform.vital_interest_needs_justification" in (entry.rule or "")


def test_a_purpose_refused_for_the_role_is_logged_about_the_record(
    session: Session, tables: Actor, tables_case: tuple[uuid.UUID, uuid.UUID]
) -> None:
    """A read under a purpose the actor's role may not declare is refused before any policy
    decision, with one entry naming the record, its owner and person, the action's event, the
    decision and how many records were asked for."""
    person_id, case_id = tables_case
    with pytest.raises(access.AccessRefused) as refused:
        cases.read_case(session, tables, Purpose.AUDIT, case_id)
    assert refused.value.actor is tables
    [entry] = refused.value.entries
    said = (entry.event, entry.record_type, entry.record_id, entry.owner_org_id, entry.person_id)
    assert said == ("access.read", "case", case_id, tables.org_id, person_id)
    assert (entry.decision, entry.result_count) == ("deny", 1)


def test_the_account_gates_log_who_was_refused_by_which_rule(
    session: Session, tables: Actor, entraide: Actor
) -> None:
    """The role and account gates refuse with one entry naming the event asked for, the org
    concerned and the rule: a role without the right, an admin of another org, and an admin
    reaching for a platform account."""
    admin = Actor(None, tables.org_id, tables.org_kind, frozenset({Role.ORG_ADMIN}), "test")
    event = AuditEvent.USERS_DEACTIVATE
    gates = [
        (lambda: access.require_any_role(tables, {Role.AUDITOR}, event), tables, tables.org_id),
        (
            lambda: access.require_account_admin(session, admin, entraide.org_id, event),
            admin,
            entraide.org_id,
        ),
        (
            lambda: access.require_account_manager(
                session, admin, tables.org_id, [Role.PLATFORM_AUDITOR], event
            ),
            admin,
            tables.org_id,
        ),
    ]
    rules = []
    for gate, actor, org_id in gates:
        with pytest.raises(access.AccessRefused) as refused:
            gate()
        assert refused.value.actor is actor
        [entry] = refused.value.entries
        assert (entry.event, entry.decision, entry.owner_org_id) == (event, "deny", org_id)
        rules.append(entry.rule)
    assert rules == [
        "platform.role_not_permitted",
        "platform.accounts_of_other_org",
        "platform.platform_account",
    ]
