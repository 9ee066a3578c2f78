"""Tests of length-bucket padding: vectors, round trip, bucket sizes and malformed padding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from databank.crypto.padding import pad, unpad
from databank.domain.errors import DecryptionFailed


def test_vectors() -> None:
    assert pad(b"") == bytes.fromhex("80" + "00" * 15)
    assert pad("Amélie".encode()) == bytes.fromhex("416dc3a96c696580" + "00" * 8)
    assert pad(bytes(15)) == bytes(15) + b"\x80"
    assert pad(bytes(16)) == bytes(16) + b"\x80" + bytes(15)
    assert pad(b"ab", min_bucket=4) == b"ab\x80\x00"
    assert pad(b"ab", min_bucket=20) == b"ab\x80" + bytes(29)


@given(data=st.binary(max_size=2000), min_bucket=st.integers(min_value=1, max_value=256))
def test_round_trip(data: bytes, min_bucket: int) -> None:
    assert unpad(pad(data, min_bucket)) == data


@given(data=st.binary(max_size=2000))
def test_padded_lengths_are_powers_of_two(data: bytes) -> None:
    """A padded value is a power of two, at least 16 bytes, and longer than the value."""
    length = len(pad(data))
    assert length >= 16
    assert length > len(data)
    assert length & (length - 1) == 0
    # The smallest such bucket: half of it would not hold the value and its 0x80 marker.
    assert length == 16 or length // 2 < len(data) + 1


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("Al", "Maximilienne"),
        ("Li", "Jean-Christophe"),
        ("Marie-Antoinette", "Anne-Marie de la Tour-du-Pin"),
    ],
)
def test_names_in_one_bucket_have_equal_lengths(short: str, long: str) -> None:
    """Two names of different lengths in the same bucket pad to the same length."""
    assert len(short) != len(long)
    assert len(pad(short.encode())) == len(pad(long.encode()))


@pytest.mark.parametrize(
    "malformed",
    [
        pytest.param(b"", id="empty"),
        pytest.param(bytes(16), id="all-zero"),
        pytest.param(b"abc" + bytes(13), id="no-marker"),
        pytest.param(b"abc\x81" + bytes(12), id="wrong-marker"),
        pytest.param(b"abc\x80\x01" + bytes(11), id="non-zero-after-marker"),
    ],
)
def test_malformed_padding_raises_the_opaque_error(malformed: bytes) -> None:
    """Malformed padding raises DecryptionFailed, like any other unreadable value."""
    with pytest.raises(DecryptionFailed):
        unpad(malformed)


def test_min_bucket_must_be_positive() -> None:
    with pytest.raises(ValueError, match="min_bucket"):
        pad(b"x", min_bucket=0)
