"""The enforcement point: every read and write of case data is decided and logged here.

`enforcement` decides (through the policy engine) and logs each decision; `sharing` gathers the
facts a decision rests on; `directory` names organisations; `roles` holds every role rule that
is not in Cedar. Callers use the names below."""

from databank.services.access.enforcement import (
    WHOLE_RECORD,
    AccessRefused,
    Grant,
    Resource,
    authorize,
    authorize_many,
    check_break_glass_responder,
    decide_many,
    explain,
    parse_purpose,
    principal_of,
    record_denial,
    require_account_admin,
    require_account_manager,
    require_any_role,
)

__all__ = [
    "WHOLE_RECORD",
    "AccessRefused",
    "Grant",
    "Resource",
    "authorize",
    "authorize_many",
    "check_break_glass_responder",
    "decide_many",
    "explain",
    "parse_purpose",
    "principal_of",
    "record_denial",
    "require_account_admin",
    "require_account_manager",
    "require_any_role",
]
