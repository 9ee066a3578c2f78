"""API tokens: who may issue and revoke them, what is stored, the CLI and the web page."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from databank.domain.enums import Purpose
from databank.domain.errors import NotFound, ValidationFailed
from databank.models import ApiToken, User
from databank.services.access import AccessRefused
from databank.services.accounts import tokens
from databank.services.actors import Actor
from databank.services.runtime import Runtime
from tests.api.conftest import World, entries_since, last_seq, signed_in


def _actor(runtime: Runtime, username: str) -> tuple[Actor, User]:
    with runtime.transaction() as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        return Actor.for_user(user), user


def test_only_the_hash_of_the_secret_is_stored(api_runtime: Runtime, world: World) -> None:
    """A database dump gives no usable token: only SHA-256 of the secret and its prefix."""
    tag, prefix, secret = world.tokens["worker"].split("_", 2)
    assert tag == "dbk"
    assert len(secret) >= 43  # 32 random bytes
    with api_runtime.transaction() as session:
        row = session.execute(select(ApiToken).where(ApiToken.prefix == prefix)).scalar_one()
        assert row.secret_hash == hashlib.sha256(secret.encode()).digest()
        assert secret not in repr(row)
        assert secret.encode() not in row.secret_hash


def test_a_user_issues_and_revokes_their_own(api_runtime: Runtime, world: World) -> None:
    actor, user = _actor(api_runtime, "officer")
    before = last_seq(api_runtime)
    with api_runtime.transaction() as session:
        issued = tokens.issue(session, actor, user.id, "mine", ["cases:read"], 7)
    assert issued.secret not in repr(issued)
    with api_runtime.transaction() as session:
        assert issued.token.id in {t.id for t in tokens.list_tokens(session, actor)}
        tokens.revoke(session, actor, issued.token.id)
    events = [e.event for e in entries_since(api_runtime, before)]
    assert events == ["api_token.issued", "api_token.revoked"]
    for entry in entries_since(api_runtime, before):
        assert issued.secret.split("_", 2)[2].encode() not in entry.body


def test_an_org_admin_manages_the_orgs_tokens_only(api_runtime: Runtime, world: World) -> None:
    admin, _ = _actor(api_runtime, "admin")
    _, worker = _actor(api_runtime, "worker")
    _, officer = _actor(api_runtime, "officer")
    with api_runtime.transaction() as session:
        issued = tokens.issue(session, admin, worker.id, "for the worker", ["cases:read"], 1)
        listed = tokens.list_tokens(session, admin, whole_org=True)
        assert {t.username for t in listed} >= {"worker", "admin"}
        assert "officer" not in {t.username for t in listed}
        tokens.revoke(session, admin, issued.token.id)
    with api_runtime.transaction() as session, pytest.raises(NotFound):
        tokens.issue(session, admin, officer.id, "another org", ["cases:read"], 1)


def test_a_non_admin_cannot_manage_anothers_tokens(api_runtime: Runtime, world: World) -> None:
    worker, _ = _actor(api_runtime, "worker")
    _, admin_user = _actor(api_runtime, "admin")
    before = last_seq(api_runtime)
    session = api_runtime.sessions()
    try:
        with pytest.raises(AccessRefused):
            tokens.issue(session, worker, admin_user.id, "not mine", ["cases:read"], 1)
        with pytest.raises(AccessRefused):
            tokens.list_tokens(session, worker, whole_org=True)
    finally:
        session.rollback()
        session.close()
    # The interface writes the refusals after rolling back (see the page test below).
    assert before == last_seq(api_runtime)


@pytest.mark.parametrize(
    ("name", "scopes", "days", "purposes", "field"),
    [
        ("", ["cases:read"], 1, [], "name"),
        ("x" * 101, ["cases:read"], 1, [], "name"),
        ("ok", [], 1, [], "scopes"),
        ("ok", ["cases:delete"], 1, [], "scopes"),
        ("ok", ["cases:read"], 0, [], "days"),
        ("ok", ["cases:read"], 366, [], "days"),
        ("ok", ["cases:read"], 1, [Purpose.ENFORCEMENT], "purposes"),
    ],
)
def test_bad_tokens_name_the_field(
    api_runtime: Runtime,
    world: World,
    name: str,
    scopes: list[str],
    days: int,
    purposes: list[Purpose],
    field: str,
) -> None:
    actor, user = _actor(api_runtime, "worker")
    with api_runtime.transaction() as session, pytest.raises(ValidationFailed) as error:
        tokens.issue(session, actor, user.id, name, scopes, days, purposes)
    assert field in error.value.errors


def test_the_cli_creates_lists_and_revokes(
    app: Flask, api_runtime: Runtime, world: World, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=[
            "tokens",
            "create",
            "--user",
            "worker",
            "--name",
            "partner crm",
            "--scopes",
            "cases:read cases:write",
            "--days",
            "30",
        ],
        catch_exceptions=False,
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("dbk_")
    client = app.test_client()
    assert (
        client.get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )
    listed = runner.invoke(args=["tokens", "list", "--org", "entraide"], catch_exceptions=False)
    assert "partner crm" in listed.output
    assert secret.split("_", 2)[2] not in listed.output
    token_id = next(
        line.split("\t")[0] for line in listed.output.splitlines() if "partner crm" in line
    )
    revoked = runner.invoke(args=["tokens", "revoke", token_id], catch_exceptions=False)
    assert revoked.exit_code == 0
    assert (
        client.get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )
    bad = runner.invoke(
        args=["tokens", "create", "--user", "worker", "--name", "x", "--scopes", "nope"]
    )
    assert bad.exit_code != 0
    assert "scopes" in bad.output
    unknown = runner.invoke(
        args=["tokens", "create", "--user", "nobody", "--name", "x", "--scopes", "cases:read"]
    )
    assert unknown.exit_code != 0


def test_the_page_creates_shows_once_and_revokes(app: Flask, world: World) -> None:
    client, csrf_token = signed_in(app, "worker")
    page = client.get("/account/tokens/")
    assert page.status_code == 200
    assert "/api/v1/docs" in page.get_data(as_text=True)
    created = client.post(
        "/account/tokens/",
        data={
            "csrf_token": csrf_token,
            "name": "from the page",
            "scopes": ["cases:read"],
            "days": "10",
        },
    )
    assert created.status_code == 201
    match = re.search(r'value="(dbk_[^"]+)"', created.get_data(as_text=True))
    assert match is not None
    secret = match.group(1)
    again = client.get("/account/tokens/").get_data(as_text=True)
    assert "from the page" in again
    assert secret not in again
    api = app.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.get_json()["token_scopes"] == ["cases:read"]
    # Newest first: the first revoke form is the new token's.
    form = re.search(r'action="/account/tokens/([0-9a-f-]+)/revoke"', again)
    assert form is not None
    revoked = client.post(
        f"/account/tokens/{form.group(1)}/revoke", data={"csrf_token": csrf_token}
    )
    assert revoked.status_code == 303
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_the_page_names_bad_fields(app: Flask, world: World) -> None:
    client, csrf_token = signed_in(app, "worker")
    response = client.post(
        "/account/tokens/", data={"csrf_token": csrf_token, "name": "", "days": "999"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'aria-describedby="name-error"' in page
    assert 'aria-describedby="days-error"' in page
    assert 'aria-describedby="scopes-error"' in page


def test_an_admin_sees_the_orgs_tokens_and_a_worker_does_not(app: Flask, world: World) -> None:
    admin, _ = signed_in(app, "admin")
    page = admin.get("/account/tokens/").get_data(as_text=True)
    assert "Every token of your organisation" in page
    assert "worker-read" in page
    worker, _ = signed_in(app, "worker")
    assert "Every token of your organisation" not in worker.get("/account/tokens/").get_data(
        as_text=True
    )


def test_a_worker_cannot_revoke_anothers_token(app: Flask, world: World) -> None:
    client, csrf_token = signed_in(app, "officer")
    admin_page = signed_in(app, "admin")[0].get("/account/tokens/").get_data(as_text=True)
    ids = re.findall(r'action="/account/tokens/([0-9a-f-]+)/revoke"', admin_page)
    assert ids
    response = client.post(
        f"/account/tokens/{ids[0]}/revoke",
        data={"csrf_token": csrf_token},
        follow_redirects=True,
    )
    assert "was not revoked" in response.get_data(as_text=True)


def test_a_refused_revocation_on_the_page_is_403_and_logged(
    app: Flask, api_runtime: Runtime, world: World
) -> None:
    """A worker cannot revoke a colleague's token; the refusal is in the access log."""
    admin_page = signed_in(app, "admin")[0].get("/account/tokens/").get_data(as_text=True)
    own = admin_page.split("Every token of your organisation")[0]
    [admin_token, *_] = re.findall(r'action="/account/tokens/([0-9a-f-]+)/revoke"', own)
    client, csrf_token = signed_in(app, "worker")
    before = last_seq(api_runtime)
    response = client.post(f"/account/tokens/{admin_token}/revoke", data={"csrf_token": csrf_token})
    assert response.status_code == 403
    [entry] = entries_since(api_runtime, before)
    assert entry.event == "api_token.manage"
    assert entry.decision == "deny"
