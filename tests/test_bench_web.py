"""scripts/bench_web.py: its percentiles, summaries and verdicts, and its load generator against a
small local HTTP server (the full benchmark needs PostgreSQL and gunicorn: run the script)."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support import load_script

bench = load_script("bench_web")
Sample = bench.Sample


def test_percentile_interpolates_between_closest_ranks_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert bench.percentile(values, 0) == 1.0
    assert bench.percentile(values, 100) == 4.0
    assert bench.percentile(values, 50) == 2.5
    assert bench.percentile(values, 99) == pytest.approx(3.97)
    assert bench.percentile([7.0], 99) == 7.0
    assert math.isnan(bench.percentile([], 50))
    ordered = [float(v) for v in range(1, 101)]
    assert bench.percentile(ordered, 95) == pytest.approx(95.05)


def test_percentile_refuses_a_q_outside_0_to_100() -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        bench.percentile([1.0], 101)


def test_summary_counts_only_the_measured_window_and_times_only_successes() -> None:
    samples = [
        Sample(0.5, 9.0, 200),  # warm-up: left out
        Sample(1.0, 0.010, 200),
        Sample(1.5, 0.020, 200),
        Sample(2.0, 0.030, 201),
        Sample(2.5, 5.000, 500),  # an error: counted, but not in the latencies
        Sample(2.9, 1.000, 0),  # a failed connection
        Sample(3.0, 9.0, 200),  # after the window: left out
    ]
    s = bench.summarize("open a case", samples, 1.0, 3.0)
    assert (s.requests, s.ok, s.errors) == (5, 3, 2)
    assert s.statuses == {0: 1, 200: 2, 201: 1, 500: 1}
    assert s.rps == pytest.approx(1.5)
    assert s.p50_ms == pytest.approx(20.0)
    assert s.max_ms == pytest.approx(30.0)
    assert not s.mostly_failed
    text = bench.format_summary(s)
    assert "p99 29.8 ms" in text
    assert "conn: 1" in text
    assert "500: 1" in text


def test_verdict_says_met_only_when_every_part_of_the_goal_holds() -> None:
    fast = [Sample(i / 1000, 0.005, 200) for i in range(1000)]
    met, line = bench.verdict(bench.summarize("reads", fast, 0.0, 1.0), 150, 200)
    assert met
    assert "MET" in line
    assert "NOT MET" not in line

    slow = [Sample(i / 1000, 0.2, 200) for i in range(1000)]
    met, line = bench.verdict(bench.summarize("reads", slow, 0.0, 1.0), 150, 200)
    assert not met
    assert "NOT MET: p99 200.0 ms (goal <= 150)" in line

    few = [Sample(i / 100, 0.005, 200) for i in range(100)]
    met, _ = bench.verdict(bench.summarize("reads", few, 0.0, 1.0), 150, 200)
    assert not met  # 100 requests/s

    with_error = [*fast[:-1], Sample(0.999, 0.005, 500)]
    met, _ = bench.verdict(bench.summarize("reads", with_error, 0.0, 1.0), 150, 200)
    assert not met


def test_mostly_failed_when_more_than_half_fail_or_nothing_ran() -> None:
    failing = [Sample(0.1, 0.01, 500), Sample(0.2, 0.01, 500), Sample(0.3, 0.01, 200)]
    assert bench.summarize("x", failing, 0.0, 1.0).mostly_failed
    assert bench.summarize("x", [], 0.0, 1.0).mostly_failed


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn's gthread workers
    # One mark per connection the server accepted (a handler is made per connection), shared on
    # purpose. Counted, not told apart by client port: a closed connection's port can be reused
    # at once, and hundreds are opened in a few tenths of a second.
    connections: list[int] = []  # noqa: RUF012

    def setup(self) -> None:
        super().setup()
        self.connections.append(1)

    def do_GET(self) -> None:
        if self.path == "/chunked":  # a streamed body, in two chunks
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\n10\r\n" + b"0" * 16 + b"\r\n0\r\n\r\n")
            return
        status = 200 if self.path in ("/ok", "/close") else 500
        body = b"{}"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "session=abc; HttpOnly")
        if self.path == "/close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_load_generator_keeps_connections_alive_and_counts_errors(local_server: int) -> None:
    _Handler.connections.clear()
    connections = [bench.Connection(local_server) for _ in range(3)]

    def call(rng: object) -> object:
        return bench.Call("GET", "/ok")

    load = bench.run_load(connections, call, warmup=0.1, seconds=0.4)
    summary = bench.summarize("ok", load.samples, load.start, load.end)
    assert summary.requests > 10
    assert summary.errors == 0
    assert summary.p99_ms < 1000
    assert all(c.cookies == {"session": "abc"} for c in connections)
    assert len(_Handler.connections) == 3  # one connection per user, kept alive

    failing = bench.run_load(connections, lambda rng: bench.Call("GET", "/bad"), 0.0, 0.2)
    summary = bench.summarize("bad", failing.samples, failing.start, failing.end)
    assert summary.mostly_failed
    assert set(summary.statuses) == {500}
    for c in connections:
        c.close()


def test_load_generator_follows_chunked_bodies_and_connections_the_server_closes(
    local_server: int,
) -> None:
    _Handler.connections.clear()
    connections = [bench.Connection(local_server) for _ in range(2)]
    chunked = bench.run_load(connections, lambda rng: bench.Call("GET", "/chunked"), 0.0, 0.3)
    summary = bench.summarize("chunked", chunked.samples, chunked.start, chunked.end)
    assert summary.requests > 10
    assert summary.errors == 0
    assert len(_Handler.connections) == 2  # a whole chunked body read, the connection kept

    closing = bench.run_load(connections, lambda rng: bench.Call("GET", "/close"), 0.0, 0.3)
    summary = bench.summarize("close", closing.samples, closing.start, closing.end)
    assert summary.requests > 10
    assert summary.errors == 0
    # "Connection: close" honoured: a new connection for each request after the first.
    assert len(_Handler.connections) >= summary.requests
    for c in connections:
        c.close()
