"""Who calls the API and for which purpose: a bearer token, or the browser session.

A token acts as its user, with that user's roles, narrowed by the token's scopes and purposes.
A session call carries the session's CSRF token in `X-CSRF-Token` on unsafe methods (checked in
web/security.py); a bearer call needs none (a cross-site page cannot set the header).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import g, request
from flask_login import current_user

from databank.domain.enums import Purpose
from databank.domain.errors import BadRequest, DatabankError
from databank.models import User
from databank.services.access import roles
from databank.services.accounts import tokens
from databank.services.actors import Actor
from databank.web.auth import current_purpose
from databank.web.unit_of_work import db

F = TypeVar("F", bound=Callable[..., Any])

PURPOSE_HEADER = "X-Databank-Purpose"
BEARER = "bearer "


class Unauthenticated(DatabankError):
    """No valid credentials: a missing, malformed, unknown, expired or revoked token."""

    status = 401
    code = "unauthenticated"


@dataclass(frozen=True)
class Caller:
    user: User
    actor: Actor
    purpose: Purpose
    # None for a signed-in session (its roles decide); a token's scopes otherwise.
    scopes: frozenset[str] | None
    token_id: uuid.UUID | None
    token_purposes: tuple[Purpose, ...] = ()


def _declared() -> Purpose | None:
    raw = request.headers.get(PURPOSE_HEADER)
    if raw is None:
        return None
    try:
        return Purpose(raw.strip())
    except ValueError:
        valid = ", ".join(p.value for p in Purpose)
        raise BadRequest(
            "unknown purpose", {PURPOSE_HEADER: [f"must be one of: {valid}"]}
        ) from None


def _token_caller(header: str, scope: str) -> Caller:
    if not header.lower().startswith(BEARER):
        raise Unauthenticated(
            "send an API token as `Authorization: Bearer <token>`",
            {"Authorization": ["must be `Bearer <token>`"]},
        )
    session = db()
    use = tokens.authenticate(session, header[len(BEARER) :].strip()[:200])
    if use.user is None or use.token is None:
        session.commit()  # keep the refused use's log entry: the error response rolls back
        raise Unauthenticated(
            "the API token is invalid, expired or revoked",
            {"Authorization": ["invalid, expired or revoked token"]},
        )
    user, token = use.user, use.token
    if scope and scope not in token.scopes:
        raise tokens.refuse(user, token, "scope")
    allowed = tuple(Purpose(p) for p in token.purposes)
    purpose = _declared()
    if purpose is None:
        purpose = roles.default_purpose(user.roles)
        if allowed and purpose not in allowed:
            purpose = allowed[0]
    if allowed and purpose not in allowed:
        raise tokens.refuse(user, token, "purpose", purpose)
    return Caller(
        user,
        Actor.for_user(user, "api"),
        purpose,
        frozenset(token.scopes),
        token.id,
        allowed,
    )


def _session_caller() -> Caller:
    user: User = current_user.user
    purpose = _declared() or current_purpose()
    return Caller(user, Actor.for_user(user, "api"), purpose, None, None)


def authenticate(scope: str) -> Caller:
    """The caller of this request, checked for the scope; raises 401/403 in the error shape."""
    header = request.headers.get("Authorization")
    # A request that names a token is judged by the token alone, never by a session beside it.
    if header is not None:
        caller = _token_caller(header, scope)
    elif current_user.is_authenticated:
        caller = _session_caller()
    else:
        raise Unauthenticated(
            "sign in, or send an API token as `Authorization: Bearer <token>`",
            {"Authorization": ["is required"]},
        )
    g.api_caller = caller
    return caller


def caller() -> Caller:
    """The caller authenticated for this request (by `requires`)."""
    found: Caller = g.api_caller
    return found


def requires(scope: str) -> Callable[[F], F]:
    """Authenticate the caller and check the scope ("" for any valid token) before the view."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            authenticate(scope)
            return view(*args, **kwargs)

        wrapper.api_scope = scope  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorate
