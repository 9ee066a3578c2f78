"""scripts/bench_audit.py stays runnable: a small run end to end (its verify in new processes,
through the real `databank audit verify`), and the mixed log it writes is a mix."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import distinct, func, select

from databank.audit import native
from databank.models import AuditEntry
from databank.services.oversight import integrity
from tests.support import load_script, postgres_url

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_audit.py"

# The bench makes SQLite files of its own, whichever database the suite runs on.
pytestmark = pytest.mark.skipif(
    postgres_url() is not None, reason="SQLite files: the SQLite pass runs these (same tests)"
)


def test_a_small_run_prints_every_figure_and_verdict() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--reads", "20", "--entries", "3000"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for start in (
        "case reads (service)",
        "case reads (API request)",
        "bulk append",
        "verify, 1 process",
        "verify (default)",
        "verify, Python passes only",
        "floor: fetch + leaf hash only",
        "goal verify >= 500,000/s",
        "goal audit <= 20 %, service read",
        "goal audit <= 20 %, API request",
    ):
        assert any(line.startswith(start) for line in lines), start
    verified = [line for line in lines if line.startswith("verify")]
    assert len(verified) == 3
    # The C pass where it was built (always in CI), the Python passes alone as the peer.
    assert verified[2].endswith("bulk pass in Python, OK")
    if native.built() or os.environ.get("CI") == "true":
        assert all(line.endswith("bulk pass in C, OK") for line in verified[:2]), verified
    for line in verified:  # the 3,000 written, and the reads' own entries before them
        size = re.search(r"([\d,]+) entries = ", line)
        assert size is not None, line
        assert int(size.group(1).replace(",", "")) > 3000
        assert line.endswith("OK")


def test_the_mixed_log_has_many_actors_kinds_and_people(tmp_path: Path) -> None:
    bench = load_script("bench_audit")
    runtime = bench.setup(f"sqlite:///{tmp_path / 'audit.sqlite'}", tmp_path)
    try:
        bench.build_log(runtime, 2000)
        with runtime.transaction() as session:

            def distinct_count(column: object) -> int:
                count = session.scalar(select(func.count(distinct(column))))
                assert count is not None
                return count

            kinds = select(AuditEntry.event, AuditEntry.decision).distinct()
            assert len(session.execute(kinds).all()) >= 4  # reads allowed, partial, refused...
            assert distinct_count(AuditEntry.actor_user_id) >= 30
            assert distinct_count(AuditEntry.person_id) >= 500
            assert distinct_count(func.length(AuditEntry.body)) >= 20
            assert integrity.verify(session, workers=1).ok
    finally:
        runtime.dispose()
