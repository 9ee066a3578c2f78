"""scripts/bench_web.py signs in through the real form (CSRF token, session cookie) and reads a
case page over a keep-alive connection, as its web mode does under load."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.test_bench_web import bench
from tests.web.conftest import PASSWORD, World


@pytest.fixture
def port(app: Flask) -> Iterator[int]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def test_bench_signs_in_through_the_form_and_reads_a_case(port: int, world: World) -> None:
    conn = bench.sign_in(port, "worker", PASSWORD)
    status, page, _ = conn.send(bench.Call("GET", f"/cases/{world.own_case}"))
    assert status == 200
    assert str(world.own_case)[:8].encode() in page
    status, _, _ = conn.send(bench.Call("GET", f"/cases/{world.other_case}"))
    assert status == 403  # the bench reads only what its user may read
    conn.close()


def test_bench_sign_in_fails_loudly_on_a_wrong_password(port: int) -> None:
    with pytest.raises(RuntimeError, match="sign-in as worker failed"):
        bench.sign_in(port, "worker", "wrong password")
