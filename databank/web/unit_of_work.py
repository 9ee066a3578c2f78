"""The request's unit of work: one session per request, committed before the response leaves."""

from __future__ import annotations

from flask import Response, g
from sqlalchemy.orm import Session

from databank.extension import runtime_of
from databank.services import auditlog
from databank.services.access import AccessRefused, record_denial


def db() -> Session:
    """The request's session: one transaction per request, committed before the response leaves."""
    if "db" not in g:
        g.db = runtime_of().sessions()
        # The request's access entries are written together by its commit (one head lock).
        auditlog.defer_appends(g.db)
    session: Session = g.db
    return session


def commit_access() -> None:
    """Commit the request's work now, before the view turns what it read into a response.

    Nothing has left yet, so "no log, no data" holds as it does at the end of the request; the
    access log's head row, locked by the entry's append, is held for less time.
    """
    db().commit()


def finish_request(response: Response) -> Response:
    """Commit before the response is sent: if the access log cannot be written, no data leaves."""
    session: Session | None = g.pop("db", None)
    if session is None:
        return response
    try:
        if response.status_code < 400:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()
    return response


def fail_request(error: BaseException) -> None:
    """Roll back the request's work; a refused access still gets its log entries written."""
    session: Session | None = g.get("db")
    if session is None:
        return
    if isinstance(error, AccessRefused):
        log_refusal(error)
    else:
        session.rollback()


def log_refusal(refusal: AccessRefused) -> None:
    """Roll back the refused work, then write and commit the refusal's log entries on their own
    (the response that follows may be an error, which would roll back anything left open)."""
    session = db()
    session.rollback()
    record_denial(session, refusal)
    session.commit()


def close_request(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db", None)
    if session is not None:
        session.rollback()
        session.close()
