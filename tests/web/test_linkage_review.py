"""The linkage review pages: a reviewer sees the queue and one pair (evidence in words, their own
organisation's side marked and linked by its handle), links or keeps apart with a reason, and
gets a clear confirmation; nobody else gets in, and every answer is free of scores, pooled ids
and clear identifiers."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from databank.models import AuditEntry, Subject, User
from databank.services.runtime import Runtime
from tests.support import app_on, handle_of, scratch_runtime
from tests.web.conftest import csrf, login
from tests.web.review_world import ReviewWorld, assert_clean, build


@pytest.fixture(scope="module")
def review_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = scratch_runtime("databank_review_pages", tmp_path_factory.mktemp("review"))
    yield runtime
    runtime.dispose()


@pytest.fixture(scope="module")
def review_world(review_runtime: Runtime) -> ReviewWorld:
    return build(review_runtime)


@pytest.fixture
def app(review_runtime: Runtime, review_world: ReviewWorld, tmp_path: Path) -> Flask:
    return app_on(review_runtime, tmp_path)


def _signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username) == 302
    return client


def _text(client: FlaskClient, path: str) -> tuple[int, str]:
    response = client.get(path)
    return response.status_code, html.unescape(response.get_data(as_text=True))


def _decide(client: FlaskClient, review_id: uuid.UUID, **form: str) -> tuple[int, str, str]:
    # The token from a page every user may open (reading the pair would log a read, or a refusal).
    token = csrf(client, "/account/security")
    response = client.post(f"/linkage/reviews/{review_id}", data={"csrf_token": token, **form})
    body = html.unescape(response.get_data(as_text=True))
    return response.status_code, body, response.headers.get("Location", "")


def _persons(runtime: Runtime, review_id: uuid.UUID) -> set[uuid.UUID]:
    """The pooled persons of a pair's two records."""
    from databank.models.linkage import LinkageReview

    with runtime.transaction() as session:
        row = session.get(LinkageReview, review_id)
        assert row is not None
        ids = [row.subject_a_id, row.subject_b_id]
        return set(session.scalars(select(Subject.person_id).where(Subject.id.in_(ids))))


def _entries(runtime: Runtime, username: str, event: str) -> list[AuditEntry]:
    with runtime.transaction() as session:
        user = session.scalars(select(User.id).where(User.username == username)).one()
        return list(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.actor_user_id == user, AuditEntry.event == event
                )
            )
        )


def test_the_queue_shows_evidence_in_words_and_each_side_as_own_or_other(
    app: Flask, review_world: ReviewWorld
) -> None:
    client = _signed_in(app, "reviewer")
    status, page = _text(client, "/linkage/reviews")
    assert status == 200
    assert 'href="/linkage/reviews"' in page
    assert "Linkage review" in page
    for words in ("agrees strongly", "contradicts", "missing on a side", "Given name"):
        assert words in page
    # Each level has a sign beside its word and colour, so it reads without colour.
    assert re.search(r'class="ev ev-contradicts"[^>]*><span class="ev-sign"[^>]*>−−</span>', page)
    assert "your organisation’s record" in page
    assert "another organisation’s record" in page
    assert str(review_world.pairs[-1]) in page  # every open pair is listed (one page)
    assert "Pairs to decide" in page
    assert "Pooled persons" in page
    assert_clean(review_world, page)


def test_the_own_side_links_to_the_persons_page_by_the_orgs_handle(
    app: Flask, review_runtime: Runtime, review_world: ReviewWorld
) -> None:
    """A reviewer who also works with people opens their own organisation's record through its
    handle; a reviewer of the other side sees no link to it, and neither sees a pooled id."""
    person = review_world.charity_persons[0]
    handle = handle_of(review_runtime, review_world.charity, person)
    client = _signed_in(app, "reviewer-worker")
    status, page = _text(client, f"/linkage/reviews/{review_world.pairs[0]}")
    assert status == 200
    assert f'href="/outreach/people/{handle}"' in page
    assert client.get(f"/outreach/people/{handle}").status_code == 200  # and it opens
    assert_clean(review_world, page)
    status, page = _text(_signed_in(app, "council-reviewer"), "/linkage/reviews")
    assert status == 200
    assert str(handle) not in page
    assert "/people/" not in page
    assert_clean(review_world, page)


def test_a_reviewer_links_a_pair_with_a_reason_and_is_told_so(
    app: Flask, review_runtime: Runtime, review_world: ReviewWorld
) -> None:
    pair = review_world.pairs[0]
    client = _signed_in(app, "reviewer")
    status, page = _text(client, f"/linkage/reviews/{pair}")
    assert status == 200
    assert "Same person" in page
    assert "Different people" in page
    assert 'name="reason"' in page
    assert len(_persons(review_runtime, pair)) == 2
    status, body, target = _decide(client, pair, decision="link", reason="same_person")
    assert (status, target) == (303, "/linkage/reviews")
    status, page = _text(client, target)
    assert f"Pair {str(pair)[:8]} decided: same person." in page
    assert len(_persons(review_runtime, pair)) == 1  # one pooled person now
    status, page = _text(client, f"/linkage/reviews/{pair}")
    assert "same person" in page
    assert 'name="decision"' not in page
    decisions = _entries(review_runtime, "reviewer", "linkage.decision")
    [entry] = [e for e in decisions if str(pair) in e.body.decode()]
    assert entry.decision == "allow"
    assert_clean(review_world, page + body)


def test_a_reviewer_keeps_a_pair_apart_and_a_second_decision_is_a_conflict(
    app: Flask, review_runtime: Runtime, review_world: ReviewWorld
) -> None:
    pair = review_world.pairs[1]
    client = _signed_in(app, "reviewer")
    status, _body, target = _decide(client, pair, decision="apart", reason="insufficient_evidence")
    assert (status, target) == (303, "/linkage/reviews")
    _status, page = _text(client, target)
    assert "decided: different people" in page
    assert len(_persons(review_runtime, pair)) == 2
    status, page, _target = _decide(client, pair, decision="link", reason="same_person")
    assert status == 409
    assert "This pair was already decided." in page
    assert len(_persons(review_runtime, pair)) == 2  # still two people
    assert_clean(review_world, page)


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"decision": "link", "reason": "different_people"}, "reason"),
        ({"decision": "apart", "reason": "same_person"}, "reason"),
        ({"decision": "link", "reason": "because"}, "reason"),
        ({"decision": "merge", "reason": "same_person"}, "decision"),
        ({"reason": "same_person"}, "decision"),
        ({"decision": "apart"}, "reason"),
    ],
)
def test_a_bad_decision_or_reason_is_refused_naming_the_field(
    app: Flask, review_runtime: Runtime, review_world: ReviewWorld, form: dict[str, str], field: str
) -> None:
    pair = review_world.pairs[2]
    client = _signed_in(app, "reviewer")
    status, page, _target = _decide(client, pair, **form)
    assert status == 422
    assert re.search(rf'id="err-{field}"(?! hidden)[^>]*>\S', page), page
    assert 'aria-invalid="true"' in page
    assert len(_persons(review_runtime, pair)) == 2  # nothing decided
    status, page = _text(client, f"/linkage/reviews/{pair}")
    assert 'name="decision"' in page  # still open


def test_the_decision_needs_the_forms_csrf_token(
    app: Flask, review_runtime: Runtime, review_world: ReviewWorld
) -> None:
    pair = review_world.pairs[3]
    client = _signed_in(app, "reviewer")
    response = client.post(
        f"/linkage/reviews/{pair}", data={"decision": "link", "reason": "same_person"}
    )
    assert response.status_code == 400
    response = client.post(
        f"/linkage/reviews/{pair}",
        data={"decision": "link", "reason": "same_person", "csrf_token": "forged"},
    )
    assert response.status_code == 400
    assert len(_persons(review_runtime, pair)) == 2


@pytest.mark.parametrize("username", ["worker", "admin", "auditor"])
def test_a_non_reviewer_is_refused_and_the_attempt_logged(
    app: Flask, review_runtime: Runtime, review_world: ReviewWorld, username: str
) -> None:
    """Only linkage reviewers see or decide the queue; every refused attempt is in the log."""
    pair = review_world.pairs[4]
    client = _signed_in(app, username)
    home = client.get("/linkage/reviews")
    assert home.status_code == 403
    before = len(_entries(review_runtime, username, "linkage.review"))
    assert client.get(f"/linkage/reviews/{pair}").status_code == 403
    assert client.get("/linkage/reviews?status=bogus").status_code == 403
    status, page, _target = _decide(client, pair, decision="link", reason="same_person")
    assert status == 403
    status, page, _target = _decide(client, pair, decision="nonsense")  # no hint about input
    assert status == 403
    refused = _entries(review_runtime, username, "linkage.review")
    assert len(refused) == before + 4
    assert {e.decision for e in refused} == {"deny"}
    assert len(_persons(review_runtime, pair)) == 2
    assert "/linkage/reviews" not in client.get("/account/security").get_data(as_text=True)
    assert_clean(review_world, page)


def test_bad_query_parameters_and_unknown_pairs_are_4xx(
    app: Flask, review_world: ReviewWorld
) -> None:
    client = _signed_in(app, "reviewer")
    for query, field in (("status=bogus", "status"), ("page=0", "page"), ("page=x", "page")):
        status, page = _text(client, f"/linkage/reviews?{query}")
        assert status == 400, query
        assert f'id="err-{field}"' in page
    assert client.get(f"/linkage/reviews/{uuid.uuid4()}").status_code == 404
    assert client.get("/linkage/reviews/not-a-uuid").status_code == 404
    status, _page, _target = _decide(client, uuid.uuid4(), decision="link", reason="same_person")
    assert status == 404
    status, page = _text(client, "/linkage/reviews?status=linked")
    assert status == 200
    assert str(review_world.pairs[0]) in page


def test_the_review_pages_speak_french(app: Flask, review_world: ReviewWorld) -> None:
    client = _signed_in(app, "reviewer")
    status, page = _text(client.application.test_client(), "/linkage/reviews")
    assert status == 302  # signed out: to the sign-in page
    response = client.get("/linkage/reviews", headers={"Accept-Language": "fr"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert 'lang="fr"' in page
    assert "Relecture des rapprochements" in page
    assert "concorde fortement" in page
    assert "dossier d’une autre organisation" in page
