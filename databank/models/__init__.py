"""ORM mapping of the databank, one module per aggregate. Mapping only: no behaviour, no crypto."""

# The linkage zone's table is mapped here (one metadata), but imported by the zone only.
from databank.models import linkage as linkage
from databank.models.accounts import Invitation, RecoveryCode, SignInFailure
from databank.models.audit import AuditAlert, AuditCheckpoint, AuditEntry, AuditHead
from databank.models.case import BreakGlassGrant, Case, Consent, Encounter, Need, Referral
from databank.models.keys import BlindIndexConfig, ErasureTombstone, OrgKey, SubjectKey
from databank.models.lifecycle import CaseEvent, IdentityChange
from databank.models.org import Organisation, User, UserRole
from databank.models.person import Identity, Person, Subject
from databank.models.statistics import PrivacySpend, StatFact, StatRefresh, StatRelease
from databank.models.submissions import FormSubmission
from databank.models.tokens import ApiToken

__all__ = [
    "ApiToken",
    "AuditAlert",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHead",
    "BlindIndexConfig",
    "BreakGlassGrant",
    "Case",
    "CaseEvent",
    "Consent",
    "Encounter",
    "ErasureTombstone",
    "FormSubmission",
    "Identity",
    "IdentityChange",
    "Invitation",
    "Need",
    "OrgKey",
    "Organisation",
    "Person",
    "PrivacySpend",
    "RecoveryCode",
    "Referral",
    "SignInFailure",
    "StatFact",
    "StatRefresh",
    "StatRelease",
    "Subject",
    "SubjectKey",
    "User",
    "UserRole",
]
