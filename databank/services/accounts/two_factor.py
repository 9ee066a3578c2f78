"""The second factor of staff accounts: TOTP enrolment and codes, recovery codes, reset.

Secrets are never stored in clear: the TOTP secret is sealed under the org's key (the AAD names
the user and the column), recovery codes and invitation tokens are kept as SHA-256 hashes (they
are random with 80+ bits, so a fast hash is enough; a password needs argon2id, these do not).
Audit entries name users by id only, as sign-in entries do: never a username or a code.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from databank.crypto import key_id_of
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision
from databank.domain.errors import Conflict, ValidationFailed
from databank.models import RecoveryCode, User
from databank.services import auditlog
from databank.services.access.roles import requires_two_factor
from databank.services.actors import Actor
from databank.services.keys.keyring import keyring_of
from databank.services.keys.sealing import open_sealed, seal

RECOVERY_CODE_COUNT = 10
# Wrong second-factor codes lock the account for a while: only someone who gave its password
# reaches this step, so no stranger can set the lock (wrong passwords never lock, see
# throttle.py), and a stolen password does not buy unlimited guesses at six digits.
MAX_FAILED_CODES = 5
CODE_LOCKOUT = timedelta(minutes=15)
TOTP_ISSUER = "Databank"
TOTP_STEP = 30  # seconds
_TOTP_CODE = re.compile(r"\d{6}")
_SECRET_COLUMN = "totp_secret_ciphertext"  # noqa: S105 - a column name, not a secret


def two_factor_enabled(user: User) -> bool:
    return user.totp_enabled_at is not None


def second_factor_stage(user: User) -> str | None:
    """What a user whose password was right still needs: "verify" a code, "enrol" first, or None."""
    if two_factor_enabled(user):
        return "verify"
    if requires_two_factor(user.roles):
        return "enrol"
    return None


def _log(
    session: Session,
    actor: Actor | None,
    event: AuditEvent,
    user: User,
    decision: Decision | None = None,
    **extra: object,
) -> None:
    auditlog.append(
        session,
        actor,
        [
            auditlog.EntryIn(
                event, RecordType.USER, user.id, user.org_id, decision=decision, extra=dict(extra)
            )
        ],
    )


def _self(user: User) -> Actor:
    return Actor.for_user(user, "web")


# -- the TOTP secret, sealed ----------------------------------------------------------------------


def _seal_secret(session: Session, user: User, secret: str) -> None:
    key = keyring_of(session).active_org_key(session, user.org_id)
    user.totp_secret_ciphertext = seal(key, "users", _SECRET_COLUMN, secret, user.org_id, user.id)


def _open_secret(session: Session, user: User) -> str:
    blob = user.totp_secret_ciphertext
    if blob is None:
        raise Conflict("two-factor sign-in is not set up for this account")
    key = keyring_of(session).org_key(session, user.org_id, key_id_of(blob))
    secret = open_sealed(key, "users", _SECRET_COLUMN, blob, user.org_id, user.id)
    active = keyring_of(session).active_org_key(session, user.org_id)
    if active.key_id != key.key_id:
        _seal_secret(session, user, secret)  # re-sealed under the org's current key version
    return secret


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, for typing into an authenticator app
    uri: str  # otpauth://, for a QR code or a link


def pending_enrolment(session: Session, user: User) -> Enrolment:
    """The secret to enrol: made on first call, kept until confirmed (a reload shows the same)."""
    if two_factor_enabled(user):
        raise Conflict("two-factor sign-in is already set up", {"code": ["is already set up"]})
    if user.totp_secret_ciphertext is None:
        secret = pyotp.random_base32()
        _seal_secret(session, user, secret)
        _log(session, _self(user), AuditEvent.ACCOUNT_2FA_ENROLMENT_STARTED, user)
    else:
        secret = _open_secret(session, user)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)
    return Enrolment(secret, uri)


def _matching_step(secret: str, code: str, last_step: int | None, now: float) -> int | None:
    """The time step whose code this is (this step or one either side), if not used before."""
    if not _TOTP_CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP)
    current = int(now // TOTP_STEP)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP), code):
            # A code is accepted once: a replayed code (or an older one) is refused.
            return step if last_step is None or step > last_step else None
    return None


def confirm_enrolment(
    session: Session, user: User, code: str, now: float | None = None
) -> list[str]:
    """Enable two-factor sign-in with a first code; returns the recovery codes (shown once)."""
    if two_factor_enabled(user):
        raise Conflict("two-factor sign-in is already set up", {"code": ["is already set up"]})
    secret = _open_secret(session, user)
    step = _matching_step(secret, _clean(code), user.totp_last_step, now or time.time())
    if step is None:
        raise ValidationFailed(
            "the code is wrong", {"code": ["is not the current code of your authenticator app"]}
        )
    user.totp_last_step = step
    user.totp_enabled_at = datetime.now(UTC)
    _log(session, _self(user), AuditEvent.ACCOUNT_2FA_ENABLED, user)
    return _new_recovery_codes(session, user)


def _clean(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(10).upper()  # 80 bits
        codes.append("-".join(raw[i : i + 5] for i in range(0, 20, 5)))
        session.add(RecoveryCode(id=uuid.uuid4(), user_id=user.id, code_hash=_hash(raw)))
    return codes


def regenerate_recovery_codes(session: Session, user: User, code: str) -> list[str]:
    """New recovery codes, with a current code: the old ones stop working. Threat: a stolen or
    unattended session must not be enough to take over the second factor (a wrong code counts
    towards the lockout, like any other)."""
    if not two_factor_enabled(user):
        raise Conflict("two-factor sign-in is not set up", {"code": ["set up two-factor first"]})
    if not verify_second_factor(session, user, code):
        raise ValidationFailed("the code is wrong", {"code": ["is not a valid code"]})
    codes = _new_recovery_codes(session, user)
    _log(session, _self(user), AuditEvent.ACCOUNT_RECOVERY_CODES_RENEWED, user)
    return codes


def unused_recovery_codes(session: Session, user: User) -> int:
    return len(
        session.execute(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def verify_second_factor(session: Session, user: User, code: str, now: float | None = None) -> bool:
    """Check a TOTP code (once per time step) or a recovery code (once ever). Failures count
    towards the account's lockout, as wrong passwords do; every attempt is logged."""
    moment = datetime.now(UTC)
    if not user.is_active or (user.locked_until is not None and user.locked_until > moment):
        _log(session, _self(user), AuditEvent.LOGIN_2FA, user, Decision.DENY, reason="locked")
        return False
    cleaned = _clean(code)
    method = "totp"
    ok = False
    if _TOTP_CODE.fullmatch(cleaned):
        step = _matching_step(
            _open_secret(session, user), cleaned, user.totp_last_step, now or time.time()
        )
        if step is not None:
            # Claimed with one conditional UPDATE: of two requests racing with the same code,
            # the second finds the step taken (the row lock orders them) and is refused.
            claimed = session.execute(
                update(User)
                .where(
                    User.id == user.id,
                    or_(User.totp_last_step.is_(None), User.totp_last_step < step),
                )
                .values(totp_last_step=step)
            )
            ok = claimed.rowcount == 1  # type: ignore[attr-defined]
    elif cleaned:
        method = "recovery_code"
        # One UPDATE both checks and spends the code, so two racing uses cannot both succeed.
        spent = session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _hash(cleaned),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=moment)
        )
        ok = spent.rowcount == 1  # type: ignore[attr-defined]
    if ok:
        user.failed_logins = 0
    else:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_CODES:
            user.locked_until = moment + CODE_LOCKOUT
            user.failed_logins = 0
    _log(
        session,
        _self(user),
        AuditEvent.LOGIN_2FA,
        user,
        Decision.ALLOW if ok else Decision.DENY,
        method=method,
        reason="ok" if ok else "bad_code",
    )
    return ok


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > datetime.now(UTC)


def disable_two_factor(session: Session, user: User, code: str) -> None:
    """Turn off an optional second factor, with a current code. Refused where a role needs it."""
    if requires_two_factor(user.roles):
        raise ValidationFailed(
            "two-factor sign-in is required for your role",
            {"code": ["two-factor sign-in is required for your role and cannot be turned off"]},
        )
    if not two_factor_enabled(user):
        raise Conflict("two-factor sign-in is not set up", {"code": ["is not set up"]})
    if not verify_second_factor(session, user, code):
        raise ValidationFailed("the code is wrong", {"code": ["is not a valid code"]})
    _clear_two_factor(session, user)
    _log(session, _self(user), AuditEvent.ACCOUNT_2FA_DISABLED, user)


def _clear_two_factor(session: Session, user: User) -> None:
    user.totp_secret_ciphertext = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
