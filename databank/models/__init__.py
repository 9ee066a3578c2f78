"""ORM mapping of the databank, one module per aggregate. Mapping only: no behaviour, no crypto."""

from databank.models.audit import AuditAlert, AuditCheckpoint, AuditEntry, AuditHead
from databank.models.case import BreakGlassGrant, Case, Consent, Encounter, Need, Referral
from databank.models.keys import BlindIndexConfig, ErasureTombstone, OrgKey, SubjectKey
from databank.models.linkage import LinkageRecord
from databank.models.org import Organisation, User, UserRole
from databank.models.person import Identity, Person

__all__ = [
    "AuditAlert",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHead",
    "BlindIndexConfig",
    "BreakGlassGrant",
    "Case",
    "Consent",
    "Encounter",
    "ErasureTombstone",
    "Identity",
    "LinkageRecord",
    "Need",
    "OrgKey",
    "Organisation",
    "Person",
    "Referral",
    "SubjectKey",
    "User",
    "UserRole",
]
