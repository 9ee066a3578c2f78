"""Builders of service inputs for tests, with realistic defaults and easy overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from databank.domain.enums import NeedSeverity, Sex
from databank.domain.vocab import EthosCategory, NeedCategory
from databank.services.inputs import (
    CaseIn,
    EncounterIn,
    IdentityIn,
    IntakeRecord,
    NeedIn,
    Point,
)

GARE_PART_DIEU = Point(45.760586, 4.859435)


def identity(**overrides: Any) -> IdentityIn:
    values: dict[str, Any] = {
        "given_name": "Amélie",
        "family_name": "Lefèvre-Durand",
        "birth_date": date(1987, 3, 14),
        "sex": Sex.FEMALE,
        "phone": "+33 6 12 34 56 78",
        "aliases": ("Mimi",),
        "birth_place": "Saint-Étienne",
    }
    values.update(overrides)
    return IdentityIn(**values)


def encounter(**overrides: Any) -> EncounterIn:
    values: dict[str, Any] = {
        "occurred_at": datetime.now(UTC) - timedelta(hours=2),
        "needs": (NeedIn(NeedCategory.SHELTER, NeedSeverity.HIGH),),
        "services_given": ("sleeping_bag",),
        "point": GARE_PART_DIEU,
        "notes": "Met under the bridge by the station; asked for a sleeping bag.",
    }
    values.update(overrides)
    return EncounterIn(**values)


def case(**overrides: Any) -> CaseIn:
    values: dict[str, Any] = {
        "living_situation": EthosCategory.ETHOS_1_PUBLIC_SPACE,
        "hud_living_situation": 116,
        "point": GARE_PART_DIEU,
        "notes": "Sleeps rough near Part-Dieu since the summer.",
    }
    values.update(overrides)
    return CaseIn(**values)


def intake_record(
    ident: IdentityIn | None = None, *, with_case: bool = True, encounters: int = 1
) -> IntakeRecord:
    return IntakeRecord(
        identity=ident or identity(),
        case=case() if with_case else None,
        needs=(NeedIn(NeedCategory.FOOD),) if with_case else (),
        encounters=tuple(encounter() for _ in range(encounters)) if with_case else (),
    )
