"""`databank serve` runs a link-job worker beside the server, and Ctrl-C (SIGINT) still stops it:
huey's consumer takes over the process's signal handlers when it starts (found by trying the demo:
the server no longer stopped)."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

DATABANK = str(Path(sys.executable).with_name("databank"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@pytest.mark.serial  # it timed out twice in CI while the PostgreSQL pass ran beside it
@pytest.mark.skipif(
    bool(os.environ.get("DATABANK_TEST_DATABASE_URL")), reason="SQLite: the SQLite pass runs it"
)
def test_serve_stops_on_ctrl_c_with_its_job_worker(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABANK_INSTANCE_PATH": str(tmp_path),
        "DATABANK_COOKIE_SECURE": "0",
        "DATABANK_JOBS": "sqlite",
    }
    env.pop("DATABANK_TEST_DATABASE_URL", None)
    env.pop("DATABANK_DATABASE_URL", None)
    for command in (["keys", "init"], ["db", "upgrade"], ["keys", "setup"]):
        subprocess.run([DATABANK, *command], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [DATABANK, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        # The server says so once its job worker is running and the signal handlers are back
        # (before that, a signal meets the worker's own handlers; and another test's server may
        # answer on a port taken in between, so the address alone does not say it is this one).
        assert server.stdout is not None
        ready, _unused, _unused = select.select([server.stdout], [], [], 60)
        assert ready, "the server did not start"
        assert server.stdout.readline().startswith("serving on")
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=1) as r:
                    assert r.status == 200
                break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail("the server did not answer")
        assert (tmp_path / "jobs.sqlite").exists()  # the worker's queue is there
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=15) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()
