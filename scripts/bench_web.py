#!/usr/bin/env python3
"""Web benchmark: gunicorn (2 workers) on PostgreSQL, 20 concurrent users on the loopback.

Builds a fresh PostgreSQL database (databank_bench by default) with keys and the demo city, starts
gunicorn on 127.0.0.1, and for each scenario runs an HTTP/1.1 load generator (one connection per
user, kept alive when the server allows it, all driven by one event loop) for a fixed time after a
warm-up that is not counted.

gunicorn runs sync workers by default, as its documentation advises behind a buffering proxy
(nginx): the server closes each connection after its response, so every request waits in the one
accept queue for whichever worker is free. With gthread workers and keep-alive, a connection stays
with the worker that accepted it, and an uneven split (all 20 on one worker, measured) leaves a core
idle or makes the latency bimodal; `--worker-class gthread` measures that configuration.

Prints p50, p95, p99 and requests/s per scenario, the errors, the CPU the load generator and the
server used, and whether the goal for case reads is met (issue 5: p99 <= 150 ms and >= 200
requests/s, 2 cores).

Modes:
- `api` (the target): "open a case" = GET /api/v1/cases/<id> and "record an encounter" = POST
  /api/v1/cases/<id>/encounters, with a bearer token from `databank tokens create`.
- `web`: signs each user in through the form (CSRF token and session cookie), then "open a
  case" = GET /cases/<id> (the HTML case page, through the same services) and "health check" =
  GET /healthz.

    .venv/bin/python scripts/bench_web.py [--mode api|web] [--seconds 20] [--users 20]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/databank_bench]

The exit code is 0 whether the goal is met or not (the verdict is printed); it is 1 when the setup
fails or when most requests of a scenario fail.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODE = "api"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/databank_bench"
GOAL_P99_MS = 150.0
GOAL_RPS = 200.0
BENCH_ORG = "entraide"  # the demo's street outreach charity
BENCH_USER = f"outreach@{BENCH_ORG}"
SECRET_KEY = "bench-web-session-key-not-a-secret"  # noqa: S105 - both workers must share one
# Reconnect-and-resend is safe only for requests that change nothing.
IDEMPOTENT = {"GET", "HEAD"}


# --- results: pure functions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One request: when it started (perf_counter seconds), how long it took, its HTTP status
    (0 when the connection failed)."""

    started: float
    seconds: float
    status: int


@dataclass(frozen=True)
class Summary:
    name: str
    requests: int  # started inside the measured window
    ok: int  # 2xx answers
    errors: int  # non-2xx answers and failed connections
    seconds: float  # length of the measured window
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        """Successful requests per second over the measured window."""
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def mostly_failed(self) -> bool:
        return self.requests == 0 or self.errors * 2 > self.requests


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of sorted values, interpolated linearly between closest ranks
    (numpy's default). NaN for no values."""
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(name: str, samples: Sequence[Sample], start: float, end: float) -> Summary:
    """The requests started in [start, end): latency percentiles of the successful ones."""
    window = [s for s in samples if start <= s.started < end]
    ok = sorted(s.seconds * 1000 for s in window if 200 <= s.status < 300)
    statuses: dict[int, int] = {}
    for s in window:
        statuses[s.status] = statuses.get(s.status, 0) + 1
    return Summary(
        name=name,
        requests=len(window),
        ok=len(ok),
        errors=len(window) - len(ok),
        seconds=end - start,
        p50_ms=percentile(ok, 50),
        p95_ms=percentile(ok, 95),
        p99_ms=percentile(ok, 99),
        max_ms=ok[-1] if ok else math.nan,
        statuses=dict(sorted(statuses.items())),
    )


def verdict(summary: Summary, p99_max_ms: float, rps_min: float) -> tuple[bool, str]:
    """Whether the goal is met, and a line that says so with the figures."""
    met = (
        not summary.mostly_failed
        and summary.errors == 0
        and summary.p99_ms <= p99_max_ms
        and summary.rps >= rps_min
    )
    word = "MET" if met else "NOT MET"
    detail = (
        f"p99 {summary.p99_ms:.1f} ms (goal <= {p99_max_ms:.0f}), "
        f"{summary.rps:.1f} requests/s (goal >= {rps_min:.0f}), {summary.errors} errors"
    )
    return met, f"goal for {summary.name}: {word}: {detail}"


def format_summary(summary: Summary) -> str:
    codes = ", ".join(f"{'conn' if k == 0 else k}: {v}" for k, v in summary.statuses.items())
    return (
        f"{summary.name}: {summary.requests} requests in {summary.seconds:.1f} s, "
        f"{summary.rps:.1f} ok/s; latency p50 {summary.p50_ms:.1f} ms, "
        f"p95 {summary.p95_ms:.1f} ms, p99 {summary.p99_ms:.1f} ms, max {summary.max_ms:.1f} ms; "
        f"errors {summary.errors} ({codes or 'none'})"
    )


# --- HTTP client: keep-alive connections on the loopback -----------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Connection:
    """One keep-alive HTTP/1.1 connection with its cookies (a user's browser, roughly)."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.port = port
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def send(self, call: Call) -> tuple[int, bytes, http.client.HTTPResponse]:
        headers = {**self.headers, **call.headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.conn.request(call.method, call.path, body=call.body, headers=headers)
                response = self.conn.getresponse()
                body = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect, resend if harmless.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2 or call.method not in IDEMPOTENT:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return response.status, body, response

    def close(self) -> None:
        self.conn.close()

    def request_bytes(self, call: Call) -> bytes:
        """The HTTP/1.1 request for the event-loop client (same headers as `send`)."""
        headers = {"Host": f"127.0.0.1:{self.port}", **self.headers, **call.headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = call.body or b""
        if body or call.method not in IDEMPOTENT:
            headers["Content-Length"] = str(len(body))
        lines = [f"{call.method} {call.path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def read_head(self, head: bytes) -> tuple[int, int | None, bool, bool]:
        """(status, content length, chunked, connection close) of a response head; keeps the
        cookies it sets."""
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, chunked, close = None, False, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif name == "connection":
                close = value.lower() == "close"
            elif name == "set-cookie":
                cookie_name, _, cookie_value = value.split(";", 1)[0].partition("=")
                self.cookies[cookie_name.strip()] = cookie_value.strip()
        return status, length, chunked, close


def sign_in(port: int, username: str, password: str) -> Connection:
    """Sign in through the web form as a browser would: CSRF token from the page, then POST."""
    conn = Connection(port)
    status, page, _ = conn.send(Call("GET", "/login"))
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    if status != 200 or match is None:
        raise RuntimeError(f"the sign-in page did not load ({status})")
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrf_token": match.group(1).decode()}
    ).encode()
    status, _, _ = conn.send(
        Call("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
    )
    if status != 302:
        raise RuntimeError(f"sign-in as {username} failed ({status})")
    return conn


@dataclass
class LoadResult:
    samples: list[Sample]
    start: float
    end: float
    client_cpu: float  # CPU seconds of this process during the run
    wall: float


def run_load(
    connections: Sequence[Connection],
    make_call: Callable[[random.Random], Call],
    warmup: float,
    seconds: float,
) -> LoadResult:
    """Each connection sends requests back to back until the end of the measured window; samples
    from the warm-up are kept but summarize() leaves them out.

    One thread drives every connection through a selector. Twenty client threads (one per user)
    measured their own GIL waits as server latency (a thread woken by its response waits its turn
    for the interpreter) and spent a core on http.client's header parsing; one event loop answers
    a response as soon as it arrives and parses only the status line and the headers it needs.
    """
    begin = time.perf_counter()
    start, end = begin + warmup, begin + warmup + seconds
    cpu_before = time.process_time()
    samples: list[Sample] = []
    selector = selectors.DefaultSelector()
    flights = [_Flight(conn, random.Random(i), make_call) for i, conn in enumerate(connections)]
    try:

        def next_request(flight: _Flight) -> None:
            # A request that cannot even be sent counts as failed; the user tries again.
            while time.perf_counter() < end:
                failed = flight.send(selector, time.perf_counter())
                if failed is None:
                    return
                samples.append(failed)

        for flight in flights:
            next_request(flight)
        while any(f.busy for f in flights):
            for key, _ in selector.select(timeout=0.5):
                flight = key.data
                done = flight.receive(selector, time.perf_counter())
                if done is not None:
                    samples.append(done)
                    next_request(flight)
            now = time.perf_counter()
            for flight in flights:
                if flight.busy and now - flight.started > REQUEST_TIMEOUT:
                    samples.append(flight.fail(selector, now))
                    next_request(flight)
    finally:
        for flight in flights:
            flight.release(selector)
        selector.close()
    wall = time.perf_counter() - begin
    return LoadResult(samples, start, end, time.process_time() - cpu_before, wall)


REQUEST_TIMEOUT = 30.0


class _Flight:
    """One user's keep-alive connection in the event loop: the request in flight and the bytes of
    its response so far. Uses (and gives back) the socket of the user's `Connection`, so cookies
    set during the run stay with the user."""

    def __init__(
        self, conn: Connection, rng: random.Random, make_call: Callable[[random.Random], Call]
    ) -> None:
        self.conn, self.rng, self.make_call = conn, rng, make_call
        self.sock: socket.socket | None = None
        self.busy = False
        self.started = 0.0
        self.call: Call | None = None
        self.retried = False
        self.buffer = b""
        self.head: tuple[int, int | None, bool, bool] | None = (
            None  # status, length, chunked, close
        )

    def _socket(self, selector: selectors.BaseSelector) -> socket.socket:
        if self.sock is None:
            if self.conn.conn.sock is None:
                self.conn.conn.connect()
            self.sock = self.conn.conn.sock
            selector.register(self.sock, selectors.EVENT_READ, self)
        return self.sock

    def _drop(self, selector: selectors.BaseSelector) -> None:
        if self.sock is not None:
            selector.unregister(self.sock)
            self.conn.close()  # http.client opens a fresh socket when next asked
            self.sock = None

    def send(
        self, selector: selectors.BaseSelector, now: float, call: Call | None = None
    ) -> Sample | None:
        """Send the next request (or resend `call`); a failure's sample if it could not be sent."""
        self.call = call or self.make_call(self.rng)
        self.retried = call is not None
        self.started = now
        self.buffer, self.head, self.busy = b"", None, True
        try:
            self._socket(selector).sendall(self.conn.request_bytes(self.call))
        except OSError:
            return self.fail(selector, time.perf_counter())
        return None

    def receive(self, selector: selectors.BaseSelector, now: float) -> Sample | None:
        """Read what arrived; the request's sample when its response is complete."""
        assert self.sock is not None  # noqa: S101 - registered sockets only
        try:
            data = self.sock.recv(262_144)
        except OSError:
            data = b""
        if not data:
            call = self.call
            self._drop(selector)
            if not self.buffer and not self.retried and call and call.method in IDEMPOTENT:
                # The server closed an idle keep-alive connection: reconnect, resend once.
                return self.send(selector, self.started, call)
            return self._finish(0, now)
        self.buffer += data
        if self.head is None:
            cut = self.buffer.find(b"\r\n\r\n")
            if cut < 0:
                return None
            self.head = self.conn.read_head(self.buffer[:cut])
            self.buffer = self.buffer[cut + 4 :]
        status, length, chunked, close = self.head
        if chunked:
            complete = self.buffer.endswith(b"0\r\n\r\n")
        else:
            complete = len(self.buffer) >= (length or 0)
        if not complete:
            return None
        if close:
            self._drop(selector)
        return self._finish(status, now)

    def fail(self, selector: selectors.BaseSelector, now: float) -> Sample:
        self._drop(selector)
        return self._finish(0, now)

    def _finish(self, status: int, now: float) -> Sample:
        self.busy = False
        return Sample(self.started, now - self.started, status)

    def release(self, selector: selectors.BaseSelector) -> None:
        """Give the socket back to the user's blocking client (or close it mid-response)."""
        if self.sock is not None:
            if self.busy:
                self._drop(selector)
            else:
                selector.unregister(self.sock)
                self.sock = None


# --- the server under test -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cpu_by_pid(pids: Sequence[int]) -> dict[int, float]:
    """utime + stime of each of these processes, from /proc (processes gone are left out)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[p] = (int(fields[11]) + int(fields[12])) / tick
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    return sum(cpu_by_pid(pids).values())


def process_cpu_seconds(pid: int) -> float:
    """CPU of a process and of its children (gunicorn's master and its workers)."""
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return cpu_seconds(pids)


def database_pids(url: str) -> list[int]:
    """The PostgreSQL backends serving the benchmark database (local server: their CPU is read
    from /proc; gunicorn's connection pools keep them for the whole run)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
    engine.dispose()
    return [int(row[0]) for row in rows]


def databank_cli(env: dict[str, str], *args: str) -> str:
    """Run a `databank` command with this checkout's code; returns its stdout."""
    command = [sys.executable, "-c", "from databank.console import main; main()", *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"databank {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def fresh_database(url: str) -> None:
    from sqlalchemy import create_engine, make_url, text

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def drop_database(url: str) -> None:
    from sqlalchemy import create_engine, make_url, text

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def case_ids(url: str, org_slug: str, limit: int = 500) -> list[uuid.UUID]:
    """Cases held by the benchmark user's organisation (the user may read them)."""
    from sqlalchemy import create_engine, select

    from databank.models import Case, Organisation

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Case.id)
            .join(Organisation, Organisation.id == Case.org_id)
            .where(Organisation.slug == org_slug)
            .order_by(Case.id)
            .limit(limit)
        ).all()
    engine.dispose()
    return [row[0] for row in rows]


class Server:
    """gunicorn serving `databank:create_app()` on a free loopback port."""

    def __init__(self, env: dict[str, str], workers: int, threads: int, worker_class: str) -> None:
        self.port = free_port()
        per_worker = (
            ["--threads", str(threads), "--keep-alive", "30"] if worker_class == "gthread" else []
        )
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            *per_worker,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
            "databank:create_app()",
        ]
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=self.log
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.output()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz in {timeout:.0f} s:\n{self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# --- scenarios -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    make_call: Callable[[random.Random], Call]
    is_case_read: bool  # the goal applies to case reads


def lyon_district(rng: random.Random) -> tuple[str, dict[str, float]]:
    from databank.domain import geo

    lat, lon = 45.74 + rng.random() * 0.04, 4.81 + rng.random() * 0.05
    return geo.encode(lat, lon, 5), {"lat": round(lat, 5), "lon": round(lon, 5)}


def api_scenarios(
    cases: Sequence[uuid.UUID], read_purpose: str, write_purpose: str
) -> list[Scenario]:
    def open_case(rng: random.Random) -> Call:
        return Call(
            "GET", f"/api/v1/cases/{rng.choice(cases)}", None, {"X-Databank-Purpose": read_purpose}
        )

    def record_encounter(rng: random.Random) -> Call:
        district, point = lyon_district(rng)
        when = datetime.now(UTC) - timedelta(minutes=rng.randint(1, 600))
        body = {
            "occurred_at": when.isoformat(timespec="seconds"),
            "district": district,
            "point": point,
            "needs": [{"category": "food", "severity": "high"}],
            "services_given": ["meal"],
            "notes": "Bench: met near the station, shared a meal.",
        }
        return Call(
            "POST",
            f"/api/v1/cases/{rng.choice(cases)}/encounters",
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "X-Databank-Purpose": write_purpose},
        )

    return [
        Scenario("open a case (GET /api/v1/cases/<id>)", open_case, True),
        Scenario(
            "record an encounter (POST /api/v1/cases/<id>/encounters)", record_encounter, False
        ),
    ]


def web_scenarios(cases: Sequence[uuid.UUID]) -> list[Scenario]:
    return [
        Scenario(
            "open a case (GET /cases/<id>, HTML page)",
            lambda rng: Call("GET", f"/cases/{rng.choice(cases)}"),
            True,
        ),
        Scenario("health check (GET /healthz)", lambda rng: Call("GET", "/healthz"), False),
    ]


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["api", "web"], default=DEFAULT_MODE)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--people", type=int, default=500, help="demo city size")
    parser.add_argument("--users", type=int, default=20, help="concurrent users")
    parser.add_argument("--seconds", type=float, default=20, help="measured time per scenario")
    parser.add_argument("--warmup", type=float, default=3, help="uncounted time per scenario")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--worker-class",
        choices=["sync", "gthread"],
        default="sync",
        help="sync (default): gunicorn's own advice behind a buffering proxy; a request per "
        "connection, taken by whichever worker is free. gthread: keep-alive connections, each "
        "kept by the worker that accepted it (20 connections opened together all went to one)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="gthread only: threads per worker (1 measured best here: no GIL contention)",
    )
    parser.add_argument("--read-purpose", default="case_management")
    parser.add_argument("--write-purpose", default="outreach")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from databank.demo.cast import DEMO_PASSWORD

    instance = Path(tempfile.mkdtemp(prefix="bench-web-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABANK_INSTANCE_PATH": str(instance),
        "DATABANK_DATABASE_URL": args.database_url,
        "DATABANK_SECRET_KEY": SECRET_KEY,
        "DATABANK_COOKIE_SECURE": "0",
    }
    server: Server | None = None
    failed = False
    try:
        t0 = time.perf_counter()
        fresh_database(args.database_url)
        databank_cli(env, "keys", "init")
        databank_cli(env, "db", "upgrade")
        databank_cli(env, "keys", "setup")
        databank_cli(env, "demo", "--people", str(args.people))
        cases = case_ids(args.database_url, BENCH_ORG)
        if not cases:
            raise RuntimeError(f"the demo city has no case held by {BENCH_ORG}")
        print(
            f"== setup: {args.database_url.rsplit('/', 1)[-1]} with the demo city "
            f"({args.people} people, {len(cases)} cases of {BENCH_ORG}) "
            f"in {time.perf_counter() - t0:.1f} s"
        )

        server = Server(env, args.workers, args.threads, args.worker_class)
        server.wait_ready()
        print(
            f"== gunicorn: {args.workers} workers x {args.threads} threads ({args.worker_class}) "
            f"on "
            f"127.0.0.1:{server.port}; {args.users} users, {args.warmup:.0f} s warm-up + "
            f"{args.seconds:.0f} s measured per scenario; mode {args.mode}; {os.cpu_count()} CPUs"
        )
        if args.mode == "api":
            created = databank_cli(
                env, "tokens", "create", "--user", BENCH_USER, "--name", "bench",
                "--scopes", "cases:read cases:write", "--days", "1",
            )  # fmt: skip
            token = created.strip().splitlines()[-1].strip()
            auth = {"Authorization": f"Bearer {token}"}
            connections = [Connection(server.port, auth) for _ in range(args.users)]
            scenarios = api_scenarios(cases, args.read_purpose, args.write_purpose)
        else:
            connections = [
                sign_in(server.port, BENCH_USER, DEMO_PASSWORD) for _ in range(args.users)
            ]
            scenarios = web_scenarios(cases)

        verdicts = []
        for scenario in scenarios:
            server_cpu = process_cpu_seconds(server.process.pid)
            db_before = cpu_by_pid(database_pids(args.database_url))
            load = run_load(connections, scenario.make_call, args.warmup, args.seconds)
            server_cpu = process_cpu_seconds(server.process.pid) - server_cpu
            # A backend started during the run spent all its CPU in it.
            backends = database_pids(args.database_url)
            db_after = cpu_by_pid(backends)
            database_cpu = sum(v - db_before.get(p, 0.0) for p, v in db_after.items())
            summary = summarize(scenario.name, load.samples, load.start, load.end)
            print(format_summary(summary))
            print(
                f"    CPU over {load.wall:.1f} s, in % of one core: load generator "
                f"{100 * load.client_cpu / load.wall:.0f}%, gunicorn "
                f"{100 * server_cpu / load.wall:.0f}%, PostgreSQL ({len(backends)} backends) "
                f"{100 * database_cpu / load.wall:.0f}%; machine load average "
                f"{os.getloadavg()[0]:.1f}"
            )
            if summary.mostly_failed:
                failed = True
                print(f"    FAILED: most requests of '{scenario.name}' failed", file=sys.stderr)
            if scenario.is_case_read:
                verdicts.append(verdict(summary, GOAL_P99_MS, GOAL_RPS))
        for conn in connections:
            conn.close()
        for _met, line in verdicts:
            print(f"== {line}")
        if args.mode == "web":
            print("== (web mode: the case page through the form session; --mode api for the API)")
    except Exception as error:  # a failed setup: say why, clean up, exit 1
        print(f"bench_web: {error}", file=sys.stderr)
        if server is not None:
            print(server.output(), file=sys.stderr)
        failed = True
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            try:
                drop_database(args.database_url)
            except Exception as error:
                print(f"bench_web: could not drop the database: {error}", file=sys.stderr)
        shutil.rmtree(instance, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
