"""The keyring: loads, unwraps and caches org keys, subject keys and blind-index keys.

It is the only holder of unwrapped keys in the process (threat model: a compromised running
host is out of scope; a stolen database or backup only ever holds wrapped keys).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from databank.crypto import (
    AddressTags,
    BlindIndex,
    KeyMaterial,
    SealingKey,
    StatTokens,
    check_plan,
    key_id_of,
    new_key,
    plan_bits,
    unwrap_org_key,
    unwrap_subject_key,
    wrap_org_key,
    wrap_subject_key,
)
from databank.crypto.handles import PersonHandles
from databank.domain.errors import ConfigurationError, DecryptionFailed, Erased
from databank.models import BlindIndexConfig, OrgKey, Subject, SubjectKey
from databank.services.context import carried

# Every blind index the schema uses: (table, column). Each gets a config row with its bit length.
BLIND_INDEXES = (("identities", "name_dob_bidx"),)
_SUBJECT_CACHE_LIMIT = 200_000


class Keyring:
    def __init__(self, material: KeyMaterial, planned_population: int) -> None:
        self._material = material
        self.planned_population = planned_population
        self._lock = threading.Lock()
        self._org_keys: dict[tuple[uuid.UUID, int], SealingKey] = {}
        # Keyed by the wrapped blob: a key whose row was deleted (erasure) can no longer be looked
        # up, even by a process that cached it before the erasure.
        self._subject_keys: dict[bytes, SealingKey] = {}
        self._blind_indexes: dict[tuple[uuid.UUID, str, str, int], BlindIndex] = {}
        self._bidx_bits: dict[tuple[str, str, int], int] = {}
        # The sign-in throttle's tags of client addresses (services/throttle.py).
        self.address_tags = AddressTags(material.index_root)
        # Each organisation's handles of pooled people (crypto/handles.py).
        self.person_handles = PersonHandles(material.index_root)
        # The statistics' tokens of records and pooled persons (crypto/blind_index.py).
        self.stat_tokens = StatTokens(material.index_root)

    # -- organisation keys -------------------------------------------------------------------

    def create_org_key(self, session: Session, org_id: uuid.UUID, version: int = 1) -> OrgKey:
        key = new_key()
        row = OrgKey(
            org_id=org_id,
            version=version,
            wrapped_key=wrap_org_key(self._material.provider, key, org_id, version),
            provider=self._material.provider.name,
            is_active=True,
        )
        session.add(row)
        with self._lock:
            self._org_keys[(org_id, version)] = SealingKey(key, version)
        return row

    def active_org_key(self, session: Session, org_id: uuid.UUID) -> SealingKey:
        # Asked of the database every time (one indexed row), so a rotation done by another
        # process is seen at once and no new key is ever wrapped under a retired version.
        version = session.execute(
            select(OrgKey.version).where(OrgKey.org_id == org_id, OrgKey.is_active)
        ).scalar_one_or_none()
        if version is None:
            raise ConfigurationError("the organisation has no active key; run `databank keys init`")
        return self.org_key(session, org_id, version)

    def org_key(self, session: Session, org_id: uuid.UUID, version: int) -> SealingKey:
        cached = self._org_keys.get((org_id, version))
        if cached is not None:
            return cached
        wrapped = session.execute(
            select(OrgKey.wrapped_key).where(OrgKey.org_id == org_id, OrgKey.version == version)
        ).scalar_one_or_none()
        if wrapped is None:
            raise DecryptionFailed()
        key = SealingKey(unwrap_org_key(self._material.provider, wrapped, org_id, version), version)
        with self._lock:
            self._org_keys[(org_id, version)] = key
        return key

    def forget_org_key(self, org_id: uuid.UUID, version: int) -> None:
        with self._lock:
            self._org_keys.pop((org_id, version), None)

    # -- subject keys ------------------------------------------------------------------------

    def new_subject_key(
        self, org_key: SealingKey, org_id: uuid.UUID, subject_id: uuid.UUID, binding: uuid.UUID
    ) -> tuple[SealingKey, dict[str, object]]:
        """A fresh random key for a subject and the row that stores it wrapped (the wrapping's
        AAD names the org and the subject's binding, never the pooled person)."""
        raw = new_key()
        wrapped = wrap_subject_key(org_key, raw, org_id, binding)
        key = SealingKey(raw, 1)
        self._remember(wrapped, key)
        row = {
            "id": uuid.uuid4(),
            "subject_id": subject_id,
            "org_id": org_id,
            "version": 1,
            "org_key_version": org_key.key_id,
            "wrapped_key": wrapped,
            "created_at": datetime.now(UTC),
        }
        return key, row

    def subject_key(
        self,
        session: Session,
        wrapped: bytes,
        org_id: uuid.UUID,
        binding: uuid.UUID,
        version: int,
    ) -> SealingKey:
        cached = self._subject_keys.get(wrapped)
        if cached is not None:
            return cached
        org_key = self.org_key(session, org_id, key_id_of(wrapped))
        key = SealingKey(unwrap_subject_key(org_key, wrapped, org_id, binding), version)
        self._remember(wrapped, key)
        return key

    def subject_keys(
        self, session: Session, org_id: uuid.UUID, subject_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, SealingKey]:
        """The current key of each of the org's subjects; erased subjects are absent."""
        ids = list(set(subject_ids))
        found: dict[uuid.UUID, SealingKey] = {}
        for start in range(0, len(ids), 500):
            rows = session.execute(
                select(
                    SubjectKey.subject_id,
                    Subject.binding,
                    SubjectKey.wrapped_key,
                    SubjectKey.version,
                )
                .join(Subject, Subject.id == SubjectKey.subject_id)
                .where(
                    SubjectKey.org_id == org_id,
                    SubjectKey.subject_id.in_(ids[start : start + 500]),
                )
                .order_by(SubjectKey.version)
            )
            for subject_id, binding, wrapped, version in rows:
                found[subject_id] = self.subject_key(session, wrapped, org_id, binding, version)
        return found

    def subject_key_for(
        self, session: Session, org_id: uuid.UUID, subject_id: uuid.UUID
    ) -> SealingKey:
        key = self.subject_keys(session, org_id, [subject_id]).get(subject_id)
        if key is None:
            raise Erased("this person's data was erased")
        return key

    def _remember(self, wrapped: bytes, key: SealingKey) -> None:
        with self._lock:
            if len(self._subject_keys) >= _SUBJECT_CACHE_LIMIT:
                self._subject_keys.clear()
            self._subject_keys[wrapped] = key

    def forget_subject_keys(self, wrapped_blobs: Iterable[bytes]) -> None:
        with self._lock:
            for blob in wrapped_blobs:
                self._subject_keys.pop(blob, None)

    # -- blind indexes -----------------------------------------------------------------------

    def ensure_blind_index_configs(self, session: Session) -> None:
        """Create missing configs sized by the planner; check existing ones against the plan."""
        existing = {
            (c.table_name, c.column_name, c.version): c
            for c in session.execute(select(BlindIndexConfig)).scalars()
        }
        for table, column in BLIND_INDEXES:
            config = existing.get((table, column, 1))
            if config is None:
                config = BlindIndexConfig(
                    table_name=table,
                    column_name=column,
                    version=1,
                    bits=plan_bits(self.planned_population),
                    planned_population=self.planned_population,
                )
                session.add(config)
            self._bidx_bits[(table, column, config.version)] = config.bits

    def check_blind_indexes(self, session: Session) -> None:
        """Start-up check: every index is sized for the planned population (16-64 rows a value)."""
        configs = list(session.execute(select(BlindIndexConfig)).scalars())
        for config in configs:
            check_plan(
                config.bits, self.planned_population, f"{config.table_name}.{config.column_name}"
            )
            self._bidx_bits[(config.table_name, config.column_name, config.version)] = config.bits

    def blind_index(
        self, session: Session, org_id: uuid.UUID, table: str, column: str, version: int = 1
    ) -> BlindIndex:
        cached = self._blind_indexes.get((org_id, table, column, version))
        if cached is not None:
            return cached
        bits = self._bidx_bits.get((table, column, version))
        if bits is None:
            bits = session.execute(
                select(BlindIndexConfig.bits).where(
                    BlindIndexConfig.table_name == table,
                    BlindIndexConfig.column_name == column,
                    BlindIndexConfig.version == version,
                )
            ).scalar_one_or_none()
            if bits is None:
                raise ConfigurationError(f"blind index {table}.{column} is not configured")
            self._bidx_bits[(table, column, version)] = bits
        index = BlindIndex(self._material.index_root, table, column, org_id, version, bits)
        with self._lock:
            self._blind_indexes[(org_id, table, column, version)] = index
        return index

    # -- rotation ------------------------------------------------------------------------------

    def rotate_org_key(self, session: Session, org_id: uuid.UUID) -> tuple[int, int]:
        """A new org key version; every subject key is re-wrapped under it. No data rewrite.

        Returns (new version, number of subject keys re-wrapped).
        """
        current = session.execute(
            select(OrgKey).where(OrgKey.org_id == org_id, OrgKey.is_active).with_for_update()
        ).scalar_one_or_none()
        if current is None:
            raise ConfigurationError("the organisation has no active key")
        latest = (
            session.execute(
                select(OrgKey.version)
                .where(OrgKey.org_id == org_id)
                .order_by(OrgKey.version.desc())
            )
            .scalars()
            .first()
        )
        assert latest is not None  # noqa: S101 - the active row exists
        current.is_active = False
        new_row = self.create_org_key(session, org_id, latest + 1)
        new_key_ = self._org_keys[(org_id, new_row.version)]
        session.flush()  # the new version must exist before subject keys point at it
        count = 0
        rows = session.execute(
            select(SubjectKey.id, Subject.binding, SubjectKey.wrapped_key)
            .join(Subject, Subject.id == SubjectKey.subject_id)
            .where(SubjectKey.org_id == org_id, SubjectKey.org_key_version != new_row.version)
        ).all()
        for start in range(0, len(rows), 1000):
            params = []
            for key_row_id, binding, wrapped in rows[start : start + 1000]:
                old = self.org_key(session, org_id, key_id_of(wrapped))
                raw = unwrap_subject_key(old, wrapped, org_id, binding)
                params.append(
                    {
                        "id": key_row_id,
                        "wrapped_key": wrap_subject_key(new_key_, raw, org_id, binding),
                        "org_key_version": new_row.version,
                    }
                )
            session.execute(update(SubjectKey), params)  # bulk UPDATE by primary key
            count += len(params)
        with self._lock:
            self._subject_keys.clear()
        return new_row.version, count

    def retire_org_key(self, session: Session, org_id: uuid.UUID, version: int) -> None:
        """Destroy an old org key version once no subject key is wrapped under it."""
        row = session.execute(
            select(OrgKey).where(OrgKey.org_id == org_id, OrgKey.version == version)
        ).scalar_one_or_none()
        if row is None:
            raise ConfigurationError(f"the organisation has no key version {version}")
        if row.is_active:
            raise ConfigurationError("the active key cannot be retired; rotate first")
        still_used = session.execute(
            select(func.count())
            .select_from(SubjectKey)
            .where(SubjectKey.org_id == org_id, SubjectKey.org_key_version == version)
        ).scalar_one()
        if still_used:
            raise ConfigurationError(
                f"{still_used} subject keys are still wrapped under version {version}; rotate again"
            )
        row.wrapped_key = None
        row.retired_at = datetime.now(UTC)
        self.forget_org_key(org_id, version)


def keyring_of(session: Session) -> Keyring:
    """The process's keyring, carried by the session."""
    return carried(session, "keyring", Keyring)
