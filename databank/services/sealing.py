"""Sealing and opening of one field value, bound to its org, table, column, row and person."""

from __future__ import annotations

import uuid

from databank.crypto import SealingKey, field_context, pad, unpad


class RowSealer:
    """Seals the fields of one row: the AAD names the row, so a moved ciphertext fails to open."""

    __slots__ = ("_key", "_org_id", "_person_id", "_row_id", "_table")

    def __init__(
        self,
        key: SealingKey,
        org_id: uuid.UUID,
        table: str,
        row_id: uuid.UUID,
        person_id: uuid.UUID,
    ) -> None:
        self._key = key
        self._org_id = org_id
        self._table = table
        self._row_id = row_id
        self._person_id = person_id

    def _context(self, column: str) -> bytes:
        return field_context(self._org_id, self._table, column, self._row_id, self._person_id)

    def seal(self, column: str, value: str | None) -> bytes | None:
        if value is None:
            return None
        # Padded to a length bucket so the ciphertext length does not reveal a name or a note.
        return self._key.seal(pad(value.encode("utf-8")), self._context(column))

    def open(self, column: str, blob: bytes | None) -> str | None:
        if blob is None:
            return None
        return unpad(self._key.open(blob, self._context(column))).decode("utf-8")
