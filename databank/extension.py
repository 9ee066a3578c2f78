"""The databank runtime of a Flask app, built once on first use (keys are required then)."""

from __future__ import annotations

import threading

from flask import Flask, current_app

from databank import jobs
from databank.config import Settings
from databank.services.runtime import Runtime, build_runtime

_lock = threading.Lock()


def runtime_of(app: Flask | None = None) -> Runtime:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    runtime = app.extensions.get("databank")
    if runtime is None:
        with _lock:
            runtime = app.extensions.get("databank")
            if runtime is None:
                settings: Settings = app.config["DATABANK_SETTINGS"]
                runtime = build_runtime(settings)
                app.extensions["databank_jobs"] = jobs.attach(runtime)
                app.extensions["databank"] = runtime
    assert isinstance(runtime, Runtime)  # noqa: S101 - only this module stores it
    return runtime


def jobs_of(app: Flask | None = None) -> jobs.Jobs | None:
    """The app's background job queue (None when the settings turn jobs off)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    runtime_of(app)
    found = app.extensions.get("databank_jobs")
    return found if isinstance(found, jobs.Jobs) else None
