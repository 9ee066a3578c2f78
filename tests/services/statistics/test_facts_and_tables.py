"""The statistics service on a real database: the facts kept by the services that write, counts
of distinct pooled people (merges and splits included), the contribution policy, the role gate,
the privacy budget and the log (what was asked, never what was counted)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from databank.analytics import disclosure, tables
from databank.config import DEMO_AREAS_FILE
from databank.domain.areas_file import load_areas
from databank.domain.audit_vocab import AuditEvent
from databank.domain.enums import OrgKind, Purpose, Role
from databank.domain.vocab import NeedCategory
from databank.models import AuditEntry, Organisation, PrivacySpend, StatFact, Subject, User
from databank.services import statistics
from databank.services.access import AccessRefused
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import IntakeRecord, NeedIn
from databank.services.keys import erasure
from databank.services.linkage import clusters
from databank.services.records import people
from databank.services.statistics import queries
from tests.factories import case, identity, intake_record

THIS_MONTH = date(datetime.now(UTC).year, datetime.now(UTC).month, 1)
NOW = statistics.Period(THIS_MONTH, THIS_MONTH, statistics.Granularity.MONTH)


def _org(session: Session, slug: str, kind: OrgKind = OrgKind.CHARITY) -> Organisation:
    return organisations.create_organisation(session, slug, slug.title(), kind)


def _officer(session: Session, org: Organisation) -> Actor:
    user = User(
        org_id=org.id,
        username=f"officer-{uuid.uuid4().hex[:8]}",
        display_name="Officer",
        password_hash="-",
    )
    session.add(user)
    session.flush()
    return Actor(user.id, org.id, org.kind, frozenset({Role.HOUSING_OFFICER}), "test")


def _register(session: Session, org: Organisation, count: int, **who: object) -> list[uuid.UUID]:
    worker = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")
    records = [
        intake_record(identity(given_name=f"Person{org.slug}{n}", **who)) for n in range(count)
    ]
    done = people.intake(session, worker, Purpose.OUTREACH, records)
    session.commit()  # the facts are kept just before a commit
    return [r.subject_id for r in done if r.subject_id]


def _people(session: Session, dimensions: tuple[str, ...] = ("need",)) -> tables.Counts:
    """The true counts behind a table (never released as such)."""
    request = statistics.TableRequest(dimensions, {}, NOW)
    return tables.count(
        queries._frame(session, request, NOW),
        tables.TableQuery(dimensions),
        queries._categories(request, NOW),
    )


def test_intake_writes_coarse_facts_named_by_tokens_only(session: Session) -> None:
    org = _org(session, "metropole", OrgKind.COUNCIL)
    [subject_id] = _register(session, org, 1)
    rows = session.scalars(select(StatFact).order_by(StatFact.need)).all()
    assert [r.need for r in rows] == ["food", "shelter"]  # the case's need and the encounter's
    fact = rows[0]
    assert fact.month == THIS_MONTH
    assert (fact.need_status, fact.sex, fact.living, fact.hud_living) == (
        "open", "female", "roofless", "homeless",
    )  # fmt: skip
    assert fact.age_band == "35_44"  # born 1987-03-14
    assert fact.org_kind == "council"
    subject = session.get(Subject, subject_id)
    assert subject is not None
    for token in (fact.subject_token, fact.person_token):
        assert len(token) == 16
        assert token not in (subject_id.bytes, subject.person_id.bytes)


def test_distinct_people_before_and_after_a_merge_and_a_split(session: Session) -> None:
    """Two organisations' records of one person: two people until linkage merges them, one
    after, two again after a split; the table counts people, not records."""
    metro, charity = _org(session, "metropole", OrgKind.COUNCIL), _org(session, "entraide")
    [council_record] = _register(session, metro, 1)
    [charity_record] = _register(session, charity, 1)
    assert _people(session).people == 2
    first, second = (session.get(Subject, s) for s in (council_record, charity_record))
    assert first is not None
    assert second is not None
    clusters.merge(session, first.person_id, second.person_id)
    session.commit()
    merged = _people(session)
    assert merged.people == 1
    assert merged.cells[(tables.ALL, NeedCategory.FOOD.value)] == 1
    clusters.split(session, [charity_record])
    session.commit()
    assert _people(session).people == 2


def test_only_organisations_whose_policy_permits_contribute(session: Session) -> None:
    """Métropole's policy permits `contribute`; the health team's (emsp) does not."""
    _register(session, _org(session, "metropole", OrgKind.COUNCIL), 3)
    _register(session, _org(session, "emsp", OrgKind.HEALTH), 4)
    records = select(func.count(func.distinct(StatFact.subject_token)))
    assert session.scalar(records) == 7  # every record has facts; the policy decides at query
    assert _people(session).people == 3


def test_erasure_and_a_moved_need_update_the_facts(session: Session) -> None:
    org = _org(session, "metropole", OrgKind.COUNCIL)
    worker = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")
    record = IntakeRecord(
        identity=identity(),
        case=case(),
        needs=(NeedIn(NeedCategory.FOOD), NeedIn(NeedCategory.HEALTH)),
    )
    [done] = people.intake(session, worker, Purpose.OUTREACH, [record])
    session.commit()
    counts = _people(session)
    assert counts.cells[(tables.ALL, "food")] == counts.cells[(tables.ALL, "health")] == 1
    assert counts.people == 1  # two needs, one person
    assert done.subject_id is not None
    subject = session.get(Subject, done.subject_id)
    assert subject is not None
    admin = Actor(None, org.id, org.kind, frozenset({Role.ORG_ADMIN}), "test")
    erasure.erase_subject(session, admin, Purpose.CASE_MANAGEMENT, done.subject_id)
    session.commit()
    assert _people(session).people == 0


def test_the_role_gate_refuses_outreach_workers(session: Session) -> None:
    org = _org(session, "metropole", OrgKind.COUNCIL)
    worker = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")
    with pytest.raises(AccessRefused):
        statistics.published(session, worker, "needs")


def test_published_tables_are_logged_without_counts(session: Session) -> None:
    org = _org(session, "metropole", OrgKind.COUNCIL)
    _register(session, org, 12)
    officer = _officer(session, org)
    result = statistics.published(session, officer, "needs", NOW)
    # 12 people with a food need and a shelter need each: rounded to the nearest 5; the other
    # needs are true zeros.
    assert result.table.cell(tables.ALL, "food").text == "10"
    assert result.table.cell(tables.ALL, "shelter").mark is disclosure.Mark.ROUNDED
    assert result.table.cell(tables.ALL, "health").text == "0"
    assert result.table.total.text == "10"
    session.flush()
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.event == AuditEvent.STATS_TABLE)
    ).all()[-1]
    body = json.loads(entry.body)
    assert body["extra"]["template"] == "needs"
    # What was asked, nothing of what was counted.
    assert set(body["extra"]) == {"template", "dimensions", "filters", "period", "granularity"}
    assert body.get("result_count") is None
    assert "result_count" not in str(body["extra"])


def test_adhoc_tables_spend_the_budget_then_are_refused(session: Session) -> None:
    org = _org(session, "metropole", OrgKind.COUNCIL)
    _register(session, org, 15)
    officer = _officer(session, org)
    request = statistics.request_from(["need", "sex"], {}, NOW)
    before = statistics.preview(session, officer, request, 0.5)
    assert before.affordable
    assert before.budget.left == 2.0
    assert before.error_95 > 0
    for spent in (0.5, 1.0, 1.5, 2.0):
        result = statistics.adhoc(session, officer, request, 0.5)
        assert result.release_id is not None
        assert result.epsilon == 0.5
        assert statistics.budget(session, officer).spent == spent
    with pytest.raises(statistics.BudgetSpent) as refused:
        statistics.adhoc(session, officer, request, 0.5)
    assert refused.value.status == 409
    assert "budget" in refused.value.message
    assert refused.value.entries[0].rule == "statistics.budget_spent"
    assert session.scalar(select(func.count()).select_from(PrivacySpend)) == 4
    again = statistics.released(session, officer, result.release_id)
    assert again.table == result.table  # the export reads what was released, no new noise


def test_bad_requests_name_the_field() -> None:
    with pytest.raises(statistics.StatsInputError) as bad:
        statistics.request_from(["need", "need"], {}, None)
    assert "dimensions" in bad.value.errors
    with pytest.raises(statistics.StatsInputError) as bad:
        statistics.request_from(["need"], {"sex": ["dragon"]}, None)
    assert "filters.sex" in bad.value.errors
    with pytest.raises(statistics.StatsInputError) as bad:
        statistics.parse_period("month", "2026-13", None)
    assert "start" in bad.value.errors
    with pytest.raises(statistics.StatsInputError) as bad:
        statistics.parse_period("week", None, None)
    assert "granularity" in bad.value.errors


def test_the_area_is_the_district_cells_group_of_areas(session: Session) -> None:
    """Lyon's 1st, 2nd, 4th, 5th and 9th arrondissements share one district cell: nothing finer
    is stored in clear, so they are one category, named by every one of them (and the code
    fits its column on PostgreSQL too)."""
    org = _org(session, "metropole", OrgKind.COUNCIL)
    first = load_areas(DEMO_AREAS_FILE).get("lyon-1")  # the test runtime's areas
    assert first is not None
    worker = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")
    record = IntakeRecord(identity=identity(), case=case(point=None, district=first.cell))
    people.intake(session, worker, Purpose.OUTREACH, [record])
    session.commit()
    [area] = set(session.scalars(select(StatFact.area)))
    assert area == "lyon-1_lyon-2_lyon-4_lyon-5_lyon-9"
    assert area in statistics.categories("area")
    assert (
        statistics.label("area", area, "fr") == "Lyon 1er · Lyon 2e · Lyon 4e · Lyon 5e · Lyon 9e"
    )


def test_the_cached_frame_follows_the_services_writes_without_a_full_load(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Intake, a merge, a split and an erasure each leave a mark naming their records: the
    frame a query uses takes those in and agrees with a full load, which it never does."""
    from databank.services.statistics import snapshot
    from tests.services.statistics.test_snapshot import _canonical, _counting_full_loads

    metro, charity = _org(session, "metropole", OrgKind.COUNCIL), _org(session, "entraide")
    _register(session, metro, 3)
    _people(session)  # the frame is cached
    loads = _counting_full_loads(monkeypatch)

    def agrees() -> None:
        current = snapshot.facts(session)
        assert not loads, "a full load"
        frame, _subjects, people_halves = snapshot._load_all(session)
        loads.clear()
        assert _canonical(current.frame, current.people) == _canonical(frame, people_halves)

    [council_record] = _register(session, metro, 1)
    [charity_record] = _register(session, charity, 1)
    agrees()
    first, second = (session.get(Subject, s) for s in (council_record, charity_record))
    assert first is not None
    assert second is not None
    clusters.merge(session, first.person_id, second.person_id)
    session.commit()
    agrees()
    clusters.split(session, [charity_record])
    session.commit()
    agrees()
    admin = Actor(None, metro.id, metro.kind, frozenset({Role.ORG_ADMIN}), "test")
    erasure.erase_subject(session, admin, Purpose.CASE_MANAGEMENT, council_record)
    session.commit()
    agrees()
    # Métropole's fourth registration had the first one's name (re-registration: the same
    # record), erased now: two of its people are left, and the charity's one.
    assert _people(session).people == 3
    assert not loads
