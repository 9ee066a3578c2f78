"""Invitations: an org admin invites a person to join with chosen roles; a one-time link.

The token is random (256 bits) and kept as its SHA-256 hash only; it travels after # and in POST
bodies, never in a requested address."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision, Role
from databank.domain.errors import NotFound, ValidationFailed
from databank.models import Invitation, Organisation, User
from databank.services import auditlog
from databank.services.access import require_account_admin
from databank.services.access.roles import INVITABLE_ROLES
from databank.services.accounts.organisations import create_user
from databank.services.accounts.two_factor import _hash, _log, _self
from databank.services.actors import Actor

INVITATION_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class Invited:
    invitation: Invitation
    token: str  # goes in the link, once; only its hash is stored


def invite(session: Session, actor: Actor, display_name: str, roles: Iterable[str]) -> Invited:
    """An invitation to join the admin's organisation with these roles, valid for a week."""
    require_account_admin(session, actor, actor.org_id, AuditEvent.USERS_INVITE)
    errors: dict[str, list[str]] = {}
    display_name = display_name.strip()
    if not display_name:
        errors["display_name"] = ["is required"]
    elif len(display_name) > 200:
        errors["display_name"] = ["must be at most 200 characters"]
    allowed = {r.value for r in INVITABLE_ROLES}
    chosen = sorted(set(roles))
    if not chosen:
        errors["roles"] = ["choose at least one role"]
    elif not set(chosen) <= allowed:
        errors["roles"] = [f"must be among: {', '.join(sorted(allowed))}"]
    if errors:
        raise ValidationFailed("the invitation has invalid fields", errors)
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    invitation = Invitation(
        id=uuid.uuid4(),
        org_id=actor.org_id,
        display_name=display_name,
        roles=chosen,
        token_hash=_hash(token),
        created_by=actor.user_id,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    auditlog.append(
        session,
        actor,
        [
            auditlog.EntryIn(
                AuditEvent.USERS_INVITE,
                RecordType.INVITATION,
                invitation.id,
                actor.org_id,
                decision=Decision.ALLOW,
                extra={"roles": chosen},
            )
        ],
    )
    return Invited(invitation, token)


def open_invitation(session: Session, token: str) -> Invitation:
    """The invitation behind a link, if it is still valid."""
    invitation = session.execute(
        select(Invitation).where(Invitation.token_hash == _hash(token))
    ).scalar_one_or_none()
    if (
        invitation is None
        or invitation.used_at is not None
        or invitation.expires_at <= datetime.now(UTC)
    ):
        raise NotFound("this invitation link is not valid or has expired")
    return invitation


def invitation_org(session: Session, invitation: Invitation) -> Organisation:
    org = session.get(Organisation, invitation.org_id)
    assert org is not None  # noqa: S101 - a foreign key
    return org


def accept_invitation(session: Session, token: str, username: str, password: str) -> User:
    """Create the invited user with the username and password they chose; the link is spent."""
    invitation = open_invitation(session, token)
    if len(username.strip()) > 100:
        raise ValidationFailed(
            "the username is too long", {"username": ["must be at most 100 characters"]}
        )
    user = create_user(
        session,
        invitation_org(session, invitation),
        username.strip(),
        invitation.display_name,
        password,
        [Role(r) for r in invitation.roles],
    )
    session.flush()
    invitation.used_at = datetime.now(UTC)
    invitation.user_id = user.id
    _log(
        session,
        _self(user),
        AuditEvent.USERS_INVITATION_ACCEPTED,
        user,
        invitation=str(invitation.id),
    )
    return user
