"""Registering through the API someone the organisation already holds (issue 17, point 2)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.api.conftest import World, bearer

PERSON = {"given_name": "Reg", "family_name": "Againson", "birth_date": "1981-02-03"}


def _register(client: FlaskClient, world: World, needs: list[dict[str, str]]) -> dict[str, str]:
    response = client.post(
        "/api/v1/people",
        json={
            "identity": PERSON,
            "case": {"living_situation": "ethos_1_public_space", "district": "u05kq"},
            "needs": needs,
        },
        headers=bearer(world, "worker"),
    )
    assert response.status_code == 201, response.get_json()
    body: dict[str, str] = response.get_json()
    return body


def test_the_answer_says_existing_and_names_the_open_case(
    client: FlaskClient, world: World
) -> None:
    """A second registration of a person with an open case goes to that case and says so; the
    need named again is the case's one need, at its new urgency."""
    first = _register(client, world, [{"category": "shelter", "severity": "medium"}])
    assert (first["outcome"], first["case_outcome"]) == ("created", "opened")
    again = _register(client, world, [{"category": "shelter", "severity": "urgent"}])
    assert (again["outcome"], again["case_outcome"]) == ("existing", "existing")
    assert again["case_id"] == first["case_id"]
    assert again["person_id"] == first["person_id"]
    case = client.get(f"/api/v1/cases/{first['case_id']}", headers=bearer(world, "worker"))
    assert case.status_code == 200, case.get_json()
    needs = [(n["category"], n["severity"]) for n in case.get_json()["needs"]]
    assert needs == [("shelter", "urgent")]
