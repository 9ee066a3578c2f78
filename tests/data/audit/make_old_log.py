"""Make tests/data/audit/old_log.sqlite: a small access log as a given version of the code writes
it, for tests/services/auditlog/test_old_log.py (stored entries stay byte-identical).

The committed file was made by the code before the audit vocabulary became enums (commit 9952086),
with the suite's fixed test keys: `python tests/data/audit/make_old_log.py OUT.sqlite` from the
repository's root. Entries hold ids and codes only; the people and notes behind them are the test
factories' and are not in the file (only the three audit tables are copied out).
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from databank.domain.enums import OrgKind, Purpose, Role  # noqa: E402
from databank.services import access, auditlog  # noqa: E402
from databank.services.accounts import invitations, organisations, staff, tokens  # noqa: E402
from databank.services.actors import Actor  # noqa: E402
from databank.services.keys import erasure, rotation  # noqa: E402
from databank.services.oversight import access_log, proofs  # noqa: E402
from databank.services.records import breakglass, cases, people  # noqa: E402
from databank.services.runtime import record_policy_version  # noqa: E402
from tests.factories import intake_record  # noqa: E402
from tests.support import migrated_runtime  # noqa: E402

AUDIT_TABLES = ("audit_entries", "audit_checkpoints", "audit_heads")
PASSWORD = "correct horse battery staple"  # a throwaway account of a scratch database


def _user(session: Any, org: Any, name: str, *roles: Role) -> Actor:
    user = organisations.create_user(session, org, name, name, PASSWORD, roles)
    session.flush()
    return Actor.for_user(user, "web")


def _refused(session: Any, call: Any) -> None:
    """A refused access: its entries are written as the interface writes them."""
    try:
        call()
    except access.AccessRefused as refusal:
        access.record_denial(session, refusal)
    else:
        raise AssertionError("expected a refusal")


def _services(session: Any) -> None:
    """Real services: what their entries look like as written."""
    charity = organisations.create_organisation(session, "old-log-charity", "C", OrgKind.CHARITY)
    council = organisations.create_organisation(session, "old-log-council", "K", OrgKind.COUNCIL)
    worker = _user(session, charity, "old-worker", Role.OUTREACH_WORKER)
    admin = _user(session, charity, "old-admin", Role.ORG_ADMIN)
    auditor = _user(session, charity, "old-auditor", Role.AUDITOR)
    responder = _user(session, council, "old-responder", Role.BREAK_GLASS_RESPONDER)
    partner = _user(session, council, "old-partner", Role.OUTREACH_WORKER)
    organisations.authenticate(session, "old-worker", PASSWORD)
    organisations.authenticate(session, "old-worker", "wrong")
    staff.record_throttled(session)
    organisations.record_purpose_switch(session, worker, Purpose.CASE_MANAGEMENT)
    [result] = people.intake(session, worker, Purpose.OUTREACH, [intake_record()])
    assert result.case_id is not None
    cases.read_case(session, worker, Purpose.OUTREACH, result.case_id)
    _refused(session, lambda: cases.read_case(session, partner, Purpose.OUTREACH, result.case_id))
    _refused(session, lambda: access.check_break_glass_responder(session, worker))
    why = "found unconscious at the station, no papers: the outreach team needs the case history"
    grant = breakglass.start(session, responder, result.person_id, why)
    cases.read_case(session, responder, Purpose.VITAL_INTEREST, result.case_id)
    breakglass.end(session, responder, grant.id)
    access_log.search(session, auditor, access_log.EntryFilter(limit=5))
    _refused(session, lambda: access_log.search(session, worker, access_log.EntryFilter()))
    issued = tokens.issue(session, worker, worker.user_id, "sync", ["cases:read"], 30)
    tokens.authenticate(session, "dbk_nosuch_secret")
    tokens.revoke(session, worker, issued.token.id)
    invited = invitations.invite(session, admin, "New Worker", [Role.OUTREACH_WORKER.value])
    invitations.accept_invitation(session, invited.token, "old-newcomer", PASSWORD)
    staff.list_users(session, admin)
    rotation.rotate_org_key(session, "old-log-charity")
    person = result.person_id
    _refused(session, lambda: erasure.erase_person(session, worker, Purpose.OUTREACH, person))
    erasure.erase_person(session, admin, Purpose.CASE_MANAGEMENT, person)
    auditlog.sign_now(session)
    proofs.prove(session, None, charity.id)
    access_log.status(session, auditor, run_verify=True)
    record_policy_version(session, "old-log-policies")


# Every other kind of entry the code wrote at the time, as its services build them.
_ORG, _USER, _REC, _PERSON = (uuid.UUID(int=n) for n in (1, 2, 3, 4))
ENTRIES = [
    auditlog.EntryIn("access.read", "case", _REC, _ORG, _PERSON, "outreach", "partial",
                     "org.partner_needs", ("needs", "status"), ("location", "notes"),
                     location_level=2, area="u05kq"),
    auditlog.EntryIn("access.read", "identity", _REC, _ORG, _PERSON, "case_management", "partial",
                     "org.partner", ("given_name",), ("phone",)),
    auditlog.EntryIn("access.read", "consent_list", None, _ORG, _PERSON, "outreach", "deny",
                     "default.deny", (), ("consents",)),
    auditlog.EntryIn("access.search", "case_list", None, _ORG, None, "outreach", "allow",
                     "platform.owner_content", ("status",), result_count=12),
    auditlog.EntryIn("access.search", "identity_search", None, _ORG, None, "outreach", "allow",
                     "platform.owner_identity", ("family_name",), result_count=0),
    auditlog.EntryIn("access.search", "recent_contacts", None, _ORG, None, "food_aid", "deny",
                     "default.deny"),
    auditlog.EntryIn("access.search", "referral_list", None, _ORG, None, "housing_allocation",
                     "allow", "platform.owner_content", ("status",), result_count=3),
    auditlog.EntryIn("access.update", "case", _REC, _ORG, _PERSON, "case_management", "allow",
                     "platform.owner_content", ("needs", "status")),
    auditlog.EntryIn("access.update", "consent", _REC, _ORG, _PERSON, "outreach", "allow",
                     "platform.owner_content", ("status",)),
    auditlog.EntryIn("access.refer", "case", _REC, _ORG, _PERSON, "housing_allocation", "allow",
                     "platform.owner_content", ("status",)),
    auditlog.EntryIn("access.export", "case_list", None, _ORG, None, "aggregate_statistics",
                     "deny", "default.deny", result_count=12),
    auditlog.EntryIn("access.override_consent", "case", _REC, _ORG, _PERSON, "vital_interest",
                     "allow", "platform.break_glass", ("status",), break_glass=True),
    auditlog.EntryIn("access.read", "case", _REC, _ORG, _PERSON, "enforcement", "deny",
                     "platform.forbidden_purpose", (), ("status",)),
    auditlog.EntryIn("account.2fa_enrolment_started", "user", _USER, _ORG),
    auditlog.EntryIn("account.2fa_enabled", "user", _USER, _ORG),
    auditlog.EntryIn("account.recovery_codes_renewed", "user", _USER, _ORG),
    auditlog.EntryIn("login.2fa", "user", _USER, _ORG, decision="allow",
                     extra={"method": "totp", "reason": "ok"}),
    auditlog.EntryIn("login.2fa", "user", _USER, _ORG, decision="deny", extra={"reason": "locked"}),
    auditlog.EntryIn("account.2fa_disabled", "user", _USER, _ORG),
    auditlog.EntryIn("account.password_changed", "user", _USER, _ORG, decision="deny"),
    auditlog.EntryIn("account.password_changed", "user", _USER, _ORG, decision="allow"),
    auditlog.EntryIn("logout", "user", _USER, _ORG),
    auditlog.EntryIn("users.deactivate", "user", _USER, _ORG, decision="allow"),
    auditlog.EntryIn("users.reset_2fa", "user", _USER, _ORG, decision="allow"),
    auditlog.EntryIn("users.invite", owner_org_id=_ORG, decision="deny",
                     rule="platform.accounts_of_other_org"),
    auditlog.EntryIn("policy.view", owner_org_id=_ORG, decision="deny",
                     rule="platform.role_not_permitted"),
    auditlog.EntryIn("api_token.manage", owner_org_id=_ORG, decision="deny",
                     rule="platform.role_not_permitted"),
    auditlog.EntryIn("api_token.list", owner_org_id=_ORG, decision="deny",
                     rule="platform.role_not_permitted"),
    auditlog.EntryIn("api_token.denied", "api_token", _REC, _ORG, purpose="enforcement",
                     decision="deny", rule="api_token.purpose", extra={"reason": "purpose"}),
    auditlog.EntryIn("audit.view", "alert", owner_org_id=_ORG, purpose="audit", decision="allow",
                     result_count=2, extra={"status": "open"}),
    auditlog.EntryIn("audit.export", "audit_log", None, _ORG, _PERSON, "audit", "allow",
                     result_count=7, extra={"filters": ["person_id"], "format": "jsonl"}),
    auditlog.EntryIn("alert.review", "alert", _REC, _ORG, purpose="audit", decision="allow",
                     extra={"status": "justified"}),
    auditlog.EntryIn("alert.note.read", "alert", _REC, _ORG, purpose="audit", decision="deny",
                     rule="platform.reviewer_org"),
    auditlog.EntryIn("alert.note.read", "alert", _REC, _ORG, purpose="audit", decision="allow",
                     result_count=1),
    auditlog.EntryIn("key.retired", "org_key", None, _ORG, extra={"version": 1}),
    auditlog.EntryIn("erasure.replay", result_count=1),
]  # fmt: skip


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "old.sqlite"
        runtime = migrated_runtime(f"sqlite:///{database}", Path(tmp) / "instance")
        try:
            with runtime.transaction() as session:
                _services(session)
            with runtime.transaction() as session:
                auditlog.append(session, None, ENTRIES)
                auditlog.sign_now(session)
        finally:
            runtime.dispose()
        _copy_audit_tables(database, out)


def _copy_audit_tables(source: Path, out: Path) -> None:
    """The audit tables alone (schema as the migrations made it, rows as written)."""
    scratch = out.with_suffix(".tmp")
    scratch.unlink(missing_ok=True)
    db = sqlite3.connect(scratch)
    try:
        db.execute("ATTACH DATABASE ? AS old", (str(source),))
        schema = db.execute(
            "SELECT sql FROM old.sqlite_master WHERE tbl_name IN (?, ?, ?) AND sql IS NOT NULL"
            " ORDER BY type DESC",
            AUDIT_TABLES,
        ).fetchall()
        for (sql,) in schema:
            db.execute(sql)
        for table in AUDIT_TABLES:
            db.execute(f"INSERT INTO main.{table} SELECT * FROM old.{table}")  # noqa: S608
        db.commit()
        db.execute("DETACH DATABASE old")
        db.execute("PRAGMA page_size = 1024")  # a small file: few rows per table
        db.execute("VACUUM")
    finally:
        db.close()
    shutil.move(scratch, out)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
