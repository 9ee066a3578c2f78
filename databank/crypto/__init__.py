"""Field encryption, key wrapping and loading, padding and blind indexes; no Flask, no database."""

from databank.crypto.blind_index import (
    MAX_ROWS_PER_VALUE,
    MIN_ROWS_PER_VALUE,
    AddressTags,
    BlindIndex,
    StatTokens,
    check_plan,
    plan_bits,
)
from databank.crypto.envelope import (
    ALG_AES_256_GCM,
    HEADER_LEN,
    KEY_LEN,
    NONCE_LEN,
    TAG_LEN,
    VERSION,
    RowContext,
    SealingKey,
    aad,
    field_context,
    key_id_of,
)
from databank.crypto.keys import (
    KeyMaterial,
    generate_dev_keys,
    load_keys,
    load_linkage_secret,
)
from databank.crypto.padding import pad, unpad
from databank.crypto.wrapping import (
    KeyProvider,
    LocalKeyProvider,
    new_key,
    unwrap_org_key,
    unwrap_subject_key,
    wrap_org_key,
    wrap_subject_key,
)

__all__ = [
    "ALG_AES_256_GCM",
    "HEADER_LEN",
    "KEY_LEN",
    "MAX_ROWS_PER_VALUE",
    "MIN_ROWS_PER_VALUE",
    "NONCE_LEN",
    "TAG_LEN",
    "VERSION",
    "AddressTags",
    "BlindIndex",
    "KeyMaterial",
    "KeyProvider",
    "LocalKeyProvider",
    "RowContext",
    "SealingKey",
    "StatTokens",
    "aad",
    "check_plan",
    "field_context",
    "generate_dev_keys",
    "key_id_of",
    "load_keys",
    "load_linkage_secret",
    "new_key",
    "pad",
    "plan_bits",
    "unpad",
    "unwrap_org_key",
    "unwrap_subject_key",
    "wrap_org_key",
    "wrap_subject_key",
]
