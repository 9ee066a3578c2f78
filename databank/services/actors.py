"""Who is acting: the acting user as the services see it (not a Flask object)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from databank.domain.enums import OrgKind, Role
from databank.models import User


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None
    org_id: uuid.UUID
    org_kind: OrgKind
    roles: frozenset[Role]
    # "cli" for an operator at the command line, "web" or "api" for a signed-in user.
    channel: str = "web"

    @classmethod
    def for_user(cls, user: User, channel: str = "web") -> Actor:
        return cls(user.id, user.org_id, user.org.kind, user.roles, channel)
