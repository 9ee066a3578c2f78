"""The enforcement point: every read and write of case data is decided and logged here.

`enforcement` decides (through the policy engine) and logs each decision; `unheld` refuses, as
not found and logged, an attempt on records the actor's organisation does not hold; `sharing`
gathers the facts a decision rests on; `directory` names organisations; `roles` holds every role
rule that is not in Cedar. Callers use the names below."""

from databank.services.access.enforcement import (
    WHOLE_RECORD,
    AccessRefused,
    Decided,
    Grant,
    Resource,
    authorize,
    authorize_many,
    check_break_glass_responder,
    decide_many,
    explain,
    parse_purpose,
    principal_of,
    record,
    record_denial,
    require_account_admin,
    require_account_manager,
    require_any_role,
)
from databank.services.access.unheld import (
    NO_SUCH_CASE,
    NO_SUCH_PERSON,
    RefusedAsNotFound,
    refuse_unheld,
    refuse_unheld_person,
)

__all__ = [
    "NO_SUCH_CASE",
    "NO_SUCH_PERSON",
    "WHOLE_RECORD",
    "AccessRefused",
    "Decided",
    "Grant",
    "RefusedAsNotFound",
    "Resource",
    "authorize",
    "authorize_many",
    "check_break_glass_responder",
    "decide_many",
    "explain",
    "parse_purpose",
    "principal_of",
    "record",
    "record_denial",
    "refuse_unheld",
    "refuse_unheld_person",
    "require_account_admin",
    "require_account_manager",
    "require_any_role",
]
