"""An org's entries with inclusion proofs, checked by the standalone verifier without a database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.models import AuditEntry
from databank.services.oversight import proofs
from tests.conftest import ActorMaker, OrgMaker
from tests.support import register_and_read

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "verify_audit_bundle.py"


def _run(bundle: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(bundle)], capture_output=True, text=True, check=False
    )


def test_bundle_verifies_and_an_altered_entry_fails(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker, tmp_path: Path
) -> None:
    """Each entry is proven against the signed checkpoint; one changed byte names its seq."""
    mine, other = actor_for(make_org()), actor_for(make_org())
    for actor in (mine, other):
        register_and_read(session, actor, 3)
    # Force a checkpoint covering everything so far (one is due after 5 minutes otherwise).
    head_size = session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))
    assert head_size is not None
    from databank.services import auditlog

    auditlog.sign_now(session)
    bundle, count = proofs.prove(session, mine, mine.org_id)
    assert count >= 6
    data = json.loads(bundle)
    owners = {json.loads(e["body"])["record"]["owner"] for e in data["entries"]}
    actors = {(json.loads(e["body"])["actor"] or {}).get("org") for e in data["entries"]}
    assert str(other.org_id) not in owners | actors  # only this org's entries
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle)
    result = _run(path)
    assert result.returncode == 0, result.stdout + result.stderr

    victim = data["entries"][2]
    victim["body"] = victim["body"].replace('"purpose":"outreach"', '"purpose":"food_aid"')
    path.write_text(json.dumps(data))
    result = _run(path)
    assert result.returncode == 1
    assert f"seq {victim['seq']}" in result.stdout + result.stderr
