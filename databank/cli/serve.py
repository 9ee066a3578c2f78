"""`databank serve`: run the web app (development server; use gunicorn in production)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from databank.extension import jobs_of, runtime_of


@click.command("serve", help="Serve the web app on a local address.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    runtime_of(app).check()  # refuse to start without keys or with mis-sized blind indexes
    queue = jobs_of(app)
    if queue is not None:  # new registrations are linked by a worker thread of this process
        queue.start_beside()
    click.echo(f"serving on http://{host}:{port} (development server; use gunicorn in production)")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


@click.command("jobs", help="Run the background job worker (linkage of new registrations).")
@click.option("--workers", default=1, show_default=True, type=int)
@with_appcontext
def jobs(workers: int) -> None:
    queue = jobs_of()
    if queue is None:
        raise click.ClickException("jobs are off (DATABANK_JOBS=off): nothing to run")
    click.echo(f"running {workers} job worker(s); Ctrl-C to stop")
    queue.worker(workers).run()
