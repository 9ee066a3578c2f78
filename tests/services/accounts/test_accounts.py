"""Accounts: two-factor enrolment and verification, recovery codes, invitations, user admin."""

from __future__ import annotations

import json
import time
import uuid

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.enums import Role
from databank.domain.errors import Conflict, DecryptionFailed, NotFound, ValidationFailed
from databank.models import AuditEntry, Invitation, RecoveryCode, User
from databank.services.access import AccessRefused
from databank.services.accounts import invitations, organisations, staff, tokens, two_factor
from databank.services.actors import Actor
from tests.conftest import OrgMaker

PASSWORD = "correct horse battery staple"


def _user(session: Session, org_maker: OrgMaker, *roles: Role) -> User:
    org = org_maker()
    user = organisations.create_user(
        session, org, f"u-{uuid.uuid4().hex[:8]}", "Someone", PASSWORD, roles or [Role.ORG_ADMIN]
    )
    session.flush()
    return user


def _enrol(session: Session, user: User) -> tuple[str, list[str]]:
    secret = two_factor.pending_enrolment(session, user).secret
    # A code of the previous step, so that "now" stays free for the test's own first code.
    codes = two_factor.confirm_enrolment(
        session, user, pyotp.TOTP(secret).at(time.time() - 30), time.time()
    )
    return secret, codes


@pytest.mark.parametrize(
    ("role", "required"),
    [
        (Role.AUDITOR, True),
        (Role.PLATFORM_AUDITOR, True),
        (Role.HOUSING_OFFICER, True),
        (Role.ORG_ADMIN, True),
        (Role.OUTREACH_WORKER, False),
        (Role.BREAK_GLASS_RESPONDER, False),
    ],
)
def test_which_roles_require_two_factor(role: Role, required: bool) -> None:
    assert two_factor.requires_two_factor({role}) is required
    assert two_factor.requires_two_factor({Role.OUTREACH_WORKER, role}) is required


def test_sign_in_stage_follows_role_and_enrolment(session: Session, make_org: OrgMaker) -> None:
    worker = _user(session, make_org, Role.OUTREACH_WORKER)
    admin = _user(session, make_org, Role.ORG_ADMIN)
    assert two_factor.second_factor_stage(worker) is None
    assert two_factor.second_factor_stage(admin) == "enrol"
    _enrol(session, admin)
    assert two_factor.second_factor_stage(admin) == "verify"


def test_secret_is_sealed_and_bound_to_its_user(session: Session, make_org: OrgMaker) -> None:
    user = _user(session, make_org)
    other = _user(session, make_org)
    enrolment = two_factor.pending_enrolment(session, user)
    blob = user.totp_secret_ciphertext
    assert blob is not None
    assert enrolment.secret.encode() not in blob
    assert enrolment.uri.startswith("otpauth://totp/")
    # A reload shows the same secret until it is confirmed.
    assert two_factor.pending_enrolment(session, user).secret == enrolment.secret
    # Copied onto another user's row, the ciphertext does not open (the AAD names the user).
    other.totp_secret_ciphertext = blob
    with pytest.raises(DecryptionFailed):
        two_factor.pending_enrolment(session, other)


def test_wrong_enrolment_code_is_refused(session: Session, make_org: OrgMaker) -> None:
    user = _user(session, make_org)
    secret = two_factor.pending_enrolment(session, user).secret
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationFailed) as caught:
        two_factor.confirm_enrolment(session, user, wrong)
    assert "code" in caught.value.errors
    assert not two_factor.two_factor_enabled(user)


def test_codes_verify_once_and_wrong_codes_fail(session: Session, make_org: OrgMaker) -> None:
    user = _user(session, make_org)
    secret, codes = _enrol(session, user)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    now = pyotp.TOTP(secret).now()
    assert (
        two_factor.verify_second_factor(session, user, "000000" if now != "000000" else "111111")
        is False
    )
    assert two_factor.verify_second_factor(session, user, now) is True
    # Replay of the same code (same time step) is refused.
    assert two_factor.verify_second_factor(session, user, now) is False
    # An older step than the last one used is refused too.
    assert (
        two_factor.verify_second_factor(session, user, pyotp.TOTP(secret).at(time.time() - 30))
        is False
    )
    assert two_factor.verify_second_factor(session, user, "not a code") is False


def test_recovery_code_works_once(session: Session, make_org: OrgMaker) -> None:
    user = _user(session, make_org)
    _, codes = _enrol(session, user)
    stored = session.execute(
        select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)
    ).scalars()
    assert not {c.replace("-", "") for c in codes} & set(stored)  # hashes only
    assert two_factor.verify_second_factor(session, user, codes[0].lower()) is True
    assert two_factor.verify_second_factor(session, user, codes[0]) is False
    assert two_factor.unused_recovery_codes(session, user) == 9
    renewed = two_factor.regenerate_recovery_codes(session, user, codes[2])
    assert two_factor.verify_second_factor(session, user, codes[1]) is False
    assert two_factor.verify_second_factor(session, user, renewed[0]) is True


def test_wrong_codes_lock_the_account(session: Session, make_org: OrgMaker) -> None:
    user = _user(session, make_org)
    secret, _ = _enrol(session, user)
    for _ in range(two_factor.MAX_FAILED_CODES):
        assert two_factor.verify_second_factor(session, user, "ZZZZZ-ZZZZZ") is False
    assert two_factor.is_locked(user)
    # Locked: even the right code is refused.
    assert two_factor.verify_second_factor(session, user, pyotp.TOTP(secret).now()) is False


def test_two_factor_cannot_be_turned_off_where_required(
    session: Session, make_org: OrgMaker
) -> None:
    admin = _user(session, make_org, Role.ORG_ADMIN)
    secret, _ = _enrol(session, admin)
    with pytest.raises(ValidationFailed):
        two_factor.disable_two_factor(session, admin, pyotp.TOTP(secret).now())
    worker = _user(session, make_org, Role.OUTREACH_WORKER)
    secret, _ = _enrol(session, worker)
    with pytest.raises(ValidationFailed):
        two_factor.disable_two_factor(session, worker, "12345")
    two_factor.disable_two_factor(session, worker, pyotp.TOTP(secret).now())
    assert not two_factor.two_factor_enabled(worker)
    assert worker.totp_secret_ciphertext is None


def _admin_actor(user: User) -> Actor:
    return Actor.for_user(user, "test")


def test_invite_accept_creates_the_user_with_the_roles(
    session: Session, make_org: OrgMaker
) -> None:
    admin = _user(session, make_org, Role.ORG_ADMIN)
    invited = invitations.invite(session, _admin_actor(admin), "New Colleague", ["auditor"])
    stored = session.execute(select(Invitation).where(Invitation.id == invited.invitation.id))
    row = stored.scalar_one()
    assert row.token_hash != invited.token
    assert invited.token not in row.token_hash
    user = invitations.accept_invitation(session, invited.token, "newcolleague", PASSWORD)
    assert user.org_id == admin.org_id
    assert user.roles == {Role.AUDITOR}
    assert two_factor.second_factor_stage(user) == "enrol"
    with pytest.raises(NotFound):  # the link is spent
        invitations.accept_invitation(session, invited.token, "again", PASSWORD)


def test_invitation_fields_are_validated(session: Session, make_org: OrgMaker) -> None:
    admin = _admin_actor(_user(session, make_org, Role.ORG_ADMIN))
    with pytest.raises(ValidationFailed) as caught:
        invitations.invite(session, admin, " ", [])
    assert set(caught.value.errors) == {"display_name", "roles"}
    with pytest.raises(ValidationFailed) as caught:
        invitations.invite(session, admin, "X", ["platform_auditor"])
    assert "roles" in caught.value.errors
    invited = invitations.invite(session, admin, "X", ["outreach_worker"])
    with pytest.raises(ValidationFailed) as caught:
        invitations.accept_invitation(session, invited.token, "shortpw", "short")
    assert "password" in caught.value.errors
    with pytest.raises(NotFound):
        invitations.open_invitation(session, "made-up-token")


def test_only_an_org_admin_of_the_same_org_manages_users(
    session: Session, make_org: OrgMaker
) -> None:
    admin = _user(session, make_org, Role.ORG_ADMIN)
    colleague = _user(session, make_org, Role.OUTREACH_WORKER)  # another org
    officer = _user(session, make_org, Role.HOUSING_OFFICER)
    with pytest.raises(AccessRefused):
        invitations.invite(session, _admin_actor(officer), "X", ["outreach_worker"])
    with pytest.raises(AccessRefused):
        staff.list_users(session, _admin_actor(officer))
    with pytest.raises(AccessRefused):
        staff.deactivate(session, _admin_actor(admin), colleague.id)
    with pytest.raises(AccessRefused):
        staff.reset_two_factor(session, _admin_actor(admin), colleague.id)
    with pytest.raises(AccessRefused):
        staff.reactivate(session, _admin_actor(admin), colleague.id)
    assert colleague.is_active


def test_a_non_admin_learns_nothing_about_which_users_exist(
    session: Session, make_org: OrgMaker
) -> None:
    """Known or unknown user id, a non-admin gets the same refusal (the role is decided first)."""
    officer = _user(session, make_org, Role.HOUSING_OFFICER)
    known = _user(session, make_org, Role.OUTREACH_WORKER)
    for target in (known.id, uuid.uuid4()):
        with pytest.raises(AccessRefused):
            staff.deactivate(session, _admin_actor(officer), target)
        with pytest.raises(AccessRefused):
            staff.reset_two_factor(session, _admin_actor(officer), target)


def test_deactivate_and_reset_end_sessions(session: Session, make_org: OrgMaker) -> None:
    admin = _user(session, make_org, Role.ORG_ADMIN)
    member = organisations.create_user(
        session, admin.org, "member-x", "M", PASSWORD, [Role.AUDITOR]
    )
    session.flush()
    _enrol(session, member)
    epoch = member.session_epoch
    staff.reset_two_factor(session, _admin_actor(admin), member.id)
    assert not two_factor.two_factor_enabled(member)
    assert member.session_epoch == epoch + 1
    assert two_factor.unused_recovery_codes(session, member) == 0
    staff.deactivate(session, _admin_actor(admin), member.id)
    assert not member.is_active
    assert member.session_epoch == epoch + 2
    assert organisations.authenticate(session, "member-x", PASSWORD).user is None
    with pytest.raises(ValidationFailed):
        staff.deactivate(session, _admin_actor(admin), admin.id)
    with pytest.raises(ValidationFailed):
        staff.deactivate(session, _admin_actor(admin), member.id)  # already deactivated
    staff.reactivate(session, _admin_actor(admin), member.id)
    assert member.is_active
    assert member.session_epoch == epoch + 2  # the sessions deactivation ended stay ended
    assert organisations.authenticate(session, "member-x", PASSWORD).user is member
    with pytest.raises(ValidationFailed):
        staff.reactivate(session, _admin_actor(admin), member.id)  # already active
    listed = staff.list_users(session, _admin_actor(admin))
    assert {u.username for u in listed} == {admin.username, "member-x"}


def test_account_events_are_logged_without_usernames(session: Session, make_org: OrgMaker) -> None:
    admin = _user(session, make_org, Role.ORG_ADMIN)
    _enrol(session, admin)
    invited = invitations.invite(session, _admin_actor(admin), "Invitee Name", ["outreach_worker"])
    invitations.accept_invitation(session, invited.token, "invitee-login", PASSWORD)
    session.flush()
    bodies = session.execute(
        select(AuditEntry.event, AuditEntry.body).where(AuditEntry.owner_org_id == admin.org_id)
    ).all()
    events = {event for event, _ in bodies}
    assert {"account.2fa_enabled", "users.invite", "users.invitation_accepted"} <= events
    text = " ".join(str(body) for _, body in bodies)
    assert "invitee-login" not in text
    assert "Invitee Name" not in text
    assert admin.username not in text
    assert invited.token not in text


def test_enrolment_twice_is_a_conflict(session: Session, make_org: OrgMaker) -> None:
    user = _user(session, make_org)
    _enrol(session, user)
    with pytest.raises(Conflict):
        two_factor.pending_enrolment(session, user)


def test_an_org_admin_cannot_reset_or_deactivate_a_platform_auditor(
    session: Session, make_org: OrgMaker
) -> None:
    """Platform accounts are outside org-admin control, even when attached to the admin's org;
    each refusal is logged (finding 11 of the attacker review)."""
    admin = _user(session, make_org, Role.ORG_ADMIN)
    platform = organisations.create_user(
        session, admin.org, "platform-x", "P", PASSWORD, [Role.PLATFORM_AUDITOR]
    )
    session.flush()
    _enrol(session, platform)
    for attempt in (staff.reset_two_factor, staff.deactivate):
        with pytest.raises(AccessRefused) as refused:
            attempt(session, _admin_actor(admin), platform.id)
        [entry] = refused.value.entries
        assert entry.rule == "platform.platform_account"
    assert platform.is_active
    assert two_factor.two_factor_enabled(platform)
    # An operator at the command line still can (a lost phone must be recoverable).
    staff.reset_two_factor(session, None, platform.id)
    assert not two_factor.two_factor_enabled(platform)


def test_a_password_change_or_a_second_factor_reset_revokes_the_users_tokens(
    session: Session, make_org: OrgMaker
) -> None:
    """A token made under old credentials does not outlive them: a new password or a reset
    second factor revokes every live token of the user, each revocation logged (finding 12)."""
    admin = _user(session, make_org, Role.ORG_ADMIN)
    member = organisations.create_user(
        session, admin.org, f"m-{uuid.uuid4().hex[:6]}", "M", PASSWORD, [Role.OUTREACH_WORKER]
    )
    session.flush()
    me = Actor.for_user(member, "test")

    def token() -> str:
        return tokens.issue(session, me, member.id, "phone app", ["cases:read"], 30).secret

    first = token()
    assert tokens.authenticate(session, first).reason == "ok"
    staff.change_password(session, member, PASSWORD, PASSWORD + " and more")
    assert tokens.authenticate(session, first).reason == "revoked"
    second = token()
    _enrol(session, member)
    staff.reset_two_factor(session, _admin_actor(admin), member.id)
    assert tokens.authenticate(session, second).reason == "revoked"
    reasons = [
        json.loads(body)["extra"]["reason"]
        for body in session.scalars(
            select(AuditEntry.body).where(AuditEntry.event == "api_token.revoked")
        )
    ]
    assert reasons[-2:] == ["password_changed", "two_factor_reset"]


def test_a_username_differing_only_by_case_is_refused(session: Session, make_org: OrgMaker) -> None:
    """Two usernames that differ only by case would pass for one person in the log and the
    admin's list: the second is refused, naming the field (finding 12)."""
    org = make_org()
    name = f"ana-{uuid.uuid4().hex[:6]}"
    organisations.create_user(session, org, name, "Ana", PASSWORD, [Role.OUTREACH_WORKER])
    session.flush()
    for other in (name.upper(), name.capitalize()):
        with pytest.raises(Conflict) as taken:
            organisations.create_user(session, org, other, "Ana", PASSWORD, [Role.AUDITOR])
        assert list(taken.value.errors) == ["username"]


def test_new_recovery_codes_need_a_current_code(session: Session, make_org: OrgMaker) -> None:
    """A session alone does not renew the recovery codes: a current code is asked, and a wrong
    one counts towards the lockout (finding 12 of the attacker review)."""
    user = _user(session, make_org)
    _, codes = _enrol(session, user)
    failures = user.failed_logins
    for wrong in ("", "000000", "ZZZZZ-ZZZZZ"):
        with pytest.raises(ValidationFailed) as refused:
            two_factor.regenerate_recovery_codes(session, user, wrong)
        assert list(refused.value.errors) == ["code"]
    assert user.failed_logins > failures
    assert two_factor.verify_second_factor(session, user, codes[0]) is True  # the old still work
    assert len(two_factor.regenerate_recovery_codes(session, user, codes[1])) == 10


def _weak_passwords(username: str, org_name: str) -> list[str]:
    """Known-weak passwords, most of them long enough for the length rule alone."""
    return [
        "password123",
        "Summer2024!",
        "password1234",
        "Password123!",
        f"{username}-horse-battery",
        f"{username.upper()}2024!!",
        f"my {org_name} password",
    ]


def test_finding12_weak_passwords_are_refused_by_the_services(
    session: Session, make_org: OrgMaker
) -> None:
    """A password that zxcvbn scores under 3, or that holds the username or the organisation's
    name, is refused wherever a password is set (a new user, a password change), naming the
    field and saying why; a strong one is accepted (finding 12)."""
    org = make_org(slug="riverside-shelter")
    org.name = "Riverside Shelter"
    username = f"camille-{uuid.uuid4().hex[:4]}"
    for weak in _weak_passwords(username, "riverside"):
        with pytest.raises(ValidationFailed) as refused:
            organisations.create_user(
                session, org, username, "Camille", weak, [Role.OUTREACH_WORKER]
            )
        assert list(refused.value.errors) == ["password"], weak
        assert refused.value.errors["password"][0].startswith(
            ("must be at least", "is too easy to guess", "must not contain")
        ), weak
    user = organisations.create_user(
        session, org, username, "Camille", "tango ravioli hammock quartz", [Role.OUTREACH_WORKER]
    )
    session.flush()
    for weak in _weak_passwords(username, "riverside"):
        with pytest.raises(ValidationFailed) as refused:
            staff.change_password(session, user, "tango ravioli hammock quartz", weak)
        assert list(refused.value.errors) == ["new_password"], weak
    staff.change_password(session, user, "tango ravioli hammock quartz", PASSWORD)
    with pytest.raises(ValidationFailed) as refused:
        organisations.create_user(
            session, org, f"x-{username}", "X", "password1234", [Role.AUDITOR]
        )
    message = refused.value.errors["password"][0]
    assert "score" in message
    assert "3" in message
