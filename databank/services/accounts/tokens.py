"""API tokens for partner systems: issue, list, revoke, and authenticate a presented secret.

A token acts as one user of one organisation: the policies decide with that user's roles, and the
token's scopes only narrow which API operations it may call. Only the SHA-256 of the 32-byte random
secret is stored (a high-entropy secret needs no slow hash); the public prefix finds the row and
the comparison is constant-time, so a guess learns nothing from timing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision, Purpose
from databank.domain.errors import Conflict, NotFound, ValidationFailed
from databank.models import ApiToken, Organisation, User
from databank.services import access, auditlog
from databank.services.access import roles
from databank.services.actors import Actor

TOKEN_TAG = "dbk"  # noqa: S105 - the public tag of the token format, not a secret
MAX_DAYS = 365
MAX_NAME_LENGTH = 100
# Writing last_used_at on every call would make every read a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)

SCOPES = {
    "people:read": "Search the organisation's own records by family name and birth date.",
    "people:write": "Register people (identity, case, needs, first encounter).",
    "cases:read": "Read the caseload and cases, as the policies release them.",
    "cases:write": "Record encounters, close cases.",
    "consents:read": "List a person's consents.",
    "consents:write": "Record and revoke consents.",
    "referrals:read": "List referrals received and sent by the organisation.",
    "referrals:write": "Refer cases to partners; answer, follow up and withdraw referrals.",
    "audit:read": "Read the access log (auditors only).",
    "audit:review": "Review access-log alerts (auditors only).",
    "linkage:read": "Read the linkage review queue and the pool's counts (linkage reviewers only).",
    "linkage:review": "Decide pairs of the linkage review queue (linkage reviewers only).",
    "stats:read": "Read anonymised statistics and run ad-hoc tables on the user's privacy budget "
    "(roles that may read statistics only).",
}


@dataclass(frozen=True)
class TokenView:
    id: uuid.UUID
    user_id: uuid.UUID
    username: str
    org_id: uuid.UUID
    name: str
    prefix: str
    scopes: tuple[str, ...]
    purposes: tuple[Purpose, ...]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    def is_active(self, at: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > at


@dataclass(frozen=True)
class IssuedToken:
    """The only moment the secret exists outside the caller's hands: shown once, never stored."""

    token: TokenView
    secret: str

    def __repr__(self) -> str:
        return f"IssuedToken(id={self.token.id}, <hidden>)"


@dataclass(frozen=True)
class TokenUse:
    """The outcome of presenting a token: the user and token, or why it was refused."""

    user: User | None
    token: ApiToken | None
    reason: str  # "ok", "malformed", "unknown", "expired", "revoked", "inactive"


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _view(token: ApiToken, username: str) -> TokenView:
    return TokenView(
        id=token.id,
        user_id=token.user_id,
        username=username,
        org_id=token.org_id,
        name=token.name,
        prefix=token.prefix,
        scopes=tuple(token.scopes),
        purposes=tuple(Purpose(p) for p in token.purposes),
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


def _entry(
    event: AuditEvent, token_id: uuid.UUID | None, org_id: uuid.UUID | None, **extra: object
) -> auditlog.EntryIn:
    decision = Decision.DENY if event is AuditEvent.API_TOKEN_DENIED else Decision.ALLOW
    return auditlog.EntryIn(
        event, RecordType.API_TOKEN, token_id, org_id, decision=decision, extra=dict(extra)
    )


def _may_manage(session: Session, actor: Actor, user_id: uuid.UUID, org_id: uuid.UUID) -> None:
    """A user manages their own tokens; an org admin those of their org's users."""
    if org_id != actor.org_id:
        # Another org's user or token: its existence is not confirmed.
        raise NotFound("no such user or token in your organisation")
    if actor.user_id != user_id:
        access.require_any_role(actor, roles.ACCOUNT_ADMINS, AuditEvent.API_TOKEN_MANAGE)


def _check(name: str, scopes: Sequence[str], days: int) -> None:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["is required"]
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = [f"is longer than {MAX_NAME_LENGTH} characters"]
    unknown = sorted(set(scopes) - set(SCOPES))
    if not scopes:
        errors["scopes"] = ["name at least one scope"]
    elif unknown:
        errors["scopes"] = [f"unknown scope; use some of: {', '.join(SCOPES)}"]
    if not 1 <= days <= MAX_DAYS:
        errors["days"] = [f"must be between 1 and {MAX_DAYS}"]
    if errors:
        raise ValidationFailed("the token has invalid fields", errors)


def issue(
    session: Session,
    actor: Actor,
    user_id: uuid.UUID,
    name: str,
    scopes: Iterable[str],
    days: int,
    purposes: Iterable[Purpose] = (),
) -> IssuedToken:
    """A new token for a user; the secret is returned once and only its hash is kept."""
    scopes = sorted(set(scopes))
    purposes = sorted(set(purposes))
    _check(name, scopes, days)
    forbidden = [p for p in purposes if p.is_forbidden]
    if forbidden:
        raise ValidationFailed(
            "the token has invalid fields",
            {"purposes": ["enforcement purposes are refused for every token"]},
        )
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user or token in your organisation")
    _may_manage(session, actor, user.id, user.org_id)
    if not user.is_active:
        raise Conflict("this account is deactivated", {"user": ["is deactivated"]})
    now = datetime.now(UTC)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        id=uuid.uuid4(),
        user_id=user.id,
        org_id=user.org_id,
        name=name.strip(),
        prefix=prefix,
        secret_hash=_hash(secret),
        scopes=scopes,
        purposes=[p.value for p in purposes],
        created_by_id=actor.user_id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(token)
    auditlog.append(
        session,
        actor,
        [
            _entry(
                AuditEvent.API_TOKEN_ISSUED,
                token.id,
                user.org_id,
                user=str(user.id),
                scopes=scopes,
            )
        ],
    )
    return IssuedToken(_view(token, user.username), f"{TOKEN_TAG}_{prefix}_{secret}")


def list_tokens(session: Session, actor: Actor, whole_org: bool = False) -> list[TokenView]:
    """The actor's own tokens, or (org admins) every token of the actor's organisation."""
    query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
    if whole_org:
        access.require_any_role(actor, roles.ACCOUNT_ADMINS, AuditEvent.API_TOKEN_LIST)
        query = query.where(ApiToken.org_id == actor.org_id)
    else:
        query = query.where(ApiToken.user_id == actor.user_id)
    found = session.execute(query.order_by(ApiToken.created_at.desc(), ApiToken.id)).all()
    return [_view(token, username) for token, username in found]


def org_of(session: Session, token_id: uuid.UUID) -> Organisation:
    """The organisation a token belongs to (the CLI acts as that org's operator)."""
    org = session.execute(
        select(Organisation)
        .join(ApiToken, ApiToken.org_id == Organisation.id)
        .where(ApiToken.id == token_id)
    ).scalar_one_or_none()
    if org is None:
        raise NotFound("no such user or token in your organisation")
    return org


def revoke(session: Session, actor: Actor, token_id: uuid.UUID) -> None:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("no such user or token in your organisation")
    _may_manage(session, actor, token.user_id, token.org_id)
    if token.revoked_at is not None:
        raise Conflict("the token is already revoked")
    token.revoked_at = datetime.now(UTC)
    auditlog.append(session, actor, [_entry(AuditEvent.API_TOKEN_REVOKED, token.id, token.org_id)])


def revoke_all_of(session: Session, actor: Actor | None, user: User, reason: str) -> int:
    """Every live token of the user is revoked, each revocation logged: what a token may do was
    granted by credentials that just changed (a new password, a reset second factor), so a
    token made under the old ones must not outlive them. Returns how many were revoked."""
    now = datetime.now(UTC)
    live = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in live:
        token.revoked_at = now
    entries = [
        _entry(AuditEvent.API_TOKEN_REVOKED, token.id, token.org_id, reason=reason)
        for token in live
    ]
    if entries:
        auditlog.append(session, actor, entries)
    return len(live)


def authenticate(session: Session, presented: str) -> TokenUse:
    """The user a presented token acts as; a refused use is logged (never the secret)."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_TAG or not parts[1] or not parts[2]:
        return _refused(session, None, "malformed", None)
    # The token and the user it acts as in one query (this runs on every API request).
    found = (
        session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.prefix == parts[1][:16])
            .options(joinedload(User.role_rows))
        )
        .unique()
        .one_or_none()
    )
    token, user = (found[0], found[1]) if found is not None else (None, None)
    # Hash and compare even for an unknown prefix, so both take the same time.
    expected = token.secret_hash if token is not None else _hash("")
    matches = hmac.compare_digest(expected, _hash(parts[2]))
    if token is None or not matches:
        # The prefix is not secret: a wrong guess is not the owner's act, so no actor is named.
        return _refused(session, token, "unknown", None)
    now = datetime.now(UTC)
    if token.revoked_at is not None:
        return _refused(session, token, "revoked", user)
    if token.expires_at <= now:
        return _refused(session, token, "expired", user)
    if user is None or not user.is_active:
        return _refused(session, token, "inactive", user)
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
    return TokenUse(user, token, "ok")


def _refused(session: Session, token: ApiToken | None, reason: str, user: User | None) -> TokenUse:
    actor = Actor.for_user(user, "api") if user is not None else None
    auditlog.append(
        session,
        actor,
        [
            _entry(
                AuditEvent.API_TOKEN_DENIED,
                token.id if token else None,
                token.org_id if token else None,
                reason=reason,
            )
        ],
    )
    return TokenUse(None, None, reason)


def refuse(
    user: User, token: ApiToken, reason: str, purpose: Purpose | None = None
) -> access.AccessRefused:
    """A scope or purpose the token was not issued for: refused and logged like any denial."""
    entry = auditlog.EntryIn(
        AuditEvent.API_TOKEN_DENIED,
        RecordType.API_TOKEN,
        token.id,
        token.org_id,
        purpose=purpose.value if purpose else None,
        decision=Decision.DENY,
        rule=f"api_token.{reason}",
        extra={"reason": reason},
    )
    return access.AccessRefused([entry], Actor.for_user(user, "api"))
