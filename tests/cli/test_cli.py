"""The operator's command line, run as `databank ...` would be, on a fresh SQLite instance."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from databank import create_app, db_schema
from databank.config import Settings
from databank.console import main
from databank.domain.enums import Purpose, Role
from databank.domain.errors import ConfigurationError
from databank.extension import runtime_of
from databank.models import Organisation
from databank.services.actors import Actor
from databank.services.linkage import clusters
from databank.services.records import people
from databank.services.runtime import build_runtime
from tests.factories import identity, intake_record
from tests.support import handle_of

PASSWORD = "a long enough password"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app(Settings.from_env({}, instance_path=tmp_path / "instance", testing=True))


def run(app: Flask, *args: str, ok: bool = True) -> str:
    result = app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)
    assert (result.exit_code == 0) is ok, result.output
    return result.output


def test_operator_journey(app: Flask, tmp_path: Path) -> None:
    output = run(app, "keys", "init")
    assert "WARNING: development keys" in output
    keys_dir = tmp_path / "instance" / "keys"
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((keys_dir / "master.key").stat().st_mode) == 0o600
    assert f"schema at {db_schema.head_revision()}" in run(app, "db", "upgrade")
    assert "agree" in run(app, "db", "check")
    run(app, "keys", "setup")
    run(app, "orgs", "create", "--slug", "restos", "--name", "Restos", "--kind", "charity")
    run(
        app,
        "users",
        "create",
        "--org",
        "restos",
        "--username",
        "ana",
        "--name",
        "Ana",
        "--role",
        "outreach_worker",
        "--password",
        PASSWORD,
    )
    assert "ana\toutreach_worker\tactive" in run(app, "users", "list", "--org", "restos")

    runtime = runtime_of(app)
    with runtime.transaction() as session:
        org = session.execute(select(Organisation)).scalar_one()
        actor = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")
        [result] = people.intake(session, actor, Purpose.OUTREACH, [intake_record()])

    assert "key version 2 active; 1 subject keys re-wrapped" in run(
        app, "keys", "rotate", "--org", "restos"
    )
    run(app, "keys", "retire", "--org", "restos", "--version", "1")
    assert run(app, "keys", "list", "--org", "restos") == "v1\tdestroyed\nv2\tactive\n"
    runtime.keyring.forget_org_key(org.id, 1)
    with runtime.transaction() as session:
        found = people.find_people(
            session, actor, Purpose.OUTREACH, identity().family_name, date(1987, 3, 14)
        )
        assert [f.person_id for f in found] == [result.person_id]

    # A duplicate registration (the name recorded otherwise), pooled by linkage: the org lists
    # its two records of the person and merges them.
    with runtime.transaction() as session:
        [twin] = people.intake(
            session, actor, Purpose.OUTREACH, [intake_record(identity(given_name="Amy"))]
        )
        clusters.merge(session, result.person_id, twin.person_id)
    handle = str(handle_of(runtime, actor.org_id, result.person_id))
    listed = run(app, "people", "records", "--org", "restos", "--person", handle)
    assert [line.split()[0] for line in listed.splitlines()] == [
        str(result.subject_id),
        str(twin.subject_id),
    ]
    merged = run(
        app,
        "people",
        "merge",
        "--org",
        "restos",
        "--keep",
        str(result.subject_id),
        "--other",
        str(twin.subject_id),
        "--yes",
    )
    assert "1 cases moved" in merged
    assert "1 keys destroyed" in merged
    assert f"{twin.subject_id}  merged" in run(
        app, "people", "records", "--org", "restos", "--person", handle
    )

    output = run(
        app,
        "people",
        "erase",
        "--org",
        "restos",
        "--person",
        str(handle_of(runtime, actor.org_id, result.person_id)),
        "--yes",
    )
    assert "1 keys destroyed, tombstone recorded" in output
    assert "0 erased people" in run(app, "people", "replay-erasures")


def test_keys_init_refuses_to_overwrite(app: Flask) -> None:
    run(app, "keys", "init")
    output = run(app, "keys", "init", ok=False)
    assert "master.key" in output


def test_unknown_organisation_is_a_clear_error(app: Flask) -> None:
    run(app, "keys", "init")
    run(app, "db", "upgrade")
    output = run(app, "keys", "rotate", "--org", "nowhere", ok=False)
    assert "no organisation with slug 'nowhere'" in output
    assert "Traceback" not in output


def test_weak_password_names_the_field(app: Flask) -> None:
    run(app, "keys", "init")
    run(app, "db", "upgrade")
    run(app, "orgs", "create", "--slug", "c", "--name", "C", "--kind", "council")
    output = run(
        app,
        "users",
        "create",
        "--org",
        "c",
        "--username",
        "u",
        "--name",
        "U",
        "--role",
        "auditor",
        "--password",
        "short",
        ok=False,
    )
    assert "password: must be at least 12 characters" in output


def test_app_refuses_to_start_without_keys(tmp_path: Path) -> None:
    """Outside tests, no keys means no start: nothing is ever written unencrypted."""
    settings = Settings.from_env({}, instance_path=tmp_path)
    with pytest.raises(ConfigurationError, match="databank keys init"):
        build_runtime(settings)


def test_console_command_is_the_flask_cli() -> None:
    output = CliRunner().invoke(main, ["--help"]).output
    for group in ("db", "keys", "orgs", "users", "people", "demo", "serve"):
        assert f"  {group} " in output


def test_policies_check_passes_on_the_shipped_policies(app: Flask) -> None:
    output = run(app, "policies", "check")
    assert "policies OK" in output
    assert "table tests passed" in output


def test_policies_check_names_the_broken_file(app: Flask, tmp_path: Path) -> None:
    """An org rule about another org's cases is rejected, naming the file."""
    import shutil

    from databank.config import DEFAULT_POLICIES

    broken = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICIES, broken)
    path = broken / "orgs" / "entraide.cedar"
    path.write_text(
        path.read_text()
        + '\n@id("entraide.grab")\npermit (principal, action, resource in Org::"emsp");\n'
    )
    output = run(app, "policies", "check", "--dir", str(broken), ok=False)
    assert "entraide.cedar" in output


def test_policies_explain_names_the_rules(app: Flask) -> None:
    run(app, "keys", "init")
    run(app, "db", "upgrade")
    run(app, "keys", "setup")
    run(app, "orgs", "create", "--slug", "tables-du-coeur", "--name", "T", "--kind", "charity")
    run(app, "orgs", "create", "--slug", "entraide", "--name", "E", "--kind", "charity")
    run(
        app,
        "users",
        "create",
        "--org",
        "entraide",
        "--username",
        "eve",
        "--name",
        "Eve",
        "--role",
        "outreach_worker",
        "--password",
        PASSWORD,
    )
    runtime = runtime_of(app)
    with runtime.transaction() as session:
        org = session.execute(
            select(Organisation).where(Organisation.slug == "tables-du-coeur")
        ).scalar_one()
        actor = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")
        [result] = people.intake(session, actor, Purpose.OUTREACH, [intake_record()])
    output = run(
        app,
        "policies",
        "explain",
        "--user",
        "eve",
        "--case",
        str(result.case_id),
        "--purpose",
        "food_aid",
        "--field",
        "location",
        "--level",
        "3",
    )
    assert "deny" in output.lower()
    assert "tables-du-coeur.location_district_max" in output or "default.deny" in output
    output = run(
        app,
        "policies",
        "explain",
        "--user",
        "eve",
        "--case",
        str(result.case_id),
        "--purpose",
        "enforcement",
    )
    assert "platform.forbidden_purpose" in output


def test_audit_verify_prove_and_integrity_alert(app: Flask, tmp_path: Path) -> None:
    """verify exits 0 on an intact log; prove writes a bundle the standalone script accepts;
    a tampered entry makes verify exit non-zero, name the seq and raise an integrity alert."""
    import subprocess
    import sys

    from sqlalchemy import update

    from databank.models import AuditAlert, AuditEntry

    run(app, "keys", "init")
    run(app, "db", "upgrade")
    run(app, "keys", "setup")
    run(app, "orgs", "create", "--slug", "restos", "--name", "R", "--kind", "charity")
    output = run(app, "audit", "verify")
    assert "OK" in output
    assert "OK" in run(app, "audit", "verify", "--workers", "2")
    refused = app.test_cli_runner().invoke(args=["audit", "verify", "--workers", "0"])
    assert refused.exit_code == 2
    assert "--workers" in refused.output
    bundle = tmp_path / "bundle.json"
    assert "written to" in run(app, "audit", "prove", "--org", "restos", "--out", str(bundle))
    script = Path(__file__).resolve().parents[2] / "scripts" / "verify_audit_bundle.py"
    checked = subprocess.run(
        [sys.executable, str(script), str(bundle)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "databank-audit+" in run(app, "audit", "public-key")

    runtime = runtime_of(app)
    with runtime.transaction() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(event="org.deleted"))
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert "FAILED at seq 1" in result.output
    with runtime.transaction() as session:
        rules = session.scalars(select(AuditAlert.rule)).all()
    assert "log_integrity" in rules
