"""Migration 0017: need statuses gain not met and withdrawn, and the former `declined` is kept as
`withdrawn`; the downgrade gives `declined` back (the one former end state that was not met)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from databank import db_schema
from databank.db import create_engine
from databank.domain.enums import NeedStatus, OrgKind, Purpose, Role
from databank.domain.vocab import NeedCategory
from databank.models import Need
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import IntakeRecord, NeedIn
from databank.services.records import lifecycle, people
from tests.factories import case, identity
from tests.support import fresh_postgres_database, migrated_runtime, postgres_url


def _statuses(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT category, status FROM needs")).all()
    return {str(category): str(status) for category, status in rows}


def test_need_statuses_go_down_and_up_again(tmp_path: Path) -> None:
    base = postgres_url()
    url = (
        fresh_postgres_database(base, "databank_migration_lifecycle")
        if base
        else f"sqlite:///{tmp_path / 'm.sqlite'}"
    )
    runtime = migrated_runtime(url, tmp_path / "instance")
    with runtime.transaction() as session:
        org = organisations.create_organisation(session, "mig", "Mig", OrgKind.CHARITY)
        actor = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")
        needs = (
            NeedIn(NeedCategory.FOOD),
            NeedIn(NeedCategory.SHELTER),
            NeedIn(NeedCategory.LEGAL),
        )
        [found] = people.intake(
            session, actor, Purpose.OUTREACH, [IntakeRecord(identity(), case(), needs)]
        )
        assert found.case_id is not None
        wanted = {
            NeedCategory.FOOD: NeedStatus.MET,
            NeedCategory.SHELTER: NeedStatus.WITHDRAWN,
            NeedCategory.LEGAL: NeedStatus.NOT_MET,
        }
        for need in session.scalars(sa.select(Need).where(Need.case_id == found.case_id)):
            lifecycle.change_need(
                session, actor, Purpose.OUTREACH, found.case_id, need.id, wanted[need.category]
            )
        lifecycle.close_case(session, actor, Purpose.OUTREACH, found.case_id, "housed", "owned")
    runtime.dispose()
    engine = create_engine(url)
    db_schema.downgrade(engine, "0016")
    assert _statuses(engine) == {"food": "met", "shelter": "declined", "legal": "declined"}
    tables = sa.inspect(engine).get_table_names()
    assert "case_events" not in tables
    assert "identity_changes" not in tables
    db_schema.upgrade(engine)
    assert _statuses(engine) == {"food": "met", "shelter": "withdrawn", "legal": "withdrawn"}
    assert db_schema.current_revision(engine) == db_schema.head_revision()
    # The CHECK takes the new values and refuses the old one.
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE needs SET status = 'not_met' WHERE category = 'legal'"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE needs SET status = 'declined' WHERE category = 'legal'"))
    except sa.exc.IntegrityError:
        pass
    else:
        raise AssertionError("the CHECK still takes 'declined'")
    engine.dispose()
