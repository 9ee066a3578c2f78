"""Dates outside what a person can mean are refused at the door, naming the field, never a 500
(finding 9 of the attacker review)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import World, bearer
from tests.api.test_endpoints import _register


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z", "1999-12-31T23:00:00Z"],
)
def test_an_encounter_before_2000_is_refused_naming_the_field(
    client: FlaskClient, world: World, moment: str
) -> None:
    """An encounter's time is this century and not ahead: year 1 at +14:00 (before year 1 in
    UTC) is a 422 on `occurred_at`, not a 500."""
    created = _register(client, world, "Anciens")
    response = client.post(
        f"/api/v1/cases/{created['case_id']}/encounters",
        json={"occurred_at": moment},
        headers=bearer(world, "worker"),
    )
    assert response.status_code == 422, response.get_json()
    assert "occurred_at" in response.get_json()["errors"]


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59Z", "2099-01-01T00:00:00Z"])
def test_a_consent_ending_in_a_far_future_is_refused(
    client: FlaskClient, world: World, moment: str
) -> None:
    """A consent lasts at most ten years: one ending in 9999 (which made the person's pages
    fail on every visit, and so could not be withdrawn) is a 422 on `expires_at`."""
    created = _register(client, world, "Toujours")
    response = client.post(
        f"/api/v1/people/{created['person_id']}/consents",
        json={
            "purposes": ["housing_allocation"],
            "recipient_org_kinds": ["council"],
            "expires_at": moment,
        },
        headers=bearer(world, "worker"),
    )
    assert response.status_code == 422, response.get_json()
    assert "expires_at" in response.get_json()["errors"]


@pytest.mark.parametrize("day", ["2026-W49-6", "19800402", "0001-01-01", "1980-4-2"])
def test_a_birth_date_is_a_plain_day_of_a_living_person(
    client: FlaskClient, world: World, day: str
) -> None:
    """Birth dates are YYYY-MM-DD from 1900 on: ISO week dates and compact forms, which the ISO
    parser accepts, are refused naming the field."""
    response = client.post(
        "/api/v1/people/search",
        json={"family_name": "Nouveau", "birth_date": day},
        headers=bearer(world, "worker"),
    )
    assert response.status_code == 422, response.get_json()
    assert "birth_date" in response.get_json()["errors"]
