"""The access log's vocabulary: what happened (events) and to what (record types).

Stored by value in every entry's hashed body, so a value never changes once released: a new kind
of event is a new member. Decisions are `enums.Decision`. Members are strings (StrEnum), written
into a body exactly as their value would be.
"""

from __future__ import annotations

from enum import StrEnum

from databank.domain.enums import Action


class AuditEvent(StrEnum):
    """Every event the log records."""

    # A decision of the policy enforcement point on case data: "access." and the `Action`.
    ACCESS_READ = "access.read"
    ACCESS_CREATE = "access.create"
    ACCESS_UPDATE = "access.update"
    ACCESS_SEARCH = "access.search"
    ACCESS_ERASE = "access.erase"
    ACCESS_EXPORT = "access.export"
    ACCESS_REFER = "access.refer"
    ACCESS_OVERRIDE_CONSENT = "access.override_consent"
    # A record shown as a line of a list the user asked for (a caseload page, the referrals
    # received), with what its owner's policy released for the line. A read of places for the
    # district-sweep alert; not a record opened, for the bulk-reads alert (paging through a
    # caseload is what staff do all day).
    ACCESS_LIST = "access.list"
    # A record a list or a page section left out because the policy released nothing of it (a
    # caseload's candidate, a referral's case, a case page's consents): decided and logged, but
    # not a record the user asked for, so not a refusal of theirs (the denial-burst alert counts
    # refused requests, not the rows a page passed over).
    ACCESS_OMITTED = "access.omitted"
    # Emergency access.
    BREAK_GLASS_START = "break_glass.start"
    BREAK_GLASS_END = "break_glass.end"
    # Signing in and out, a user's own account.
    LOGIN = "login"
    LOGIN_2FA = "login.2fa"
    LOGOUT = "logout"
    PURPOSE_SWITCH = "purpose.switch"
    ACCOUNT_PASSWORD_CHANGED = "account.password_changed"  # noqa: S105 - an event name, not a secret
    ACCOUNT_2FA_ENROLMENT_STARTED = "account.2fa_enrolment_started"
    ACCOUNT_2FA_ENABLED = "account.2fa_enabled"
    ACCOUNT_2FA_DISABLED = "account.2fa_disabled"
    ACCOUNT_RECOVERY_CODES_RENEWED = "account.recovery_codes_renewed"
    # Organisations and their staff.
    ORG_CREATED = "org.created"
    USER_CREATED = "user.created"
    USERS_LIST = "users.list"
    USERS_INVITE = "users.invite"
    USERS_INVITATION_ACCEPTED = "users.invitation_accepted"
    USERS_DEACTIVATE = "users.deactivate"
    USERS_REACTIVATE = "users.reactivate"
    USERS_RESET_2FA = "users.reset_2fa"
    # API tokens.
    API_TOKEN_ISSUED = "api_token.issued"  # noqa: S105 - an event name, not a secret
    API_TOKEN_REVOKED = "api_token.revoked"  # noqa: S105 - an event name, not a secret
    API_TOKEN_DENIED = "api_token.denied"  # noqa: S105 - an event name, not a secret
    API_TOKEN_LIST = "api_token.list"  # noqa: S105 - an event name, not a secret
    API_TOKEN_MANAGE = "api_token.manage"  # noqa: S105 - an event name, not a secret
    # Policies and keys.
    POLICY_VIEW = "policy.view"
    POLICY_CHANGED = "policy.changed"
    KEY_ROTATED = "key.rotated"
    KEY_RETIRED = "key.retired"
    ERASURE = "erasure"
    ERASURE_REPLAY = "erasure.replay"
    # An organisation merged its two records of one person (duplicate registrations).
    RECORDS_MERGED = "records.merged"
    LINKAGE_RUN = "linkage.run"  # a batch run: counts only
    LINKAGE_REVIEW = "linkage.review"  # the review queue read
    LINKAGE_DECISION = "linkage.decision"  # a reviewer linked or kept apart a pair
    # Oversight: the auditor console, its alerts, the log's proofs.
    AUDIT_VIEW = "audit.view"
    AUDIT_VERIFY = "audit.verify"
    AUDIT_EXPORT = "audit.export"
    AUDIT_PROVE = "audit.prove"
    # A person looked up by family name and birth date for a subject access request (the count,
    # never what was typed).
    AUDIT_PERSON_LOOKUP = "audit.person_lookup"
    ALERT_REVIEW = "alert.review"
    ALERT_NOTE_READ = "alert.note.read"
    # Anonymised statistics: a table released (its template, dimensions, filters, period and
    # epsilon; never a count), an ad-hoc table refused (budget spent), a stored release exported.
    STATS_TABLE = "stats.table"
    STATS_ADHOC = "stats.adhoc"
    STATS_EXPORT = "stats.export"

    @classmethod
    def access(cls, action: Action) -> AuditEvent:
        """The event of a decision on case data for this action (every action has one)."""
        return _ACCESS[action]


_ACCESS = {action: AuditEvent(f"access.{action.value}") for action in Action}


class RecordType(StrEnum):
    """What an entry's record is: a row of the data model, or what a list or search covered."""

    PERSON = "person"
    SUBJECT = "subject"  # one organisation's record of a person
    IDENTITY = "identity"
    CASE = "case"
    CONSENT = "consent"
    REFERRAL = "referral"  # a referral answered (accepted, declined, outcome) or withdrawn
    INTAKE = "intake"  # an intake record: identity, case, needs and first encounters
    BREAK_GLASS = "break_glass"
    # Lists and searches (no record id).
    CASE_LIST = "case_list"
    CONSENT_LIST = "consent_list"
    REFERRAL_LIST = "referral_list"
    RECENT_CONTACTS = "recent_contacts"
    IDENTITY_SEARCH = "identity_search"
    # Accounts, keys, oversight.
    ORGANISATION = "organisation"
    USER = "user"
    INVITATION = "invitation"
    API_TOKEN = "api_token"  # noqa: S105 - a record type, not a secret
    ORG_KEY = "org_key"
    AUDIT_LOG = "audit_log"
    ALERT = "alert"
    LINKAGE_REVIEW = "linkage_review"  # a grey-zone pair of the review queue
    LINKAGE_POOL = "linkage_pool"  # a batch run over every subject's encodings
    STATISTICS = "statistics"  # a table of anonymised statistics (no record id)
    STAT_RELEASE = "stat_release"  # an ad-hoc table as released, stored for its exports
    DUPLICATE_RECORDS = "duplicate_records"  # an org's people it holds under several records
