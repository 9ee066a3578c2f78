"""Audit alerts raised as the log is written: each rule at and just under its threshold."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.orm import Session

from databank.audit.alert_rules import AlertRules, BulkReads, DenialBurst, DistrictSweep
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import AlertStatus, Decision, OrgKind, Purpose, Role
from databank.domain.errors import (
    ConfigurationError,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from databank.models import AuditAlert, AuditEntry, Case, Organisation
from databank.services import access, auditlog
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.auditlog import alerting
from databank.services.inputs import ConsentIn
from databank.services.oversight import alerts, integrity
from databank.services.records import breakglass, case_lists, cases, consents, people
from tests.factories import identity, intake_record
from tests.support import logged_person

People = list[tuple[uuid.UUID, uuid.UUID]]  # (person_id, case_id)


def _staff(session: Session, org: Organisation, *roles: Role) -> Actor:
    """A signed-in member of staff: per-user rules need a user."""
    name = f"{org.slug}-{uuid.uuid4().hex[:8]}"
    user = organisations.create_user(
        session, org, name, name, "tango ravioli hammock quartz", roles or [Role.OUTREACH_WORKER]
    )
    session.flush()  # the user row must exist before entries and records name it
    return Actor.for_user(user, "test")


@pytest.fixture
def tables_org(session: Session) -> Organisation:
    return organisations.create_organisation(session, "tables-du-coeur", "Tables", OrgKind.CHARITY)


@pytest.fixture
def entraide_org(session: Session) -> Organisation:
    return organisations.create_organisation(session, "entraide", "Entraide", OrgKind.CHARITY)


@pytest.fixture
def tables(session: Session, tables_org: Organisation) -> Actor:
    return _staff(session, tables_org)


@pytest.fixture
def entraide(session: Session, entraide_org: Organisation) -> Actor:
    return _staff(session, entraide_org)


@pytest.fixture
def register(session: Session, tables: Actor) -> Callable[[int], People]:
    """Register n distinct people with tables-du-coeur, all in the same district."""

    def make(n: int) -> People:
        records = [
            intake_record(
                identity(
                    given_name=f"Prénom{i}",
                    family_name=f"Nom{i}",
                    birth_date=date(1970, 1, 1) + timedelta(days=97 * i),
                )
            )
            for i in range(n)
        ]
        found = people.intake(session, tables, Purpose.OUTREACH, records)
        pairs = [(r.person_id, r.case_id) for r in found if r.case_id is not None]
        assert len({p for p, _ in pairs}) == n
        return pairs

    return make


@pytest.fixture
def shared(
    session: Session, tables: Actor, entraide: Actor, register: Callable[[int], People]
) -> Callable[[int], People]:
    """n people who consented to food aid by entraide: it may read their district."""

    def make(n: int) -> People:
        found = register(n)
        for person_id, _ in found:
            consents.record_consent(
                session,
                tables,
                Purpose.OUTREACH,
                person_id,
                ConsentIn(purposes=(Purpose.FOOD_AID,), recipient_org_ids=(entraide.org_id,)),
            )
        return found

    return make


def _alerts(session: Session, rule: str) -> list[AuditAlert]:
    query = select(AuditAlert).where(AuditAlert.rule == rule).order_by(AuditAlert.created_at)
    return list(session.scalars(query))


def _read(session: Session, actor: Actor, found: People, purpose: Purpose) -> None:
    for _, case_id in found:
        cases.read_case(session, actor, purpose, case_id)


def _refused(session: Session, actor: Actor, case_id: uuid.UUID, purpose: Purpose) -> None:
    """A refused read, logged as the web layer does after rolling the request back."""
    with pytest.raises(access.AccessRefused) as caught:
        cases.read_case(session, actor, purpose, case_id)
    access.record_denial(session, caught.value)


# -- district sweep (real default thresholds) ----------------------------------------------------


def test_district_sweep_fires_at_15_people_in_one_district(
    session: Session, entraide: Actor, tables: Actor, shared: Callable[[int], People]
) -> None:
    """A non-owner org reading released locations of 15 people in one district in 24 h: alert."""
    found = shared(15)
    _read(session, entraide, found[:14], Purpose.FOOD_AID)
    assert _alerts(session, "district_sweep") == []
    _read(session, entraide, found[14:], Purpose.FOOD_AID)
    [alert] = _alerts(session, "district_sweep")
    assert alert.status is AlertStatus.OPEN
    assert (alert.actor_org_id, alert.owner_org_id) == (entraide.org_id, tables.org_id)
    assert alert.actor_user_id is None  # an org's sweep, whoever of its staff read
    assert alert.person_id is None
    area = alert.details["area"]
    assert isinstance(area, str)
    assert len(area) == 5  # the district code: nothing finer
    assert alert.details["distinct_people"] == 15
    assert alert.details["threshold"] == 15
    assert alert.details["window_hours"] == 24
    assert len(alert.entry_seqs) == 15
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.seq.in_([int(s) for s in alert.entry_seqs]))
    ).all()
    assert {logged_person(session, e) for e in entries} == {p for p, _ in found}
    assert all(e.area == area and e.actor_org_id == entraide.org_id for e in entries)


def test_district_sweep_stays_quiet_at_14_people(
    session: Session, entraide: Actor, shared: Callable[[int], People]
) -> None:
    """14 people of one district read by a partner in 24 h: no district-sweep alert."""
    found = shared(14)
    _read(session, entraide, found, Purpose.FOOD_AID)
    _read(session, entraide, found, Purpose.FOOD_AID)  # reading them again adds no one
    assert _alerts(session, "district_sweep") == []


def test_owner_reads_raise_nothing_and_query_nothing(
    session: Session, tables: Actor, register: Callable[[int], People]
) -> None:
    """An owner reading its own people's locations is no sweep, and costs no alert query."""
    found = register(20)
    before = session.scalar(select(func.count()).select_from(AuditEntry))
    # Every statement the append runs: SQLAlchemy's (the rules' queries go through it) and, on
    # SQLite, the driver's own too (the log's head and insert go straight to the driver).
    statements: list[str] = []

    def spy(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = session.get_bind()
    dbapi = session.connection().connection.dbapi_connection
    sqlite = engine.dialect.name == "sqlite"
    event.listen(engine, "before_cursor_execute", spy)
    if sqlite:
        dbapi.set_trace_callback(statements.append)
    try:
        auditlog.append(
            session,
            tables,
            [
                auditlog.EntryIn(
                    AuditEvent.ACCESS_READ,
                    RecordType.CASE,
                    c,
                    tables.org_id,
                    p,
                    "outreach",
                    Decision.ALLOW,
                    area="u05kq",
                )
                for p, c in found
            ],
        )
    finally:
        event.remove(engine, "before_cursor_execute", spy)
        if sqlite:
            dbapi.set_trace_callback(None)
    assert not any("audit_alerts" in s for s in statements)
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == before + 20
    if sqlite:  # the insert itself (one statement, run for each row), and no query of the log
        touching = [s.split("(")[0] for s in statements if "audit_entries" in s]
        assert touching == ["INSERT INTO audit_entries "] * 20
    assert session.scalar(select(func.count()).select_from(AuditAlert)) == 0


# -- bulk reads (real default thresholds) --------------------------------------------------------


def test_bulk_reads_fire_above_50_people(
    session: Session, entraide: Actor, tables: Actor, shared: Callable[[int], People]
) -> None:
    """One user reading more than 50 people's records within an hour: the 51st raises an alert."""
    found = shared(51)
    _read(session, entraide, found[:50], Purpose.FOOD_AID)
    assert _alerts(session, "bulk_reads") == []
    _read(session, entraide, found[50:], Purpose.FOOD_AID)
    [alert] = _alerts(session, "bulk_reads")
    assert (alert.actor_user_id, alert.actor_org_id) == (entraide.user_id, entraide.org_id)
    assert alert.owner_org_id == tables.org_id
    assert alert.details["distinct_people"] == 51
    assert alert.details["threshold"] == 50
    assert alert.details["window_minutes"] == 60
    assert len(alert.entry_seqs) == 51


def test_bulk_reads_stay_quiet_at_50_people(
    session: Session, entraide: Actor, shared: Callable[[int], People]
) -> None:
    """50 people read by one user within an hour is not above the threshold: no alert."""
    found = shared(50)
    _read(session, entraide, found, Purpose.FOOD_AID)
    _read(session, entraide, found[:10], Purpose.FOOD_AID)  # re-reads are not new people
    assert _alerts(session, "bulk_reads") == []


def test_bulk_reads_count_each_user_apart(
    session: Session, entraide: Actor, entraide_org: Organisation, shared: Callable[[int], People]
) -> None:
    """Two colleagues reading 2 people each stay under a threshold of 3 per user."""
    alerting.use_rules(session, AlertRules(bulk_reads=BulkReads(distinct_people=3)))
    colleague = _staff(session, entraide_org)
    found = shared(4)
    _read(session, entraide, found[:2], Purpose.FOOD_AID)
    _read(session, colleague, found[2:], Purpose.FOOD_AID)
    assert _alerts(session, "bulk_reads") == []
    _read(session, colleague, found[:2], Purpose.FOOD_AID)
    [alert] = _alerts(session, "bulk_reads")
    assert alert.actor_user_id == colleague.user_id


def test_own_org_reads_count_only_when_the_file_says_so(
    session: Session, tables: Actor, register: Callable[[int], People]
) -> None:
    """Staff reading their own org's caseload raise no bulk-read alert unless own_org is set."""
    found = register(3)
    alerting.use_rules(session, AlertRules(bulk_reads=BulkReads(distinct_people=2)))
    _read(session, tables, found, Purpose.OUTREACH)
    assert _alerts(session, "bulk_reads") == []
    alerting.use_rules(session, AlertRules(bulk_reads=BulkReads(distinct_people=2, own_org=True)))
    _read(session, tables, found[:1], Purpose.OUTREACH)
    [alert] = _alerts(session, "bulk_reads")
    assert alert.details["own_org"] is True
    assert alert.owner_org_id == tables.org_id


def test_a_lists_lines_count_for_the_district_sweep_not_for_bulk_reads(
    session: Session, entraide: Actor, shared: Callable[[int], People]
) -> None:
    """A caseload page's lines are logged as list lines. Asked for one district, a list of 15
    partners' people there is a sweep (where people are was the question); the same lines in an
    ordinary work list (no district asked) are not. Paging through lines is no bulk read of
    records; opening more records than the threshold still is."""
    alerting.use_rules(session, AlertRules(bulk_reads=BulkReads(distinct_people=2)))
    found = shared(15)
    page = case_lists.case_page(session, entraide, Purpose.FOOD_AID, limit=50)
    assert {line.id for line in page.lines} == {case_id for _, case_id in found}
    assert _alerts(session, "district_sweep") == []  # a work list: no district asked
    district = session.scalar(select(Case.area_geohash).where(Case.id == found[0][1]))
    assert district is not None
    located = case_lists.case_page(
        session, entraide, Purpose.FOOD_AID, limit=50, district=district[:5]
    )
    assert len(located.lines) == 15
    lines = session.scalars(
        select(AuditEntry.event).where(AuditEntry.actor_user_id == entraide.user_id)
    ).all()
    assert lines.count(AuditEvent.ACCESS_LIST) == 30
    [sweep] = _alerts(session, "district_sweep")
    assert sweep.details["distinct_people"] == 15
    assert _alerts(session, "bulk_reads") == []
    _read(session, entraide, found[:3], Purpose.FOOD_AID)
    [bulk] = _alerts(session, "bulk_reads")
    assert bulk.details["distinct_people"] == 3


# -- denial burst (real default thresholds) ------------------------------------------------------


def test_denial_burst_fires_at_10_denials(
    session: Session, entraide: Actor, register: Callable[[int], People]
) -> None:
    """10 refused decisions for one user within 10 minutes raise a denial-burst alert."""
    [(_, case_id)] = register(1)
    for _ in range(9):
        _refused(session, entraide, case_id, Purpose.FOOD_AID)
    assert _alerts(session, "denial_burst") == []
    _refused(session, entraide, case_id, Purpose.FOOD_AID)
    [alert] = _alerts(session, "denial_burst")
    assert alert.actor_user_id == entraide.user_id
    assert alert.details == {
        "denials": 10,
        "threshold": 10,
        "window_minutes": 10,
        "owner_orgs": 1,
    }
    assert len(alert.entry_seqs) == 10


def test_a_caseload_walking_past_refused_partner_cases_is_no_denial_burst(
    session: Session, entraide: Actor
) -> None:
    """Listing a caseload is not a burst of denials: the partners' cases the list leaves out
    (visible to the org, released for nothing) are logged as omitted and not counted, while the
    same user's refused reads of those cases still are (at the default threshold of 10)."""
    metro = organisations.create_organisation(session, "metropole", "Métropole", OrgKind.COUNCIL)
    council = _staff(session, metro)
    case_ids = []
    for i in range(12):
        [found] = people.intake(
            session,
            council,
            Purpose.OUTREACH,
            [intake_record(identity(family_name=f"Listed{i}", birth_date=date(1980, 1, 1 + i)))],
        )
        assert found.case_id is not None
        case_ids.append(found.case_id)
        # Consented to food aid by entraide: Métropole's policy releases nothing for it.
        consents.record_consent(
            session,
            council,
            Purpose.OUTREACH,
            found.person_id,
            ConsentIn(purposes=(Purpose.FOOD_AID,), recipient_org_ids=(entraide.org_id,)),
        )
    before = session.scalar(select(func.max(AuditEntry.seq)))
    for _ in range(2):
        assert case_lists.case_page(session, entraide, Purpose.FOOD_AID).lines == []
    omitted = session.scalars(
        select(AuditEntry.event).where(
            AuditEntry.seq > before, AuditEntry.decision == Decision.DENY
        )
    ).all()
    assert omitted == [AuditEvent.ACCESS_OMITTED] * 24  # every left-out row is logged
    assert _alerts(session, "denial_burst") == []
    for case_id in case_ids[:10]:
        _refused(session, entraide, case_id, Purpose.FOOD_AID)
    [alert] = _alerts(session, "denial_burst")
    assert alert.details["denials"] == 10


def test_denial_burst_stays_quiet_at_9_denials(
    session: Session, entraide: Actor, entraide_org: Organisation, register: Callable[[int], People]
) -> None:
    """9 refusals for one user (and more for a colleague) raise no denial-burst alert for them."""
    [(_, case_id)] = register(1)
    colleague = _staff(session, entraide_org)
    for _ in range(9):
        _refused(session, entraide, case_id, Purpose.FOOD_AID)
        _refused(session, colleague, case_id, Purpose.FOOD_AID)
    assert _alerts(session, "denial_burst") == []


def test_a_second_burst_in_the_window_raises_no_second_alert(
    session: Session, entraide: Actor, register: Callable[[int], People]
) -> None:
    """While an open alert for the user is within the window, the same rule is not raised again."""
    [(_, case_id)] = register(1)
    for _ in range(25):
        _refused(session, entraide, case_id, Purpose.FOOD_AID)
    [alert] = _alerts(session, "denial_burst")
    assert alert.details["denials"] == 10


def test_a_burst_after_review_or_after_the_window_raises_again(
    session: Session, entraide: Actor, register: Callable[[int], People]
) -> None:
    """Dedupe holds only for an OPEN alert created within the rule's window."""
    alerting.use_rules(session, AlertRules(denial_burst=DenialBurst(denials=2)))
    [(_, case_id)] = register(1)
    for _ in range(2):
        _refused(session, entraide, case_id, Purpose.FOOD_AID)
    [first] = _alerts(session, "denial_burst")
    first.status = AlertStatus.CLOSED  # reviewed
    _refused(session, entraide, case_id, Purpose.FOOD_AID)
    assert len(_alerts(session, "denial_burst")) == 2
    for alert in _alerts(session, "denial_burst"):
        alert.status = AlertStatus.OPEN
        alert.created_at -= timedelta(minutes=11)  # open, but older than the window
    _refused(session, entraide, case_id, Purpose.FOOD_AID)
    assert len(_alerts(session, "denial_burst")) == 3


def test_district_sweep_is_deduplicated_per_district(
    session: Session, entraide: Actor, shared: Callable[[int], People]
) -> None:
    """A sweep going on raises one alert per (org, district), not one per further read."""
    alerting.use_rules(session, AlertRules(district_sweep=DistrictSweep(distinct_people=2)))
    found = shared(5)
    _read(session, entraide, found, Purpose.FOOD_AID)
    _read(session, entraide, found, Purpose.FOOD_AID)
    [alert] = _alerts(session, "district_sweep")
    assert alert.details["distinct_people"] == 2


# -- forbidden purpose, break-glass, non-owner export: always ------------------------------------


def test_a_forbidden_purpose_attempt_raises_an_alert(
    session: Session, entraide: Actor, tables: Actor, register: Callable[[int], People]
) -> None:
    """Threat 4: a single enforcement request is refused and raises a forbidden-purpose alert."""
    [(person_id, case_id)] = register(1)
    _refused(session, entraide, case_id, Purpose.ENFORCEMENT)
    [alert] = _alerts(session, "forbidden_purpose")
    assert (alert.actor_user_id, alert.actor_org_id) == (entraide.user_id, entraide.org_id)
    assert (alert.owner_org_id, alert.person_id) == (tables.org_id, person_id)
    assert alert.details["purposes"] == ["enforcement"]
    assert alert.details["decisions"] == ["deny"]
    [seq] = alert.entry_seqs
    body = session.scalar(select(AuditEntry.body).where(AuditEntry.seq == int(seq)))
    assert body is not None
    assert b"platform.forbidden_purpose" in body


def test_a_refusal_for_an_allowed_purpose_raises_no_forbidden_purpose_alert(
    session: Session, entraide: Actor, register: Callable[[int], People]
) -> None:
    """A refused read for a permitted purpose (no consent) is no forbidden-purpose attempt."""
    [(_, case_id)] = register(1)
    _refused(session, entraide, case_id, Purpose.FOOD_AID)
    assert _alerts(session, "forbidden_purpose") == []


@pytest.fixture
def responder(session: Session) -> Actor:
    org = organisations.create_organisation(session, "emsp", "EMSP", OrgKind.HEALTH)
    return _staff(session, org, Role.BREAK_GLASS_RESPONDER)


def test_opening_a_break_glass_raises_an_alert(
    session: Session, responder: Actor, register: Callable[[int], People]
) -> None:
    """Every break-glass window opened raises an alert at once, naming the person's pseudonym."""
    [(person_id, case_id)] = register(1)
    breakglass.start(session, responder, person_id, "Found unconscious at the station, no ID.")
    cases.read_case(session, responder, Purpose.VITAL_INTEREST, case_id)
    [alert] = [a for a in _alerts(session, "break_glass") if a.owner_org_id == responder.org_id]
    assert (alert.actor_user_id, alert.person_id) == (responder.user_id, person_id)
    assert alert.details["decisions"] == ["none"]  # opened (an attempt refused says "deny")
    assert alert.details["events"] == ["break_glass.start"]
    assert "unconscious" not in json.dumps(alert.details)  # the justification stays sealed


def test_the_break_glass_alert_reaches_the_org_whose_records_are_read(
    session: Session,
    responder: Actor,
    tables: Actor,
    tables_org: Organisation,
    register: Callable[[int], People],
) -> None:
    """Every org holding the person's records gets the break-glass alert at once, and its own
    auditors see it; the responder's org gets its own (finding 4 of the attacker review)."""
    [(person_id, _case_id)] = register(1)
    breakglass.start(session, responder, person_id, "Found unconscious at the station, no ID.")
    owners = {a.owner_org_id for a in _alerts(session, "break_glass")}
    assert owners == {responder.org_id, tables_org.id}
    auditor = _staff(session, tables_org, Role.AUDITOR)
    seen = alerts.list_alerts(session, auditor)
    assert [a.person_id for a in seen if a.rule == "break_glass"] == [person_id]


def test_no_break_glass_alert_without_a_break_glass(
    session: Session, responder: Actor, register: Callable[[int], People]
) -> None:
    """A vital-interest read without an open window is refused and raises no break-glass alert."""
    [(_, case_id)] = register(1)
    _refused(session, responder, case_id, Purpose.VITAL_INTEREST)
    assert _alerts(session, "break_glass") == []


def test_a_break_glass_attempt_without_the_role_raises_an_alert(
    session: Session, entraide: Actor, register: Callable[[int], People]
) -> None:
    """A refused break-glass (no responder role) is an alert too: someone tried."""
    [(person_id, _)] = register(1)
    with pytest.raises(access.AccessRefused) as caught:
        breakglass.start(session, entraide, person_id, "He collapsed, unconscious, no ID.")
    access.record_denial(session, caught.value)
    [alert] = _alerts(session, "break_glass")
    assert alert.details["decisions"] == ["deny"]


def _export(session: Session, actor: Actor, owner: uuid.UUID, decision: Decision) -> None:
    entry = auditlog.EntryIn(
        event=AuditEvent.ACCESS_EXPORT,
        record_type=RecordType.CASE_LIST,
        owner_org_id=owner,
        purpose=Purpose.AGGREGATE_STATISTICS.value,
        decision=decision,
        result_count=12,
    )
    auditlog.append(session, actor, [entry])


@pytest.mark.parametrize("decision", [Decision.ALLOW, Decision.DENY])
def test_an_export_of_another_orgs_records_raises_an_alert(
    session: Session, entraide: Actor, tables: Actor, decision: Decision
) -> None:
    """Any export of records owned by another org, allowed or refused, raises an alert."""
    _export(session, entraide, tables.org_id, decision)
    [alert] = _alerts(session, "non_owner_export")
    assert (alert.actor_org_id, alert.owner_org_id) == (entraide.org_id, tables.org_id)
    assert alert.details["decisions"] == [decision]


def test_an_org_exporting_its_own_records_raises_no_alert(session: Session, tables: Actor) -> None:
    """An org exporting its own records is no non-owner export."""
    _export(session, tables, tables.org_id, Decision.ALLOW)
    assert _alerts(session, "non_owner_export") == []


# -- log integrity -------------------------------------------------------------------------------


def test_a_failed_verify_raises_one_integrity_alert_per_problem(
    session: Session, tables: Actor, register: Callable[[int], People]
) -> None:
    """`audit verify` failing raises a log-integrity alert naming the bad entry, once."""
    register(2)
    assert integrity.verify(session).ok
    assert _alerts(session, "log_integrity") == []  # an intact log: nothing to raise
    seq = session.scalar(select(func.max(AuditEntry.seq)))
    assert seq is not None
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL session_replication_role = replica"))
    body = session.scalar(select(AuditEntry.body).where(AuditEntry.seq == seq))
    assert body is not None
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.seq == seq)
        .values(body=body.replace(b'"salt":"', b'"salt":"0'))
    )
    problem = integrity.verify(session).problem
    assert problem is not None
    alert = alerting.raise_integrity_alert(session, problem.seq, problem.kind, problem.reason)
    again = alerting.raise_integrity_alert(session, problem.seq, problem.kind, problem.reason)
    assert again is alert
    assert alert.rule == "log_integrity"
    assert alert.entry_seqs == [str(seq)]
    assert alert.details["kind"] == problem.kind
    assert (alert.actor_org_id, alert.owner_org_id) == (None, None)  # platform auditors only
    other = alerting.raise_integrity_alert(
        session, None, "head", "the log is shorter than its head"
    )
    assert other is not alert  # another problem, another alert
    assert other.entry_seqs == []


# -- review and listing --------------------------------------------------------------------------


@pytest.fixture
def sweep(session: Session, entraide: Actor, shared: Callable[[int], People]) -> AuditAlert:
    """An open district-sweep alert: entraide read tables-du-coeur's people of one district."""
    alerting.use_rules(session, AlertRules(district_sweep=DistrictSweep(distinct_people=2)))
    _read(session, entraide, shared(2), Purpose.FOOD_AID)
    [alert] = _alerts(session, "district_sweep")
    return alert


NOTE = "Checked with Mme Lefèvre: food-aid round of the Part-Dieu team, justified."


def test_an_auditor_reviews_an_alert_with_a_sealed_note(
    session: Session, tables_org: Organisation, sweep: AuditAlert
) -> None:
    """An org auditor reviews its org's alert; the note is sealed and the review logged."""
    auditor = _staff(session, tables_org, Role.AUDITOR)
    reviewed = alerts.review(session, auditor, sweep.id, AlertStatus.JUSTIFIED, NOTE)
    assert reviewed.status is AlertStatus.JUSTIFIED
    assert reviewed.reviewer_id == auditor.user_id
    assert reviewed.reviewed_at is not None
    sealed = reviewed.review_note_ciphertext
    assert sealed is not None
    assert b"Lef" not in sealed
    assert b"Part-Dieu" not in sealed
    stored = session.scalar(
        select(AuditAlert.review_note_ciphertext).where(AuditAlert.id == sweep.id)
    )
    assert stored == sealed  # what the database holds is the ciphertext
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.event == "alert.review").order_by(AuditEntry.seq)
    ).one()
    assert entry.actor_user_id == auditor.user_id
    assert b'"status":"justified"' in entry.body
    assert str(sweep.id).encode() in entry.body
    assert b"Lef" not in entry.body  # the note never reaches the log
    assert alerts.read_review_note(session, auditor, sweep.id) == NOTE
    assert session.scalars(
        select(AuditEntry.seq).where(AuditEntry.event == "alert.note.read")
    ).all()


def test_an_unreviewed_alert_has_no_note(
    session: Session, tables_org: Organisation, sweep: AuditAlert
) -> None:
    auditor = _staff(session, tables_org, Role.AUDITOR)
    assert alerts.read_review_note(session, auditor, sweep.id) is None
    body = session.scalars(
        select(AuditEntry.body).where(AuditEntry.event == "alert.note.read")
    ).one()
    assert b'"count":0' in body


def test_an_auditor_of_another_org_gets_not_found(session: Session, sweep: AuditAlert) -> None:
    """An org auditor cannot review (or learn of) an alert not about its org."""
    other = organisations.create_organisation(session, "metropole", "Métropole", OrgKind.COUNCIL)
    auditor = _staff(session, other, Role.AUDITOR)
    with pytest.raises(NotFound):
        alerts.review(session, auditor, sweep.id, AlertStatus.CLOSED, "not mine")
    with pytest.raises(NotFound):
        alerts.read_review_note(session, auditor, sweep.id)
    assert sweep.status is AlertStatus.OPEN


def test_the_actor_orgs_auditor_may_review_but_not_read_anothers_note(
    session: Session, tables_org: Organisation, entraide_org: Organisation, sweep: AuditAlert
) -> None:
    """The swept and sweeping orgs' auditors both see the alert; a note opens for its org only."""
    theirs = _staff(session, entraide_org, Role.AUDITOR)
    ours = _staff(session, tables_org, Role.AUDITOR)
    alerts.review(session, theirs, sweep.id, AlertStatus.ESCALATED, "Asked the team lead why.")
    with pytest.raises(access.AccessRefused):
        alerts.read_review_note(session, ours, sweep.id)
    assert alerts.read_review_note(session, theirs, sweep.id) == "Asked the team lead why."
    alerts.review(session, ours, sweep.id, AlertStatus.CLOSED, NOTE)
    assert sweep.status is AlertStatus.CLOSED


def test_only_auditors_review_alerts(
    session: Session, tables: Actor, tables_org: Organisation, sweep: AuditAlert
) -> None:
    """A non-auditor is refused (and the refusal logged); a platform auditor reviews any alert."""
    with pytest.raises(access.AccessRefused) as caught:
        alerts.review(session, tables, sweep.id, AlertStatus.CLOSED, "closing it myself")
    access.record_denial(session, caught.value)
    refusal = session.scalars(
        select(AuditEntry).where(AuditEntry.event == "alert.review", AuditEntry.decision == "deny")
    ).one()
    assert refusal.actor_user_id == tables.user_id
    assert sweep.status is AlertStatus.OPEN
    platform = organisations.create_organisation(session, "platform", "Plateforme", OrgKind.OTHER)
    auditor = _staff(session, platform, Role.PLATFORM_AUDITOR)
    alerts.review(session, auditor, sweep.id, AlertStatus.CLOSED, NOTE)
    assert sweep.status is AlertStatus.CLOSED


def test_a_review_needs_a_user_a_note_and_a_final_or_escalated_status(
    session: Session, tables_org: Organisation, sweep: AuditAlert
) -> None:
    """A review is signed by a user, carries a note, and a closed alert stays closed."""
    auditor = _staff(session, tables_org, Role.AUDITOR)
    anonymous = Actor(None, tables_org.id, tables_org.kind, frozenset({Role.AUDITOR}), "cli")
    with pytest.raises(PermissionDenied):
        alerts.review(session, anonymous, sweep.id, AlertStatus.CLOSED, NOTE)
    with pytest.raises(ValidationFailed):
        alerts.review(session, auditor, sweep.id, AlertStatus.OPEN, NOTE)
    with pytest.raises(ValidationFailed):
        alerts.review(session, auditor, sweep.id, AlertStatus.CLOSED, "   ")
    alerts.review(session, auditor, sweep.id, AlertStatus.CLOSED, NOTE)
    with pytest.raises(Conflict):
        alerts.review(session, auditor, sweep.id, AlertStatus.ESCALATED, NOTE)
    assert alerts.read_review_note(session, auditor, sweep.id) == NOTE


def test_alert_lists_are_scoped_and_logged(
    session: Session,
    tables: Actor,
    tables_org: Organisation,
    entraide_org: Organisation,
    sweep: AuditAlert,
) -> None:
    """Org auditors list alerts about their org; platform auditors all; each view is logged."""
    other = organisations.create_organisation(session, "metropole", "Métropole", OrgKind.COUNCIL)
    _export(session, _staff(session, other), entraide_org.id, "deny")  # about entraide only
    integrity = alerting.raise_integrity_alert(session, 3, "body", "entry 3 changed")
    platform = organisations.create_organisation(session, "platform", "Plateforme", OrgKind.OTHER)

    def listed(actor: Actor, status: AlertStatus | None = None) -> set[uuid.UUID]:
        return {a.id for a in alerts.list_alerts(session, actor, status)}

    export = _alerts(session, "non_owner_export")[0]
    assert listed(_staff(session, tables_org, Role.AUDITOR)) == {sweep.id}
    assert listed(_staff(session, entraide_org, Role.AUDITOR)) == {sweep.id, export.id}
    assert listed(_staff(session, other, Role.AUDITOR)) == {export.id}
    everyone = _staff(session, platform, Role.PLATFORM_AUDITOR)
    assert listed(everyone) == {sweep.id, export.id, integrity.id}
    assert listed(everyone, AlertStatus.CLOSED) == set()
    views = session.scalars(
        select(AuditEntry.body).where(AuditEntry.event == "audit.view").order_by(AuditEntry.seq)
    ).all()
    assert len(views) == 5
    assert b'"count":3' in views[3]
    assert b'"count":0' in views[4]
    with pytest.raises(access.AccessRefused):
        alerts.list_alerts(session, tables)


def test_alert_rules_come_from_the_policies_directory(session: Session) -> None:
    """With no override, the thresholds are those of policies/alerts.yaml (the defaults)."""
    alerting.use_rules(session, AlertRules(bulk_reads=BulkReads(distinct_people=1)))
    assert alerting.rules_of(session).bulk_reads.distinct_people == 1
    alerting.use_rules(session, None)
    assert alerting.rules_of(session) == AlertRules()


def test_a_session_not_opened_by_the_runtime_cannot_evaluate() -> None:
    with pytest.raises(ConfigurationError):
        alerting.rules_of(Session())
