"""Keeping records true through the API: living situation, needs, closing with an outcome,
reopening, a case's history, identity corrections; 4xx naming the field, other orgs refused."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.api.conftest import World, bearer
from tests.api.test_endpoints import _register


def _case(client: FlaskClient, world: World, case_id: str) -> dict[str, object]:
    response = client.get(f"/api/v1/cases/{case_id}", headers=bearer(world, "worker"))
    assert response.status_code == 200
    body: dict[str, object] = response.get_json()
    return body


def test_a_case_kept_true_through_the_api(client: FlaskClient, world: World) -> None:
    created = _register(client, world, "Cycle")
    case_id = created["case_id"]
    worker = bearer(world, "worker")
    moved = client.post(
        f"/api/v1/cases/{case_id}/living-situation",
        json={"hud_living_situation": 313},
        headers=worker,
    )
    assert moved.status_code == 200, moved.get_json()
    case = _case(client, world, case_id)
    assert case["living_situation"] == "ethos_8_insecure_accommodation"
    assert case["hud_living_situation"] == 313
    shelter = next(n for n in case["needs"] if n["category"] == "shelter")  # type: ignore[attr-defined]
    met = client.patch(
        f"/api/v1/cases/{case_id}/needs/{shelter['id']}",
        json={"status": "met", "severity": "low"},
        headers=worker,
    )
    assert met.status_code == 200, met.get_json()
    need = next(n for n in _case(client, world, case_id)["needs"] if n["id"] == shelter["id"])  # type: ignore[attr-defined]
    assert (need["status"], need["severity"]) == ("met", "low")
    assert need["resolved_at"] is not None
    closed = client.post(
        f"/api/v1/cases/{case_id}/close",
        json={"reason": "sheltered", "destination": "hostel"},
        headers=worker,
    )
    assert closed.status_code == 200
    case = _case(client, world, case_id)
    assert (case["status"], case["close_reason"], case["destination"]) == (
        "closed",
        "sheltered",
        "hostel",
    )
    reopened = client.post(f"/api/v1/cases/{case_id}/reopen", headers=worker)
    assert reopened.get_json() == {"id": case_id, "status": "open"}
    history = client.get(f"/api/v1/cases/{case_id}/history", headers=worker)
    assert history.status_code == 200
    events = history.get_json()["events"]
    kinds = [e["kind"] for e in events]
    # The need's status and urgency changed at the same instant: in either order.
    assert kinds[0] == "living_situation"
    assert set(kinds[1:3]) == {"need_status", "need_severity"}
    assert kinds[3:] == ["closed", "reopened"]
    assert events[3]["to_code"] == "sheltered"
    assert events[3]["detail_code"] == "hostel"
    assert all(e["at"] for e in events)


def test_bad_changes_are_refused_naming_the_field(client: FlaskClient, world: World) -> None:
    created = _register(client, world, "Refus")
    case_id = created["case_id"]
    worker = bearer(world, "worker")
    empty = client.post(f"/api/v1/cases/{case_id}/living-situation", json={}, headers=worker)
    assert empty.status_code == 422
    assert "living_situation" in empty.get_json()["errors"]
    wrong = client.post(
        f"/api/v1/cases/{case_id}/living-situation",
        json={"living_situation": "housed", "hud_living_situation": 101},
        headers=worker,
    )
    assert wrong.status_code == 422
    assert "hud_living_situation" in wrong.get_json()["errors"]
    need_id = _case(client, world, case_id)["needs"][0]["id"]  # type: ignore[index]
    status = client.patch(
        f"/api/v1/cases/{case_id}/needs/{need_id}", json={"status": "done"}, headers=worker
    )
    assert status.status_code == 422
    assert "status" in status.get_json()["errors"]
    housed = client.post(
        f"/api/v1/cases/{case_id}/close", json={"reason": "housed"}, headers=worker
    )
    assert housed.status_code == 422
    assert "destination" in housed.get_json()["errors"]
    open_case = client.post(f"/api/v1/cases/{case_id}/reopen", headers=worker)
    assert open_case.status_code == 409


def test_another_org_changes_nothing(client: FlaskClient, world: World) -> None:
    """The council's officer cannot change the charity's case (decided and refused)."""
    officer = bearer(world, "officer")
    path = f"/api/v1/cases/{world.own_case}"
    closing = client.post(f"{path}/close", json={"reason": "other"}, headers=officer)
    assert closing.status_code in (403, 404)
    moving = client.post(
        f"{path}/living-situation", json={"living_situation": "housed"}, headers=officer
    )
    assert moving.status_code in (403, 404)
    assert _case(client, world, str(world.own_case))["status"] == "open"


def test_an_identity_corrected_through_the_api(client: FlaskClient, world: World) -> None:
    created = _register(client, world, "Erreurr")
    person = created["person_id"]
    worker = bearer(world, "worker")
    corrected = client.patch(
        f"/api/v1/people/{person}/identity",
        json={"family_name": "Erreur", "aliases": ["Jojo"]},
        headers=worker,
    )
    assert corrected.status_code == 200, corrected.get_json()
    assert corrected.get_json() == {
        "person_id": person,
        "fields_changed": ["family_name", "aliases"],
    }
    found = client.post(
        "/api/v1/people/search",
        json={"family_name": "Erreur", "birth_date": "1990-05-06"},
        headers=worker,
    )
    assert [m["person_id"] for m in found.get_json()["matches"]] == [person]
    history = client.get(f"/api/v1/people/{person}/identity/history", headers=worker)
    [change] = history.get_json()["changes"]
    assert change["fields_changed"] == ["family_name", "aliases"]
    assert change["previous"] == {"family_name": "Erreurr", "aliases": None}
    future = client.patch(
        f"/api/v1/people/{person}/identity", json={"birth_date": "2999-01-01"}, headers=worker
    )
    assert future.status_code == 422
    assert "birth_date" in future.get_json()["errors"]
    empty = client.patch(f"/api/v1/people/{person}/identity", json={}, headers=worker)
    assert empty.status_code == 422
    # Another organisation's person is not found (who holds whom is not the caller's to learn).
    other = client.patch(
        f"/api/v1/people/{world.other_person}/identity",
        json={"family_name": "X"},
        headers=worker,
    )
    assert other.status_code == 404
