"""The linkage review API: a reviewer reads the queue, one pair and the pool's counts, and decides
pairs; bad input gets a 4xx naming the field; anyone else gets a 403 that is logged; no answer
carries a score, a pooled id or a clear identifier; the OpenAPI document lists the operations
under the `linkage` tag."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from databank.models import AuditEntry, User
from databank.services.accounts import tokens
from databank.services.actors import Actor
from databank.services.runtime import Runtime
from tests.api.conftest import assert_error_shape, signed_in
from tests.support import app_on, handle_of, scratch_runtime
from tests.web.review_world import EVIDENCE, ReviewWorld, assert_clean, build

OPERATIONS = (
    ("GET", "/api/v1/linkage/reviews"),
    ("GET", "/api/v1/linkage/reviews/{review_id}"),
    ("POST", "/api/v1/linkage/reviews/{review_id}/decision"),
    ("GET", "/api/v1/linkage/status"),
)


@pytest.fixture(scope="module")
def review_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = scratch_runtime("databank_review_api", tmp_path_factory.mktemp("review_api"))
    yield runtime
    runtime.dispose()


@pytest.fixture(scope="module")
def review_world(review_runtime: Runtime) -> ReviewWorld:
    return build(review_runtime)


@pytest.fixture(scope="module")
def secrets(review_runtime: Runtime, review_world: ReviewWorld) -> dict[str, str]:
    """API tokens of the charity's reviewer: read only, read and review; and a worker's."""
    issued = {}
    with review_runtime.transaction() as session:
        for name, username, scopes in (
            ("read", "reviewer", ("linkage:read",)),
            ("review", "reviewer", ("linkage:read", "linkage:review")),
            ("worker", "worker", tuple(tokens.SCOPES)),
        ):
            user = session.scalars(select(User).where(User.username == username)).one()
            token = tokens.issue(session, Actor.for_user(user), user.id, name, scopes, 30)
            issued[name] = token.secret
    return issued


@pytest.fixture
def linkage_app(review_runtime: Runtime, review_world: ReviewWorld, tmp_path: Path) -> Flask:
    return app_on(review_runtime, tmp_path)


def _json(response: TestResponse, world: ReviewWorld) -> Any:
    assert_clean(world, response.get_data(as_text=True))
    return response.get_json()


def _decide(
    client: FlaskClient, token: str, review_id: uuid.UUID | str, body: object
) -> TestResponse:
    return client.post(
        f"/api/v1/linkage/reviews/{review_id}/decision",
        json=body,
        headers={"X-CSRF-Token": token},
    )


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_a_reviewer_reads_the_queue_one_pair_and_the_counts(
    linkage_app: Flask, review_runtime: Runtime, review_world: ReviewWorld
) -> None:
    client, _token = signed_in(linkage_app, "reviewer")
    response = client.get("/api/v1/linkage/reviews")
    assert response.status_code == 200
    page = _json(response, review_world)
    assert set(page) == {"reviews", "page", "more"}
    assert page["page"] == 1
    assert page["more"] is False
    ours = {str(p) for p in review_world.pairs}
    listed = [r for r in page["reviews"] if r["id"] in ours]
    assert len(listed) == len(ours)
    first = next(r for r in listed if r["id"] == str(review_world.pairs[0]))
    assert set(first) == {"id", "created_at", "status", "evidence", "sides", "reason", "decided_at"}
    assert first["evidence"] == EVIDENCE
    assert first["status"] == "open"
    handle = handle_of(review_runtime, review_world.charity, review_world.charity_persons[0])
    assert {"own": True, "person_id": str(handle)} in first["sides"]
    assert {"own": False, "person_id": None} in first["sides"]

    one = _json(client.get(f"/api/v1/linkage/reviews/{review_world.pairs[0]}"), review_world)
    assert one == first

    counts = _json(client.get("/api/v1/linkage/status"), review_world)
    assert set(counts) == {"records", "encoded", "waiting", "persons", "reviews_open"}
    assert counts["reviews_open"] >= len(ours)
    assert counts["records"] == 2 * len(ours)


def test_a_reviewer_links_then_keeps_apart_and_a_second_decision_is_409(
    linkage_app: Flask, review_world: ReviewWorld
) -> None:
    client, token = signed_in(linkage_app, "council-reviewer")
    linked, apart = review_world.pairs[0], review_world.pairs[1]
    response = _decide(client, token, linked, {"decision": "link", "reason": "same_person"})
    assert response.status_code == 200
    done = _json(response, review_world)
    assert (done["status"], done["reason"]) == ("linked", "same_person")
    assert done["decided_at"]
    response = _decide(
        client, token, apart, {"decision": "apart", "reason": "insufficient_evidence"}
    )
    assert response.status_code == 200
    assert _json(response, review_world)["status"] == "apart"
    again = _decide(client, token, linked, {"decision": "apart", "reason": "different_people"})
    assert again.status_code == 409
    assert_error_shape(_json(again, review_world), 409)
    listed = client.get("/api/v1/linkage/reviews?status=linked").get_json()["reviews"]
    assert str(linked) in [r["id"] for r in listed]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "link", "reason": "different_people"}, "reason"),
        ({"decision": "apart", "reason": "confirmed_by_org"}, "reason"),
        ({"decision": "link", "reason": "he looks like Karim"}, "reason"),
        ({"decision": "merge", "reason": "same_person"}, "decision"),
        ({"reason": "same_person"}, "decision"),
        ({"decision": "link"}, "reason"),
        ({"decision": "link", "reason": "same_person", "score": 1}, "score"),
        ({"decision": 1, "reason": "same_person"}, "decision"),
    ],
)
def test_a_bad_decision_is_a_422_naming_the_field(
    linkage_app: Flask, review_world: ReviewWorld, body: dict[str, object], field: str
) -> None:
    client, token = signed_in(linkage_app, "reviewer")
    response = _decide(client, token, review_world.pairs[2], body)
    assert response.status_code == 422
    error = assert_error_shape(_json(response, review_world), 422)
    assert field in error["errors"]  # type: ignore[operator]
    pair = client.get(f"/api/v1/linkage/reviews/{review_world.pairs[2]}").get_json()
    assert pair["status"] == "open"


def test_malformed_requests_are_4xx_never_500(
    linkage_app: Flask, review_world: ReviewWorld
) -> None:
    client, token = signed_in(linkage_app, "reviewer")
    pair = review_world.pairs[2]
    for query, field in (("status=bogus", "status"), ("page=0", "page"), ("sort=score", "sort")):
        response = client.get(f"/api/v1/linkage/reviews?{query}")
        assert response.status_code == 422, query
        assert field in assert_error_shape(response.get_json(), 422)["errors"]  # type: ignore[operator]
    assert client.get("/api/v1/linkage/status?x=1").status_code == 422
    assert client.get("/api/v1/linkage/reviews/nope").status_code == 400
    assert client.get(f"/api/v1/linkage/reviews/{uuid.uuid4()}").status_code == 404
    missing = _decide(client, token, uuid.uuid4(), {"decision": "link", "reason": "same_person"})
    assert missing.status_code == 404
    text = client.post(
        f"/api/v1/linkage/reviews/{pair}/decision",
        data="decision=link",
        headers={"X-CSRF-Token": token, "Content-Type": "text/plain"},
    )
    assert text.status_code == 415
    assert _decide(client, token, pair, ["link"]).status_code == 422
    assert_error_shape(_decide(client, token, "nope", {}).get_json(), 400)


def test_a_session_decision_needs_the_csrf_header(
    linkage_app: Flask, review_world: ReviewWorld
) -> None:
    client, _token = signed_in(linkage_app, "reviewer")
    pair = review_world.pairs[3]
    forged = _decide(client, "forged", pair, {"decision": "link", "reason": "same_person"})
    assert forged.status_code == 403
    bare = client.post(
        f"/api/v1/linkage/reviews/{pair}/decision",
        json={"decision": "link", "reason": "same_person"},
    )
    assert bare.status_code == 403
    assert client.get(f"/api/v1/linkage/reviews/{pair}").get_json()["status"] == "open"


def _refused(runtime: Runtime, username: str) -> int:
    with runtime.transaction() as session:
        user = session.scalars(select(User.id).where(User.username == username)).one()
        return len(
            session.scalars(
                select(AuditEntry.seq).where(
                    AuditEntry.actor_user_id == user,
                    AuditEntry.event == "linkage.review",
                    AuditEntry.decision == "deny",
                )
            ).all()
        )


@pytest.mark.parametrize("username", ["worker", "admin", "auditor"])
def test_anyone_else_is_refused_before_their_input_is_read_and_logged(
    linkage_app: Flask, review_runtime: Runtime, review_world: ReviewWorld, username: str
) -> None:
    client, token = signed_in(linkage_app, username)
    pair = review_world.pairs[4]
    before = _refused(review_runtime, username)
    answers = [
        client.get("/api/v1/linkage/reviews"),
        client.get("/api/v1/linkage/reviews?status=bogus"),
        client.get(f"/api/v1/linkage/reviews/{pair}"),
        client.get("/api/v1/linkage/status"),
        _decide(client, token, pair, {"decision": "link", "reason": "same_person"}),
        _decide(client, token, pair, {"decision": "nonsense"}),
    ]
    for response in answers:
        assert response.status_code == 403
        assert_error_shape(_json(response, review_world), 403)
    assert _refused(review_runtime, username) == before + len(answers)


def test_tokens_need_the_linkage_scopes_and_the_role(
    linkage_app: Flask, review_world: ReviewWorld, secrets: dict[str, str]
) -> None:
    client = linkage_app.test_client()
    pair = review_world.pairs[5]
    decision = {"decision": "apart", "reason": "different_people"}
    assert (
        client.get("/api/v1/linkage/reviews", headers=_bearer(secrets["read"])).status_code == 200
    )
    path = f"/api/v1/linkage/reviews/{pair}/decision"
    assert client.post(path, json=decision, headers=_bearer(secrets["read"])).status_code == 403
    # A worker's token with every scope still lacks the role.
    worker = _bearer(secrets["worker"])
    assert client.get("/api/v1/linkage/status", headers=worker).status_code == 403
    assert client.post(path, json=decision, headers=worker).status_code == 403
    done = client.post(path, json=decision, headers=_bearer(secrets["review"]))
    assert done.status_code == 200
    assert _json(done, review_world)["status"] == "apart"


def test_the_openapi_document_lists_the_linkage_operations_for_reviewers(
    linkage_app: Flask,
) -> None:
    doc = linkage_app.test_client().get("/api/v1/openapi.json").get_json()
    [tag] = [t for t in doc["tags"] if t["name"] == "linkage"]
    assert "reviewers" in tag["description"]
    for method, path in OPERATIONS:
        operation = doc["paths"][path][method.lower()]
        assert operation["tags"] == ["linkage"]
    review = doc["components"]["schemas"]["LinkageReviewOut"]
    assert "score" not in str(review["properties"]).replace("Never a score", "")
    assert set(review["properties"]) == {
        "id",
        "created_at",
        "status",
        "evidence",
        "sides",
        "reason",
        "decided_at",
    }
