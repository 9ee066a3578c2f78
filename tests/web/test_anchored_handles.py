"""Issue 16: the registering organisation never learns whether another organisation knows the
person. Linkage merging two pooled persons (the older pseudonym kept) must change none of the
handles either organisation sees, on its own records or on the other's shared case.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from databank.domain.enums import OrgKind, Purpose, Role
from databank.models import Organisation, Person
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import ConsentIn
from databank.services.linkage import clusters
from databank.services.records import consents
from databank.services.runtime import Runtime
from tests.web.conftest import PASSWORD, csrf, login

ORGS = {"entraide": OrgKind.CHARITY, "metropole": OrgKind.COUNCIL}
# The same person as each organisation spells them: no exact token in common, so each
# registration makes its own pooled person until linkage merges them.
SPELLINGS = {
    "entraide": {"given_name": "Mohamed", "family_name": "Benali", "birth_date": "1984-06-01"},
    "metropole": {"given_name": "Mohammed", "family_name": "Ben Ali", "birth_date": "1984-01-06"},
}
HANDLE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass
class Registered:
    pooled: uuid.UUID
    handle: str  # the registration's answer
    case_id: str


@pytest.fixture(scope="module")
def orgs(web_runtime: Runtime) -> dict[str, uuid.UUID]:
    with web_runtime.transaction() as session:
        made = {}
        for slug, kind in ORGS.items():
            org = organisations.create_organisation(session, slug, slug.title(), kind)
            organisations.create_user(
                session, org, f"worker@{slug}", "Worker", PASSWORD, [Role.OUTREACH_WORKER]
            )
            organisations.create_user(
                session, org, f"auditor@{slug}", "Auditor", PASSWORD, [Role.AUDITOR]
            )
            made[slug] = org.id
    return made


def _signed_in(app: Flask, username: str) -> tuple[FlaskClient, dict[str, str]]:
    client = app.test_client()
    assert login(client, username) == 302
    return client, {"X-CSRF-Token": csrf(client, "/account/tokens/")}


def _register(app: Flask, runtime: Runtime, slug: str, suffix: str) -> Registered:
    client, headers = _signed_in(app, f"worker@{slug}")
    who = {**SPELLINGS[slug], "family_name": SPELLINGS[slug]["family_name"] + suffix}
    answer = client.post("/api/v1/people", json={"identity": who, "case": {}}, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    with runtime.transaction() as session:
        pooled = session.scalars(
            select(Person.id).order_by(Person.created_at.desc(), Person.id).limit(1)
        ).one()
    return Registered(pooled, body["person_id"], body["case_id"])


def _seen(app: Flask, slug: str, own: Registered, other: Registered) -> dict[str, object]:
    """Every handle of the person the organisation's worker and auditor are shown, and whether
    its pages open: the registration's answer aside, its API documents, its outreach pages, its
    view of the other organisation's shared case, its auditor's console."""
    worker, _ = _signed_in(app, f"worker@{slug}")
    listed = worker.get("/api/v1/cases?own_only=true").get_json()["cases"]
    [own_listed] = [c["person_id"] for c in listed if c["id"] == own.case_id]
    own_case = worker.get(f"/api/v1/cases/{own.case_id}").get_json()["person_id"]
    shared = worker.get(f"/api/v1/cases/{other.case_id}")
    assert shared.status_code == 200, shared.get_json()
    home = worker.get("/outreach/").get_data(as_text=True)
    contacts = sorted(set(re.findall(rf'href="/outreach/people/({HANDLE})"', home)))
    person_page = worker.get(f"/outreach/people/{own_case}")
    links = sorted(set(re.findall(rf"/outreach/people/({HANDLE})", person_page.get_data(True))))
    auditor, _ = _signed_in(app, f"auditor@{slug}")
    history = auditor.get(f"/api/v1/audit/people/{own_case}/history")
    history_page = auditor.get(f"/audit/people/{own_case}")
    in_log = sorted({e["person_id"] for e in history.get_json()["entries"]})
    return {
        "own case listed": own_listed,
        "own case": own_case,
        "the other org's shared case": shared.get_json()["person_id"],
        "outreach contacts": contacts,
        "person page links": links,
        "person page opens": person_page.status_code,
        "auditor's history": history.status_code,
        "auditor's history page": history_page.status_code,
        "auditor's history names": in_log,
    }


@pytest.mark.parametrize("older", ["entraide", "metropole"])
def test_a_merge_with_another_orgs_person_changes_no_handle_the_org_sees(
    app: Flask, web_runtime: Runtime, orgs: dict[str, uuid.UUID], older: str
) -> None:
    """Rule (issue 16): an organisation never learns whether another organisation knows the
    person: linkage merging the pooled person it registered with another organisation's (older
    or newer) changes no handle it is shown, its pages still open, and a handle from the other
    organisation's screens still finds nobody."""
    newer = next(slug for slug in ORGS if slug != older)
    suffix = f"-{older}"
    regs = {older: _register(app, web_runtime, older, suffix)}
    regs[newer] = _register(app, web_runtime, newer, suffix)
    assert regs[older].pooled != regs[newer].pooled  # not pooled by the exact token
    # Each shares its case with the other: each sees the other's record of the person too.
    with web_runtime.transaction() as session:
        for slug, reg in regs.items():
            other = next(s for s in ORGS if s != slug)
            org = session.get(Organisation, orgs[slug])
            assert org is not None
            actor = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}))
            consents.record_consent(
                session,
                actor,
                Purpose.OUTREACH,
                reg.pooled,
                ConsentIn(purposes=(Purpose.OUTREACH,), recipient_org_ids=(orgs[other],)),
            )
    before = {
        slug: _seen(app, slug, regs[slug], regs[o])
        for slug, o in (("entraide", "metropole"), ("metropole", "entraide"))
    }
    for slug, seen in before.items():
        assert seen["own case"] == seen["own case listed"] == regs[slug].handle
        assert regs[slug].handle in seen["outreach contacts"]  # type: ignore[operator]
        assert seen["person page opens"] == 200
        assert seen["auditor's history"] == seen["auditor's history page"] == 200

    with web_runtime.transaction() as session:
        kept = clusters.merge(session, regs["entraide"].pooled, regs["metropole"].pooled)
    assert kept == regs[older].pooled  # the older pseudonym stays

    after = {
        slug: _seen(app, slug, regs[slug], regs[o])
        for slug, o in (("entraide", "metropole"), ("metropole", "entraide"))
    }
    assert after == before
    # A handle from the other organisation's screens finds nobody.
    for slug, other in (("entraide", "metropole"), ("metropole", "entraide")):
        worker, _ = _signed_in(app, f"worker@{slug}")
        assert worker.get(f"/outreach/people/{regs[other].handle}").status_code == 404
        shared = str(before[other]["the other org's shared case"])
        assert worker.get(f"/outreach/people/{shared}").status_code == 404
