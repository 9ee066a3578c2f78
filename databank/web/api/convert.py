"""Loaded API bodies (plain dicts) into the services' input value objects."""

from __future__ import annotations

from typing import Any

from databank.domain.enums import NeedSeverity, Sex
from databank.domain.vocab import EthosCategory, NeedCategory
from databank.services.inputs import CaseIn, EncounterIn, IdentityIn, NeedIn, Point


def point(data: dict[str, Any] | None) -> Point | None:
    return Point(data["lat"], data["lon"]) if data else None


def needs(data: list[dict[str, Any]]) -> tuple[NeedIn, ...]:
    return tuple(NeedIn(NeedCategory(n["category"]), NeedSeverity(n["severity"])) for n in data)


def encounter(data: dict[str, Any]) -> EncounterIn:
    return EncounterIn(
        occurred_at=data["occurred_at"],
        needs=needs(data["needs"]),
        services_given=tuple(data["services_given"]),
        district=data.get("district"),
        point=point(data.get("point")),
        notes=data.get("notes"),
    )


def identity(data: dict[str, Any]) -> IdentityIn:
    sex = data.get("sex")
    return IdentityIn(
        given_name=data["given_name"],
        family_name=data["family_name"],
        birth_date=data["birth_date"],
        sex=Sex(sex) if sex else None,
        aliases=tuple(data["aliases"]),
        birth_place=data.get("birth_place"),
        phone=data.get("phone"),
    )


def case(data: dict[str, Any]) -> CaseIn:
    return CaseIn(
        living_situation=EthosCategory(data["living_situation"]),
        is_minor=data["is_minor"],
        is_domestic_abuse_survivor=data["is_domestic_abuse_survivor"],
        district=data.get("district"),
        point=point(data.get("point")),
        notes=data.get("notes"),
    )
