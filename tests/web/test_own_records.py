"""Issue 16, point 1: an organisation that registered one person twice is offered to merge its own
two records, in the web app and the API; only its own records count (nothing is said of other
organisations), the merge asks for a confirmation, and wrong choices are named 4xx errors."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import OrgKind, Purpose, Role, SubjectStatus
from databank.domain.errors import ValidationFailed
from databank.models import AuditEntry, Organisation, Subject
from databank.services import access
from databank.services.accounts import organisations, tokens
from databank.services.actors import Actor
from databank.services.linkage import clusters
from databank.services.records import own_merge, people
from databank.services.runtime import Runtime
from tests.factories import identity, intake_record
from tests.support import handle_of
from tests.web.conftest import PASSWORD, csrf, login


@dataclass(frozen=True)
class Twice:
    org_id: uuid.UUID
    partner_id: uuid.UUID
    person_id: uuid.UUID  # pooled: stays on the server
    first: uuid.UUID  # entraide's two records (subjects) of the person, oldest first
    second: uuid.UUID
    second_case: uuid.UUID
    stranger: uuid.UUID  # another person entraide holds once
    token: str  # an API token of entraide's housing officer


def _actor(org: Organisation, role: Role) -> Actor:
    return Actor(None, org.id, org.kind, frozenset({role}))


@pytest.fixture(scope="module")
def twice(web_runtime: Runtime) -> Twice:
    with web_runtime.transaction() as session:
        org = organisations.create_organisation(session, "entraide", "Entraide", OrgKind.CHARITY)
        partner = organisations.create_organisation(
            session, "metropole", "Métropole", OrgKind.COUNCIL
        )
        officer = organisations.create_user(
            session, org, "officer@entraide", "Officer", PASSWORD, [Role.HOUSING_OFFICER]
        )
        organisations.create_user(
            session, org, "auditor@entraide", "Auditor", PASSWORD, [Role.AUDITOR]
        )
        organisations.create_user(
            session, partner, "officer@metropole", "Officer", PASSWORD, [Role.HOUSING_OFFICER]
        )
        worker = _actor(org, Role.OUTREACH_WORKER)
        [first] = people.intake(
            session,
            worker,
            Purpose.OUTREACH,
            [intake_record(identity(given_name="Mamadou", family_name="Diallo"))],
        )
        [second] = people.intake(
            session,
            worker,
            Purpose.OUTREACH,
            [intake_record(identity(given_name="Mamadu", family_name="Diallo"), encounters=1)],
        )
        [theirs] = people.intake(
            session,
            _actor(partner, Role.HOUSING_OFFICER),
            Purpose.CASE_MANAGEMENT,
            [intake_record(identity(given_name="Mamadou", family_name="Dialo"))],
        )
        [stranger] = people.intake(
            session,
            worker,
            Purpose.OUTREACH,
            [intake_record(identity(given_name="Paul", family_name="Martin"))],
        )
        # What linkage would find: the three records are one person.
        person = clusters.merge(session, first.person_id, second.person_id)
        person = clusters.merge(session, person, theirs.person_id)
        issued = tokens.issue(
            session,
            Actor.for_user(officer),
            officer.id,
            "officer",
            ("people:read", "people:write", "cases:read"),
            30,
        )
    assert first.subject_id
    assert second.subject_id
    assert second.case_id
    return Twice(
        org.id,
        partner.id,
        person,
        first.subject_id,
        second.subject_id,
        second.case_id,
        stranger.person_id,
        issued.secret,
    )


def _signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username) == 302
    return client


def test_only_the_orgs_own_duplicates_are_offered(web_runtime: Runtime, twice: Twice) -> None:
    with web_runtime.transaction() as session:
        org = session.get(Organisation, twice.org_id)
        partner = session.get(Organisation, twice.partner_id)
        assert org is not None
        assert partner is not None
        officer = _actor(org, Role.HOUSING_OFFICER)
        assert own_merge.own_duplicates(session, officer, Purpose.CASE_MANAGEMENT) == [
            twice.person_id
        ]
        # The partner holds one record of the same person: nothing to offer, nothing said.
        theirs = _actor(partner, Role.HOUSING_OFFICER)
        assert own_merge.own_duplicates(session, theirs, Purpose.CASE_MANAGEMENT) == []
        assert own_merge.own_record_count(session, partner.id, twice.person_id) == 1
        found = own_merge.own_records(session, officer, Purpose.CASE_MANAGEMENT, twice.person_id)
        assert [r.subject_id for r in found] == [twice.first, twice.second]
        assert [r.name for r in found] == ["Mamadou Diallo", "Mamadu Diallo"]
        assert "Diallo" not in repr(found)
        with pytest.raises(access.AccessRefused):
            own_merge.own_duplicates(session, _actor(org, Role.AUDITOR), Purpose.AUDIT)
        # A record of another person is not one of this person's records: a named error.
        with pytest.raises(ValidationFailed) as wrong:
            own_merge.merge_person_records(
                session,
                officer,
                Purpose.CASE_MANAGEMENT,
                twice.person_id,
                twice.first,
                own_merge.subjects.own_subjects(session, org.id, twice.stranger)[0].id,
            )
        assert set(wrong.value.errors) == {"other"}
        session.rollback()


def test_the_case_page_offers_the_merge_and_the_page_asks_for_a_confirmation(
    app: Flask, web_runtime: Runtime, twice: Twice
) -> None:
    client = _signed_in(app, "officer@entraide")
    case_page = client.get(f"/cases/{twice.second_case}").get_data(as_text=True)
    assert "registered more than once" in case_page
    match = re.search(r'href="(/people/[0-9a-f-]{36}/records)"', case_page)
    assert match is not None
    records_path = match.group(1)
    assert str(twice.person_id) not in records_path  # a handle, not the pooled id
    listing = client.get("/records/duplicates").get_data(as_text=True)
    assert records_path in listing
    assert "Mamadou Diallo" in listing

    page = client.get(records_path).get_data(as_text=True)
    assert "Mamadu Diallo" in page
    assert "Merge the records" in page
    token = csrf(client, records_path)
    form = {
        "keep": str(twice.first),
        "other": str(twice.second),
        "reason": "duplicate_registration",
    }
    refused = client.post(records_path, data={**form, "csrf_token": token})
    assert refused.status_code == 422
    assert "Tick the box to confirm" in refused.get_data(as_text=True)
    same = client.post(
        records_path,
        data={**form, "other": str(twice.first), "confirm": "yes", "csrf_token": token},
    )
    assert same.status_code == 422
    assert "Choose two different records" in same.get_data(as_text=True)
    with web_runtime.transaction() as session:
        assert session.get(Subject, twice.second).status is SubjectStatus.ACTIVE  # type: ignore[union-attr]

    done = client.post(records_path, data={**form, "confirm": "yes", "csrf_token": token})
    assert done.status_code == 303
    after = client.get(records_path).get_data(as_text=True)
    assert "now one" in after
    assert "nothing to merge" in after
    assert "registered more than once" not in client.get(f"/cases/{twice.second_case}").get_data(
        as_text=True
    )
    with web_runtime.transaction() as session:
        assert session.get(Subject, twice.second).status is SubjectStatus.MERGED  # type: ignore[union-attr]
        merged = session.scalars(
            select(AuditEntry).where(AuditEntry.event == AuditEvent.RECORDS_MERGED)
        ).all()
        assert len(merged) == 1
        bodies = [json.loads(e.body) for e in session.scalars(select(AuditEntry))]
        listed = [b for b in bodies if b["record"]["type"] == RecordType.DUPLICATE_RECORDS]
        assert listed
        assert all(b["decision"] == "allow" for b in listed)


def test_the_api_lists_and_merges_with_named_errors(
    app: Flask, web_runtime: Runtime, twice: Twice
) -> None:
    with web_runtime.transaction() as session:
        org = session.get(Organisation, twice.org_id)
        assert org is not None
        # A third registration, pooled with the person: a duplicate again.
        [third] = people.intake(
            session,
            _actor(org, Role.OUTREACH_WORKER),
            Purpose.OUTREACH,
            [intake_record(identity(given_name="Mamadou", family_name="Diallo-Ba"))],
        )
        clusters.merge(session, twice.person_id, third.person_id)
    handle = handle_of(web_runtime, twice.org_id, twice.person_id)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {twice.token}", "X-Databank-Purpose": "case_management"}
    listed = client.get("/api/v1/people/duplicates", headers=headers)
    assert listed.status_code == 200
    assert listed.get_json() == {"people": [{"person_id": str(handle)}]}
    records = client.get(f"/api/v1/people/{handle}/records", headers=headers).get_json()
    active = [r for r in records["records"] if r["status"] == "active"]
    assert len(active) == 2
    assert active[0]["record_id"] == str(twice.first)

    bad = client.post(
        f"/api/v1/people/{handle}/records/merge",
        headers=headers,
        json={"keep": active[0]["record_id"], "other": str(uuid.uuid4()), "reason": "whim"},
    )
    assert bad.status_code in {400, 422}
    assert set(bad.get_json()["errors"]) == {"reason"}
    foreign = client.post(
        f"/api/v1/people/{handle}/records/merge",
        headers=headers,
        json={"keep": active[0]["record_id"], "other": str(uuid.uuid4())},
    )
    assert foreign.status_code == 422
    assert set(foreign.get_json()["errors"]) == {"other"}
    merged = client.post(
        f"/api/v1/people/{handle}/records/merge",
        headers=headers,
        json={"keep": active[0]["record_id"], "other": active[1]["record_id"]},
    )
    assert merged.status_code == 200, merged.get_json()
    assert merged.get_json()["cases_moved"] == 1
    assert client.get("/api/v1/people/duplicates", headers=headers).get_json() == {"people": []}
