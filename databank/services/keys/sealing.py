"""Sealing and opening of one field value, bound to its org, table, column, row and person."""

from __future__ import annotations

import uuid

from databank.crypto import RowContext, SealingKey, pad, unpad


class RowSealer:
    """Seals the fields of one row: the AAD names the row, so a moved ciphertext fails to open."""

    __slots__ = ("_context", "_key")

    def __init__(
        self,
        key: SealingKey,
        org_id: uuid.UUID,
        table: str,
        row_id: uuid.UUID,
        person_id: uuid.UUID,
    ) -> None:
        self._key = key
        self._context = RowContext(org_id, table, row_id, person_id).for_column

    def seal(self, column: str, value: str | None) -> bytes | None:
        if value is None:
            return None
        # Padded to a length bucket so the ciphertext length does not reveal a name or a note.
        return self._key.seal(pad(value.encode("utf-8")), self._context(column))

    def open(self, column: str, blob: bytes | None) -> str | None:
        if blob is None:
            return None
        return unpad(self._key.open(blob, self._context(column))).decode("utf-8")
