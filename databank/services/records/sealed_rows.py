"""Builds the rows of subjects and the sealed rows of identities, cases, needs and encounters,
and inserts them in order.

Single-record services and batch intake share these builders, so a field is sealed the same way
whatever the path. Rows are inserted with Core statements: ids are made here, before insertion,
because each ciphertext's AAD names its row.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from databank.crypto import SealingKey
from databank.db import bulk_insert
from databank.domain import geo
from databank.domain.enums import CaseStatus, NeedStatus, SubjectStatus
from databank.models import (
    Case,
    Encounter,
    Identity,
    Need,
    Person,
    Subject,
    SubjectKey,
)
from databank.services.inputs import AREA_PREFIX, CaseIn, EncounterIn, IdentityIn, NeedIn, Point
from databank.services.keys.sealing import RowSealer
from databank.services.linkage.clusters import LINK_HISTORY_TABLE
from databank.services.linkage.zone import LINKAGE_TABLE
from databank.services.statistics import facts

# Foreign keys decide the order of insertion.
INSERT_ORDER: tuple[Table, ...] = (
    *(cast(Table, m.__table__) for m in (Person, Subject, SubjectKey, Identity)),
    LINKAGE_TABLE,
    LINK_HISTORY_TABLE,
    *(cast(Table, m.__table__) for m in (Case, Need, Encounter)),
)


def area_of(point: Point | None, district: str | None) -> str | None:
    """The clear, coarse area: the district of the point, or the district the worker picked."""
    if point is not None:
        return geo.encode(point.lat, point.lon, 5)
    return district


def subject_row(
    subject_id: uuid.UUID, org_id: uuid.UUID, person_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """A new subject: its binding is its own id, fixed for good (every ciphertext names it)."""
    return {
        "id": subject_id,
        "org_id": org_id,
        "person_id": person_id,
        "binding": subject_id,
        "status": SubjectStatus.ACTIVE,
        "created_at": now,
        "erased_at": None,
    }


def identity_row(
    key: SealingKey,
    org_id: uuid.UUID,
    subject_id: uuid.UUID,
    binding: uuid.UUID,
    identity: IdentityIn,
    bidx: int,
    user_id: uuid.UUID | None,
    now: datetime,
) -> dict[str, Any]:
    row_id = uuid.uuid4()
    seal = RowSealer(key, org_id, "identities", row_id, binding).seal
    return {
        "id": row_id,
        "subject_id": subject_id,
        "org_id": org_id,
        "given_name_ciphertext": seal("given_name_ciphertext", identity.given_name.strip()),
        "family_name_ciphertext": seal("family_name_ciphertext", identity.family_name.strip()),
        "birth_date_ciphertext": seal("birth_date_ciphertext", identity.birth_date.isoformat()),
        "sex_ciphertext": seal("sex_ciphertext", identity.sex.value if identity.sex else None),
        "aliases_ciphertext": seal(
            "aliases_ciphertext", json.dumps(list(identity.aliases)) if identity.aliases else None
        ),
        "birth_place_ciphertext": seal("birth_place_ciphertext", identity.birth_place),
        "phone_ciphertext": seal("phone_ciphertext", identity.phone),
        "id_numbers_ciphertext": None,
        "name_dob_bidx": bidx,
        "bidx_version": 1,
        "created_by_id": user_id,
        "created_at": now,
    }


def _place(
    seal: Callable[[str, str | None], bytes | None],
    point: Point | None,
    district: str | None,
    area: str | None = None,
) -> dict[str, Any]:
    """A row's place: the district in clear, the point (or the area picked without one) sealed."""
    sealed = point.as_text() if point else (AREA_PREFIX + area if area else None)
    return {
        "area_geohash": area_of(point, district),
        "location_ciphertext": seal("location_ciphertext", sealed),
    }


def case_row(
    key: SealingKey,
    org_id: uuid.UUID,
    subject_id: uuid.UUID,
    binding: uuid.UUID,
    case: CaseIn,
    user_id: uuid.UUID | None,
    now: datetime,
) -> dict[str, Any]:
    row_id = uuid.uuid4()
    seal = RowSealer(key, org_id, "cases", row_id, binding).seal
    return {
        "id": row_id,
        "subject_id": subject_id,
        "org_id": org_id,
        "status": CaseStatus.OPEN,
        "opened_at": case.opened_at or now,
        "closed_at": None,
        "close_reason": None,
        "destination": None,
        "living_situation": case.living_situation,
        "hud_living_situation": case.hud_living_situation,
        "is_minor": case.is_minor,
        "is_domestic_abuse_survivor": case.is_domestic_abuse_survivor,
        **_place(seal, case.point, case.district, case.area),
        "notes_ciphertext": seal("notes_ciphertext", case.notes),
        "created_by_id": user_id,
        "created_at": now,
    }


def need_rows(case_id: uuid.UUID, needs: Sequence[NeedIn], at: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "case_id": case_id,
            "category": need.category,
            "severity": need.severity,
            "status": NeedStatus.IDENTIFIED,
            "identified_at": at,
            "resolved_at": None,
        }
        for need in needs
    ]


def encounter_row(
    key: SealingKey,
    org_id: uuid.UUID,
    binding: uuid.UUID,
    case_id: uuid.UUID,
    encounter: EncounterIn,
    user_id: uuid.UUID | None,
    now: datetime,
) -> dict[str, Any]:
    row_id = uuid.uuid4()
    seal = RowSealer(key, org_id, "encounters", row_id, binding).seal
    return {
        "id": row_id,
        "case_id": case_id,
        "org_id": org_id,
        "worker_id": user_id,
        "occurred_at": encounter.occurred_at,
        **_place(seal, encounter.point, encounter.district, encounter.area),
        "notes_ciphertext": seal("notes_ciphertext", encounter.notes),
        "services_given": list(encounter.services_given),
        "created_at": now,
    }


def insert_rows(session: Session, rows: Mapping[Table, list[dict[str, Any]]]) -> None:
    """Insert every batch of rows, parents before children, inside the current transaction."""
    for table in INSERT_ORDER:
        batch = rows.get(table)
        if batch:
            bulk_insert(session, table, batch)
    # A bulk insert passes no ORM event: the statistics' facts are told what it wrote.
    for table, batch in rows.items():
        if "subject_id" in table.c:
            facts.touch(session, (row["subject_id"] for row in batch))
        elif "case_id" in table.c:
            facts.touch_cases(session, (row["case_id"] for row in batch))
