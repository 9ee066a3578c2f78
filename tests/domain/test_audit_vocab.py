"""The access log's vocabulary: released values never change, and a member is written into a body
exactly as its value."""

from __future__ import annotations

import re

from databank.audit import canonical_body, canonical_value
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Action, Decision
from databank.models import AuditEntry
from databank.schemas.audit import EVENT_PATTERN

# What logs already hold: these values stay (a new event is a new member, never a renamed one).
RELEASED_EVENTS = {
    "access.read", "access.create", "access.update", "access.search", "access.erase",
    "access.export", "access.refer", "access.override_consent", "break_glass.start",
    "break_glass.end", "login", "login.2fa", "logout", "purpose.switch",
    "account.password_changed", "account.2fa_enrolment_started", "account.2fa_enabled",
    "account.2fa_disabled", "account.recovery_codes_renewed", "org.created", "user.created",
    "users.list", "users.invite", "users.invitation_accepted", "users.deactivate",
    "users.reset_2fa", "api_token.issued", "api_token.revoked", "api_token.denied",
    "api_token.list", "api_token.manage", "policy.view", "policy.changed", "key.rotated",
    "key.retired", "erasure", "erasure.replay", "audit.view", "audit.verify", "audit.export",
    "audit.prove", "alert.review", "alert.note.read",
}  # fmt: skip
RELEASED_RECORD_TYPES = {
    "person", "identity", "case", "consent", "intake", "break_glass", "case_list",
    "consent_list", "referral_list", "recent_contacts", "identity_search", "organisation", "user",
    "invitation", "api_token", "org_key", "audit_log", "alert",
}  # fmt: skip


def test_released_values_stay() -> None:
    assert {e.value for e in AuditEvent} >= RELEASED_EVENTS
    assert {t.value for t in RecordType} >= RELEASED_RECORD_TYPES
    assert [d.value for d in Decision] == ["allow", "deny", "partial"]


def test_every_action_has_its_access_event() -> None:
    for action in Action:
        event = AuditEvent.access(action)
        assert event is AuditEvent(f"access.{action.value}")
        assert event.name == f"ACCESS_{action.name}"


def test_events_fit_the_log_column_and_the_console_filter() -> None:
    width = AuditEntry.__table__.c.event.type.length  # type: ignore[attr-defined]
    for event in AuditEvent:
        assert len(event) <= width, event
        assert re.fullmatch(EVENT_PATTERN, event), event
    for record_type in RecordType:
        assert re.fullmatch(r"[a-z][a-z_]*", record_type), record_type


def test_a_member_is_written_as_its_value() -> None:
    members = [*AuditEvent, *RecordType, *Decision]
    for member in members:
        assert canonical_value(member) == canonical_value(member.value)
        assert canonical_body({"k": member}) == canonical_body({"k": member.value})
    assert canonical_body({"extra": {"events": members}}) == canonical_body(
        {"extra": {"events": [m.value for m in members]}}
    )
