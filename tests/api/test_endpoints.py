"""Every API operation's happy path, with a bearer token (as a partner system calls it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from databank.domain.enums import Purpose
from tests.api.conftest import KNOWN, World, bearer


def _register(client: FlaskClient, world: World, family: str = "Nouveau") -> dict[str, str]:
    response = client.post(
        "/api/v1/people",
        json={
            "identity": {"given_name": "Jo", "family_name": family, "birth_date": "1990-05-06"},
            "case": {"living_situation": "ethos_1_public_space", "district": "u05kq"},
            "needs": [{"category": "shelter", "severity": "urgent"}],
            "encounter": {
                "occurred_at": "2026-01-02T03:04:05Z",
                "needs": [{"category": "food"}],
                "services_given": ["meal"],
                "point": {"lat": 45.76, "lon": 4.83},
            },
        },
        headers=bearer(world, "worker"),
    )
    assert response.status_code == 201, response.get_json()
    body: dict[str, str] = response.get_json()
    return body


def test_me_names_the_user_org_purpose_and_scopes(client: FlaskClient, world: World) -> None:
    response = client.get("/api/v1/me", headers=bearer(world, "worker-read"))
    assert response.status_code == 200
    me = response.get_json()
    assert me["username"] == "worker"
    assert me["org_slug"] == "entraide"
    assert me["roles"] == ["outreach_worker"]
    assert me["purpose"] == "outreach"  # the role's default
    assert me["authentication"] == "token"
    assert me["token_scopes"] == ["cases:read"]
    assert response.headers["X-Databank-Purpose"] == "outreach"


def test_purposes_are_the_closed_list_with_both_languages(
    client: FlaskClient, world: World
) -> None:
    listed = client.get("/api/v1/purposes", headers=bearer(world, "worker")).get_json()["purposes"]
    assert [p["value"] for p in listed] == [p.value for p in Purpose]
    enforcement = next(p for p in listed if p["value"] == "enforcement")
    assert enforcement["forbidden"] is True
    assert all(p["en"] and p["fr"] for p in listed)


def test_orgs_lists_the_partners(client: FlaskClient, world: World) -> None:
    listed = client.get("/api/v1/orgs", headers=bearer(world, "worker")).get_json()["orgs"]
    assert {o["slug"] for o in listed} == {"metropole", "emsp"}
    assert {"id", "slug", "name", "kind"} == set(listed[0])


def test_search_finds_the_own_orgs_person(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/v1/people/search",
        json={"family_name": KNOWN.family_name.upper(), "birth_date": KNOWN.birth_date.isoformat()},
        headers=bearer(world, "worker"),
    )
    assert response.status_code == 200
    [match] = response.get_json()["matches"]
    assert match["person_id"] == str(world.own_person)
    assert match["given_name"] == KNOWN.given_name


def test_search_does_not_reach_another_orgs_records(client: FlaskClient, world: World) -> None:
    """Wrong org, no data: the council's officer does not find the charity's person."""
    response = client.post(
        "/api/v1/people/search",
        json={"family_name": KNOWN.family_name, "birth_date": KNOWN.birth_date.isoformat()},
        headers=bearer(world, "officer"),
    )
    assert response.status_code in (200, 403)
    assert KNOWN.given_name not in response.get_data(as_text=True)


def test_register_then_read_the_new_case(client: FlaskClient, world: World) -> None:
    created = _register(client, world)
    assert created["outcome"] == "created"
    case = client.get(f"/api/v1/cases/{created['case_id']}", headers=bearer(world, "worker"))
    assert case.status_code == 200
    body = case.get_json()
    assert body["person_id"] == created["person_id"]
    assert {n["category"] for n in body["needs"]} >= {"shelter", "food"}
    assert body["encounters"][0]["services_given"] == ["meal"]
    assert isinstance(body["withheld"], list)
    assert isinstance(body["released"], list)


def test_record_an_encounter_with_the_benchmark_contract(client: FlaskClient, world: World) -> None:
    created = _register(client, world, "Contrat")
    response = client.post(
        f"/api/v1/cases/{created['case_id']}/encounters",
        json={
            "occurred_at": "2026-11-21T22:00:00Z",
            "district": "u05kq",
            "point": {"lat": 45.76, "lon": 4.83},
            "needs": [{"category": "food", "severity": "high"}],
            "services_given": ["meal"],
            "notes": "Met at the night shelter door.",
        },
        headers=bearer(world, "worker", "outreach"),
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"id", "case_id", "occurred_at"}
    assert body["case_id"] == created["case_id"]
    assert body["occurred_at"].startswith("2026-11-21T22:00:00")
    assert response.headers["X-Databank-Purpose"] == "outreach"


def test_caseload_lists_own_cases_with_filters(client: FlaskClient, world: World) -> None:
    response = client.get(
        "/api/v1/cases",
        query_string={"status": "open", "limit": 5, "own_only": "true"},
        headers=bearer(world, "worker"),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["limit"] == 5
    assert body["offset"] == 0
    assert 1 <= len(body["cases"]) <= 5
    assert all(c["owner"] == "entraide" and c["status"] == "open" for c in body["cases"])
    ids = {c["id"] for c in body["cases"]}
    assert str(world.other_case) not in ids


def test_consents_record_list_revoke(client: FlaskClient, world: World) -> None:
    created = _register(client, world, "Consent")
    person = created["person_id"]
    recorded = client.post(
        f"/api/v1/people/{person}/consents",
        json={
            "purposes": ["housing_allocation"],
            "recipient_orgs": ["metropole"],
            "expires_at": (datetime.now(UTC) + timedelta(days=90)).isoformat(),
        },
        headers=bearer(world, "worker"),
    )
    assert recorded.status_code == 201, recorded.get_json()
    consent_id = recorded.get_json()["id"]
    listed = client.get(f"/api/v1/people/{person}/consents", headers=bearer(world, "worker"))
    [consent] = listed.get_json()["consents"]
    assert consent["id"] == consent_id
    assert consent["recipient_org_ids"] == [str(world.council_id)]
    assert consent["revoked_at"] is None
    revoked = client.delete(f"/api/v1/consents/{consent_id}", headers=bearer(world, "worker"))
    assert revoked.status_code == 204
    again = client.delete(f"/api/v1/consents/{consent_id}", headers=bearer(world, "worker"))
    assert again.status_code == 409
    listed = client.get(f"/api/v1/people/{person}/consents", headers=bearer(world, "worker"))
    assert listed.get_json()["consents"][0]["revoked_at"] is not None


def test_refer_with_consent_then_the_partner_receives_it(client: FlaskClient, world: World) -> None:
    created = _register(client, world, "Referred")
    client.post(
        f"/api/v1/people/{created['person_id']}/consents",
        json={"purposes": ["housing_allocation"], "recipient_org_kinds": ["council"]},
        headers=bearer(world, "worker"),
    )
    referred = client.post(
        f"/api/v1/cases/{created['case_id']}/referrals",
        json={"to_org": "metropole", "purpose": "housing_allocation", "need": "shelter"},
        headers=bearer(world, "worker"),
    )
    assert referred.status_code == 201, referred.get_json()
    received = client.get(
        "/api/v1/referrals/received",
        headers=bearer(world, "officer", "housing_allocation"),
    )
    assert received.status_code == 200
    [referral] = [
        r for r in received.get_json()["referrals"] if r["id"] == referred.get_json()["id"]
    ]
    assert referral["from_org"] == "entraide"
    assert referral["case_id"] == created["case_id"]
    assert referral["status"] == "pending"
    # The charity receives none of its own referrals.
    own = client.get("/api/v1/referrals/received", headers=bearer(world, "worker"))
    assert referred.get_json()["id"] not in own.get_data(as_text=True)


def test_refer_without_consent_names_the_consent(client: FlaskClient, world: World) -> None:
    created = _register(client, world, "Noconsent")
    response = client.post(
        f"/api/v1/cases/{created['case_id']}/referrals",
        json={"to_org": str(world.council_id)},
        headers=bearer(world, "worker"),
    )
    assert response.status_code == 422
    assert "consent" in response.get_json()["errors"]


def test_consent_override_without_a_justification_is_refused(
    client: FlaskClient, world: World
) -> None:
    """A consent override needs a written justification, through the API as on the page."""
    created = _register(client, world, "Unjustified")
    url = f"/api/v1/cases/{created['case_id']}/referrals"
    for missing in ({}, {"justification": "   "}, {"justification": None}):
        response = client.post(
            url,
            json={"to_org": "metropole", "consent_override": True, **missing},
            headers=bearer(world, "worker"),
        )
        assert response.status_code == 422, response.get_json()
        body = response.get_json()
        assert list(body["errors"]) == ["justification"]
        assert body["status"] == 422
    referrals = client.get("/api/v1/referrals/received", headers=bearer(world, "officer"))
    assert created["case_id"] not in referrals.get_data(as_text=True)


def test_consent_for_statistics_is_refused_naming_the_purposes(
    client: FlaskClient, world: World
) -> None:
    """Statistics need no consent: the API refuses such a consent with a 422 naming the field."""
    created = _register(client, world, "Stats")
    response = client.post(
        f"/api/v1/people/{created['person_id']}/consents",
        json={"purposes": ["aggregate_statistics"], "recipient_org_kinds": ["council"]},
        headers=bearer(world, "worker"),
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["purposes"]


def test_close_a_case_once(client: FlaskClient, world: World) -> None:
    created = _register(client, world, "Closed")
    path = f"/api/v1/cases/{created['case_id']}/close"
    closed = client.post(
        path, json={"reason": "housed", "destination": "owned"}, headers=bearer(world, "worker")
    )
    assert closed.status_code == 200
    assert closed.get_json() == {"id": created["case_id"], "status": "closed"}
    again = client.post(
        path, json={"reason": "housed", "destination": "owned"}, headers=bearer(world, "worker")
    )
    assert again.status_code == 409
    encounter = client.post(
        f"/api/v1/cases/{created['case_id']}/encounters",
        json={"occurred_at": "2026-01-01T00:00:00Z"},
        headers=bearer(world, "worker"),
    )
    assert encounter.status_code == 409


def test_audit_api_accepts_a_token_with_the_audit_scope(client: FlaskClient, world: World) -> None:
    response = client.get("/api/v1/audit/entries?limit=5", headers=bearer(world, "auditor"))
    assert response.status_code == 200
    assert len(response.get_json()["entries"]) == 5
    # A worker's token with every scope still acts with the worker's roles: refused.
    refused = client.get("/api/v1/audit/entries", headers=bearer(world, "worker"))
    assert refused.status_code == 403
