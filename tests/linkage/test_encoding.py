"""Tests of the linkage encodings: keyed, versioned, and free of clear identifiers."""

from __future__ import annotations

import pytest

from databank.linkage.encoding import (
    BLOOM_COLUMNS,
    ENCODING_SCHEMA_VERSION,
    TOKEN_COLUMNS,
    RecordEncoder,
)
from databank.linkage.normalise import normalise

SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(1, 33))
PEOPLE = [
    normalise("Mamadou", "Diallo", "1988-04-12", "M", "Conakry", "69003"),
    normalise("Fatima", "Ben Ali", "1975-01-01", "F", "Oran", "E2"),
]


@pytest.mark.parametrize("hardened", [True, False])
def test_another_secret_gives_other_encodings(hardened: bool) -> None:
    """Encodings are keyed: another linkage secret gives different values in every column."""
    a = RecordEncoder(SECRET, hardened=hardened).encode(PEOPLE, [1, 2])
    b = RecordEncoder(OTHER_SECRET, hardened=hardened).encode(PEOPLE, [1, 2])
    for column in (*TOKEN_COLUMNS, *BLOOM_COLUMNS):
        for x, y in zip(a[column], b[column], strict=True):
            assert x is None or x != y, column


def test_no_clear_identifier_in_any_encoding() -> None:
    """No clear name, birth date or part of one appears in any encoded value."""
    frame = RecordEncoder(SECRET).encode(PEOPLE, [1, 2])
    dump = b"".join(
        v if isinstance(v, bytes) else str(v).encode()
        for column in (*TOKEN_COLUMNS, *BLOOM_COLUMNS)
        for v in frame[column]
    ).lower()
    for clear in ("mamadou", "diallo", "fatima", "benali", "1988", "04-12", "conakry", "oran"):
        assert clear.encode() not in dump


def test_same_person_same_tokens_and_schema_version() -> None:
    encoder = RecordEncoder(SECRET)
    a = encoder.encode([normalise("Mohammed", "Benali", "1980-05-06")], [1])
    b = encoder.encode([normalise("Muhammad", "Ben Ali", "1980-05-06")], [2])
    assert a["given_tok"][0] == b["given_tok"][0]
    assert a["family_tok"][0] == b["family_tok"][0]
    assert a["given_bf"][0] == b["given_bf"][0]
    assert ENCODING_SCHEMA_VERSION.startswith("databank-linkage-")


def test_day_month_swap_token_meets_the_date_token() -> None:
    encoder = RecordEncoder(SECRET)
    frame = encoder.encode(
        [normalise("a", "b", "1980-05-06"), normalise("a", "b", "1980-06-05")], [1, 2]
    )
    assert frame["dob_swap_tok"][0] == frame["dob_tok"][1]


def test_secret_length_is_checked() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        RecordEncoder(b"short")


def test_rows_for_registration_are_the_frames_rows() -> None:
    """Registration stores `encode_rows` (no frame: pandas cost more than the encoding at a few
    records); the values are the frame's, column for column, absent ones None."""
    encoder = RecordEncoder(SECRET)
    people = [*PEOPLE, normalise("Li", "", None)]
    frame = encoder.encode(people, [0, 1, 2])
    rows = encoder.encode_rows(people)
    assert len(rows) == len(people)
    for i, row in enumerate(rows):
        assert set(row) == set(frame.columns) - {"record_id"}
        for column, value in row.items():
            framed = frame[column][i]
            assert value == framed or (value is None and framed is None), column


def _hamming_similarity(a: bytes, b: bytes) -> float:
    differing = sum(bin(x ^ y).count("1") for x, y in zip(a, b, strict=True))
    return 1 - 2 * differing / (8 * len(a))


def test_an_address_missing_a_word_stays_similar() -> None:
    """An address filter is about as full as a name filter (so diffusion does not make an
    address short of one word look like a stranger's): a dropped word keeps the pair above
    the middle cut-off, two different addresses stay below the low one."""
    from databank.linkage.model_spec import THRESHOLDS

    _hi, mid, lo = THRESHOLDS["hardened"]
    people = [
        normalise("Jessica", "Campbell", None, None, None, None, address=address)
        for address in (
            "43 deloraine street",
            "43 deloraine street cornvale",
            "8 huxley place mooloolaba",
        )
    ]
    filters = RecordEncoder(SECRET).encode(people, [1, 2, 3])["address_bf"].tolist()
    plain = RecordEncoder(SECRET, hardened=False).encode(people, [1, 2, 3])
    address_fill = bin(int.from_bytes(plain["address_bf"][1], "big")).count("1") / 1024
    name_fill = bin(int.from_bytes(plain["name_bf"][1], "big")).count("1") / 1024
    assert address_fill < 2 * name_fill
    assert _hamming_similarity(filters[0], filters[1]) >= mid
    assert _hamming_similarity(filters[0], filters[2]) < lo
    assert _hamming_similarity(filters[1], filters[2]) < lo
