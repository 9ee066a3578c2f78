"""An org admin's management of their own organisation's users, and a user's own password and
sessions (the session epoch: logout, deactivation and a 2FA reset end every session at once)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.crypto.passwords import hash_password, password_problem, verify_password
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision
from databank.domain.errors import NotFound, ValidationFailed
from databank.models import User
from databank.services import auditlog
from databank.services.access import (
    require_account_admin,
    require_account_manager,
    require_any_role,
    roles,
)
from databank.services.accounts import tokens
from databank.services.accounts.organisations import account_words
from databank.services.accounts.two_factor import _clear_two_factor, _log, _self
from databank.services.actors import Actor


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """A new password; every other session of the user ends (the session epoch moves on)."""
    if not verify_password(user.password_hash, current):
        _log(session, _self(user), AuditEvent.ACCOUNT_PASSWORD_CHANGED, user, Decision.DENY)
        raise ValidationFailed(
            "the current password is wrong", {"current_password": ["is not your password"]}
        )
    weak = password_problem(new, account_words(user.username, user.org))
    if weak:
        raise ValidationFailed("the new password is too weak", {"new_password": [weak]})
    user.password_hash = hash_password(new)
    user.session_epoch += 1
    tokens.revoke_all_of(session, _self(user), user, "password_changed")
    _log(session, _self(user), AuditEvent.ACCOUNT_PASSWORD_CHANGED, user, Decision.ALLOW)


# -- sessions ------------------------------------------------------------------------------------


def sign_out(session: Session, user: User) -> None:
    """End every session of this user: a cookie issued before no longer signs anyone in."""
    user.session_epoch += 1
    _log(session, _self(user), AuditEvent.LOGOUT, user)


def record_throttled(session: Session) -> None:
    """A sign-in attempt refused because its address tried too often (the address is not kept)."""
    auditlog.append(
        session,
        None,
        [auditlog.EntryIn(AuditEvent.LOGIN, decision=Decision.DENY, extra={"reason": "throttled"})],
    )


# -- an org admin's management of their organisation's users -------------------------------------


def _user_of(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def list_users(session: Session, actor: Actor) -> list[User]:
    """The staff accounts of the admin's own organisation."""
    require_account_admin(session, actor, actor.org_id, AuditEvent.USERS_LIST)
    users = list(
        session.execute(
            select(User).where(User.org_id == actor.org_id).order_by(User.username)
        ).scalars()
    )
    auditlog.append(
        session,
        actor,
        [
            auditlog.EntryIn(
                AuditEvent.USERS_LIST,
                RecordType.ORGANISATION,
                actor.org_id,
                actor.org_id,
                result_count=len(users),
            )
        ],
    )
    return users


def managed_user(session: Session, actor: Actor, user_id: uuid.UUID, event: AuditEvent) -> User:
    """A user of the admin's org whom the admin may manage (for `event`); a refusal is logged.

    The role first: a non-admin learns nothing about which user ids exist."""
    require_any_role(actor, roles.ACCOUNT_ADMINS, event)
    user = _user_of(session, user_id)
    require_account_manager(session, actor, user.org_id, user.roles, event)
    return user


def deactivate(session: Session, actor: Actor, user_id: uuid.UUID) -> User:
    """Deactivate a user of the admin's org: their sessions stop working at once."""
    user = managed_user(session, actor, user_id, AuditEvent.USERS_DEACTIVATE)
    if user.id == actor.user_id:
        raise ValidationFailed(
            "you cannot deactivate your own account", {"user": ["is your own account"]}
        )
    if not user.is_active:
        raise ValidationFailed("the account is already deactivated", {"user": ["is inactive"]})
    user.is_active = False
    user.session_epoch += 1
    _log(session, actor, AuditEvent.USERS_DEACTIVATE, user, Decision.ALLOW)
    return user


def reactivate(session: Session, actor: Actor, user_id: uuid.UUID) -> User:
    """Let a deactivated user of the admin's org sign in again, with the password and second
    factor they had. The sessions deactivation ended stay ended (the epoch is not put back)."""
    user = managed_user(session, actor, user_id, AuditEvent.USERS_REACTIVATE)
    if user.is_active:
        raise ValidationFailed("the account is already active", {"user": ["is active"]})
    user.is_active = True
    _log(session, actor, AuditEvent.USERS_REACTIVATE, user, Decision.ALLOW)
    return user


def reset_two_factor(session: Session, actor: Actor | None, user_id: uuid.UUID) -> User:
    """Remove a user's second factor (lost phone): they enrol again at their next sign-in.

    An org admin for their own org; `actor` None is an operator at the command line.
    """
    if actor is not None:  # the role first, as in deactivate
        require_any_role(actor, roles.ACCOUNT_ADMINS, AuditEvent.USERS_RESET_2FA)
    user = _user_of(session, user_id)
    if actor is not None:
        require_account_manager(session, actor, user.org_id, user.roles, AuditEvent.USERS_RESET_2FA)
    _clear_two_factor(session, user)
    user.session_epoch += 1
    tokens.revoke_all_of(session, actor, user, "two_factor_reset")
    _log(session, actor, AuditEvent.USERS_RESET_2FA, user, Decision.ALLOW)
    return user


def user_by_username(session: Session, username: str) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound("no user with this username")
    return user
