"""Organisations and staff accounts: creation, keys of a new org, and password sign-in."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from databank.crypto.passwords import hash_password, password_problem, verify_password
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision, OrgKind, Purpose, Role
from databank.domain.errors import Conflict, ValidationFailed
from databank.models import Organisation, User, UserRole
from databank.policy import STATISTICS_ORG
from databank.services import auditlog
from databank.services.access import AccessRefused
from databank.services.access.roles import declarable_purposes
from databank.services.actors import Actor
from databank.services.keys.keyring import keyring_of


def create_organisation(
    session: Session, slug: str, name: str, kind: OrgKind, privacy_contact: str = ""
) -> Organisation:
    """A new organisation with its first key (version 1)."""
    if slug == STATISTICS_ORG:
        # The name the statistics service asks the policies under (action "contribute").
        raise Conflict("this slug is reserved", {"slug": ["is reserved for the statistics"]})
    if session.execute(select(Organisation.id).where(Organisation.slug == slug)).first():
        raise Conflict("an organisation with this slug exists", {"slug": ["is already taken"]})
    org = Organisation(
        id=uuid.uuid4(), slug=slug, name=name, kind=kind, privacy_contact=privacy_contact
    )
    session.add(org)
    session.flush()  # the org row must exist before its key row refers to it
    keyring_of(session).create_org_key(session, org.id)
    auditlog.append(
        session,
        None,
        [auditlog.EntryIn(AuditEvent.ORG_CREATED, RecordType.ORGANISATION, org.id, org.id)],
    )
    return org


def account_words(username: str, org: Organisation) -> tuple[str, ...]:
    """The words an attacker tries first in this account's password: its username and its
    organisation's name and slug (crypto.passwords refuses a password holding one)."""
    return (username, org.name, org.slug)


def create_user(
    session: Session,
    org: Organisation,
    username: str,
    display_name: str,
    password: str,
    roles: Iterable[Role],
) -> User:
    roles = frozenset(roles)
    errors: dict[str, list[str]] = {}
    weak = password_problem(password, account_words(username, org))
    if weak:
        errors["password"] = [weak]
    if not roles:
        errors["roles"] = ["name at least one role"]
    if not username.strip():
        errors["username"] = ["is required"]
    if errors:
        raise ValidationFailed("the user has invalid fields", errors)
    # Usernames differing only by case name one person to a reader (an auditor, an admin), so a
    # second one is refused: "Ana" cannot be created beside "ana" to pass for her.
    taken = select(User.id).where(func.lower(User.username) == username.lower())
    if session.execute(taken).first():
        raise Conflict("this username is taken", {"username": ["is already taken"]})
    user = User(
        id=uuid.uuid4(),
        org_id=org.id,
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role_rows=[UserRole(role=r) for r in sorted(roles)],
    )
    session.add(user)
    auditlog.append(
        session,
        None,
        [
            auditlog.EntryIn(
                AuditEvent.USER_CREATED,
                RecordType.USER,
                user.id,
                org.id,
                extra={"roles": sorted(r.value for r in roles)},
            )
        ],
    )
    return user


@dataclass(frozen=True)
class SignIn:
    user: User | None
    reason: str  # "ok", "bad_credentials", "locked", "inactive"


def authenticate(session: Session, username: str, password: str) -> SignIn:
    """Check a password: one argon2 verification and one answer ("bad_credentials") whether
    the username is unknown, the password wrong or the account deactivated.

    Wrong passwords do not lock the account: a lock that any address can set lets anyone shut
    a known user out. They are slowed per (account, address) by the throttle
    (services/accounts/throttle.py), which the caller asks first. An account locked after wrong
    second-factor codes (two_factor.py) is said so only to someone who gave its password.
    """
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    now = datetime.now(UTC)
    if user is None:
        verify_password(_DUMMY_HASH, password)  # same time whether or not the user exists
        outcome = SignIn(None, "bad_credentials")
    elif not verify_password(user.password_hash, password):
        outcome = SignIn(None, "bad_credentials")
    elif not user.is_active:
        outcome = SignIn(None, "inactive")
    elif user.locked_until is not None and user.locked_until > now:
        outcome = SignIn(None, "locked")
    else:
        user.last_login_at = now
        outcome = SignIn(user, "ok")
    actor = Actor.for_user(user, "web") if user is not None else None
    auditlog.append(
        session,
        actor,
        [
            auditlog.EntryIn(
                AuditEvent.LOGIN,
                RecordType.USER,
                user.id if user else None,
                user.org_id if user else None,
                decision=Decision.ALLOW if outcome.user else Decision.DENY,
                extra={"reason": outcome.reason},
            )
        ],
    )
    return outcome


_DUMMY_HASH = hash_password("not a real password, used for timing only")


def record_purpose_switch(session: Session, actor: Actor, purpose: Purpose) -> None:
    """The purpose a session declares from now on, logged. One the actor's roles may not
    declare (a forbidden purpose, or vital interest outside a break-glass) is refused and the
    attempt logged, whatever the door (page or API); a forbidden one raises its alert."""
    declarable = purpose in declarable_purposes(actor.roles)
    entry = auditlog.EntryIn(
        AuditEvent.PURPOSE_SWITCH,
        RecordType.USER,
        actor.user_id,
        actor.org_id,
        purpose=purpose.value,
        decision=None if declarable else Decision.DENY,
        rule=None if declarable else _refused_purpose_rule(purpose),
    )
    if not declarable:
        raise AccessRefused([entry], actor)
    auditlog.append(session, actor, [entry])


def _refused_purpose_rule(purpose: Purpose) -> str:
    return "platform.forbidden_purpose" if purpose.is_forbidden else "platform.purpose_not_for_role"
