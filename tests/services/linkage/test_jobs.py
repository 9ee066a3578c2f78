"""A registration's new subject is linked once the registration commits, by a background job
(huey; run at once here), and never when it rolls back."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from databank import jobs
from databank.domain.enums import OrgKind, Role
from databank.models import Subject
from databank.models.linkage import LinkageRecord
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.runtime import Runtime
from tests.services.linkage.test_runs import BEN_ALI, BENALI, _background, _register
from tests.support import scratch_runtime


@pytest.fixture
def queued(tmp_path: Path) -> Iterator[tuple[Runtime, jobs.Jobs]]:
    runtime = scratch_runtime("databank_jobs", tmp_path)
    runtime.settings = dataclasses.replace(runtime.settings, jobs="immediate")
    queue = jobs.attach(runtime)
    assert queue is not None
    yield runtime, queue
    runtime.dispose()


def _actors(runtime: Runtime) -> list[Actor]:
    with runtime.transaction() as session:
        orgs = [
            organisations.create_organisation(session, f"o{i}", f"O{i}", OrgKind.CHARITY)
            for i in range(3)
        ]
        return [Actor(None, o.id, o.kind, frozenset({Role.OUTREACH_WORKER})) for o in orgs]


def test_a_registration_is_linked_once_it_commits(queued: tuple[Runtime, jobs.Jobs]) -> None:
    runtime, queue = queued
    first, second, third = _actors(runtime)
    with queue.suspend(), runtime.transaction() as session:
        _background(session, third)  # a bulk load links in a batch run, not job by job
    with runtime.transaction() as session:
        one = _register(session, first, BENALI)
    with runtime.transaction() as session:
        two = _register(session, second, BEN_ALI)
        # Not before the commit: the job runs after it.
        assert session.scalar(select(Subject.person_id).where(Subject.id == two.subject_id)) == (
            two.person_id
        )
    with runtime.transaction() as session:
        person = session.scalar(select(Subject.person_id).where(Subject.id == two.subject_id))
        linked = session.scalar(
            select(LinkageRecord.linked_at).where(LinkageRecord.subject_id == two.subject_id)
        )
    assert person == one.person_id
    assert linked is not None


def test_a_rolled_back_registration_queues_nothing(
    queued: tuple[Runtime, jobs.Jobs], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime, queue = queued
    first, _second, _third = _actors(runtime)
    ran: list[str] = []
    monkeypatch.setattr(queue, "enqueue", lambda subjects, _fixed: ran.extend(map(str, subjects)))

    class Stop(Exception):
        pass

    def register_then_fail() -> None:
        with runtime.transaction() as session:
            _register(session, first, BENALI)
            raise Stop

    with pytest.raises(Stop):
        register_then_fail()
    with runtime.transaction() as session:
        _register(session, first, BENALI)  # the next commit queues its own subject only
        held = session.scalars(select(Subject.id).where(Subject.org_id == first.org_id)).all()
    assert ran == [str(s) for s in held]


def test_jobs_are_off_in_tests_and_queued_in_sqlite_by_default(tmp_path: Path) -> None:
    from databank.config import Settings

    assert Settings.from_env({}, instance_path=tmp_path, testing=True).jobs == "off"
    assert Settings.from_env({}, instance_path=tmp_path).jobs == "sqlite"
    env = {"DATABANK_JOBS": "redis://127.0.0.1:6379/0"}
    assert Settings.from_env(env, instance_path=tmp_path).jobs.startswith("redis://")
    from databank.domain.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="DATABANK_JOBS"):
        Settings.from_env({"DATABANK_JOBS": "cron"}, instance_path=tmp_path)
