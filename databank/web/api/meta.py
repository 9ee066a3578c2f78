"""API operations about the caller and the vocabularies: me, purposes, partner organisations."""

from __future__ import annotations

from typing import Any

from flask import session

from databank.domain.enums import Purpose
from databank.domain.errors import BadRequest
from databank.schemas.meta import (
    MeOut,
    OrgListOut,
    PurposeListOut,
    PurposeSwitchIn,
    PurposeSwitchOut,
)
from databank.services.access import directory
from databank.services.accounts.organisations import record_purpose_switch
from databank.services.context import policy_of
from databank.web.api.auth import caller
from databank.web.api.registry import operation
from databank.web.unit_of_work import db


@operation("/me", summary="Who is calling, for which purpose", tag="meta", scope="", response=MeOut)
def me() -> dict[str, Any]:
    """The user the request acts as (a token acts as its user, with that user's roles), the
    organisation, the purpose used for this request, and the token's scopes if a token is used."""
    who = caller()
    user = who.user
    return {
        "user_id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "org_id": user.org_id,
        "org_slug": user.org.slug,
        "org_kind": user.org.kind.value,
        "roles": sorted(r.value for r in user.roles),
        "purpose": who.purpose.value,
        "authentication": "session" if who.token_id is None else "token",
        "token_scopes": sorted(who.scopes) if who.scopes is not None else None,
        "token_purposes": [p.value for p in who.token_purposes] if who.token_id else None,
    }


@operation(
    "/purposes",
    summary="The closed list of purposes",
    tag="meta",
    scope="",
    response=PurposeListOut,
)
def purposes() -> dict[str, Any]:
    """Every declared purpose of use, with its English and French labels from the policy bundle.
    Forbidden purposes are listed (and flagged) so a partner system can show why they fail."""
    infos = policy_of(db()).bundle.purposes
    return {"purposes": [infos[p] for p in Purpose]}


def _not_a_token() -> None:
    """The session's purpose is the session's: a token is refused before its body is read."""
    if caller().token_id is not None:
        raise BadRequest(
            "a token declares its purpose per request",
            {"X-Databank-Purpose": ["send this header with each request instead"]},
        )


@operation(
    "/me/purpose",
    "PUT",
    summary="Switch the session's purpose",
    tag="meta",
    scope="",
    body=PurposeSwitchIn,
    response=PurposeSwitchOut,
    session_only=True,
    guard=_not_a_token,
)
def switch_purpose(data: dict[str, Any]) -> dict[str, Any]:
    """For a signed-in browser session: the purpose declared for the following requests (logged
    like the page's switch). A token declares its purpose per request with the header instead."""
    chosen = Purpose(data["purpose"])
    record_purpose_switch(db(), caller().actor, chosen)  # refused (403, logged) before it is kept
    session["purpose"] = chosen.value
    return {"purpose": chosen.value}


@operation("/orgs", summary="Partner organisations", tag="meta", scope="", response=OrgListOut)
def orgs() -> dict[str, Any]:
    """The other organisations of the platform (id, slug, name, kind), for referral and consent
    pickers. Directory data only: nothing about any person."""
    return {"orgs": directory.partner_orgs(db(), caller().actor)}
