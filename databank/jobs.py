"""Background jobs (huey): a new subject is linked against the pool once its registration commits.

The registration does not wait for linkage: `people.intake` asks the linkage zone to link its new
subjects after the commit (`LinkageZone.link_after_commit`), and this module, attached to the
runtime's sessions, queues one job per subject when the transaction commits (none if it rolls
back). A worker runs `runs.link_one` in a transaction of its own. The queue is huey's: a SQLite file
in the instance folder by default, Redis in production (`DATABANK_JOBS=redis://...`), or run at
once in the caller (`immediate`, for tests). `databank serve` runs a worker thread in the process;
with gunicorn, run `databank jobs` beside it. A job lost with its process is not lost work: its
subject keeps `linked_at` empty and the next `databank linkage run` links it.

Jobs name subjects by id only: no identifier ever enters the queue.
"""

from __future__ import annotations

import logging
import signal
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from databank.services.linkage import runs
from databank.services.linkage.zone import TO_LINK, TO_RELINK
from databank.services.runtime import Runtime

log = logging.getLogger(__name__)


class Jobs:
    """The runtime's queue and its one task."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.huey = _huey(runtime)
        self.link = self.huey.task(retries=2, retry_delay=5, name="link_subject")(self._link)
        self._suspended = 0
        self._lock = threading.Lock()

    def _link(self, subject: str, corrected: bool = False) -> int:
        with self.runtime.transaction() as session:
            if corrected:
                return runs.relink(session, uuid.UUID(subject))
            return runs.link_one(session, uuid.UUID(subject))

    def enqueue(self, subjects: list[uuid.UUID], corrected: frozenset[uuid.UUID]) -> None:
        if self._suspended:
            return
        for subject in subjects:
            try:
                self.link(str(subject), subject in corrected)
            except Exception:  # a failed link never fails the registration that queued it
                log.exception("linking a new subject failed; `databank linkage run` will link it")

    @contextmanager
    def suspend(self) -> Iterator[None]:
        """Queue nothing meanwhile (a bulk load that runs a batch linkage after it)."""
        with self._lock:
            self._suspended += 1
        try:
            yield
        finally:
            with self._lock:
                self._suspended -= 1

    def worker(self, workers: int = 1) -> Any:
        """A huey consumer running the jobs in threads of this process (`run()` it: it blocks)."""
        return self.huey.create_consumer(workers=workers, worker_type="thread", periodic=False)

    def start_beside(self) -> None:
        """Run one worker in daemon threads beside the caller (`databank serve`). Huey's consumer
        takes over SIGINT and SIGTERM when it starts; the caller's handlers are put back, so
        Ctrl-C still stops the server (the daemon threads end with it)."""
        signals = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
        previous = {s: signal.getsignal(s) for s in signals}
        self.worker().start()
        for number, handler in previous.items():
            signal.signal(number, handler)


def _huey(runtime: Runtime) -> Huey:
    setting = runtime.settings.jobs
    if setting == "immediate":
        return MemoryHuey("databank", immediate=True)
    if setting.startswith("redis://"):
        return RedisHuey("databank", url=setting)
    path = runtime.settings.instance_path / "jobs.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)  # subject ids only, but readable by no one else, like the databank
    return SqliteHuey("databank", filename=str(path))


def attach(runtime: Runtime) -> Jobs | None:
    """Queue a link job for each subject a commit of the runtime's sessions enrolled (unless the
    settings turn jobs off). Returns the queue."""
    if runtime.settings.jobs == "off":
        return None
    jobs = Jobs(runtime)

    @event.listens_for(runtime.sessions, "after_commit")
    def _queue(session: Session) -> None:
        subjects = session.info.pop(TO_LINK, None)
        corrected = frozenset(session.info.pop(TO_RELINK, ()))
        if subjects:
            jobs.enqueue(subjects, corrected)

    @event.listens_for(runtime.sessions, "after_soft_rollback")
    def _drop(session: Session, previous: SessionTransaction) -> None:
        if previous.parent is None:
            session.info.pop(TO_LINK, None)
            session.info.pop(TO_RELINK, None)

    return jobs
