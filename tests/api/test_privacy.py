"""What the API writes in the access log: ids and codes, never the personal data it was sent."""

from __future__ import annotations

from flask.testing import FlaskClient

from databank.services.runtime import Runtime
from tests.api.conftest import World, bearer, entries_since, last_seq

GIVEN, FAMILY, BIRTH = "Séraphine", "Quintessa-Valdor", "1977-07-17"
NOTE = "Sleeps behind the Brotteaux bakery"
LAT, LON = "45.76712", "4.85893"


def test_no_personal_data_in_the_api_access_log_entries(
    client: FlaskClient, world: World, api_runtime: Runtime
) -> None:
    """A registration, search, encounter, read and bad request log no name, date, note or point."""
    before = last_seq(api_runtime)
    auth = bearer(world, "worker")
    created = client.post(
        "/api/v1/people",
        json={
            "identity": {
                "given_name": GIVEN,
                "family_name": FAMILY,
                "birth_date": BIRTH,
                "phone": "+33 6 98 76 54 32",
            },
            "case": {"notes": NOTE, "point": {"lat": float(LAT), "lon": float(LON)}},
        },
        headers=auth,
    )
    assert created.status_code == 201
    case_id = created.get_json()["case_id"]
    found = client.post(
        "/api/v1/people/search", json={"family_name": FAMILY, "birth_date": BIRTH}, headers=auth
    )
    assert len(found.get_json()["matches"]) == 1
    client.post(
        f"/api/v1/cases/{case_id}/encounters",
        json={
            "occurred_at": "2026-03-04T05:06:07Z",
            "notes": NOTE,
            "point": {"lat": float(LAT), "lon": float(LON)},
        },
        headers=auth,
    )
    assert client.get(f"/api/v1/cases/{case_id}", headers=auth).status_code == 200
    client.post(
        "/api/v1/people/search", json={"family_name": FAMILY, "birth_date": "x"}, headers=auth
    )
    entries = entries_since(api_runtime, before)
    assert {e.event for e in entries} >= {
        "access.create",
        "access.search",
        "access.read",
        "access.update",
    }
    blob = b"\n".join(e.body for e in entries).decode()
    for value in (GIVEN, FAMILY, FAMILY.lower(), BIRTH, NOTE, "98 76 54 32", LAT, LON, "Brotteaux"):
        assert value not in blob, value
    assert all('"channel":"api"' in e.body.decode() for e in entries if e.actor_user_id)
