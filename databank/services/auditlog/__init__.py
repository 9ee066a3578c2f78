"""The access log's writer: entries appended in the caller's transaction, alerts raised.

`writer` appends (entries, head, checkpoints) through the driver statements of `store`;
`alerting` raises alerts from the rows as they are written; `signer` holds the checkpoint key.
Callers use the names below."""

from databank.audit.entries import EntryIn
from databank.services.auditlog.writer import (
    CHECKPOINT_EVERY,
    CHECKPOINT_INTERVAL,
    actor_body,
    append,
    checkpoint,
    defer_appends,
    sign_now,
)

__all__ = [
    "CHECKPOINT_EVERY",
    "CHECKPOINT_INTERVAL",
    "EntryIn",
    "actor_body",
    "append",
    "checkpoint",
    "defer_appends",
    "sign_now",
]
