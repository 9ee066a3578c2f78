"""Length-bucket padding (ISO/IEC 7816-4) applied to names and notes before they are encrypted."""

from __future__ import annotations

from databank.domain.errors import DecryptionFailed

# Threat: AES-GCM ciphertext is exactly as long as its plaintext, so a database thief could tell a
# three-letter given name from a long one, or a one-line note from a page. Padding to power-of-two
# buckets leaves only the bucket visible.


def pad(data: bytes, min_bucket: int = 16) -> bytes:
    """Append 0x80 then zeros up to the smallest power of two >= max(min_bucket, len(data) + 1)."""
    if min_bucket < 1:
        raise ValueError("min_bucket must be at least 1")
    target = max(min_bucket, len(data) + 1)
    bucket = 1 << (target - 1).bit_length()
    return data + b"\x80" + bytes(bucket - len(data) - 1)


def unpad(data: bytes) -> bytes:
    """Remove the padding added by pad; malformed padding raises DecryptionFailed.

    Padding is removed only after the AEAD tag has been checked, so this is no padding oracle: a
    forged ciphertext never reaches here. Malformed padding means a bug or a key misuse, and it is
    reported as the same opaque error as any other unreadable value.
    """
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80:
        raise DecryptionFailed()
    return stripped[:-1]
