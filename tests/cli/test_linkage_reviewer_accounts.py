"""A linkage reviewer is a platform account: the operator creates it at the command line, as a
platform auditor; nobody invites one, neither an org admin nor the operator's invitation command."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from databank import create_app
from databank.config import Settings
from databank.domain.enums import Role
from databank.domain.errors import ValidationFailed
from databank.extension import runtime_of
from databank.services.access.directory import get_organisation
from databank.services.accounts import invitations
from databank.services.actors import Actor

PASSWORD = "a long enough password"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = create_app(Settings.from_env({}, instance_path=tmp_path / "instance", testing=True))
    for args in (
        ["keys", "init"],
        ["db", "upgrade"],
        ["orgs", "create", "--slug", "metro", "--name", "Metro", "--kind", "council"],
    ):
        assert app.test_cli_runner().invoke(args=args).exit_code == 0
    return app


def test_the_operator_creates_a_linkage_reviewer_who_cannot_be_invited(app: Flask) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=[
            "users",
            "create",
            "--org",
            "metro",
            "--username",
            "rev",
            "--name",
            "Reviewer",
            "--role",
            "linkage_reviewer",
            "--password",
            PASSWORD,
        ]
    )
    assert created.exit_code == 0, created.output
    listed = runner.invoke(args=["users", "list", "--org", "metro"]).output
    assert "rev\tlinkage_reviewer\tactive" in listed
    for role in ("linkage_reviewer", "platform_auditor"):
        invited = runner.invoke(
            args=["users", "invite", "--org", "metro", "--name", "X", "--role", role]
        )
        assert invited.exit_code == 2, invited.output  # not a choice
        assert "Invalid value for '--role'" in invited.output
    with runtime_of(app).transaction() as session:
        org = get_organisation(session, "metro")
        admin = Actor(None, org.id, org.kind, frozenset({Role.ORG_ADMIN}), "test")
        with pytest.raises(ValidationFailed) as refused:
            invitations.invite(session, admin, "X", ["linkage_reviewer"])
        assert "roles" in refused.value.errors
